"""The structure indicator, step by step against libfmp (Mueller's FMP code, the code
MusDr's scape-plot script is built on) with MusDr's parameters."""

import numpy as np
import pytest

from v2m import ParameterError
from v2m.metrics import structure as S

libfmp_c3 = pytest.importorskip("libfmp.c3")
libfmp_c4 = pytest.importorskip("libfmp.c4")
librosa = pytest.importorskip("librosa")

SR = 22050
NOTES = 220 * 2 ** (np.arange(12) / 12)


def _seq(idx, note_s=0.5):
    t = np.arange(int(note_s * SR)) / SR
    return np.concatenate(
        [0.3 * np.sin(2 * np.pi * NOTES[i] * t) * np.hanning(t.size) for i in idx]
    ).astype(np.float32)


def _piece(seed=0):
    """A B A A' C B A with random motifs and a little noise (about 27 s)."""
    rng = np.random.default_rng(seed)
    a, b, c = (_seq(rng.integers(0, 12, k)) for k in (8, 6, 10))
    y = np.concatenate([a, b, a, 0.7 * a, c, b, a])
    return y + 0.01 * rng.standard_normal(y.size).astype(np.float32)


def _reference_ssm(y):
    """MusDr's run_python_scapeplot.py parameters, through libfmp's functions."""
    c = librosa.feature.chroma_stft(y=y, sr=SR, tuning=0, norm=2, hop_length=2205, n_fft=4410)
    x, fs = libfmp_c3.smooth_downsample_feature_sequence(c, SR / 2205, filt_len=21, down_sampling=5)
    x = libfmp_c3.normalize_feature_sequence(x, norm="2", threshold=0.001)
    s, _ = libfmp_c4.compute_sm_ti(
        x,
        x,
        L=16,
        tempo_rel_set=libfmp_c4.compute_tempo_rel_set(0.5, 2, 7),
        shift_set=np.arange(12),
        direction=2,
    )
    s = libfmp_c4.threshold_matrix(s, thresh=0.25, strategy="relative", scale=True, penalty=-2)
    return x, fs, libfmp_c4.normalization_properties_ssm(s)


def test_chroma_and_ssm_equal_libfmp_with_musdr_parameters():
    y = _piece()
    x_ref, fs, s_ref = _reference_ssm(y)
    assert fs == S.FEATURE_RATE_HZ
    x = S.chroma_features(y, SR)
    assert x.shape == x_ref.shape == (12, 55)
    np.testing.assert_allclose(x, x_ref, rtol=0, atol=1e-12)
    s = S.self_similarity(x)
    np.testing.assert_allclose(s, s_ref, rtol=0, atol=1e-12)
    assert np.all(np.diag(s) == 1) and (s == -2).mean() == pytest.approx(0.75, abs=0.02)


def test_fitness_scape_equals_libfmp_cell_for_cell():
    y = _piece(1)
    _, _, s_ref = _reference_ssm(y)
    np.testing.assert_allclose(
        S.fitness_scape(s_ref), libfmp_c4.compute_fitness_scape_plot(s_ref)[0], rtol=0, atol=1e-12
    )
    # random SSMs with penalty cells exercise every tie and edge rule of the path family DP
    for seed in range(12):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(3, 40))
        a = rng.random((n, n))
        a = (a + a.T) / 2
        a = np.where(a > np.quantile(a, 0.6), (a - a.min()) / (a.max() - a.min()), -2.0)
        np.fill_diagonal(a, 1.0)
        ref = libfmp_c4.compute_fitness_scape_plot(a)[0]
        np.testing.assert_allclose(S.fitness_scape(a), ref, rtol=0, atol=1e-12)


def test_structure_indicator_reads_musdr_length_ranges():
    y = _piece(2)
    _, _, s_ref = _reference_ssm(y)
    sp = libfmp_c4.compute_fitness_scape_plot(s_ref)[0]
    si = S.structure_indicator(y, SR)
    # MusDr: rows int(low * 2) - 1 .. int(high * 2) - 1 of the scape plot (length - 1)
    for name, (lo, hi) in S.SI_BOUNDS_S.items():
        assert si[name] == pytest.approx(np.max(sp[int(lo * 2) - 1 : int(hi * 2)]), abs=1e-12)
    assert si["si_short"] > 0.2  # the 4 s motif returns four times


def test_repetition_scores_higher_than_random_notes():
    repeated = np.tile(_seq([0, 4, 7, 11, 2, 5, 9, 1]), 8)  # a 4 s motif, 8 times
    rng = np.random.default_rng(0)
    random = _seq(rng.integers(0, 12, 64))
    a = S.structure_indicator(repeated, SR)
    b = S.structure_indicator(random, SR)
    assert set(a) == {"si_short", "si_mid", "si_long"}
    assert a["si_short"] > b["si_short"] + 0.2
    assert a["si_long"] > b["si_long"]
    assert all(0 <= v <= 1 for v in (*a.values(), *b.values()))


def test_short_audio_and_bad_parameters():
    assert S.structure_indicator(_seq([0, 1]), SR) == {"si_short": 0, "si_mid": 0, "si_long": 0}
    with pytest.raises(ParameterError, match="bounds"):
        S.structure_indicator(_seq([0] * 8), SR, bounds_s={"x": (5.0, 2.0)})
    with pytest.raises(ParameterError, match="max_duration_s"):
        S.structure_indicator(np.zeros(SR * 11), SR, max_duration_s=10)
    with pytest.raises(ParameterError, match="square"):
        S.fitness_scape(np.zeros((3, 4)))
