"""Stage 1: video or image -> :class:`~v2m.timeline.Timeline`.

:func:`analyze` decodes the input once, scales every frame once to a small analysis frame
(:data:`v2m._media.ANALYSIS_WIDTH` pixels on its longer side) and feeds it to every analyser:

* **Shot cuts** -- PySceneDetect's ``ContentDetector`` (mean HSV difference between adjacent
  frames, threshold 27) finds hard cuts; a candidate whose content returns within
  ``flash_max_frames`` frames is a flash, not a cut. Gradual transitions (fades, dissolves)
  use twin comparison (Zhang, Kankanhalli & Smoliar 1993): a run of frames whose adjacent
  differences all exceed a low threshold is a candidate; it is accepted only if its
  interior frames are convex blends of the frames around it, ``I_t ~ (1-a_t) A + a_t B``
  with ``a_t`` rising (residual <= 0.35 of ``|A-B|``), which rejects camera motion.
* **Motion** -- dense optical flow (OpenCV DIS, ultrafast preset) on the luma at
  ``FLOW_WIDTH`` px; energy is the mean flow speed in frame widths per second. Key frames
  put a pulse of false motion into the flow, at the encoder's key-frame interval; its
  typical size at each position after a key frame is removed from speed and impact
  (:func:`remove_key_frame_pulse`).
* **Visual impact and beats** -- after Davis & Agrawala, "Visual Rhythm and Beat" (SIGGRAPH
  2018): a directogram ``D(t, k)`` (flow magnitude summed per direction bin, 8 bins),
  averaged over the last three analysed frames; the impact envelope is the deceleration
  flux ``u(t) = sum_k max(0, D(t-1,k) - D(t,k))``,
  high-passed by subtracting its 1 s moving average; visual beats are its local maxima
  (+-0.15 s) above the moving average plus half a standard deviation, at least 0.25 s
  apart. The visual tempo is the envelope's autocorrelation peak between 40 and 200 BPM,
  weighted by a log-normal prior centred on 110 BPM (one octave wide).
* **Colour and affect** -- per analysed frame, on a 64 px thumbnail: brightness B (mean HSV
  value), saturation S (mean HSV saturation), RMS contrast, colourfulness after Hasler &
  Suesstrunk (2003) ``M = sqrt(s_rg^2 + s_yb^2) + 0.3 sqrt(m_rg^2 + m_yb^2)`` with
  ``rg = R - G`` and ``yb = (R + G)/2 - B`` (reported as M/100), warmth as the
  saturation-weighted balance of warm (red..yellow) over cool (cyan..blue) hues in -1..1.
  Valence and arousal use Valdez & Mehrabian (1994): pleasure ``P = 0.69 B + 0.22 S`` and
  colour arousal ``A_c = -0.31 B + 0.60 S`` (B, S in 0..1); v2m reports
  ``valence = clip((P - 0.40) / 0.30 + 0.25 warmth, -1, 1)`` and
  ``arousal = clip(0.5 (A_c - 0.05) / 0.25 + 0.5 (2 m - 1), -1, 1)`` where ``m`` is the
  absolute motion level ``1 - exp(-speed / 0.15)`` (speed in frame widths per second).

Optical flow runs at most at 30 analysed frames per second (every n-th frame of faster
video; 30 Hz is finer than any musical beat), colour at about 10 Hz and on the first frame
after every cut (colour changes with shots, not within frames), cuts on every frame, so cut
times are frame-accurate. Cut detection and flow see the frame at ``FLOW_WIDTH`` pixels,
colour and the flash / dissolve tests a ``THUMB_WIDTH`` thumbnail.
"""

from __future__ import annotations

import logging
import math
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .. import _media
from ..cuesheet import MAX_DURATION_S
from ..errors import ParameterError
from ..timeline import Cut, Shot, Source, Timeline, VisualBeat
from . import _body

__all__ = ["analyze", "colour_stats", "valence_arousal"]

log = logging.getLogger("v2m")

FLOW_WIDTH = 128
THUMB_WIDTH = 64
CUT_THRESHOLD = 27.0
GRADUAL_LOW = 1.2
GRADUAL_MIN_CHANGE = 25.0
MAX_ANALYSIS_FPS = 30.0
COLOUR_HZ = 10.0
N_DIRECTIONS = 8
#: A position after a key frame needs this many occurrences for its typical motion to be
#: measured (see :func:`remove_key_frame_pulse`): over fewer key-frame intervals, motion
#: with a period near a multiple of the interval would pass for the pulse.
MIN_PHASE_COUNT = 20
#: Longer key-frame intervals (frames) are not looked at.
MAX_KEY_INTERVAL = 1024


# --------------------------------------------------------------------------- colour / affect


def colour_stats(bgr: np.ndarray) -> np.ndarray:
    """Colour statistics of one image.

    Parameters
    ----------
    bgr : np.ndarray, shape (h, w, 3), uint8

    Returns
    -------
    np.ndarray, shape (5,)
        brightness (0..1), saturation (0..1), colourfulness (Hasler & Suesstrunk M / 100),
        warmth (-1..1), RMS contrast (std of luma / 128, 0..~1).
    """
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    h = hsv[..., 0].astype(np.float32) * 2.0  # degrees
    s = hsv[..., 1].astype(np.float32) / 255.0
    v = hsv[..., 2].astype(np.float32) / 255.0
    f = bgr.astype(np.float32)
    b, g, r = f[..., 0], f[..., 1], f[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    colourfulness = math.sqrt(float(rg.var() + yb.var())) + 0.3 * math.sqrt(
        float(rg.mean() ** 2 + yb.mean() ** 2)
    )
    warm = ((h < 70) | (h >= 330)).astype(np.float32)
    cool = ((h >= 160) & (h < 280)).astype(np.float32)
    weight = s * v
    total = float(weight.sum()) + 1e-6
    warmth = float(((warm - cool) * weight).sum()) / total
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    return np.array(
        [
            float(v.mean()),
            float(s.mean()),
            colourfulness / 100.0,
            warmth,
            float(luma.std()) / 128.0,
        ],
        dtype=np.float64,
    )


def motion_level(speed_w_per_s: np.ndarray | float) -> np.ndarray | float:
    """Absolute motion level in 0..1 from flow speed in frame widths per second."""
    return 1.0 - np.exp(-np.asarray(speed_w_per_s) / 0.15)


def valence_arousal(
    *, brightness: float, saturation: float, warmth: float, motion_level_01: float
) -> tuple[float, float]:
    """Valence and arousal in -1..1 from colour (Valdez & Mehrabian 1994) and motion.

    See the module docstring for the formula.
    """
    pleasure = 0.69 * brightness + 0.22 * saturation
    colour_arousal = -0.31 * brightness + 0.60 * saturation
    valence = float(np.clip((pleasure - 0.40) / 0.30 + 0.25 * warmth, -1.0, 1.0))
    arousal = float(
        np.clip(0.5 * (colour_arousal - 0.05) / 0.25 + 0.5 * (2.0 * motion_level_01 - 1.0), -1, 1)
    )
    return valence, arousal


# --------------------------------------------------------------------------- cuts


class _CutTracker:
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


# --------------------------------------------------------------------------- motion / impact


class _MotionTracker:
    def __init__(self):
        self.flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self.prev: np.ndarray | None = None
        self.prev_t = 0.0
        self.prev_dir: np.ndarray | None = None
        self._hist: deque[np.ndarray] = deque(maxlen=3)
        self.t: list[float] = []
        self.speed: list[float] = []  # frame widths per second
        self.impact: list[float] = []
        self.impact_t: list[float] = []  # centre of the 3-frame smoothing window
        self._times: deque[float] = deque(maxlen=3)

    def push(self, time_s: float, bgr: np.ndarray, *, after_cut: bool) -> None:
        size = _media.fit_size(bgr.shape[1], bgr.shape[0], FLOW_WIDTH)
        if (bgr.shape[1], bgr.shape[0]) != size:
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        width = grey.shape[1]
        if self.prev is None or after_cut:
            self.prev, self.prev_t = grey, time_s
            self.t.append(time_s)
            self.speed.append(self.speed[-1] if self.speed else 0.0)
            self.impact.append(0.0)
            self.impact_t.append(time_s)
            self._times.clear()
            self._times.append(time_s)
            self.prev_dir = None
            self._hist.clear()
            return
        dt = max(time_s - self.prev_t, 1e-3)
        flow = self.flow.calc(_pad_min(self.prev), _pad_min(grey), None)
        flow = flow[: grey.shape[0], : grey.shape[1]]
        mag, ang = cv2.cartToPolar(flow[..., 0], flow[..., 1])
        speed = float(mag.mean()) / width / dt
        bins = (ang * (N_DIRECTIONS / (2 * np.pi))).astype(np.int32) % N_DIRECTIONS
        directogram = np.bincount(bins.ravel(), weights=mag.ravel(), minlength=N_DIRECTIONS)
        directogram = directogram / mag.size / width / dt  # frame widths per second
        # Smooth the directogram over the last three analysed frames before taking the
        # deceleration flux: flow jitter averages out, a real stop (a sustained drop) stays.
        self._hist.append(directogram)
        smooth = np.mean(self._hist, axis=0)
        impact = 0.0
        if self.prev_dir is not None:
            impact = float(np.maximum(0.0, self.prev_dir - smooth).sum())
        self.prev_dir = smooth
        self.prev, self.prev_t = grey, time_s
        self.t.append(time_s)
        self.speed.append(speed)
        self._times.append(time_s)
        self.impact.append(impact)
        self.impact_t.append(float(np.mean(self._times)))


def remove_key_frame_pulse(x: np.ndarray, frames_since_key: np.ndarray) -> np.ndarray:
    """Remove the pulse that key frames put into a motion measure.

    A key (intra) frame's coding noise differs from that of the predicted frames around it,
    and optical flow reads the change as a jolt of motion; with a regular key-frame interval
    (12 frames is common) the jolts make false visual beats and a false tempo at the
    interval (125 BPM at 25 fps). Real motion is not locked to the encoder's frame pattern,
    so the typical value at each position after a key frame (the median over the video)
    minus the typical value over all positions is the pulse; it is subtracted (the result
    kept >= 0). Positions seen fewer than ``MIN_PHASE_COUNT`` times (short videos, long
    key-frame intervals) are left as they are.

    Parameters
    ----------
    x : np.ndarray, shape (n,)
        The measure per analysed frame (flow speed, impact).
    frames_since_key : np.ndarray of int, shape (n,)
        Frames since the last key frame (0 on a key frame).

    Returns
    -------
    np.ndarray, shape (n,)
    """
    x = np.asarray(x, float)
    ph = np.minimum(np.asarray(frames_since_key, int), MAX_KEY_INTERVAL)
    if len(ph) != len(x):
        return x
    counts = np.bincount(ph, minlength=MAX_KEY_INTERVAL + 1)
    counts[MAX_KEY_INTERVAL] = 0  # beyond any interval looked at
    known = np.flatnonzero(counts >= MIN_PHASE_COUNT)
    if known.size < 2:
        return x
    excess = np.zeros(MAX_KEY_INTERVAL + 1)
    excess[known] = [np.median(x[ph == k]) for k in known]
    excess[known] -= np.median(x)
    return np.maximum(0.0, x - excess[ph])


def _pad_min(grey: np.ndarray, min_side: int = 64) -> np.ndarray:
    # DIS needs a few pyramid levels; frames with a short side are padded (edge-replicated)
    # and the padding is cut off the flow again.
    h, w = grey.shape[:2]
    if h >= min_side and w >= min_side:
        return grey
    return cv2.copyMakeBorder(
        grey, 0, max(0, min_side - h), 0, max(0, min_side - w), cv2.BORDER_REPLICATE
    )


def _resample(t: np.ndarray, x: np.ndarray, hop_s: float, duration_s: float) -> np.ndarray:
    n = max(1, int(math.floor(duration_s / hop_s)) + 1)
    grid = np.arange(n) * hop_s
    if len(t) == 0:
        return np.zeros(n)
    if len(t) == 1:
        return np.full(n, x[0])
    return np.interp(grid, t, x)


def _moving_average(x: np.ndarray, n: int) -> np.ndarray:
    n = max(1, n)
    if n == 1 or len(x) == 0:
        return x.copy()
    k = np.ones(n) / n
    pad = n // 2
    return np.convolve(np.pad(x, (pad, n - 1 - pad), mode="edge"), k, mode="valid")


def visual_beats(envelope: np.ndarray, *, hop_s: float) -> list[VisualBeat]:
    """Peak-pick an impact envelope (see the module docstring)."""
    if len(envelope) < 3 or float(envelope.max()) <= 0:
        return []
    avg = _moving_average(envelope, int(round(1.0 / hop_s)))
    hp = np.maximum(envelope - avg, 0.0)
    if hp.max() <= 0:
        return []
    thresh = 0.5 * float(hp.std())
    w = max(1, int(round(0.15 / hop_s)))
    beats: list[VisualBeat] = []
    peak = float(hp.max())
    for i in range(len(hp)):
        v = hp[i]
        if v <= thresh or v <= 0.05 * peak:
            continue
        lo, hi = max(0, i - w), min(len(hp), i + w + 1)
        if v < hp[lo:hi].max() or (i > lo and hp[lo:i].max() == v):
            continue
        t = i * hop_s
        if beats and t - beats[-1].time_s < 0.25:
            if v / peak > beats[-1].strength:
                beats[-1] = VisualBeat(time_s=round(t, 4), strength=round(v / peak, 4))
            continue
        beats.append(VisualBeat(time_s=round(t, 4), strength=round(v / peak, 4)))
    return beats


def visual_tempo(envelope: np.ndarray, *, hop_s: float) -> tuple[float | None, float]:
    """Visual tempo in BPM and a confidence in 0..1 from the impact envelope."""
    x = envelope - envelope.mean() if len(envelope) else envelope
    if len(x) < int(4.0 / hop_s) or float(np.abs(x).max()) <= 1e-9:
        return None, 0.0
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    if ac[0] <= 0:
        return None, 0.0
    ac = ac / ac[0]
    lags = np.arange(n) * hop_s
    valid = (lags >= 60.0 / 200.0) & (lags <= 60.0 / 40.0)
    if not valid.any():
        return None, 0.0
    bpm = 60.0 / np.where(lags > 0, lags, np.inf)
    prior = np.exp(-0.5 * (np.log2(np.maximum(bpm, 1e-6) / 110.0)) ** 2)
    score = np.where(valid, ac * prior, -np.inf)
    i = int(np.argmax(score))
    if not np.isfinite(score[i]) or ac[i] <= 0:
        return None, 0.0
    # Parabolic interpolation of the lag for sub-hop precision.
    lag = float(i)
    if 0 < i < n - 1:
        a, b, c = ac[i - 1], ac[i], ac[i + 1]
        denom = a - 2 * b + c
        if denom < 0:
            lag = i + 0.5 * (a - c) / denom
    return round(60.0 / (lag * hop_s), 2), round(float(np.clip(ac[i], 0, 1)), 3)


# --------------------------------------------------------------------------- entry point


def analyze(
    path: str | Path,
    *,
    duration_s: float | None = None,
    cut_threshold: float = CUT_THRESHOLD,
    progress: bool = False,
    keep_thumbnails: bool = False,
    pose: str = "auto",
    pose_model_dir: str | Path | None = None,
) -> Timeline:
    """Analyse a video or a still image.

    Parameters
    ----------
    path : str or Path
        Any file FFmpeg can open with a video stream, or a still image.
    duration_s : float, optional
        For still images: the length of the timeline in seconds (default 30). Ignored for
        video.
    cut_threshold : float
        ContentDetector threshold for hard cuts (mean HSV difference, 0..255).
    progress : bool
        Show a progress bar on stderr.
    keep_thumbnails : bool
        Keep small BGR thumbnails in ``timeline.thumbnails`` (time in seconds -> image),
        taken regularly (every 0.5 s, at most 600) and at cuts, for plotting.
    pose : {"auto", "on", "off"}
        Body pose and kinematics (video only; needs the ``pose`` extra and the BlazePose
        model files, see :mod:`v2m.analysis.pose`). "auto" first looks at a few frames
        spread over the video and tracks the pose only when one person fills the picture
        (a dance or a performance); "on" always tracks it (with a warning, not an error,
        when the models are not installed); "off" never.
    pose_model_dir : path, optional
        Folder holding the pose models (default: see :func:`v2m.analysis.pose.find_models`).

    Returns
    -------
    Timeline

    Raises
    ------
    InputError, NoVideoStreamError, DecodeError, ParameterError
    """
    if duration_s is not None and not (0 < duration_s <= MAX_DURATION_S):
        raise ParameterError(
            f"duration_s={duration_s!r}: must be above 0 and at most "
            f"{MAX_DURATION_S / 3600:g} hours"
        )
    if not (0 < cut_threshold < 255):
        raise ParameterError(f"cut_threshold={cut_threshold!r}: must be in (0, 255)")
    if pose not in ("auto", "on", "off"):
        raise ParameterError(f"pose={pose!r}: must be 'auto', 'on' or 'off'")
    p = _media.check_readable(path)
    if _media.is_image_path(p):
        return _analyze_image(
            p,
            duration_s=30.0 if duration_s is None else duration_s,
            keep_thumbnails=keep_thumbnails,
        )
    return _analyze_video(
        p,
        cut_threshold=cut_threshold,
        progress=progress,
        keep_thumbnails=keep_thumbnails,
        pose=pose,
        pose_model_dir=pose_model_dir,
    )


def _analyze_image(p: Path, *, duration_s: float, keep_thumbnails: bool) -> Timeline:
    img = _media.load_image(p)
    h, w = img.shape[:2]
    small = cv2.resize(
        img, _media.fit_size(w, h, _media.ANALYSIS_WIDTH), interpolation=cv2.INTER_AREA
    )
    b, s, c, warmth, contrast = colour_stats(small)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    med = float(np.median(grey))
    edges = cv2.Canny(grey, int(max(0, 0.66 * med)), int(min(255, 1.33 * med) + 1))
    edge_density = float((edges > 0).mean())
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    complexity = float(np.clip(np.hypot(gx, gy).mean() / 255.0, 0, 1))
    # A still has no motion; visual busyness (edge density) stands in for it in arousal.
    level = float(np.clip(edge_density / 0.25, 0, 1)) * 0.6
    valence, arousal = valence_arousal(
        brightness=b, saturation=s, warmth=warmth, motion_level_01=level
    )
    hop_s = 0.04
    n = int(math.floor(duration_s / hop_s)) + 1
    shot = Shot(
        start_s=0.0,
        end_s=duration_s,
        brightness=_r(b),
        saturation=_r(s),
        colorfulness=_r(c),
        warmth=_r(warmth),
        contrast=_r(contrast),
        valence=_r(valence),
        arousal=_r(arousal),
        motion=0.0,
    )
    tl = Timeline(
        source=Source(
            path=str(p), kind="image", width=w, height=h, fps=0.0, duration_s=float(duration_s)
        ),
        shots=[shot],
        motion={"hop_s": hop_s, "energy": [0.0] * n, "energy_raw": [0.0] * n},
        impact={"hop_s": hop_s, "envelope": [0.0] * n},
        colour={
            "hop_s": hop_s,
            "brightness": [_r(b)],
            "valence": [_r(valence)],
            "arousal": [_r(arousal)],
        },
        image={"edge_density": _r(edge_density), "complexity": _r(complexity)},
    )
    if keep_thumbnails:
        tl.thumbnails = {
            0.0: cv2.resize(small, _media.fit_size(small.shape[1], small.shape[0], 128))
        }
    return tl


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


@dataclass
class _Pass:
    """What the one decode pass over a video collects (see :func:`_decode_pass`)."""

    cuts: list
    motion: _MotionTracker
    key_phase: list[int]  # frames since the last key frame, per analysed frame
    col_t: list[float]
    col: list[np.ndarray]
    thumbs: dict[float, np.ndarray]
    last_t: float
    stride: int


def _decode_pass(
    p: Path, info, *, tracker, cut_threshold: float, progress: bool, keep_thumbnails: bool, warn
) -> _Pass:
    """Decode the video once: cuts on every frame; motion, colour (``COLOUR_HZ``) and
    thumbnails on the analysed frames (at most ``MAX_ANALYSIS_FPS``, and at every cut);
    pose frames to ``tracker``."""
    stride = max(1, int(round(info.fps / MAX_ANALYSIS_FPS))) if info.fps > MAX_ANALYSIS_FPS else 1
    cuts = _CutTracker(fps=info.fps or 25.0, threshold=cut_threshold)
    out = _Pass([], _MotionTracker(), [], [], [], {}, 0.0, stride)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=info.n_frames_hint or None,
            unit="frame",
            desc=f"analyse {p.name}",
            file=sys.stderr,
            disable=None,
            leave=False,
        )
    n_hard_seen = 0
    colour_every = max(1, int(round(min(info.fps or 25.0, MAX_ANALYSIS_FPS) / COLOUR_HZ)))
    n_analysed = 0
    since_key = 0  # frames since the last key frame
    next_thumb_s, thumb_every_s = 0.0, max(0.5, info.duration_s / 600)
    frames = _media.iter_frames(
        p,
        info,
        warnings_out=warn,
        pose_width=_body.POSE_WIDTH if tracker else 0,
        pose_every=tracker.every if tracker else 1,
    )
    for fr in frames:
        mid = fr.bgr
        flow_size = _media.fit_size(mid.shape[1], mid.shape[0], FLOW_WIDTH)
        if (mid.shape[1], mid.shape[0]) != flow_size:
            mid = cv2.resize(mid, flow_size, interpolation=cv2.INTER_AREA)
        half = FLOW_WIDTH // THUMB_WIDTH
        thumb = cv2.resize(
            mid,
            (max(8, flow_size[0] // half), max(2, flow_size[1] // half)),
            interpolation=cv2.INTER_AREA,
        )
        cuts.push(fr.index, fr.time_s, mid, thumb)
        new_cut = len(cuts.pending) + len(cuts.hard) > n_hard_seen
        n_hard_seen = len(cuts.pending) + len(cuts.hard)
        if tracker is not None and fr.pose_bgr is not None:
            tracker.push(fr.time_s, fr.pose_bgr, after_cut=new_cut)
        since_key = 0 if fr.key else since_key + 1  # the encoder restarts its pattern
        if fr.index % stride == 0 or new_cut:
            out.motion.push(fr.time_s, mid, after_cut=new_cut)
            out.key_phase.append(since_key)
            if n_analysed % colour_every == 0 or new_cut:
                out.col_t.append(fr.time_s)
                out.col.append(colour_stats(thumb))
            n_analysed += 1
            if keep_thumbnails and (new_cut or fr.time_s >= next_thumb_s):
                # by time, regularly and at cuts: the plot takes each shot's middle one
                out.thumbs[fr.time_s] = cv2.resize(
                    fr.bgr, _media.fit_size(fr.bgr.shape[1], fr.bgr.shape[0], 128)
                )
                next_thumb_s = fr.time_s + thumb_every_s
        out.last_t = fr.time_s
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    out.cuts = cuts.finish()
    return out


def _motion_curves(ps: _Pass, *, hop_s: float, duration: float) -> dict:
    """Motion on the analysis grid (``hop_s``): raw speed, its per-video quantile
    normalisation (q5 -> 0, q95 -> 1), the impact envelope; the key-frame pulse removed
    first (:func:`remove_key_frame_pulse`)."""
    t = np.array(ps.motion.t)
    phase = np.array(ps.key_phase)
    speed = remove_key_frame_pulse(np.array(ps.motion.speed), phase)
    impact = remove_key_frame_pulse(np.array(ps.motion.impact), phase)
    speed_g = _resample(t, speed, hop_s, duration)
    q5, q95 = np.quantile(speed_g, [0.05, 0.95]) if len(speed_g) else (0.0, 1.0)
    energy = (
        np.clip((speed_g - q5) / max(q95 - q5, 1e-9), 0, 1) if q95 > q5 else np.zeros_like(speed_g)
    )
    # Impact: sampled at the analysed frames; put each value on the nearest hop.
    env = np.zeros_like(speed_g)
    it = np.array(ps.motion.impact_t)
    idx = (
        np.clip(np.round(it / hop_s).astype(int), 0, len(env) - 1) if len(it) else np.array([], int)
    )
    np.maximum.at(env, idx, impact)
    return {
        "t": t,
        "speed": speed,
        "speed_g": speed_g,
        "q": (q5, q95),
        "energy": energy,
        "env": env,
    }


def _video_shots(
    bounds: list[float], col_t: np.ndarray, col: np.ndarray, va: np.ndarray, mc: dict, hop_s: float
) -> list[Shot]:
    """One :class:`Shot` per span between ``bounds`` (seconds): mean colour and affect of
    its colour samples (the nearest one if it has none), its motion (normalised, raw and
    peak)."""
    shots: list[Shot] = []
    speed_g, energy = mc["speed_g"], mc["energy"]
    grid_t = np.arange(len(speed_g)) * hop_s
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        sel = (col_t >= a - 1e-9) & (col_t < b - 1e-9)
        if not sel.any():
            sel = np.abs(col_t - a) == np.abs(col_t - a).min()
        m = col[sel].mean(axis=0)
        gsel = (grid_t >= a) & (grid_t < b)
        mot = float(energy[gsel].mean()) if gsel.any() else 0.0
        raw = float(speed_g[gsel].mean()) if gsel.any() else 0.0
        peak = float(speed_g[gsel].max()) if gsel.any() else 0.0
        v, ar = va[sel].mean(axis=0)
        shots.append(
            Shot(
                start_s=_r(a, 6),
                end_s=_r(b, 6),
                brightness=_r(m[0]),
                saturation=_r(m[1]),
                colorfulness=_r(m[2]),
                warmth=_r(m[3]),
                contrast=_r(m[4]),
                valence=_r(v),
                arousal=_r(ar),
                motion=_r(mot),
                motion_raw=_r(raw),
                motion_peak=_r(peak),
                thumbnail_frame=int(np.argmax(sel)),
            )
        )
    return shots


def _analyze_video(
    p: Path,
    *,
    cut_threshold: float,
    progress: bool,
    keep_thumbnails: bool,
    pose: str = "off",
    pose_model_dir: str | Path | None = None,
) -> Timeline:
    info = _media.probe_video(p)
    warn: list[str] = []
    tracker = _body.start(p, info, mode=pose, model_dir=pose_model_dir, warnings_out=warn)
    ps = _decode_pass(
        p,
        info,
        tracker=tracker,
        cut_threshold=cut_threshold,
        progress=progress,
        keep_thumbnails=keep_thumbnails,
        warn=warn,
    )
    cut_list = ps.cuts
    frame_dur = 1.0 / info.fps if info.fps > 0 else 0.04
    duration = ps.last_t + frame_dur
    if info.duration_s > 0 and not any("truncated" in w for w in warn):
        duration = max(duration, min(info.duration_s, duration + frame_dur))
    hop_s = round(1.0 / min(max(info.fps, 10.0) / ps.stride, MAX_ANALYSIS_FPS), 6)

    mc = _motion_curves(ps, hop_s=hop_s, duration=duration)
    energy, speed_g, env = mc["energy"], mc["speed_g"], mc["env"]
    q5, q95 = mc["q"]
    beats = visual_beats(env, hop_s=hop_s)
    tempo, conf = visual_tempo(env, hop_s=hop_s)

    col_arr = np.array(ps.col) if ps.col else np.zeros((1, 5))
    col_t_arr = np.array(ps.col_t) if ps.col_t else np.zeros(1)
    t = mc["t"]
    level_at_col = (
        motion_level(np.interp(col_t_arr, t, mc["speed"])) if len(t) else np.zeros(len(col_t_arr))
    )
    va = np.array(
        [
            valence_arousal(brightness=c[0], saturation=c[1], warmth=c[3], motion_level_01=float(m))
            for c, m in zip(col_arr, level_at_col, strict=True)
        ]
    )
    bounds = [0.0] + [c.time_s for c in cut_list] + [duration]
    shots = _video_shots(bounds, col_t_arr, col_arr, va, mc, hop_s)
    # Colour/affect curves on a coarse 0.5 s grid (enough for music, small JSON).
    chop = 0.5
    cgrid = np.arange(0, duration, chop) if duration > chop else np.array([0.0])

    def curve(x: np.ndarray) -> list[float]:
        return [_r(v, 3) for v in np.interp(cgrid, col_t_arr, x)]

    tl = Timeline(
        source=Source(
            path=str(p),
            kind="video",
            width=info.width,
            height=info.height,
            fps=round(info.fps, 6),
            duration_s=round(duration, 6),
            rotation_deg=info.rotation_deg,
            has_audio=info.has_audio,
        ),
        cuts=cut_list,
        shots=shots,
        motion={
            "hop_s": hop_s,
            "energy": [_r(v) for v in energy],
            "energy_raw": [_r(v, 5) for v in speed_g],
            "quantiles_raw": [_r(q5, 5), _r(q95, 5)],
            "unit_raw": "frame widths per second",
        },
        impact={"hop_s": hop_s, "envelope": [_r(v, 5) for v in env]},
        visual_beats=beats,
        visual_tempo_bpm=tempo,
        visual_tempo_confidence=conf,
        colour={
            "hop_s": chop,
            "brightness": curve(col_arr[:, 0]),
            "saturation": curve(col_arr[:, 1]),
            "warmth": curve(col_arr[:, 3]),
            "valence": curve(va[:, 0]),
            "arousal": curve(va[:, 1]),
        },
        warnings=warn,
    )
    if tracker is not None:
        tl.pose, tl.kinematics = tracker.finish(duration_s=duration)
    if keep_thumbnails:
        tl.thumbnails = ps.thumbs
    return tl
