"""The video's own sound: speech spans, music, song, events, loudness (known answers)."""

from __future__ import annotations

import numpy as np
import pytest
import synth

from v2m.analysis import analyze
from v2m.analysis import audio as A
from v2m.timeline import Timeline

SR = 48000


def _write_audio_video(path, audio: np.ndarray, *, sr: int, layout: str, seconds: float):
    """A small video (one grey shot) with ``audio`` (frames, channels) as AAC."""
    return synth.video_with_audio(path, audio[: int(seconds * sr)], sr=sr, layout=layout)


# ---------------------------------------------------------------- spans and F1


def test_speech_spans_hysteresis_pauses_and_short_blips():
    hop = 0.01
    p = np.zeros(500)
    p[100:200] = 0.9  # 1.0-2.0 s
    p[200:215] = 0.4  # above "off": still speech until 2.15 s
    p[235:300] = 0.9  # a 0.2 s pause: closed
    p[400:410] = 0.9  # a 0.1 s blip: dropped
    spans = A.speech_spans(p, hop_s=hop, pad_s=0.0)
    assert spans == [(1.0, 3.0)]


def test_frame_f1_known_answers():
    assert A.frame_f1([(0, 2)], [(0, 2)]) == pytest.approx(1.0)
    assert A.frame_f1([(0, 2)], [(1, 3)]) == pytest.approx(0.5)
    assert A.frame_f1([], []) == 1.0
    assert A.frame_f1([(0, 1)], []) == 0.0


# ---------------------------------------------------------------- talking videos


@pytest.mark.parametrize("vad", ["silero", "energy"])
def test_speech_found_in_a_voice_over(talk_plain, vad):
    if vad == "silero" and A.silero_model() is None:
        pytest.skip("Silero VAD not installed (the 'speech' extra)")
    a = A.analyze_audio(talk_plain.path, vad=vad)
    assert a["vad"] == vad
    assert A.frame_f1(talk_plain.spans, [tuple(s) for s in a["speech"]]) >= 0.9
    assert a["dialogue"] and not a["holds_music"] and not a["song"]
    assert a["channels"] == 1 and a["sample_rate"] == SR
    # the voice is placed at -20 dBFS RMS over its voiced parts, mono: about -23 LUFS
    assert -27.0 < a["loudness_lufs"] < -18.0


def test_voice_over_a_music_bed_is_dialogue_and_the_track_holds_music(talk_bed):
    a = A.analyze_audio(talk_bed.path)
    assert A.frame_f1(talk_bed.spans, [tuple(s) for s in a["speech"]]) >= 0.9
    assert a["holds_music"] and not a["song"] and a["dialogue"]
    assert a["voice_dominance_db"] > A.SONG_DOMINANCE_DB


def test_timeline_carries_the_sound_and_old_timelines_load(talk_plain):
    tl = analyze(talk_plain.path)
    assert tl.schema_version == "1.2" and tl.audio is not None
    assert tl.speech_s and tl.speech_s[0][0] == pytest.approx(1.0, abs=0.15)
    again = Timeline.from_dict(tl.to_dict())
    assert again.audio == tl.audio
    old = tl.to_dict()
    old.pop("audio")
    old["schema_version"] = "1.1"
    assert Timeline.from_dict(old).audio is None and Timeline.from_dict(old).speech_s == []
    assert analyze(talk_plain.path, audio="off").audio is None


def test_energy_detector_is_said_when_silero_is_missing(talk_plain, monkeypatch):
    monkeypatch.setattr(A, "silero_model", lambda: None)
    tl = analyze(talk_plain.path)
    assert tl.audio["vad"] == "energy"
    assert any("energy detector" in w for w in tl.warnings)
    from v2m.errors import MissingDependencyError

    with pytest.raises(MissingDependencyError, match="speech"):
        A.analyze_audio(talk_plain.path, vad="silero")


# ---------------------------------------------------------------- other tracks


def test_no_audio_stream_and_silent_track(media_dir, cuts_mp4):
    assert analyze(cuts_mp4).audio is None
    assert A.analyze_audio(cuts_mp4) is None
    silent = _write_audio_video(media_dir / "silent.mp4", np.zeros((3 * SR, 2)), sr=SR,
                                layout="stereo", seconds=3)  # fmt: skip
    a = A.analyze_audio(silent)
    assert a["silent"] and a["speech"] == [] and not a["dialogue"] and a["loudness_lufs"] is None


def test_five_one_at_another_rate_and_impacts_as_events(media_dir):
    """5.1 at 44.1 kHz: decoded, measured; three door-slam-like bursts in a quiet room are
    events at their times; a steady tone is not speech."""
    sr = 44100
    n = 6 * sr
    rng = np.random.default_rng(1)
    x = np.zeros((n, 6), np.float32)
    x[:, :2] = 0.001 * rng.standard_normal((n, 2))  # room tone
    for t in (1.0, 2.5, 4.2):
        a = int(t * sr)
        k = int(0.15 * sr)
        x[a : a + k, :3] += (
            0.5 * rng.standard_normal((k, 1)) * np.exp(-np.arange(k) / (0.03 * sr))[:, None]
        )
    path = _write_audio_video(media_dir / "surround.mp4", x, sr=sr, layout="5.1", seconds=6)
    a = A.analyze_audio(path)
    assert a["channels"] == 6 and a["sample_rate"] == sr
    times = [e["time_s"] for e in a["events"]]
    assert len(times) == 3
    assert np.allclose(times, [1.0, 2.5, 4.2], atol=0.05)


def test_a_song_is_music_not_dialogue():
    """dancer.avi dances to a song: the track is music, not dialogue to keep."""
    p = synth.SHARED / "video" / "dancer.avi"
    if not p.exists():
        pytest.skip("shared clip missing")
    a = A.analyze_audio(p, max_duration_s=30)
    assert a["holds_music"] and a["music_share"] > 0.8
    assert not a["dialogue"]


def test_music_only_is_not_dialogue(talk_plain, media_dir):
    """A rendered v2m cue with no voice: music, no dialogue (either detector)."""
    from v2m.composition import compose
    from v2m.cuesheet import make_cue
    from v2m.rendering import render

    r = render(compose(make_cue(duration_s=12, tempo_bpm=100, style="pop", seed=3)))
    path = _write_audio_video(media_dir / "music-only.mp4", r.mix * 0.5, sr=48000,
                              layout="stereo", seconds=12)  # fmt: skip
    for vad in ("auto", "energy"):
        a = A.analyze_audio(path, vad=vad)
        assert a["holds_music"] and not a["dialogue"], (vad, a)


def test_a_damaged_sound_track_is_survived_in_step(talk_plain, tmp_path, caplog):
    """Bytes damaged in the middle of the file: the bad audio packets become silence of
    their own length (the sound stays in step with the picture), with a warning; the
    speech is still found."""
    import logging
    from pathlib import Path

    data = bytearray(talk_plain.path.read_bytes())
    rng = np.random.default_rng(0)
    for off in (len(data) // 3, len(data) // 2, 2 * len(data) // 3):
        data[off : off + 2048] = rng.integers(0, 256, 2048, dtype=np.uint8).tobytes()
    bad = tmp_path / "damaged.mp4"
    bad.write_bytes(bytes(data))

    def samples(path):
        n = [0]
        A._decode(Path(path), lambda x: n.__setitem__(0, n[0] + len(x)), lambda x: None,
                  max_s=None)  # fmt: skip
        return n[0]

    with caplog.at_level(logging.WARNING, logger="v2m"):
        assert samples(bad) == samples(talk_plain.path)
        a = A.analyze_audio(bad)
    assert "damaged audio packet" in caplog.text
    assert A.frame_f1(talk_plain.spans, [tuple(s) for s in a["speech"]]) >= 0.8


def test_a_voice_over_a_loud_bed_is_dialogue(media_dir):
    """Music only 6 dB under the voice: still dialogue (the voice's partials move like
    speech), not a song."""
    if A.silero_model() is None:
        pytest.skip("Silero VAD not installed (the 'speech' extra)")
    import talking

    if not talking.have_espeak():
        pytest.skip("espeak-ng is not installed")
    t = talking.talking_video(media_dir / "loud-bed.mp4", bed_db=-6.0)
    a = A.analyze_audio(t.path)
    assert a["holds_music"] and a["dialogue"] and not a["song"]
    assert A.frame_f1(t.spans, [tuple(s) for s in a["speech"]]) >= 0.9
