"""Pose tracking inside the one decode pass: when to run it, and what goes in the timeline."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import cv2
import numpy as np

from .. import _media
from ..errors import InputError, MissingDependencyError
from .kinematics import REFERENCE_POSE_HZ

log = logging.getLogger("v2m")

#: Longer side (pixels) of the frames given to the pose models.
POSE_WIDTH = 512
#: Pose runs on every n-th frame, the smallest n that keeps the rate at or under this:
#: 12-15 Hz at the usual frame rates (24, 25, 30, 50, 60 fps), and the same frames for a
#: 25 fps video and its copies played 0.8x (20 fps) to 1.25x (31.25 fps) faster, so that
#: their kinematic beats agree (the picker's time constants are in pose intervals). The
#: cost is the landmark model, so the rate is a trade: on dancer.avi, against pose on every
#: frame (25 Hz), 12.5 Hz finds 73-82 % of the kinematic beats within 80 ms (strong ones
#: 75-94 %, accents 89-95 % within 120 ms; the two frame phases), 8.3 Hz 59-66 % (strong
#: 80-88 %).
POSE_MAX_HZ = 15.625
#: The kinematic features' grid step, in pose intervals: on dancer.avi, kinematic beats
#: from pose at 12.5 Hz on a 25 Hz grid agree with those from pose on every frame on
#: 62-65 % (within 40 ms; 79-84 % within 80 ms), on the 12.5 Hz grid on 48-60 % (73-82 %).
KINEMATIC_HOP_RATIO = 0.5
#: "auto": probe frames, and what makes a picture a dance (one body filling the height).
#: Each probe frame is looked at on its own (:meth:`PoseEstimator.probe`: the detector
#: trusted from a low score, the landmark model's presence deciding): on a picture of three
#: dancers side by side the detector alone passed 7 of 30 frames, the probe 25.
PROBE_FRAMES = 12
PROBE_MIN_SHARE = 0.5
PROBE_MIN_HEIGHT = 0.4
PROBE_MIN_VISIBLE = 0.7
_TRUNK = (11, 12, 23, 24)  # shoulders and hips: a body (or a performer's upper body), not a face


class BodyTracker:
    """Feeds pose frames to a :class:`~v2m.analysis.pose.PoseEstimator` and collects them."""

    def __init__(self, estimator, *, fps: float):
        self.est = estimator
        self.every = max(1, math.ceil((fps or 25.0) / POSE_MAX_HZ - 1e-9))
        self.rate_hz = (fps or 25.0) / self.every
        self.times: list[float] = []
        self.xy: list[np.ndarray] = []
        self.vis: list[np.ndarray] = []
        self.size: tuple[int, int] = (1, 1)
        self.model_time_s = 0.0
        self.probe_time_s = 0.0
        self.breaks_s: list[float] = []  # the first pose frame of each shot after the first
        self.detected: list[bool] = []  # frames read from the detector's region

    def push(self, time_s: float, bgr: np.ndarray, *, after_cut: bool) -> None:
        """One pose frame; ``after_cut``: a cut came since the previous pose frame (the
        region is found afresh, and the body is not followed across the cut)."""
        if after_cut:
            self.est.reset()
            if self.times:
                self.breaks_s.append(time_s)
        self.size = (bgr.shape[1], bgr.shape[0])
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        t0 = time.perf_counter()
        # the region's filter runs on the pose frames' own clock (12.5 Hz seconds): a copy
        # of the video played faster with the same frames gets the same crops
        fr = self.est(rgb, time_s * self.rate_hz / REFERENCE_POSE_HZ)
        self.model_time_s += time.perf_counter() - t0
        self.times.append(time_s)
        if fr is None:
            self.xy.append(np.full((33, 2), np.nan))
            self.vis.append(np.zeros(33))
        else:
            self.xy.append(fr.xy)
            self.vis.append(fr.visibility)
        self.detected.append(fr is not None and fr.detected)

    def finish(self, *, duration_s: float) -> tuple[dict, dict | None]:
        from .kinematics import kinematics
        from .pose import model_name

        w, h = self.size
        t = np.asarray(self.times)
        xy = np.asarray(self.xy).reshape(-1, 33, 2)
        vis = np.asarray(self.vis).reshape(-1, 33)
        seen = np.isfinite(xy).all(axis=(1, 2))
        heights = (np.nanmax(xy[seen, :, 1], axis=1) - np.nanmin(xy[seen, :, 1], axis=1)) / h
        pose = {
            "model": model_name(getattr(self.est, "variant", "full")),
            "rate_hz": round(self.rate_hz, 4),
            "model_time_s": round(self.model_time_s, 3),
            "probe_time_s": round(self.probe_time_s, 3),
            "image_size": [w, h],
            "coverage": round(float(seen.mean()) if len(seen) else 0.0, 4),
            "body_height": round(float(np.median(heights)), 4) if heights.size else 0.0,
            "times_s": [round(float(x), 4) for x in t],
            "landmarks": [
                [[round(float(p[0]) / w, 4), round(float(p[1]) / h, 4)] for p in f] if s else None
                for f, s in zip(xy, seen, strict=True)
            ],
            "visibility": [
                [round(float(v), 2) for v in f] if s else None
                for f, s in zip(vis, seen, strict=True)
            ],
        }
        kin = None
        if seen.sum() >= 3:
            # on a grid twice the pose rate: the positions in between are interpolated,
            # and minima of the speed fall between pose frames as often as on them
            # the first frame of each track (from the detector's coarse region) sits off
            # the tracked frames after it: its jump is no movement, so the kinematics
            # start from the second (the timeline keeps every frame)
            fresh = np.zeros(len(t), bool)
            fresh[: len(self.detected)] = self.detected[: len(t)]
            settled = np.where(fresh[:, None, None], np.nan, xy)
            kin = kinematics(
                t,
                settled,
                vis,
                duration_s=duration_s,
                hop_s=KINEMATIC_HOP_RATIO / self.rate_hz,
                pose_rate_hz=self.rate_hz,
                breaks_s=self.breaks_s,
            )
        return pose, kin


#: Pixels the probe may decode per probe point beyond the first frame after a seek.
PROBE_DECODE_PIXELS = 3_000_000


def _probe_frame(frames, start_s: float, seen: set, budget: int):
    """The first decoded frame not probed before that is at or after ``start_s``, decoding
    at most ``budget`` frames; past the budget, the last new frame decoded (or None)."""
    last = None
    for i, f in enumerate(frames):
        if f.time not in seen:
            if f.time is None or f.time >= start_s or i == 0:
                return f
            last = f
        if i + 1 >= budget:
            break
    return last


def _probe(path: Path, info, estimator) -> tuple[float, float, int]:
    """Share of probe frames with a body (landmarks found, shoulders, hips and knees
    visible), the median height of its landmarks over the frame height, and how many
    frames were probed (fewer than :data:`PROBE_FRAMES` in a video that has fewer)."""
    found, sizes = 0, []
    n = 0
    dur = info.duration_s if info.duration_s > 0 else 0.0
    with _media.open_media(path) as c:
        stream = c.streams.video[0]
        tb = float(stream.time_base) if stream.time_base else 0.0
        # the first frame after a seek to the key frame before a probe time will do (it
        # decodes alone); when that key frame was an earlier probe's, decoding goes on
        # towards the probe time, but for at most a budget of pixels (about one 1080p
        # frame, a few dozen small ones): decoding to the exact time cost up to a GOP of
        # frames per probe (0.57 s on a minute of 1080p), and a frame seen twice is skipped
        slack = max(0.5, 0.5 * dur / PROBE_FRAMES)
        budget = max(1, int(PROBE_DECODE_PIXELS / max(1, info.width * info.height)))
        seen: set[float | None] = set()
        for k in range(PROBE_FRAMES):
            t = dur * (k + 0.5) / PROBE_FRAMES
            try:
                if tb > 0:
                    c.seek(int(t / tb), stream=stream, backward=True)
                frame = _probe_frame(c.decode(stream), t - slack, seen, budget)
            except Exception:  # noqa: BLE001 - a probe frame that does not decode is skipped
                continue
            if frame is None:
                continue
            seen.add(frame.time)
            n += 1
            w, h = _media.fit_size(info.width, info.height, POSE_WIDTH)
            rgb = frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
            rgb = _media._rotate(rgb, info.rotation_deg)
            fr = estimator.probe(rgb)
            if fr is not None and float(fr.visibility[list(_TRUNK)].mean()) >= PROBE_MIN_VISIBLE:
                found += 1
                ys = fr.xy[:, 1]
                sizes.append(
                    float(np.clip(ys.max(), 0, rgb.shape[0]) - np.clip(ys.min(), 0, None))
                    / rgb.shape[0]
                )
    estimator.reset()
    if n == 0:
        return 0.0, 0.0, 0
    return found / n, float(np.median(sizes)) if sizes else 0.0, n


def start(
    path: Path,
    info,
    *,
    mode: str,
    model_dir,
    warnings_out: list[str],
    notes_out: list[str],
    variant: str = "full",
) -> BodyTracker | None:
    """A tracker when pose should run on this video (see :func:`v2m.analysis.analyze`);
    when it does not, ``notes_out`` gets the reason (pose off, not installed, or the probe
    saw no body filling the picture)."""
    if mode == "off":
        notes_out.append("pose: off")
        return None
    from .pose import PoseEstimator

    try:
        est = PoseEstimator(model_dir=model_dir, variant=variant, num_threads=2)
    except (MissingDependencyError, InputError) as exc:
        notes_out.append(f"pose: not available ({exc})")
        if mode == "on":
            msg = f"{path}: no pose tracking ({exc}); using optical-flow motion only"
            warnings_out.append(msg)
            log.warning(msg)
        else:
            log.info("pose tracking not available: %s", exc)
        return None
    probe_s = 0.0
    if mode == "auto":
        t0 = time.perf_counter()
        share, size, n_probed = _probe(path, info, est)
        probe_s = time.perf_counter() - t0
        log.info("pose probe: a body in %.0f %% of probe frames, size %.2f", 100 * share, size)
        if share < PROBE_MIN_SHARE or size < PROBE_MIN_HEIGHT:
            notes_out.append(
                f"pose: not tracked: the probe of {n_probed} frame{'s' * (n_probed != 1)} "
                f"found a body in "
                f"{100 * share:.0f} % of them, {size:.2f} of the picture's height (tracked "
                f"from {100 * PROBE_MIN_SHARE:.0f} % and {PROBE_MIN_HEIGHT:.2f})"
            )
            return None
    tracker = BodyTracker(est, fps=info.fps)
    tracker.probe_time_s = probe_s
    return tracker
