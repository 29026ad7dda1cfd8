"""Dance analysis where the answer is known, on clips built from dancer.avi's real frames
(tests/dancing.py): a stretch played forward and backward at known periods, re-encoded and
retimed copies, a performer seen from the waist up, three dancers side by side."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest
from dancing import DANCER, performer, ping_pong, reencoded, retimed, troupe

from v2m.analysis import analyze
from v2m.analysis.pose import pose_available
from v2m.projection import choose_mode, project

pytestmark = [
    pytest.mark.skipif(not pose_available(), reason="pose extra not installed"),
    pytest.mark.skipif(not DANCER.exists(), reason="shared dancer.avi missing"),
]


def _beats(tl) -> np.ndarray:
    return np.array([b["time_s"] for b in tl.kinematics["beats"]])


def _f(ref, est, window=0.08) -> float:
    return mir_eval.onset.f_measure(np.sort(ref), np.sort(est), window=window)[0]


@pytest.fixture(scope="module")
def dance_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("dance")


@pytest.mark.parametrize(("period_s", "fps"), [(0.48, 25.0), (0.4, 30.0), (0.6, 25.0)])
def test_a_clip_reversing_every_period_has_that_tempo_and_beats(dance_dir, period_s, fps):
    """Reversals are kinematic beats; the movement repeats every two of them, and the octave
    rule (stops and turns are beats) gives the reversal rate, not half of it."""
    path, turns = ping_pong(
        dance_dir / f"pp_{period_s}_{fps}.mp4", period_s=period_s, fps=fps, duration_s=12.0
    )
    tl = analyze(path, pose="on")
    kin = tl.kinematics
    assert kin["tempo_bpm"] == pytest.approx(60.0 / period_s, rel=0.02)
    assert kin["tempo_confidence"] >= 0.3
    assert _f(turns, _beats(tl)) >= 0.85
    cue = project(tl, mode="dance").cue
    assert 60.0 / np.median(np.diff(cue.beats_s)) == pytest.approx(60.0 / period_s, rel=0.03)


def test_kinematic_beats_survive_a_re_encode(dance_dir):
    path, _ = ping_pong(dance_dir / "pp_ll.mp4", period_s=0.52, fps=25.0, duration_s=12.0)
    enc, _ = ping_pong(dance_dir / "pp_crf.mp4", period_s=0.52, fps=25.0, duration_s=12.0, crf=18)
    a, b = analyze(path, pose="on"), analyze(enc, pose="on")
    assert _f(_beats(a), _beats(b)) >= 0.9
    assert b.kinematics["tempo_bpm"] == pytest.approx(a.kinematics["tempo_bpm"], rel=0.02)


@pytest.mark.parametrize("factor", [1.25, 0.8])
def test_a_retimed_copy_has_the_same_beats_at_the_scaled_times(dance_dir, factor):
    """The same frames played faster or slower (frame rate scaled): the picker's time
    constants are in pose intervals, so the beats map back onto the original's."""
    base = analyze(reencoded(dance_dir / "d_1.mp4", crf=None, seconds=16.0), pose="on")
    copy = analyze(retimed(dance_dir / f"d_{factor}.mp4", factor=factor, seconds=16.0), pose="on")
    assert _f(_beats(base), _beats(copy) * factor) >= 0.85
    for key in ("beats_per_s", "pace_per_s"):
        rate = copy.kinematics[key] / base.kinematics[key]
        assert rate == pytest.approx(factor, rel=0.05), key
    # without a confident tempo the music's tempo moves with her pace, the right way
    t_base = project(base, mode="dance", style="electronic").cue.tempo_bpm
    t_copy = project(copy, mode="dance", style="electronic").cue.tempo_bpm
    assert (t_copy - t_base) * (factor - 1.0) > 0


@pytest.mark.parametrize("factor", [1.25, 0.8])
def test_a_periodic_clip_retimed_scales_the_music(dance_dir, factor):
    path, turns = ping_pong(dance_dir / "pp_r1.mp4", period_s=0.6, fps=25.0, duration_s=12.0)
    copy = retimed(dance_dir / f"pp_r{factor}.mp4", factor=factor, src=path)
    a, b = analyze(path, pose="on"), analyze(copy, pose="on")
    assert _f(_beats(a), _beats(b) * factor) >= 0.85
    assert b.kinematics["tempo_bpm"] == pytest.approx(100.0 * factor, rel=0.02)
    t1 = project(a, mode="dance").cue.tempo_bpm
    t2 = project(b, mode="dance").cue.tempo_bpm
    assert t2 / t1 == pytest.approx(factor, rel=0.03)


def test_a_periodic_clip_at_30_fps_survives_a_re_encode(dance_dir):
    path, _ = ping_pong(dance_dir / "pp30_ll.mp4", period_s=0.5, fps=30.0, duration_s=12.0)
    enc, _ = ping_pong(dance_dir / "pp30_crf.mp4", period_s=0.5, fps=30.0, duration_s=12.0, crf=18)
    a, b = analyze(path, pose="on"), analyze(enc, pose="on")
    assert _f(_beats(a), _beats(b)) >= 0.9
    assert b.kinematics["tempo_bpm"] == pytest.approx(120.0, rel=0.02)


def test_a_performer_seen_from_the_waist_up_is_a_performance(dance_dir):
    tl = analyze(performer(dance_dir / "perf.mp4", seconds=10.0), pose="auto")
    assert tl.kinematics is not None  # the probe takes an upper body for a body
    kind, why = choose_mode(tl)
    assert kind == "performance" and "legs" in why
    proj = project(tl)
    assert any("head and arms" in w for w in proj.explanations)


def test_a_picture_of_several_dancers_is_tracked(dance_dir):
    """Three small dancers side by side: the detector alone passes few single frames, the
    probe (landmark presence deciding) finds a body, and one of them is followed."""
    tl = analyze(troupe(dance_dir / "troupe.mp4", seconds=8.0), pose="auto")
    assert tl.kinematics is not None, tl.notes
    assert choose_mode(tl)[0] == "dance"


def test_a_cut_heavy_clip_stays_cuts(bikes):
    tl = analyze(bikes, pose="auto")
    assert choose_mode(tl)[0] == "cuts"


def test_the_report_gives_the_pose_models_time(dance_dir):
    import json

    from v2m.pipeline import score

    clip = performer(dance_dir / "perf_report.mp4", seconds=6.0)
    score(clip, output=dance_dir / "perf.mid", report=dance_dir / "perf.json", mode="performance")
    rep = json.loads((dance_dir / "perf.json").read_text())
    t = rep["timings_s"]
    assert 0 < t["analyze: pose model"] < t["analyze"]
    assert any("mode performance" in line for line in rep["explanations"])


def test_a_cartoon_animal_is_not_a_dancer():
    """Big Buck Bunny's rabbit is a "body" to BlazePose, with its knees above its hips:
    not a person's posture, so the grid follows the cuts."""
    from synth import SHARED

    bunny = SHARED / "video" / "bigbuckbunny.mp4"
    if not bunny.exists():
        pytest.skip("shared bigbuckbunny.mp4 missing")
    assert choose_mode(analyze(bunny, pose="auto", audio="off"))[0] == "cuts"
    kind, why = choose_mode(analyze(bunny, pose="on", audio="off"))  # tracked all the same
    assert kind == "cuts" and "not a person" in why


def test_the_dancers_own_stops_survive_a_re_encode_too(dance_dir):
    """A long stretch (0.7 s at 30 fps) holds the dancer's own shallow stops between the
    reversals: a dip that is the pose's jitter in one encode and not in the other is no beat
    (strength < 0.1), so both copies keep the same beats and find the reversals."""
    path, turns = ping_pong(dance_dir / "pp7_ll.mp4", period_s=0.7, fps=30.0, duration_s=12.0)
    enc, _ = ping_pong(dance_dir / "pp7_crf.mp4", period_s=0.7, fps=30.0, duration_s=12.0, crf=18)
    a, b = analyze(path, pose="on"), analyze(enc, pose="on")
    assert _f(_beats(a), _beats(b)) >= 0.9
    assert _f(turns, _beats(a)) >= 0.9 and _f(turns, _beats(b)) >= 0.9
    assert all(x["strength"] >= 0.1 for x in a.kinematics["beats"])
    # the pace counts every dip: steady through the encode
    pace = b.kinematics["pace_per_s"] / a.kinematics["pace_per_s"]
    assert pace == pytest.approx(1.0, rel=0.1)


def test_a_cut_to_a_closer_shot_leaves_the_kinematics_alone(dance_dir):
    """The dancer's real frames, then a hard cut (on a frame pose skips: 201 frames at
    25 fps) to the same stretch 1.3x closer: the cut is seen, the body is not followed
    across it (no accent, no beat at it) and the reversals are beats."""
    from dancing import cut_to_closer

    path, cut_s, turns = cut_to_closer(dance_dir / "cut_closer.mp4")
    tl = analyze(path, pose="on", audio="off")
    assert [round(c.time_s, 2) for c in tl.cuts] == [round(cut_s, 2)]
    kin = tl.kinematics
    assert not [a for a in kin["accents"] if abs(a["time_s"] - cut_s) < 0.3], kin["accents"]
    far = turns[np.abs(turns - cut_s) > 0.2]
    assert _f(far, _beats(tl)) >= 0.9
    assert not [b for b in _beats(tl) if abs(b - cut_s) < 0.15]
    # the tempo is heard within each shot: a reversal every 0.6 s, 100 BPM, and the music's
    assert kin["tempo_bpm"] == pytest.approx(100.0, rel=0.03)
    beats = np.asarray(project(tl, mode="dance").cue.beats_s)
    assert 60 / np.median(np.diff(beats)) == pytest.approx(100.0, rel=0.03)
