"""The music backends: prompts, windows on bar lines, the beat warp, and MusicGen,
MusicGen-Melody and Stable Audio run for real on tiny random models built from the
libraries' own config classes (no real weights are reachable here)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from v2m.backends import BACKENDS, get_backend, prompt, warp, windows
from v2m.composition.score import Note, Score
from v2m.cuesheet import SCHEMA_VERSION as CUE_SCHEMA
from v2m.cuesheet import CueSheet, Hit, make_cue
from v2m.errors import InputError, ParameterError

# --------------------------------------------------------------------------- no torch


def test_registry_names_and_aliases():
    assert BACKENDS.names() == ["musicgen", "rules", "stable-audio"]
    assert BACKENDS.get_class("musicgen-melody").name == "musicgen"
    with pytest.raises(ParameterError, match="backend 'jukebox'.*known: musicgen"):
        get_backend("jukebox")


def _shots(valence, arousal):
    s = dict(brightness=0.5, saturation=0.5, colorfulness=0.5, warmth=0, contrast=0.5,
             motion=0.5)  # fmt: skip
    return SimpleNamespace(
        shots=[SimpleNamespace(start_s=0, end_s=4, valence=valence, arousal=arousal, **s)]
    )


def test_prompt_states_the_cue_and_the_mood():
    cue = make_cue(duration_s=60, tempo_bpm=92, style="cinematic", key="D minor", seed=1)
    text = prompt.prompt_for(cue, _shots(-0.6, 0.7))
    assert text.startswith("cinematic orchestral film score")
    assert "tense" in text and "sad" in text and "92 BPM" in text and "in D minor" in text
    assert "climax" in text and text.endswith("instrumental, no vocals")
    assert "happy" in prompt.prompt_for(cue, _shots(0.6, -0.6))
    per = prompt.section_prompts(cue, text)
    assert len(per) == len(cue.sections) and per[0][0] == 0.0
    assert per[-1][1].startswith(text) and cue.sections[-1].label in per[-1][1]
    cue.prompt = "solo cello, slow"
    assert prompt.prompt_for(cue, _shots(-0.6, 0.7)) == "solo cello, slow"
    back = CueSheet.from_dict(json.loads(json.dumps(cue.to_dict())))
    assert back.prompt == "solo cello, slow" and back.schema_version == CUE_SCHEMA


def test_windows_join_on_bar_lines_and_cover_the_piece():
    bars = np.arange(0, 200, 2.4)  # 100 BPM in 4/4
    w = windows.plan_windows(
        duration_s=95, bar_times_s=bars, window_s=30, context_s=10, crossfade_s=1
    )
    assert w[0].start_s == 0 and w[-1].end_s == 95
    for a, b in zip(w, w[1:], strict=False):
        assert b.on_bar and np.isclose(bars, b.join_s).any()
        assert a.start_s <= b.start_s == pytest.approx(b.join_s - 10)
        assert b.join_s + 0.5 <= a.end_s + 1e-9  # the crossfade lies inside both
        assert b.duration_s <= 30 + 1e-9
    with pytest.raises(ParameterError, match="context"):
        windows.plan_windows(
            duration_s=95, bar_times_s=bars, window_s=30, context_s=30, crossfade_s=1
        )


def test_join_windows_crossfades_with_equal_power():
    sr = 100
    ws = [windows.Window(0, 4), windows.Window(1, 5, 3.0, 3.0)]
    parts = [np.ones((400, 1), np.float32), 2 * np.ones((400, 1), np.float32)]
    out = windows.join_windows(parts, ws, sr=sr, crossfade_s=1.0, n_out=500)
    assert out.shape == (500, 1)
    assert np.all(out[:250] == 1) and np.all(out[350:] == 2)
    mid = out[300, 0]  # the join: cos(pi/4) * 1 + sin(pi/4) * 2
    assert mid == pytest.approx(np.sqrt(0.5) * 3, abs=0.02)


def _drifting_clicks(sr, dur, bpm, phase_s):
    y = np.zeros(int(dur * sr), np.float32)
    n = int(0.03 * sr)
    k = np.arange(n)
    click = 0.8 * np.sin(2 * np.pi * 1000 * k / sr) * np.exp(-k / (0.005 * sr))
    t = phase_s
    while t < dur - 0.05:
        i = int(t * sr)
        y[i : i + n] += click[: y.size - i]
        t += 60 / bpm
    return y + 0.01 * np.random.default_rng(0).standard_normal(y.size).astype(np.float32)


def test_warp_brings_drifting_clicks_onto_the_grid():
    """Clicks at 113 BPM from 0.12 s against a 120 BPM grid with a cut every two bars:
    few cuts have a tracked beat within 70 ms before, nearly all after."""
    sr, dur = 22050, 30.0
    y = _drifting_clicks(sr, dur, 113, 0.12)
    grid = np.arange(0, dur, 0.5)
    cuts = grid[4::8]
    out, rep = warp.sync_to_grid(np.stack([y, y], 1), sr, beats_s=grid, cuts_s=cuts,
                                 tempo_bpm=120)  # fmt: skip
    assert out.shape == (y.size, 2)
    assert rep["hit_rate_before"] < 0.5
    assert rep["hit_rate_after"] >= 0.9
    assert rep["warped"] and rep["anchors"] >= 0.8 * rep["grid_beats"]


def test_warp_with_identity_anchors_keeps_the_audio():
    sr = 22050
    t = np.arange(3 * sr) / sr
    y = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    out = warp.warp(y, sr, src_s=[0.5, 1.5, 2.5], dst_s=[0.5, 1.5, 2.5], n_out=y.size)
    core = slice(sr // 4, -sr // 4)
    assert np.corrcoef(out[core], y[core])[0, 1] > 0.99


def test_score_chroma_is_the_strongest_pitch_class():
    cue = make_cue(duration_s=8, tempo_bpm=120, style="pop", key="C major", seed=0)
    sc = Score(cue=cue, parts={
        "melody": [Note(0, 2, 64, 90)],  # E, beats 0-2 = 0-1 s
        "harmony": [Note(0, 4, 60, 90), Note(0, 4, 67, 90)],  # C and G, 0-2 s
        "drums": [Note(0, 4, 36, 100)],
    }, programs={})  # fmt: skip
    from v2m.backends.musicgen import score_chroma

    ch = score_chroma(sc, start_s=0.0, n_frames=24, frame_rate_hz=8.0)
    assert ch.shape == (24, 12) and set(np.unique(ch)) <= {0.0, 1.0}
    assert np.all(ch[:8].argmax(1) == 4)  # the melody's E while it sounds
    assert np.all(ch[8:16].argmax(1) == 0) and ch[8:16].sum() == 8  # then C (ties: lowest)
    assert ch[16:].sum() == 0  # nothing sounds


def test_missing_model_folder_is_a_clear_error(tmp_path):
    b = get_backend("musicgen", model_dir=tmp_path / "nope")
    with pytest.raises(InputError, match="never downloads"):
        b.generate(make_cue(duration_s=4, tempo_bpm=120, style="pop", key="C major"))


# --------------------------------------------------------------------------- tiny models

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    import _tiny_models as tm

    root = tmp_path_factory.mktemp("models")
    return SimpleNamespace(
        musicgen=tm.save_musicgen(root / "musicgen"),
        melody=tm.save_musicgen(root / "melody", melody=True, seed=1),
    )


def _cue(seed=3, duration_s=9.0):
    hits = [Hit(time_s=4.0, kind="cut"), Hit(time_s=6.0, kind="cut")]
    return make_cue(
        duration_s=duration_s, tempo_bpm=120, style="pop", key="A minor", seed=seed, hits=hits
    )


def test_musicgen_windows_continue_on_bar_lines(tiny, monkeypatch):
    b = get_backend("musicgen", model_dir=tiny.musicgen, window_s=4.5, context_s=1.5,
                    crossfade_s=0.5, sync=False)  # fmt: skip
    b._load()
    calls = []
    real = b._model.generate

    def spy(**kw):
        calls.append({k: v for k, v in kw.items() if k in ("input_values", "max_new_tokens")})
        return real(**kw)

    monkeypatch.setattr(b._model, "generate", spy)
    cue = _cue()
    g = b.generate(cue)
    assert g.sample_rate == 32000 and g.audio.shape == (9 * 32000, 2)
    assert g.audio.dtype == np.float32 and np.abs(g.audio).max() > 0
    ws = g.report["windows"]
    assert len(ws) == len(calls) >= 3
    bars = cue.bar_times()
    for w in ws[1:]:
        assert w["on_bar"] and np.isclose(bars, w["join_s"], atol=1e-3).any()  # report: ms
    assert "input_values" not in calls[0]
    for c in calls[1:]:  # the last 1.5 s of the previous window, mono
        assert tuple(c["input_values"].shape) == (1, 1, 48000)
    assert g.report["prompt"].startswith("pop instrumental") and "120 BPM" in g.report["prompt"]
    # deterministic with the cue's seed; another seed, other music
    again = b.generate(cue)
    assert np.array_equal(g.audio, again.audio)
    other = b.generate(_cue(seed=4))
    assert not np.allclose(g.audio, other.audio)


def test_musicgen_melody_is_conditioned_on_our_chroma(tiny, monkeypatch):
    from v2m.backends.musicgen import score_chroma
    from v2m.composition import compose

    b = get_backend("musicgen", model_dir=tiny.melody, window_s=4.5, context_s=1.5,
                    crossfade_s=0.5, sync=False)  # fmt: skip
    b._load()
    assert b.melody and b.chroma_rate == pytest.approx(32000 / 4096)
    got = []
    real = b._model.generate

    def spy(**kw):
        got.append(kw["input_features"].cpu().numpy()[0])
        assert "input_values" not in kw
        return real(**kw)

    monkeypatch.setattr(b._model, "generate", spy)
    cue = _cue()
    sc = compose(cue)
    g = b.generate(cue, score=sc)
    assert g.audio.shape == (9 * 32000, 2) and g.report["model"] == "musicgen-melody"
    for feat, w in zip(got, g.report["windows"], strict=True):
        n = int(np.ceil((w["end_s"] - w["start_s"]) * b.chroma_rate))
        want = score_chroma(sc, start_s=w["start_s"], n_frames=n, frame_rate_hz=b.chroma_rate)
        assert np.array_equal(feat, want) and want.sum() > 0


def test_musicgen_sync_reports_hit_rates(tiny, capsys):
    b = get_backend("musicgen", model_dir=tiny.musicgen, window_s=4.5, context_s=1.5,
                    crossfade_s=0.5)  # fmt: skip
    g = b.generate(_cue(), progress=True)
    assert "v2m: musicgen" in capsys.readouterr().err  # the progress bar
    s = g.report["sync"]
    assert g.audio.shape == (9 * 32000, 2)
    assert set(s) >= {"hit_rate_before", "hit_rate_after", "anchors", "warped"}


def test_stable_audio_exact_length_and_seeded(tmp_path):
    pytest.importorskip("diffusers")
    pytest.importorskip("torchsde")
    import _tiny_models as tm

    path = tm.save_stable_audio(tmp_path / "sa")
    b = get_backend("stable-audio", model_dir=path, steps=3, sync=False)
    b._load()
    assert b.sample_rate == 44100 and b.max_window_s == pytest.approx(64 * 2048 / 44100)
    cue = make_cue(duration_s=5.0, tempo_bpm=150, style="ambient", key="D minor", seed=5)
    g = b.generate(cue)
    assert g.audio.shape == (5 * 44100, 2) and g.sample_rate == 44100
    assert len(g.report["windows"]) >= 2 and not g.report["continuation"]
    assert np.array_equal(g.audio, b.generate(cue).audio)


def test_score_with_the_musicgen_backend(tiny, tmp_path):
    import soundfile as sf
    from synth import cuts_video

    from v2m._cli import main
    from v2m.pipeline import score

    vid = cuts_video(tmp_path / "v.mp4", cut_frames=(50, 100), n_frames=150)
    rep = tmp_path / "r.json"
    score(vid, output=tmp_path / "m.wav", report=rep, cue=tmp_path / "c.json",
          backend="musicgen", model_dir=tiny.musicgen,
          backend_options={"window_s": 4.0, "context_s": 1.2, "crossfade_s": 0.4})  # fmt: skip
    y, sr = sf.read(tmp_path / "m.wav")
    assert sr == 48000 and y.shape == (6 * 48000, 2)
    r = json.loads(rep.read_text())
    assert r["backend"]["backend"] == "musicgen" and r["backend"]["prompt"]
    assert "hit_rate_after" in r["backend"]["sync"]
    assert json.loads((tmp_path / "c.json").read_text())["prompt"] is None
    # the CLI: a missing model folder is a clear error and exit code 2, before any work
    code = main(["score", str(vid), "-o", str(tmp_path / "x.wav"), "--backend", "musicgen",
                 "--model-dir", str(tmp_path / "none")])  # fmt: skip
    assert code == 2 and not (tmp_path / "x.wav").exists()


def test_a_model_folder_without_its_tokenizer_or_a_bad_device_is_refused(tiny, tmp_path):
    import shutil

    from v2m.errors import ParameterError

    broken = tmp_path / "musicgen-no-tokenizer"
    shutil.copytree(tiny.musicgen, broken)
    for f in broken.rglob("*"):
        if f.name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            f.unlink()
    with pytest.raises(InputError, match="tokenizer"):
        get_backend("musicgen", model_dir=broken).load()
    with pytest.raises(ParameterError, match="tpu"):
        get_backend("musicgen", model_dir=tiny.musicgen, device="tpu").load()
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="no CUDA"):
            get_backend("musicgen", model_dir=tiny.musicgen, device="cuda").load()
