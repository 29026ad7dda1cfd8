import json

import av
import librosa
import mido
import numpy as np
import pytest
import soundfile as sf
import synth

from v2m._cli import main
from v2m.cuesheet import CueSheet
from v2m.pipeline import render_cue, score

CUT_FRAMES = (33, 72, 101, 168, 200, 236)  # irregular on purpose (25 fps)
FPS = 25


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory):
    d = tmp_path_factory.mktemp("pipe")
    return synth.cuts_video(d / "cuts.mp4", cut_frames=CUT_FRAMES, n_frames=275, fps=FPS)


@pytest.fixture(scope="module")
def scored(cut_video, tmp_path_factory):
    d = tmp_path_factory.mktemp("scored")
    out = d / "out.mp4"
    res = score(
        cut_video,
        output=out,
        midi=d / "s.mid",
        wav=d / "m.wav",
        cue=d / "c.json",
        timeline=d / "t.json",
        report=d / "r.json",
        style="pop",
        seed=3,
    )
    return res, d, out


def _midi_beats(path):
    mf = mido.MidiFile(str(path))
    tempos = []
    t = 0
    for m in mf.tracks[0]:
        t += m.time
        if m.type == "set_tempo":
            tempos.append((t, m.tempo))
    return mf, tempos


def test_cuts_on_beats_in_midi(scored):
    res, d, _ = scored
    cue = CueSheet.load(d / "c.json")
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(d / "s.mid"))
    beats = pm.get_beats()
    downbeats = np.asarray(cue.beats_s)[cue.downbeats]
    cuts = np.array(CUT_FRAMES) / FPS
    hit_times = np.array([h.time_s for h in cue.hits])
    near = [np.min(np.abs(beats - c)) <= 0.035 for c in cuts]
    caught = [np.min(np.abs(hit_times - c)) <= 0.035 for c in cuts]
    on_down = [np.min(np.abs(downbeats - c)) <= 0.035 for c in cuts]
    assert np.mean(np.logical_or(near, caught)) >= 0.9  # on a beat, or an accent at the cut
    assert np.mean(near) >= 0.5 and np.mean(on_down) >= 0.3
    p = np.diff(cue.beats_s)
    assert np.abs(p[1:] / p[:-1] - 1).max() <= 0.04 + 1e-9  # no tempo lurches
    s = res.projection.summary()
    assert s["cuts_on_beat_35ms"] + s["cuts_caught"] >= 0.9 * len(cuts)


def test_onsets_in_rendered_audio_near_cuts(scored):
    _, d, _ = scored
    y, sr = librosa.load(str(d / "m.wav"), sr=22050, mono=True)
    onsets = librosa.onset.onset_detect(y=y, sr=sr, units="time")
    _, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    events = np.r_[onsets, beats]
    cuts = np.array(CUT_FRAMES) / FPS
    hit = [np.min(np.abs(events - c)) <= 0.07 for c in cuts]
    assert np.mean(hit) >= 0.8


def test_output_video_stream_copied_and_length(scored, cut_video):
    _, _, out = scored
    with av.open(str(cut_video)) as a, av.open(str(out)) as b:
        pa = [bytes(p) for p in a.demux(a.streams.video[0]) if p.size]
        pb = [bytes(p) for p in b.demux(b.streams.video[0]) if p.size]
        assert pa == pb  # packet for packet
    with av.open(str(out)) as b:
        assert b.streams.audio[0].codec_context.name == "aac"
        v = b.streams.video[0]
        a_dur = float(b.streams.audio[0].duration * b.streams.audio[0].time_base)
        v_dur = float(v.duration * v.time_base)
        assert abs(a_dur - v_dur) <= 1 / FPS + 0.03  # AAC frames are 21 ms


def test_report_explains(scored):
    _, d, _ = scored
    rep = json.loads((d / "r.json").read_text())
    text = " ".join(rep["explanations"])
    assert "cuts on beats" in text and "style pop" in text
    assert rep["summary"]["n_cuts"] == len(CUT_FRAMES)
    assert abs(rep["audio"]["loudness_lufs"] + 14) < 1


def test_render_cue_is_deterministic(scored, tmp_path):
    _, d, _ = scored
    a = render_cue(d / "c.json", video=d / "out.mp4", output=tmp_path / "a.wav")
    b = render_cue(d / "c.json", video=d / "out.mp4", output=tmp_path / "b.wav")
    assert a.rendered.loudness_lufs == b.rendered.loudness_lufs
    assert np.array_equal(sf.read(tmp_path / "a.wav")[0], sf.read(tmp_path / "b.wav")[0])


def test_bikes_end_to_end(bikes, tmp_path):
    res = score(bikes, output=tmp_path / "bikes.mkv", seed=1, wav=tmp_path / "bikes.wav")
    s = res.projection.summary()
    assert s["cuts_on_beat_35ms"] + s["cuts_caught"] == 5 and s["n_cuts"] == 5
    assert s["cuts_on_beat_35ms"] >= 3
    y, sr = librosa.load(str(tmp_path / "bikes.wav"), sr=22050, mono=True)
    events = np.r_[
        librosa.onset.onset_detect(y=y, sr=sr, units="time"),
        librosa.beat.beat_track(y=y, sr=sr, units="time")[1],
    ]
    cuts = np.array([1.2, 3.04, 5.48, 7.48, 9.68])
    assert np.mean([np.min(np.abs(events - c)) <= 0.07 for c in cuts]) >= 0.8
    with av.open(str(tmp_path / "bikes.mkv")) as c:
        assert c.format.name.startswith("matroska")
        assert {st.type for st in c.streams} == {"video", "audio"}


def test_still_image_to_video_and_audio(tmp_path):
    img = synth.SHARED / "images" / "coffee.png"
    if not img.exists():
        pytest.skip("shared image missing")
    res = score(img, output=tmp_path / "c.mp4", duration_s=8)
    assert "mode cuts: a still picture" in res.projection.explanations[1]
    with av.open(str(tmp_path / "c.mp4")) as c:
        v = c.streams.video[0]
        assert abs(float(v.duration * v.time_base) - 8) <= 0.25
        assert c.streams.audio
    score(img, output=tmp_path / "c.flac", duration_s=6, style="ambient")
    import soundfile as sf

    x, sr = sf.read(tmp_path / "c.flac")
    assert abs(len(x) / sr - 6) <= 0.01


def test_cli_score_errors_and_no_clobber(cut_video, tmp_path, capsys):
    assert main(["score", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "o.mp4")]) == 2
    assert "missing.mp4" in capsys.readouterr().err
    before = cut_video.read_bytes()
    assert main(["score", str(cut_video), "-o", str(cut_video), "--force"]) == 2
    assert cut_video.read_bytes() == before
    out = tmp_path / "o.mid"
    out.write_text("keep me")
    assert main(["score", str(cut_video), "-o", str(out)]) == 2
    assert out.read_text() == "keep me"
    assert (
        main(["score", str(cut_video), "-o", str(tmp_path / "x.mp4"), "--energy-scale", "9"]) == 2
    )
    assert (
        main(
            [
                "score",
                str(cut_video),
                "-o",
                str(tmp_path / "y.mid"),
                "--hit",
                "3.3",
                "--key",
                "D major",
                "--tempo-bpm",
                "100",
            ]
        )
        == 0
    )


def test_keep_audio_mixes_original_sound(tmp_path):
    src = synth.cuts_video(
        tmp_path / "withsound.mp4", cut_frames=(40, 90), n_frames=125, audio_s=5.0
    )
    out_a, out_b = tmp_path / "a.mkv", tmp_path / "b.mkv"
    score(src, output=out_a, style="ambient", seed=0)
    score(src, output=out_b, style="ambient", seed=0, keep_audio=True)
    from v2m.muxing import read_audio

    a = read_audio(out_a, sample_rate=44100, duration_s=4.5).mean(axis=1)
    b = read_audio(out_b, sample_rate=44100, duration_s=4.5).mean(axis=1)
    spec = np.abs(np.fft.rfft(b - a))
    freqs = np.fft.rfftfreq(len(a), 1 / 44100)
    # the difference is the ducked 440 Hz tone of the original
    assert abs(freqs[np.argmax(spec)] - 440) < 2


def test_unsupported_containers_are_clear_errors(cut_video, tmp_path, capsys):
    for name in ("o.webm", "o.avi", "o.txt"):
        assert main(["score", str(cut_video), "-o", str(tmp_path / name)]) == 2
        assert name in capsys.readouterr().err
        assert not (tmp_path / name).exists()


def test_the_input_is_probed_once(bikes, tmp_path, monkeypatch):
    """score and render-cue probe the video once and pass the VideoInfo on (analysis, mux)."""
    from v2m import _media

    calls = []
    real = _media.probe_video

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(_media, "probe_video", counting)
    res = score(bikes, output=tmp_path / "o.mp4", cue=tmp_path / "c.json", mode="cuts")
    assert len(calls) == 1 and res.outputs["output"]
    calls.clear()
    render_cue(tmp_path / "c.json", video=bikes, output=tmp_path / "r.mp4")
    assert len(calls) == 1
