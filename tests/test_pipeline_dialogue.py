"""A talking video scored end to end: the voice kept clear, the music around it (measured
on the muxed result against the clean voice, with libraries v2m does not use itself:
pystoi for intelligibility, pyloudnorm for loudness)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import synth

from v2m.muxing import read_audio
from v2m.pipeline import score

SR = 48000


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "v2m", *map(str, args)], capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def _music(stems) -> np.ndarray:
    parts = [p for p in stems.glob("*.wav") if p.stem not in ("original", "music")]
    return sum(sf.read(p, dtype="float32", always_2d=True)[0].mean(axis=1) for p in parts)


@pytest.fixture(scope="module")
def scored(talk_plain, tmp_path_factory):
    d = tmp_path_factory.mktemp("dialogue")
    r = _cli("score", talk_plain.path, "-o", d / "out.mp4", "--report", d / "r.json",
             "--stems", d / "stems", "--cue", d / "cue.json", "--plot", d / "plot.png")  # fmt: skip
    assert r.returncode == 0, r.stderr
    return d, r.stderr


def test_the_voice_stays_clear(talk_plain, scored):
    from pystoi import stoi

    d, err = scored
    rep = json.loads((d / "r.json").read_text())["sound"]
    assert rep["kept"] and "dialogue" in rep["why"] and rep["dialogue"]
    import matplotlib.image

    png = matplotlib.image.imread(d / "plot.png")
    assert png.shape[0] > 400 and png.shape[1] > 1000  # the score plot, with the sound
    assert "original sound kept" in err
    n = int(talk_plain.duration_s * SR)
    stereo = read_audio(d / "out.mp4", sample_rate=SR, duration_s=talk_plain.duration_s)
    y = stereo.mean(axis=1)
    m = np.resize(_music(d / "stems"), n)
    v = talk_plain.voice[:n]
    win = SR // 2
    on = np.zeros(n, bool)
    for a, b in talk_plain.spans:
        on[int(a * SR) : int(b * SR)] = True
    smr = []
    for s in range(0, n - win, win):
        if on[s : s + win].mean() < 0.8:
            continue
        A = np.stack([v[s : s + win], m[s : s + win]], axis=1)
        (gv, gm), *_ = np.linalg.lstsq(A, y[s : s + win], rcond=None)
        smr.append(
            20 * np.log10(np.std(gv * v[s : s + win]) / (np.std(gm * m[s : s + win]) + 1e-12))
        )
    assert np.median(smr) >= 15.0 and np.percentile(smr, 5) >= 10.0
    assert stoi(v, y, SR) >= 0.9
    import pyloudnorm

    assert pyloudnorm.Meter(SR).integrated_loudness(stereo) == pytest.approx(-14.0, abs=0.5)
    # the report's answers lie in the pauses
    assert rep["answers"] and all(a["notes"] > 0 for a in rep["answers"])


def test_keep_audio_off_and_broadcast_loudness(talk_plain, tmp_path):
    import pyloudnorm

    out = tmp_path / "off.mp4"
    r = _cli("score", talk_plain.path, "-o", out, "--keep-audio", "off")
    assert r.returncode == 0, r.stderr
    n = int(talk_plain.duration_s * SR)
    y = read_audio(out, sample_rate=SR, duration_s=talk_plain.duration_s).mean(axis=1)
    v = talk_plain.voice[:n]
    gv = float(v @ y / (v @ v))
    assert abs(gv) < 0.05  # no voice in it
    out23 = tmp_path / "b.mp4"
    r = _cli("score", talk_plain.path, "-o", out23, "--loudness", "-23")
    assert r.returncode == 0, r.stderr
    y = read_audio(out23, sample_rate=SR, duration_s=talk_plain.duration_s)
    assert pyloudnorm.Meter(SR).integrated_loudness(y) == pytest.approx(-23.0, abs=1.0)
    r = _cli("score", talk_plain.path, "-o", tmp_path / "x.mp4", "--loudness", "3")
    assert r.returncode == 2 and "loudness" in r.stderr


def test_bare_keep_audio_means_on():
    from v2m._cli import build_parser

    p = build_parser()
    assert p.parse_args(["score", "a.mp4", "-o", "b.mp4", "--keep-audio"]).keep_audio == "on"
    assert p.parse_args(["score", "a.mp4", "-o", "b.mp4"]).keep_audio == "auto"


def test_a_song_is_not_kept(tmp_path):
    p = synth.SHARED / "video" / "dancer.avi"
    if not p.exists():
        pytest.skip("shared clip missing")
    res = score(p, output=tmp_path / "d.wav", report=tmp_path / "r.json", mode="cuts")
    rep = json.loads((tmp_path / "r.json").read_text())["sound"]
    assert not rep["kept"] and rep["holds_music"] and "music" in rep["why"]
    assert res.projection.cue.dialogue == []


def test_render_cue_keeps_the_dialogue(talk_plain, scored, tmp_path):
    from pystoi import stoi

    d, _ = scored
    out = tmp_path / "again.mp4"
    r = _cli("render-cue", d / "cue.json", "--video", talk_plain.path, "-o", out)
    assert r.returncode == 0, r.stderr
    y = read_audio(out, sample_rate=SR, duration_s=talk_plain.duration_s).mean(axis=1)
    assert stoi(talk_plain.voice[: len(y)], y, SR) >= 0.9
