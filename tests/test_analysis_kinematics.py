"""Kinematic features on skeletons the tests build (known beats, stops, jumps, drift)."""

import numpy as np
import pytest

from v2m.analysis.kinematics import kinematic_beats, kinematics

FPS = 25.0


def _skeleton(n: int) -> np.ndarray:
    """A standing body in pixels: torso 100 px (shoulders y=100, hips y=200)."""
    xy = np.zeros((n, 33, 2))
    xy[:, :, 0] = 200.0
    xy[:, :, 1] = 150.0
    xy[:, 0] = [200, 60]  # nose
    xy[:, 11], xy[:, 12] = [180, 100], [220, 100]  # shoulders
    xy[:, 13], xy[:, 14] = [170, 150], [230, 150]  # elbows
    xy[:, 15], xy[:, 16] = [165, 195], [235, 195]  # wrists
    xy[:, 23], xy[:, 24] = [190, 200], [210, 200]  # hips
    xy[:, 25], xy[:, 26] = [190, 260], [210, 260]  # knees
    xy[:, 27], xy[:, 28] = [190, 320], [210, 320]  # ankles
    xy[:, 31], xy[:, 32] = [185, 330], [215, 330]  # toes
    return xy


def _bouncing(beat_times: np.ndarray, duration_s: float, amp_px: float = 30.0):
    """Arms and body sway through a cycle every two beats: velocity zero on each beat."""
    t = np.arange(int(duration_s * FPS)) / FPS
    # phase advances by pi per beat (so the speed |sin| has a minimum on every beat)
    phase = np.interp(t, beat_times, np.pi * np.arange(len(beat_times)))
    xy = _skeleton(len(t))
    sway = amp_px * np.cos(phase)
    for j in (0, 11, 12, 13, 14, 15, 16, 23, 24):
        xy[:, j, 0] += sway * (2.0 if j in (15, 16) else 1.0)
    xy[:, 15, 1] += 0.5 * sway
    xy[:, 16, 1] -= 0.5 * sway
    return t, xy, np.ones((len(t), 33))


def test_beats_tempo_and_confidence_of_a_steady_dancer():
    beats = np.arange(0, 20.01, 0.5)  # 120 BPM
    t, xy, vis = _bouncing(beats, 20.0)
    k = kinematics(t, xy, vis, duration_s=20.0)
    kb = np.array([b["time_s"] for b in k["beats"]])
    strong = kb[np.array([b["strength"] for b in k["beats"]]) >= 0.3]
    inner = beats[(beats > 0.5) & (beats < 19.5)]
    d = np.array([np.min(np.abs(strong - b)) for b in inner])
    assert np.median(d) < 0.02 and d.max() < 0.045
    assert len(strong) <= len(beats) + 2  # no spurious strong minima between beats
    assert k["tempo_bpm"] == pytest.approx(120.0, rel=0.03)
    assert k["tempo_confidence"] > 0.3
    assert k["unit_speed"] == "torso lengths per second"
    assert max(k["intensity"]) == pytest.approx(1.0) and min(k["intensity"]) >= 0.0


def test_speed_is_normalised_by_body_size():
    beats = np.arange(0, 10.01, 0.5)
    t, xy, vis = _bouncing(beats, 10.0)
    a = kinematics(t, xy, vis, duration_s=10.0)
    b = kinematics(t, 2.0 * xy, vis, duration_s=10.0)  # the same dance filmed closer
    assert b["torso_px"] == pytest.approx(2 * a["torso_px"], rel=1e-3)
    sa, sb = np.array(a["speed"], float), np.array(b["speed"], float)
    assert np.nanmax(np.abs(sa - sb)) < 1e-3
    assert b["tempo_bpm"] == pytest.approx(a["tempo_bpm"], rel=1e-3)


def test_tempo_drift_is_measured():
    # the beat period shrinks from 0.55 s to 0.45 s over 40 s (about +22 %)
    periods = np.linspace(0.55, 0.45, 80)
    beats = np.r_[0.0, np.cumsum(periods)]
    t, xy, vis = _bouncing(beats, float(beats[-1]))
    k = kinematics(t, xy, vis, duration_s=float(beats[-1]))
    assert 10.0 < k["tempo_drift_pct"] < 35.0
    curve = np.array(k["tempo_curve"]["bpm"], float)
    good = curve[np.isfinite(curve)]
    assert good[: len(good) // 4].mean() < good[-len(good) // 4 :].mean()


def test_stops_and_jumps_are_accents_at_their_times():
    dur = 12.0
    t = np.arange(int(dur * FPS)) / FPS
    xy = _skeleton(len(t))
    # arms swing steadily, then freeze at 4.0 s and again from 8.0 s
    swing = 40.0 * np.sin(2 * np.pi * t / 1.3)
    moving = (t < 4.0) | ((t >= 5.0) & (t < 8.0))
    held = np.where(moving, swing, 0.0)
    for i in range(1, len(t)):
        if not moving[i]:
            held[i] = held[i - 1]
    for j in (13, 14, 15, 16):
        xy[:, j, 0] += held * (1.5 if j in (15, 16) else 1.0)
    # a jump: the whole body rises 60 px at 10.5 s and comes back
    jump = 60.0 * np.exp(-0.5 * ((t - 10.5) / 0.12) ** 2)
    xy[:, :, 1] -= jump[:, None]
    k = kinematics(t, xy, np.ones((len(t), 33)), duration_s=dur)
    acc = k["accents"]
    times = np.array([a["time_s"] for a in acc])
    assert any(abs(times - 4.0) < 0.25), acc
    assert any(abs(times - 8.0) < 0.25), acc
    jumps = [a for a in acc if a["kind"] == "jump"]
    assert jumps and min(abs(a["time_s"] - 10.4) for a in jumps) < 0.25, acc


def test_gaps_are_bridged_and_long_gaps_left_empty():
    beats = np.arange(0, 12.01, 0.5)
    t, xy, vis = _bouncing(beats, 12.0)
    xy[50:55] = np.nan  # 0.2 s lost: bridged
    xy[150:200] = np.nan  # 2 s without a body: no speed there
    k = kinematics(t, xy, vis, duration_s=12.0)
    speed = np.array(k["speed"], float)
    hop = k["hop_s"]
    assert np.isfinite(speed[int(2.1 / hop)])
    assert not np.isfinite(speed[int(7.0 / hop)])
    assert not any(6.4 < b["time_s"] < 7.6 for b in k["beats"])


def test_kinematic_beats_known_minima():
    hop = 0.02
    x = np.abs(np.sin(np.pi * np.arange(0, 4, hop) / 0.4)) + 0.05
    times, strength = kinematic_beats(x, hop_s=hop)
    np.testing.assert_allclose(times, np.arange(0.4, 3.99, 0.4), atol=0.011)
    assert np.all(strength > 0.5)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="33"):
        kinematics(np.arange(5), np.zeros((5, 17, 2)), np.zeros((5, 17)), duration_s=1.0)


def _reversing(beat_times: np.ndarray, duration_s: float, amp_px: float = 60.0):
    """Body and arms sway at constant speed and reverse sharply on every beat."""
    t = np.arange(int(duration_s * FPS)) / FPS
    phase = np.interp(t, beat_times, np.arange(len(beat_times)))  # beats so far
    tri = 2 * np.abs(phase / 2 - np.floor(phase / 2 + 0.5))  # 0..1, a corner on each beat
    xy = _skeleton(len(t))
    for j in (0, 11, 12, 13, 14, 15, 16, 23, 24):
        xy[:, j, 0] += amp_px * (tri - 0.5)
    return t, xy, np.ones((len(t), 33))


def test_tracker_measures_kinematics_on_a_grid_finer_than_the_pose_rate():
    """Pose at 12.5 Hz (every 2nd frame at 25 fps), sharp reversals every 0.52 s starting
    between two pose frames: on the tracker's grid (half the pose interval) the beats are
    found closer to the truth than on the pose frames' own grid (1.7 vs 5.1 ms)."""
    from v2m.analysis._body import KINEMATIC_HOP_RATIO, BodyTracker

    beats = 0.3 + 0.52 * np.arange(38)  # 0.3 s = 3.75 pose intervals: between frames
    t, xy, vis = _reversing(beats, 20.0)
    tr = BodyTracker(None, fps=FPS)
    assert tr.rate_hz == pytest.approx(12.5)
    tr.size = (400, 400)
    tr.times, tr.xy, tr.vis = list(t[::2]), list(xy[::2]), list(vis[::2])
    _, kin = tr.finish(duration_s=20.0)
    assert kin["hop_s"] == pytest.approx(KINEMATIC_HOP_RATIO / 12.5)
    coarse = kinematics(t[::2], xy[::2], vis[::2], duration_s=20.0, hop_s=0.08)

    def median_error(k):
        kb = np.array([b["time_s"] for b in k["beats"] if b["strength"] >= 0.3])
        inner = beats[(beats > 1.0) & (beats < 19.0)]
        return float(np.median([np.min(np.abs(kb - b)) for b in inner]))

    assert median_error(kin) < 0.004
    assert median_error(kin) < 0.6 * median_error(coarse)


def test_a_cut_to_a_closer_shot_is_no_movement():
    """At 8 s the picture cuts to the same dancer 1.3x closer and 100 px to the right (as
    after a cut): followed across the cut, that jump is a huge speed and a stop accent;
    with the cut as a break, no accent and no beat lies near it, the speed on either side
    stays at the movement's own level, and the reversals are all found."""
    beats = 0.3 + 0.52 * np.arange(31)
    t, xy, vis = _reversing(beats, 16.0)
    after = t >= 8.0
    centre = np.array([200.0, 200.0])
    xy[after] = (xy[after] - centre) * 1.3 + centre + [100.0, 0.0]
    t, xy, vis = t[::2], xy[::2], vis[::2]  # pose at 12.5 Hz
    joined = kinematics(t, xy, vis, duration_s=16.0, hop_s=0.04, pose_rate_hz=12.5)
    broken = kinematics(t, xy, vis, duration_s=16.0, hop_s=0.04, pose_rate_hz=12.5, breaks_s=[8.0])

    def near_cut(items):
        return [x for x in items if abs(x["time_s"] - 8.0) < 0.2]

    assert near_cut(joined["accents"])  # the test can fail: across the cut it is a stop
    assert not near_cut(broken["accents"])
    speed = np.array([np.nan if v is None else v for v in broken["speed"]])
    jumped = np.array([np.nan if v is None else v for v in joined["speed"]])
    around = slice(180, 220)  # 7.2-8.8 s on the 0.04 s grid
    assert np.nanmax(jumped[around]) > 3 * np.nanquantile(jumped, 0.95)
    assert np.nanmax(speed[around]) < 1.5 * np.nanquantile(speed, 0.95)
    # every reversal not within 0.2 s of the cut (a stop at a cut is the cut's) is found
    found = np.array([b["time_s"] for b in broken["beats"] if b["strength"] >= 0.3])
    inner = beats[(beats > 0.5) & (beats < 15.5) & (np.abs(beats - 8.0) > 0.2)]
    assert all(np.min(np.abs(found - b)) < 0.05 for b in inner)
    assert not [x for x in broken["beats"] if abs(x["time_s"] - 8.0) < 0.2]


def test_the_tempo_is_heard_within_shots():
    """Two 10 s shots of a body reversing every 0.52 s, the second at another phase (a
    cut restarts the movement anywhere): windows across the cut hear no period; with the
    cut as a break the tempo is heard in the windows within each shot."""
    t, xy, vis = _reversing(0.3 + 0.52 * np.arange(39), 20.0)
    _, xy2, _ = _reversing(0.05 + 0.52 * np.arange(39), 20.0)  # another phase
    after = t >= 10.0
    xy[after] = xy2[after] + [80.0, 0.0]  # and elsewhere in the picture
    t, xy, vis = t[::2], xy[::2], vis[::2]
    kw = {"duration_s": 20.0, "hop_s": 0.04, "pose_rate_hz": 12.5}
    joined = kinematics(t, xy, vis, **kw)
    broken = kinematics(t, xy, vis, breaks_s=[10.0], **kw)
    assert broken["tempo_bpm"] == pytest.approx(60 / 0.52, rel=0.02)
    # 0.89 (0.78 with windows across the cut, 0.62 followed across it)
    assert broken["tempo_confidence"] > 0.85 > joined["tempo_confidence"]
