"""Motion, visual impact and visual beats from dense optical flow.

Motion: dense optical flow (OpenCV DIS, ultrafast preset) on the luma at
``FLOW_WIDTH`` px; energy is the mean flow speed in frame widths per second. Key frames
put a pulse of false motion into the flow, at the encoder's key-frame interval; its
typical size at each position after a key frame is removed from speed and impact
(:func:`remove_key_frame_pulse`).
Visual impact and beats: after Davis & Agrawala, "Visual Rhythm and Beat" (SIGGRAPH
2018): a directogram ``D(t, k)`` (flow magnitude summed per direction bin, 8 bins),
averaged over the last three analysed frames; the impact envelope is the deceleration
flux ``u(t) = sum_k max(0, D(t-1,k) - D(t,k))``,
high-passed by subtracting its 1 s moving average; visual beats are its local maxima
(+-0.15 s) above the moving average plus half a standard deviation, at least 0.25 s
apart. The visual tempo is the envelope's autocorrelation peak between 40 and 200 BPM,
weighted by a log-normal prior centred on 110 BPM (one octave wide).
"""

from __future__ import annotations

import math
from collections import deque

import cv2
import numpy as np

from .. import _media
from ..timeline import VisualBeat

__all__ = ["MotionTracker", "remove_key_frame_pulse", "visual_beats", "visual_tempo"]

FLOW_WIDTH = 128
N_DIRECTIONS = 8
#: A position after a key frame needs this many occurrences for its typical motion to be
#: measured (see :func:`remove_key_frame_pulse`): over fewer key-frame intervals, motion
#: with a period near a multiple of the interval would pass for the pulse.
MIN_PHASE_COUNT = 20
#: Longer key-frame intervals (frames) are not looked at.
MAX_KEY_INTERVAL = 1024


class MotionTracker:
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


def motion_curves(ps, *, hop_s: float, duration: float) -> dict:
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
