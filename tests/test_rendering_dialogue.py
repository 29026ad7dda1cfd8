"""The dialogue-first mix (known answers on signals built here) and the master's loudness
away from speech."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import synth

from v2m.rendering import dialogue as D
from v2m.rendering import integrated_loudness, true_peak_dbtp

SR = 48000


def test_duck_curve_known_answers():
    hop = 0.005
    g = D.duck_curve_db([(2.0, 4.0, -20.0), (4.3, 6.0, -10.0)], duration_s=10.0, hop_s=hop)
    t = np.arange(len(g)) * hop
    at = lambda x: g[int(round(x / hop))]  # noqa: E731
    assert at(1.0) == 0.0 and at(9.0) == 0.0
    # down before the first syllable (look-ahead), held just after the last one
    assert at(2.0 - D.LOOKAHEAD_S) == pytest.approx(-20.0)
    assert at(4.0 + D.HOLD_S) == pytest.approx(-20.0)
    # ramps: half way down half way through, monotonic
    mid = 2.0 - D.LOOKAHEAD_S - D.DOWN_S / 2
    assert at(mid) == pytest.approx(-10.0, abs=0.3)
    down = g[(t >= 2.0 - D.LOOKAHEAD_S - D.DOWN_S) & (t <= 2.0 - D.LOOKAHEAD_S)]
    assert np.all(np.diff(down) <= 1e-9)
    # a 0.3 s pause is too short for the bed to come back: it stays 8 dB down or more
    pause = g[(t >= 4.0) & (t <= 4.3)]
    assert pause.max() <= -8.0 and at(4.28) == pytest.approx(-10.0)
    assert at(6.0 + D.HOLD_S + D.UP_S + 0.01) == 0.0


def _voice_like(n: int, spans, rng) -> np.ndarray:
    """Syllables: 150 ms bursts of a 150 Hz buzz with formants, 4 per second."""
    t = np.arange(n) / SR
    buzz = np.sign(np.sin(2 * np.pi * 150 * t)) * 0.3
    x = np.zeros(n, np.float32)
    for a, b in spans:
        for s in np.arange(a, b - 0.15, 0.25):
            i, k = int(s * SR), int(0.15 * SR)
            env = np.hanning(k)
            x[i : i + k] += (buzz[i : i + k] * env * rng.uniform(0.5, 1.0)).astype(np.float32)
    return x


def test_mix_keeps_the_voice_and_ducks_the_music(tmp_path):
    rng = np.random.default_rng(0)
    dur = 12.0
    n = int(dur * SR)
    spans = [(1.0, 4.0), (6.0, 9.5)]
    voice = _voice_like(n, spans, rng) * 0.3
    video = synth.video_with_audio(tmp_path / "v.mkv", voice, sr=SR, layout="mono",
                                   codec="pcm_s16le")  # fmt: skip
    # the music: steady chords-like noise at -14 LUFS-ish
    t = np.arange(n) / SR
    m = 0.2 * (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 330 * t))
    music = np.stack([m, m], axis=1).astype(np.float32)
    sf.write(tmp_path / "m.wav", music, SR, subtype="FLOAT")
    out = tmp_path / "mix.wav"
    res = D.mix_dialogue(tmp_path / "m.wav", video, out, speech_s=spans, sample_rate=SR,
                         duration_s=dur, stems_dir=tmp_path / "stems")  # fmt: skip
    y, _ = sf.read(out, dtype="float32", always_2d=True)
    assert y.shape == (n, 2)
    assert integrated_loudness(y, SR) == pytest.approx(-14.0, abs=0.3)
    assert true_peak_dbtp(y, SR) <= -0.95
    assert res.loudness_lufs == pytest.approx(-14.0, abs=0.3)
    # the stems as mixed sum to the mix
    o = sf.read(tmp_path / "stems" / "original.wav", dtype="float32")[0]
    mm = sf.read(tmp_path / "stems" / "music.wav", dtype="float32")[0]
    assert np.abs(o + mm - y).max() < 1e-5
    # least squares per 0.5 s window: the voice's gain is one constant (+-0.5 dB), the
    # music >= 15 dB under the voice in speech and back (within 3 dB) between
    win = SR // 2
    ratios, gains, pause = [], [], []
    for s in range(0, n - win, win):
        seg = slice(s, s + win)
        A = np.stack([voice[seg], m[seg]], axis=1)
        (gv, gm), *_ = np.linalg.lstsq(A, y[seg, 0], rcond=None)
        ts = s / SR
        if any(a + 0.1 <= ts and ts + 0.5 <= b - 0.1 for a, b in spans):
            ratios.append(20 * np.log10(np.std(gv * voice[seg]) / np.std(gm * m[seg])))
            gains.append(gv)
        elif 4.6 <= ts and ts + 0.5 <= 5.6:
            pause.append(gm)
    away = np.linalg.lstsq(m[10 * SR : 11 * SR, None], y[10 * SR : 11 * SR, 0], rcond=None)[0][0]
    assert min(ratios) >= 15.0
    g_db = 20 * np.log10(np.array(gains) / np.median(gains))
    assert np.abs(g_db).max() <= 0.5
    assert 20 * np.log10(min(pause) / away) >= -3.0
    assert all(sp["speech_to_music_db"] >= 15 for sp in res.report()["speech"])


def test_master_measures_loudness_away_from_speech():
    """A quiet stretch marked as speech does not pull the music up elsewhere."""
    from v2m.rendering import master

    n = 20 * SR
    t = np.arange(n) / SR
    x = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    x[5 * SR : 15 * SR] *= 0.05  # thinned under speech
    st = {"mix": np.stack([x, x], axis=1)}
    from v2m.rendering.mastering import Mastering

    def run(exclude):
        m = Mastering(SR, n, loudness_exclude_s=exclude)
        y = st["mix"]
        for a in range(0, n, m.chunk):
            m.feed(y[a : a + m.chunk])
        m.plan(lambda a, b: y[max(0, a) : b])
        out = np.zeros_like(y)

        def chunks():
            for a in range(0, n, m.chunk):
                yield y[a : a + m.chunk], {}

        def write(a, mx, _):
            out[a : a + mx.shape[0]] = mx

        m.apply(chunks, lambda a, b: y[max(0, a) : b], write, lambda: None)
        return out

    away = np.r_[0 : 5 * SR, 15 * SR : n]
    with_ex = run([(5.0, 15.0)])
    assert integrated_loudness(with_ex[away], SR) == pytest.approx(-14.0, abs=0.3)
    assert master is not None
