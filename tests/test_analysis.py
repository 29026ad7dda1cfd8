import json

import numpy as np
import pytest
import synth

import v2m
from v2m import DecodeError, InputError, NoVideoStreamError, ParameterError
from v2m._cli import main
from v2m.analysis import colour_stats, valence_arousal, visual_tempo
from v2m.timeline import SCHEMA_VERSION, Timeline

TOP_KEYS = {
    "schema_version",
    "source",
    "cuts",
    "shots",
    "motion",
    "impact",
    "visual_beats",
    "visual_tempo_bpm",
    "warnings",
}


def test_hard_cuts_frame_accurate(cuts_mp4):
    tl = v2m.analyze(cuts_mp4)
    assert [c.kind for c in tl.cuts] == ["hard"] * 3
    for c, f in zip(tl.cuts, (20, 45, 83), strict=True):
        assert abs(c.frame - f) <= 1
        assert c.time_s == pytest.approx(f / 25, abs=1 / 25 + 1e-6)
    assert len(tl.shots) == 4
    assert tl.source.duration_s == pytest.approx(110 / 25, abs=0.05)
    assert tl.source.kind == "video" and tl.source.fps == pytest.approx(25)


def test_json_schema_roundtrip(cuts_mp4, tmp_path):
    tl = v2m.analyze(cuts_mp4)
    d = json.loads(tl.to_json())
    assert TOP_KEYS <= set(d)
    assert d["schema_version"] == SCHEMA_VERSION
    assert set(d["source"]) >= {"path", "kind", "width", "height", "fps", "duration_s"}
    assert set(d["cuts"][0]) >= {"time_s", "frame", "score", "kind"}
    assert set(d["shots"][0]) >= {
        "start_s",
        "end_s",
        "brightness",
        "saturation",
        "colorfulness",
        "warmth",
        "valence",
        "arousal",
        "motion",
    }
    n = len(d["motion"]["energy"])
    assert n == pytest.approx(tl.duration_s / d["motion"]["hop_s"], abs=2)
    tl.save(tmp_path / "t.json")
    back = Timeline.load(tmp_path / "t.json")
    assert back.to_dict() == tl.to_dict()


def test_dissolve_and_flash(media_dir):
    path, truth = synth.fade_flash_video(media_dir / "fade.mp4")
    tl = v2m.analyze(path)
    hard = [c for c in tl.cuts if c.kind == "hard"]
    grad = [c for c in tl.cuts if c.kind == "gradual"]
    assert [abs(c.frame - truth["cut_frame"]) <= 1 for c in hard] == [True]
    assert len(grad) == 1
    g0, g1 = truth["dissolve"]
    assert g0 - 0.2 <= grad[0].start_s <= g0 + 0.2 and g1 - 0.2 <= grad[0].end_s <= g1 + 0.2
    # nothing inside the fade, nothing at the flash
    assert not any(g0 < c.time_s < g1 for c in hard)
    assert not any(abs(c.frame - truth["flash_frame"]) <= 2 for c in tl.cuts)


def test_visual_beats_at_stops(media_dir):
    stops = (1.0, 2.2, 3.4, 4.6)
    tl = v2m.analyze(synth.stop_motion_video(media_dir / "stops.mp4", stops_s=stops))
    strongest = sorted(tl.visual_beats, key=lambda b: -b.strength)[:4]
    for s in stops:
        assert any(abs(b.time_s - s) <= 0.081 for b in strongest), (s, strongest)
    # one stop every 1.2 s is 50 BPM (or a multiple)
    ratio = tl.visual_tempo_bpm / 50.0
    assert min(abs(ratio - k) for k in (0.5, 1, 2)) < 0.06


def test_visual_tempo_of_pulse_train():
    hop = 0.02
    env = np.zeros(1000)
    env[:: int(0.5 / hop)] = 1.0  # 120 BPM
    bpm, conf = visual_tempo(env, hop_s=hop)
    assert bpm == pytest.approx(120, rel=0.02) and conf > 0.5


def test_variable_frame_rate_uses_timestamps(media_dir):
    durs = np.where(np.arange(109) < 40, 0.08, 0.025)  # slow, then fast
    times = np.cumsum(np.r_[0, durs])
    tl = v2m.analyze(synth.cuts_video(media_dir / "vfr.mp4", times_s=times))
    got = [c.time_s for c in tl.cuts]
    assert got == pytest.approx(list(times[[20, 45, 83]]), abs=1e-3)
    # frame index x nominal fps would be off by > 20 ms at the last cut
    assert abs(got[-1] - 83 / tl.source.fps) > 0.02


def test_rotation_swaps_reported_size(media_dir):
    tl = v2m.analyze(synth.cuts_video(media_dir / "rot.mp4", rotate=90))
    assert tl.source.rotation_deg == 90
    assert (tl.source.width, tl.source.height) == (synth.H, synth.W)
    assert [abs(c.frame - f) <= 1 for c, f in zip(tl.cuts, (20, 45, 83), strict=True)] == [True] * 3


def test_truncated_file_warns(media_dir, cuts_mp4, capsys):
    data = cuts_mp4.read_bytes()
    bad = media_dir / "trunc.mp4"
    # keep the header (moov is at the end for PyAV's mp4 writer, so write an mkv instead)
    mkv = synth.cuts_video(media_dir / "full.mkv", n_frames=110)
    raw = mkv.read_bytes()
    bad = media_dir / "trunc.mkv"
    bad.write_bytes(raw[: len(raw) // 2])
    tl = v2m.analyze(bad)
    assert any("truncated" in w for w in tl.warnings)
    assert tl.source.duration_s < 110 / 25
    assert len(data) > 0


def test_audio_only_is_clear_error(media_dir):
    p = synth.write_audio_only(media_dir / "tone.m4a")
    with pytest.raises(NoVideoStreamError, match="tone.m4a.*no video stream"):
        v2m.analyze(p)


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        v2m.analyze(tmp_path / "missing.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="zero length"):
        v2m.analyze(empty)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video at all" * 100)
    with pytest.raises(InputError, match="junk.mp4"):
        v2m.analyze(junk)
    with pytest.raises(ParameterError, match="duration_s"):
        v2m.analyze(junk, duration_s=-1)
    assert issubclass(DecodeError, InputError)


def test_cli_errors_exit_2(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope.mp4")]) == 2
    err = capsys.readouterr().err
    assert "nope.mp4" in err and "Traceback" not in err


def test_cli_writes_json_and_plot_and_refuses_clobber(cuts_mp4, tmp_path):
    out, png = tmp_path / "t.json", tmp_path / "t.png"
    assert main(["analyze", str(cuts_mp4), "-o", str(out), "--plot", str(png)]) == 0
    assert json.loads(out.read_text())["schema_version"] == SCHEMA_VERSION
    assert png.read_bytes()[:4] == b"\x89PNG"
    before = out.read_text()
    assert main(["analyze", str(cuts_mp4), "-o", str(out)]) == 2
    assert out.read_text() == before
    assert main(["analyze", str(cuts_mp4), "-o", str(out), "--force"]) == 0


def test_bikes_cuts_match_readme(bikes):
    tl = v2m.analyze(bikes)
    assert [c.frame for c in tl.cuts if c.kind == "hard"] == pytest.approx(
        [30, 76, 137, 187, 242], abs=1
    )
    assert tl.source.width == 640 and tl.source.height == 272
    assert tl.duration_s == pytest.approx(10.0, abs=0.05)


@pytest.mark.parametrize("name", ["chelsea.png", "rocket.jpg"])
def test_still_image(name):
    p = synth.SHARED / "images" / name
    if not p.exists():
        pytest.skip("shared image missing")
    tl = v2m.analyze(p, duration_s=12)
    assert tl.source.kind == "image" and tl.cuts == [] and len(tl.shots) == 1
    assert tl.duration_s == 12 and tl.shots[0].end_s == 12
    assert 0 < tl.image["edge_density"] < 1
    assert -1 <= tl.shots[0].valence <= 1


def test_colour_stats_known_answers():
    grey = np.full((20, 20, 3), 128, np.uint8)
    b, s, c, w, k = colour_stats(grey)
    assert b == pytest.approx(128 / 255, abs=1e-3) and s == 0 and c == 0 and k == 0
    red = np.zeros((20, 20, 3), np.uint8)
    red[..., 2] = 255
    blue = np.zeros((20, 20, 3), np.uint8)
    blue[..., 0] = 255
    assert colour_stats(red)[3] == pytest.approx(1.0) and colour_stats(blue)[3] == pytest.approx(-1)
    # Hasler & Suesstrunk on pure red: rg = 255, yb = 127.5, no variance -> 0.3*|mean|
    assert colour_stats(red)[2] == pytest.approx(0.3 * np.hypot(255, 127.5) / 100, rel=1e-4)
    v_bright, _ = valence_arousal(brightness=0.9, saturation=0.5, warmth=0.5, motion_level_01=0.5)
    v_dark, _ = valence_arousal(brightness=0.1, saturation=0.1, warmth=-0.5, motion_level_01=0.5)
    assert v_bright > 0 > v_dark
    _, a_calm = valence_arousal(brightness=0.5, saturation=0.1, warmth=0, motion_level_01=0.0)
    _, a_busy = valence_arousal(brightness=0.5, saturation=0.8, warmth=0, motion_level_01=1.0)
    assert a_busy > 0 > a_calm


def test_corrupt_packets_in_the_middle_survive(media_dir):
    mkv = synth.cuts_video(media_dir / "tocorrupt.mkv", cut_frames=(20, 45, 83), n_frames=110)
    raw = bytearray(mkv.read_bytes())
    rng = np.random.default_rng(3)
    mid = len(raw) // 2
    raw[mid : mid + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    bad = media_dir / "corrupt.mkv"
    bad.write_bytes(bytes(raw))
    tl = v2m.analyze(bad)
    assert tl.duration_s > 3.0  # analysed past the damage
    assert any("damage" in w for w in tl.warnings)
    assert [c for c in tl.cuts if abs(c.frame - 20) <= 1]  # the first cut is still found


def test_non_square_pixels_in_reported_size():
    p = synth.SHARED / "video" / "carphone.mp4"
    if not p.exists():
        pytest.skip("shared sample clip missing")
    tl = v2m.analyze(p)
    # 176x144 coded with a sample aspect ratio of 128/117: 192.6 display pixels wide
    assert (tl.source.width, tl.source.height) == (193, 144)


def test_hard_cut_followed_by_camera_motion_stays_hard(media_dir):
    """A cut into a shot whose picture keeps changing smoothly right after it (a camera
    move or exposure change that looks like a blend) is one hard cut at its frame, not a
    gradual transition that swallows the cut."""
    a, b, c = synth.shot_image(21), synth.shot_image(22), synth.shot_image(23)
    frames = [a] * 30
    for k in range(25):  # from the cut on, B drifts smoothly toward C
        al = (k + 1) / 26
        frames.append(((1 - al) * b + al * c).astype(np.uint8))
    frames += [c] * 20
    p = synth.write_video(media_dir / "cut_drift.mp4", frames)
    tl = v2m.analyze(p)
    hard = [x for x in tl.cuts if x.kind == "hard"]
    assert [x.frame for x in hard] == [30]
    assert not [x for x in tl.cuts if x.kind == "gradual" and x.start_s <= 1.25 <= x.end_s]


def test_key_frame_pulse_is_removed_from_a_motion_measure():
    from v2m.analysis import remove_key_frame_pulse

    rng = np.random.default_rng(3)
    n, gop = 1200, 12
    motion = np.abs(rng.normal(0.02, 0.01, n))  # motion not locked to the encoder
    phase = np.arange(n) % gop
    pulsed = motion + np.where(phase == 3, 0.05, 0.0)  # the jolt 3 frames after each key
    assert visual_tempo(pulsed, hop_s=0.04)[0] == pytest.approx(125.0, rel=0.02)
    clean = remove_key_frame_pulse(pulsed, phase)
    assert np.abs(clean - motion)[phase == 3].mean() < 0.01  # the pulse: 0.05
    assert np.abs(clean - motion)[phase != 3].mean() < 0.005
    tempo, conf = visual_tempo(clean, hop_s=0.04)
    assert conf < 0.2 and (tempo is None or abs(tempo - 125.0) > 3)
    # too few key-frame intervals to tell a pulse from motion: left as it is
    few = np.where(np.arange(n) < 15 * gop, phase, 10**6)
    assert np.array_equal(remove_key_frame_pulse(pulsed, few), pulsed)
    assert (remove_key_frame_pulse(pulsed, phase) >= 0).all()


@pytest.mark.skipif(not (synth.SHARED / "video" / "dancer.avi").exists(), reason="no shared clip")
def test_key_frames_of_a_real_clip_make_no_tempo_or_beats():
    # dancer.avi (MPEG-4 part 2) has a key frame every 12 frames at 25 fps: before the fix
    # its visual tempo was 125.02 BPM (the key-frame interval, confidence 0.54) and 60 of
    # its 126 visual beats sat 4 frames after a key frame
    tl = v2m.analyze(synth.SHARED / "video" / "dancer.avi", pose="off")
    assert abs(tl.visual_tempo_bpm - 125.0) > 3
    frames = np.round(np.array([b.time_s for b in tl.visual_beats]) * 25).astype(int)
    assert len(frames) > 50
    assert np.bincount(frames % 12, minlength=12).max() / len(frames) < 0.2


def test_a_video_under_a_second_is_scored_with_a_warning(tmp_path):
    """Eight frames (0.32 s): analysed, and the warning says the music is that short and
    what a still would get."""
    frames = [synth.shot_image(i % 2) for i in range(8)]
    p = synth.write_video(tmp_path / "short.mp4", frames, fps=25)
    tl = v2m.analyze(p, pose="off", audio="off")
    assert abs(tl.duration_s - 0.32) < 0.05
    assert any("lasts only 0.32 s" in w and "30 s" in w for w in tl.warnings), tl.warnings
    long = v2m.analyze(synth.cuts_video(tmp_path / "cuts.mp4"), pose="off", audio="off")
    assert not any("lasts only" in w for w in long.warnings)
