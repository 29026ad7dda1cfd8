"""Shot boundaries, fed one analysis frame at a time by the decode pass.

PySceneDetect's ``ContentDetector`` (mean HSV difference between adjacent
frames, threshold 27) finds hard cuts; a candidate whose content returns within
``flash_max_frames`` frames is a flash, not a cut. Gradual transitions (fades, dissolves)
use twin comparison (Zhang, Kankanhalli & Smoliar 1993): a run of frames whose adjacent
differences all exceed a low threshold is a candidate; it is accepted only if its
interior frames are convex blends of the frames around it, ``I_t ~ (1-a_t) A + a_t B``
with ``a_t`` rising (residual <= 0.35 of ``|A-B|``), which rejects camera motion.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from ..timeline import Cut

__all__ = ["CUT_THRESHOLD", "CutTracker"]

CUT_THRESHOLD = 27.0
GRADUAL_LOW = 1.2
GRADUAL_MIN_CHANGE = 25.0


class CutTracker:
    """Hard cuts (PySceneDetect ContentDetector, flash-filtered) and gradual transitions."""

    def __init__(self, *, fps: float, threshold: float, flash_max_frames: int = 2):
        from scenedetect import ContentDetector, FrameTimecode

        self._tc = FrameTimecode
        self.fps = fps
        self.detector = ContentDetector(threshold=threshold, min_scene_len=0)
        self._prev_hsv: np.ndarray | None = None
        self.flash_max = flash_max_frames
        self.threshold = threshold
        # Ring buffer of recent small grey frames (index -> image) for flash and blend tests.
        self.recent: deque[tuple[int, float, np.ndarray]] = deque(maxlen=int(4.0 * fps) + 8)
        self.pending: list[tuple[int, float]] = []  # hard-cut candidates awaiting flash check
        self.hard: list[Cut] = []
        self.gradual: list[Cut] = []
        self._run: list[int] = []  # frames of the current twin-comparison run
        self._quiet = 0
        self.times: list[float] = []

    def _small(self, idx: int) -> np.ndarray | None:
        for i, _t, img in self.recent:
            if i == idx:
                return img
        return None

    def push(self, idx: int, time_s: float, bgr: np.ndarray, thumb: np.ndarray) -> None:
        """Feed one analysis frame ``bgr`` and its ``THUMB_WIDTH`` thumbnail."""
        tc = self._tc(idx, self.fps)
        found = self.detector.process_frame(tc, bgr)
        # The same measure as ContentDetector's content_val (mean |change| of H, S and V,
        # averaged), taken on the thumbnail: the cut score and twin comparison's input.
        hsv = cv2.cvtColor(thumb, cv2.COLOR_BGR2HSV).astype(np.int16)
        score = 0.0
        if self._prev_hsv is not None:
            score = float(np.abs(hsv - self._prev_hsv).mean())
        self._prev_hsv = hsv
        self.times.append(time_s)
        small = thumb.astype(np.float32)
        self.recent.append((idx, time_s, small))
        for c in found:
            self.pending.append((c.frame_num, score))
        self._resolve_pending(idx)
        self._twin(idx, score, is_hard=bool(found))

    def _resolve_pending(self, idx: int, *, final: bool = False) -> None:
        keep: list[tuple[int, float]] = []
        dropped: set[int] = set()
        for f, score in self.pending:
            if f in dropped:
                continue
            if idx < f + self.flash_max and not final:
                keep.append((f, score))
                continue
            if self._is_flash(f):
                # Drop this candidate and the one the flash caused on its way back.
                dropped.update(range(f + 1, f + self.flash_max + 2))
                continue
            if self.hard and f - self.hard[-1].frame <= self.flash_max:
                continue
            self.hard.append(Cut(time_s=self.times[f], frame=f, score=round(score, 3), kind="hard"))
        self.pending = [(f, s) for f, s in keep if f not in dropped]

    def _is_flash(self, f: int) -> bool:
        """True if the picture before frame ``f`` returns within ``flash_max`` frames."""
        before = self._small(f - 1)
        if before is None:
            return False
        jump = max(_mad(before, self._small(f)), 1e-6)
        for j in range(1, self.flash_max + 2):
            after = self._small(f + j)
            if after is not None and _mad(before, after) < 0.35 * jump:
                return True
        return False

    def _twin(self, idx: int, score: float, *, is_hard: bool) -> None:
        if GRADUAL_LOW <= score < self.threshold and not is_hard:
            self._run.append(idx)
            self._quiet = 0
            return
        if self._run:
            self._quiet += 1
            if self._quiet <= 1 and not is_hard:
                return
            self._close_run()

    def _close_run(self) -> None:
        run, self._run, self._quiet = self._run, [], 0
        if len(run) < 4:
            return
        start, end = run[0], run[-1]
        a = self._small(start - 1)
        b = self._small(end)
        if a is None or b is None:
            return
        change = _mad(a, b)
        if change < GRADUAL_MIN_CHANGE:
            return
        d = (b - a).ravel()
        dd = float(d @ d) + 1e-6
        alphas, resid = [], []
        for f in range(start, end):
            m = self._small(f)
            if m is None:
                return
            x = (m - a).ravel()
            alpha = float(x @ d) / dd
            alphas.append(alpha)
            resid.append(float(np.abs(x - alpha * d).mean()) / max(change, 1e-6))
        alphas_arr = np.array(alphas)
        rising = np.mean(np.diff(alphas_arr) > -0.02) >= 0.8 if len(alphas) > 1 else True
        if np.median(resid) > 0.35 or not rising or alphas_arr[-1] - alphas_arr[0] < 0.3:
            return
        t0 = self.times[start - 1] if start > 0 else self.times[start]
        t1 = self.times[end]
        mid_frame = (start + end) // 2
        self.gradual.append(
            Cut(
                time_s=round(0.5 * (t0 + t1), 6),
                frame=mid_frame,
                score=round(change, 3),
                kind="gradual",
                start_s=t0,
                end_s=t1,
            )
        )

    def finish(self) -> list[Cut]:
        self._resolve_pending(len(self.times), final=True)
        if self._run:
            self._close_run()
        # Merge a fade-out followed by a fade-in (through black) into one transition.
        merged: list[Cut] = []
        for g in self.gradual:
            if (
                merged
                and g.start_s is not None
                and merged[-1].end_s is not None
                and (g.start_s - merged[-1].end_s <= 0.5)
            ):
                prev = merged[-1]
                prev.end_s = g.end_s
                prev.time_s = round(0.5 * (prev.start_s + prev.end_s), 6)
                prev.frame = int(round(0.5 * (prev.frame + g.frame)))
                prev.score = max(prev.score, g.score)
            else:
                merged.append(g)
        duration = self.times[-1] if self.times else 0.0
        merged = [
            g for g in merged if g.start_s > 0.3 and g.end_s < duration - 0.3
        ]  # opening / closing fades are not transitions between shots
        # A hard cut stays a hard cut: a "gradual transition" around one is the cut followed
        # (or preceded) by camera motion, not a dissolve, so it is dropped, not the cut.
        merged = [
            g
            for g in merged
            if not any(g.start_s - 0.05 <= h.time_s <= g.end_s + 0.05 for h in self.hard)
        ]
        return sorted(self.hard + merged, key=lambda c: c.time_s)


def _mad(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None:
        return 0.0
    return float(np.abs(a - b).mean())
