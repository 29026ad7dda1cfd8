import mir_eval
import numpy as np
import pytest

from v2m import ParameterError
from v2m.metrics import rhythm as R


def test_beat_f_measure_equals_mir_eval():
    rng = np.random.default_rng(0)
    for _ in range(200):
        ref = np.sort(rng.uniform(0, 30, rng.integers(0, 60)))
        keep = rng.random(ref.size) < 0.7
        jitter = rng.normal(0, 0.05, keep.sum())
        est = np.r_[ref[keep] + jitter, rng.uniform(0, 30, rng.integers(0, 10))]
        est = np.sort(np.abs(est))
        ours = R.beat_f_measure(ref, est)
        assert ours == pytest.approx(mir_eval.beat.f_measure(ref, est), abs=1e-12)


def _clicks(times, sr=22050, dur=8.0):
    y = np.zeros(int(sr * dur), np.float32)
    for t in times:
        i = int(t * sr)
        y[i : i + 200] += np.hanning(200).astype(np.float32) * np.sin(
            2 * np.pi * 2000 * np.arange(200) / sr
        ).astype(np.float32)
    return y


@pytest.mark.parametrize("variant", ["d2mgan", "loris"])
def test_bcs_bhs_identical_audio_is_one(variant):
    y = _clicks(np.arange(0.25, 7.5, 0.5))
    on = R.detect_onsets(y, 22050, variant=variant)
    assert on.size >= 10
    kw = {"ref_duration_s": 8.0, "gen_duration_s": 8.0}
    assert R.beats_coverage_score(on, on, **kw) == 1.0
    assert R.beats_hit_score(on, on, **kw) == 1.0
    half = on[: on.size // 2]
    assert R.beats_hit_score(on, half, **kw) < 1.0


def test_beat_align_scores():
    music = np.arange(0, 10, 0.5)
    assert R.beat_align_score_motion(music, music) == 1.0
    assert R.beat_align_score_music(music, music) == 1.0
    drifts = [R.beat_align_score_motion(music + d, music) for d in (0.01, 0.03, 0.06, 0.1)]
    assert all(a > b for a, b in zip(drifts, drifts[1:], strict=False))
    # sigma = 3 frames at 60 fps: 0.05 s = 3 frames -> exp(-1/2)
    assert R.beat_align_score_motion(music + 0.05, music) == pytest.approx(np.exp(-0.5))
    # the two directions differ when the sets differ
    sparse = music[::4]
    assert R.beat_align_score_motion(sparse, music) == 1.0
    assert R.beat_align_score_music(music, sparse) < 0.5


def test_cut_hits_and_av_align():
    beats = np.arange(0, 10, 0.5)
    cuts = np.array([1.0, 2.52, 3.3])
    assert R.cut_beat_offsets(cuts, beats) == pytest.approx([0.0, -0.02, 0.2])
    assert R.cut_beat_hit_rate(cuts, beats, tolerance_s=0.035) == pytest.approx(2 / 3)
    assert R.av_align([1.0, 2.0], [1.01, 5.0], fps=25) == pytest.approx(2 / 4)
    with pytest.raises(ParameterError, match="sorted"):
        R.cut_beat_hit_rate([2.0, 1.0], beats)


def test_bcs_formulas_known_answer():
    """Reference onsets in 1-s bins 0, 2, 4, 6; generated in bins 0, 1, 2, 3, 5 (hits: 0, 2).
    D2M-GAN: BCS = cover / total = 5 / 4 (can exceed 1), BHS = hit / total = 2 / 4.
    LORIS: BCS = hit / cover = 2 / 5, BHS = 2 / 4, F1 = 2 * 0.4 * 0.5 / 0.9."""
    ref = np.array([0.2, 2.5, 4.1, 6.7])
    gen = np.array([0.4, 1.1, 2.9, 3.3, 5.5])
    kw = {"ref_duration_s": 8.0, "gen_duration_s": 8.0}
    assert R.beats_coverage_score(ref, gen, formula="d2mgan", **kw) == pytest.approx(1.25)
    assert R.beats_coverage_score(ref, gen, formula="loris", **kw) == pytest.approx(0.4)
    assert R.beats_hit_score(ref, gen, **kw) == pytest.approx(0.5)
    assert R.beats_f1(ref, gen, **kw) == pytest.approx(2 * 0.4 * 0.5 / 0.9)
    # LORIS cuts the reference to the generated length: reference bins 6 (at 6.7 s) drops
    short = {"ref_duration_s": 8.0, "gen_duration_s": 6.0}
    assert R.beats_hit_score(ref, gen, **short) == pytest.approx(2 / 3)
    with pytest.raises(ParameterError, match="formula=.mir."):
        R.beats_coverage_score(ref, gen, formula="mir", **kw)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 152.0])
def test_beat_align_score_chance_known_answer(bpm):
    """Music beats on an isochronous grid at period p: over phases unrelated to the motion
    the AIST++ score averages sigma sqrt(2 pi) erf(p / (2 sqrt(2) sigma)) / p (sigma 3
    frames at 25 fps), whatever the motion beats; it rises with the beat density."""
    from scipy.special import erf

    rng = np.random.default_rng(3)
    motion = np.sort(rng.uniform(2.0, 58.0, 80))
    p, sigma = 60.0 / bpm, 3 / 25.0
    music = np.arange(0.0, 60.0, p)
    expect = sigma * np.sqrt(2 * np.pi) * erf(p / (2 * np.sqrt(2) * sigma)) / p
    got = R.beat_align_score_chance(motion, music, fps=25.0, n_shifts=256)
    assert got == pytest.approx(expect, abs=0.003)
    # motion exactly on the music's beats scores 1, its chance level stays the same
    on = music[5:60]
    assert R.beat_align_score_motion(on, music, fps=25.0) == pytest.approx(1.0)
    assert R.beat_align_score_chance(on, music, fps=25.0, n_shifts=256) == pytest.approx(
        expect, abs=0.003
    )


def test_beat_align_score_chance_edges():
    assert np.isnan(R.beat_align_score_chance([1.0, 2.0], [1.0], fps=25.0))
    assert np.isnan(R.beat_align_score_chance([], [1.0, 2.0], fps=25.0))
    with pytest.raises(ParameterError, match="n_shifts"):
        R.beat_align_score_chance([1.0], [1.0, 2.0], n_shifts=0)
    vals = R.evaluate(music_beats=np.arange(0, 10, 0.5), motion_beats=[1.0, 2.0, 3.1], fps=25.0)
    assert vals["beat_align_score_chance"] < vals["beat_align_score_motion"]
