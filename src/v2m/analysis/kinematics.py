"""Kinematic features of a tracked body (pure numpy/scipy; no model).

:func:`kinematics` turns body keypoints per frame (from :mod:`v2m.analysis.pose` or any
other 2-D pose source) into what the music needs from a dancer:

* **Time in pose intervals.** Every smoothing and window of the beat picker is a number of
  pose intervals (the step between the frames the pose model saw), not of seconds: a copy of
  a video played faster or slower with the same frames gives the same beats at the scaled
  times, and at the usual 12.5 Hz the figures are those of the published protocols (given
  below in seconds at 12.5 Hz).
* **Body size.** Lengths are divided by the torso (mid-shoulder to mid-hip distance, its
  running median over 25 intervals, 2 s), so speeds read in torso lengths per second
  whatever the camera distance.
* **Cuts and gaps.** The body is not followed across a cut (``breaks_s``: a new shot's
  first position is not joined to the last of the shot before, and the torso length is
  taken shot by shot) nor across a gap; smoothing stays within each run of samples, and a
  minimum at the edge of a run is no beat, so a cut to a closer shot is no movement.
* **Speed and acceleration.** Positions are resampled on a uniform grid (gaps up to 0.5 s
  bridged linearly, longer ones left empty), lightly smoothed (Gaussian, half an interval,
  40 ms) and differentiated; the kinetic speed is the visibility-weighted mean speed of 15
  joints (nose, shoulders, elbows, wrists, hips, knees, ankles, toes), smoothed with a
  Gaussian of 1.04 intervals (83 ms) -- the 5 frames at 60 fps of the AIST++ / Bailando
  beat-align protocol.
* **Kinematic beats** are the local minima of the kinetic speed (moments the body stops or
  turns), as in AIST++ (Li et al. 2021), Bailando (Siyao et al. 2022) and Davis & Agrawala
  (2018). Each gets a strength: its prominence (the lower of the maxima within 6.25
  intervals, 0.5 s, on either side, minus the minimum) over the speed's 95th percentile.
  Minima weaker than 0.1 are the landmarks' jitter, not stops, and are not beats (they
  flip between two encodes of the same frames); the tempo still hears them.
  ``beats_per_s`` is the beats' rate, ``strong_beats_per_s`` that of those with strength
  >= 0.3, and ``pace_per_s`` that of every minimum, beat or jitter: how busy the movement
  is (the count of small dips is steady from one encode to another, where the count of
  beats near the 0.1 line is not: dancer.avi re-encoded, 97 -> 98 minima but 28 -> 33
  beats).
* **Intensity** is the kinetic speed smoothed over 0.5 s, normalised to 0..1 by its 5th and
  95th percentiles in the video (``intensity``) and kept raw (``speed``).
* **Tempo.** Windowed autocorrelations (8 s Hann windows, 1 s apart) of two periodic
  signals -- the kinetic speed and a pulse train of the kinematic beats (weighted by their
  strength) -- each high-passed (1 s), are averaged and weighted by a log-normal prior
  centred on 120 BPM (one octave wide); the peak between 60 and 200 BPM (parabolic
  interpolation) is the movement's period, and the autocorrelation there its confidence.
  **Octave rule: stops and turns are beats.** A movement often repeats every two beats (a
  step to the left and back, a clip played forward and backward), so of the period's
  octaves within 60-200 BPM (half, itself, double) the tempo is the one nearest (in
  octaves) the rate of the clear kinematic beats (60 over their median spacing; strength
  at least 0.3 of the 90th percentile).
  ``tempo_octave`` says which was taken (0.5, 1 or 2). The local tempo per window (the
  peak within +-15 % of the period) gives the drift.
* **Accents**: peaks of deceleration (the kinetic speed falling fast: a stop, an arm hit)
  and of upward hip speed (a jump), above the mean plus two standard deviations, at least
  0.5 s apart, labelled ``stop``, ``arm`` or ``jump`` by what dominates.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

__all__ = [
    "OneEuro",
    "kinematics",
    "kinematic_tempo",
    "kinematic_beats",
    "beat_octave",
    "KINEMATIC_JOINTS",
]

#: Landmark indices whose speeds make up the kinetic speed.
KINEMATIC_JOINTS = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 31, 32)
_ARMS = (13, 14, 15, 16)
#: The picker's time constants, in pose intervals (seconds at 12.5 Hz in comments).
SPEED_SIGMA_INTERVALS = 1.04  # 83 ms
POSITION_SIGMA_INTERVALS = 0.5  # 40 ms
PROMINENCE_INTERVALS = 6.25  # 0.5 s
#: The pose rate whose seconds every clock counted in pose intervals keeps (the one-euro
#: filters', the tempo windows').
REFERENCE_POSE_HZ = 12.5
#: A speed minimum is a beat when its strength (prominence over the speed's 95th
#: percentile) reaches this: weaker minima are the landmarks' jitter (BlazePose moves a
#: still joint by ~1 % of the torso a frame), found in one encode of a video and not in
#: another. The tempo still hears every minimum (weighted by its strength).
MIN_BEAT_STRENGTH = 0.1
#: ``strong_beats_per_s`` counts the beats at least this strong (those the projection puts
#: on downbeats).
STRONG_BEAT_STRENGTH = 0.3
TORSO_INTERVALS = 25.0  # 2 s
MAX_GAP_S = 0.5
TEMPO_RANGE_BPM = (60.0, 200.0)
TEMPO_PRIOR_BPM = 120.0


def _interp_gaps(
    t: np.ndarray, x: np.ndarray, grid: np.ndarray, breaks_s: np.ndarray | None = None
) -> np.ndarray:
    """Linear interpolation of a series with NaNs onto ``grid``; gaps over MAX_GAP_S stay
    NaN, and so does the stretch before each of ``breaks_s`` (a cut: the first sample of
    a new shot is not joined to the last one of the shot before)."""
    ok = np.isfinite(x)
    out = np.full(len(grid), np.nan)
    if ok.sum() < 2:
        return out
    tv, xv = t[ok], x[ok]
    out[:] = np.interp(grid, tv, xv)
    i = np.clip(np.searchsorted(tv, grid), 1, len(tv) - 1)
    gap = tv[i] - tv[i - 1]
    cut = np.zeros(len(grid), bool)
    if breaks_s is not None and len(breaks_s):
        b = np.sort(np.asarray(breaks_s, float))
        # a break lies after the sample before and at or before the sample after
        k = np.searchsorted(b, tv[i - 1], side="right")
        cut = (k < len(b)) & (b[np.minimum(k, len(b) - 1)] <= tv[i] + 1e-9)
    inside = (grid > tv[i - 1]) & (grid < tv[i])
    out[inside & ((gap > MAX_GAP_S) | cut)] = np.nan
    out[(grid < tv[0] - 1e-9) | (grid > tv[-1] + 1e-9)] = np.nan
    return out


#: The one-euro filter on the joints' positions (torso lengths), MediaPipe's landmark
#: smoothing (min cutoff 0.05 Hz, beta 80 in units of the body's extent, about 2.5 torso
#: lengths, so 30 here; derivative cutoff 1 Hz), run both ways (see _one_euro_both_ways).
ONE_EURO = {"min_cutoff": 0.05, "beta": 30.0, "derivative_cutoff": 1.0}


class OneEuro:
    """The one-euro filter (Casiez, Roussel & Vogel 2012) as MediaPipe applies it: the
    cutoff rises with the smoothed speed of the value, measured in units of ``scale``
    (the caller's object size) per second."""

    def __init__(self, *, min_cutoff: float, beta: float, derivative_cutoff: float):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, derivative_cutoff
        self.reset()

    def reset(self) -> None:
        self.t: float | None = None
        self.raw = self.value = self.speed = None

    @staticmethod
    def _alpha(cutoff: float, dt: float) -> float:
        return 1.0 / (1.0 + 1.0 / (2.0 * math.pi * cutoff * dt))

    def __call__(self, x: np.ndarray, *, t: float, scale: float) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self.t is None or t <= self.t:
            self.t, self.raw, self.value, self.speed = t, x, x, np.zeros_like(x)
            return x
        dt = t - self.t
        d = (x - self.raw) / max(scale, 1e-9) / dt
        a_d = self._alpha(self.d_cutoff, dt)
        self.speed = a_d * d + (1.0 - a_d) * self.speed
        a = self._alpha(self.min_cutoff + self.beta * np.abs(self.speed), dt)
        self.value = a * x + (1.0 - a) * self.value
        self.t, self.raw = t, x
        return self.value


def _running_torso(torso: np.ndarray, *, window: int, grid: np.ndarray, breaks_s) -> np.ndarray:
    """The torso length's running median over ``window`` grid steps, shot by shot (a cut
    to a closer shot changes it at once: a median across the cut would scale positions
    gradually, a movement nobody made); gaps take their shot's median (the whole video's
    when the shot has none), at least 1 pixel."""
    out = np.ones(len(torso))
    known = np.isfinite(torso)
    if not known.any():
        return out
    whole = float(np.nanmedian(torso))
    edges = np.searchsorted(
        grid, np.sort(np.asarray(breaks_s if breaks_s is not None else [], float)) - 1e-9
    )
    for a, b in zip(np.r_[0, edges], np.r_[edges, len(torso)], strict=True):
        seg = torso[a:b]
        if not len(seg):
            continue
        fill = float(np.nanmedian(seg)) if np.isfinite(seg).any() else whole
        out[a:b] = median_filter(np.where(np.isfinite(seg), seg, fill), window)
    return np.maximum(out, 1.0)


def _one_euro_both_ways(pos: np.ndarray, *, step: float, **kw) -> np.ndarray:
    """The one-euro filter run forward and backward over positions (n, J, 2) sampled every
    ``step`` seconds, averaged: still joints' jitter smoothed hard, fast joints followed,
    and no lag either way (the whole video is at hand, unlike MediaPipe's live filter)."""

    def run(x):
        f = OneEuro(**kw)
        out = np.full_like(x, np.nan)
        for i in range(len(x)):
            row = x[i]
            if not np.isfinite(row).all():
                f.reset()
                continue
            out[i] = f(row, t=i * step, scale=1.0)
        return out

    return 0.5 * (run(pos) + run(pos[::-1])[::-1])


def _gauss_runs(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing along axis 0 within each run of rows that are wholly finite
    (edges: nearest); other rows stay NaN. Nothing is smoothed across a gap or a cut: a
    normalised convolution reaches over a gap a few samples wide and blends the body of
    one shot into the first positions of the next."""
    x = np.asarray(x, float)
    ok = np.isfinite(x).reshape(len(x), -1).all(axis=1)
    out = np.full(x.shape, np.nan)
    d = np.diff(np.r_[0, ok.astype(np.int8), 0])
    for a, b in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0], strict=True):
        out[a:b] = gaussian_filter1d(x[a:b], sigma, axis=0, mode="nearest")
    return out


def _nan_gauss(x: np.ndarray, sigma: float, axis: int = 0) -> np.ndarray:
    """Gaussian smoothing that ignores NaNs (normalised convolution)."""
    ok = np.isfinite(x)
    num = gaussian_filter1d(np.where(ok, x, 0.0), sigma, axis=axis, mode="nearest")
    den = gaussian_filter1d(ok.astype(float), sigma, axis=axis, mode="nearest")
    out = num / np.maximum(den, 1e-9)
    out[~ok] = np.nan
    return out


def kinematic_beats(
    speed: np.ndarray, *, hop_s: float, window_s: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Local minima of a kinetic speed curve and their strengths.

    Parameters
    ----------
    speed : np.ndarray, shape (n,)
        Kinetic speed on a uniform grid (NaN where no body was seen).
    hop_s : float
        Grid step in seconds.
    window_s : float
        Half-width of the window in which a minimum's prominence is measured.

    Returns
    -------
    times_s : np.ndarray, shape (k,)
        Beat times (parabolic interpolation of the minimum between grid points).
    strength : np.ndarray, shape (k,)
        Prominence over the speed's 95th percentile, clipped to 0..1.
    """
    x = np.asarray(speed, float)
    n = len(x)
    if n < 3 or not np.isfinite(x).any():
        return np.zeros(0), np.zeros(0)
    fin = np.isfinite(x)
    xf = np.where(fin, x, np.inf)
    mid = xf[1:-1]
    # a minimum inside a run of samples: the edge of a gap (no body, a cut) is not a stop
    is_min = (mid < xf[:-2]) & (mid <= xf[2:]) & fin[1:-1] & fin[:-2] & fin[2:]
    idx = np.nonzero(is_min)[0] + 1
    q95 = float(np.nanquantile(x, 0.95)) or 1.0
    w = max(1, int(round(window_s / hop_s)))
    # each run's bounds: the prominence is measured within the shot (a run of samples)
    run = np.where(fin, np.cumsum(~fin), -1)
    times, strength = [], []
    for i in idx:
        lo = max(0, i - w)
        lo += int(np.argmax(run[lo : i + 1] == run[i]))
        hi = i + 1 + int(np.sum(run[i + 1 : i + w + 1] == run[i]))
        top_l, top_r = float(np.nanmax(x[lo : i + 1])), float(np.nanmax(x[i:hi]))
        # a side cut short by a gap or a cut is unknown: the other side tells alone
        cut_l = lo > max(0, i - w)
        cut_r = hi < min(n, i + w + 1)
        if cut_l != cut_r:
            prom = (top_r if cut_l else top_l) - x[i]
        else:
            prom = min(top_l, top_r) - x[i]
        if prom <= 1e-6 * q95:
            continue
        a, b, c = x[i - 1], x[i], x[i + 1]
        den = a - 2 * b + c
        frac = 0.5 * (a - c) / den if np.isfinite(den) and den > 0 else 0.0
        times.append((i + float(np.clip(frac, -0.5, 0.5))) * hop_s)
        strength.append(min(1.0, prom / q95))
    return np.asarray(times), np.asarray(strength)


def _acf_windows(
    x: np.ndarray, *, hop_s: float, window_s: float = 8.0, step_s: float = 1.0, scale: float = 1.0
):
    """Normalised autocorrelation of Hann-windowed segments, shape (n_windows, n_lags)."""
    x = np.where(np.isfinite(x), x, 0.0)
    x = x - gaussian_filter1d(x, scale / hop_s, mode="nearest")
    wlen = int(round(scale * window_s / hop_s))
    if len(x) < wlen:
        wlen = len(x)
    if wlen < int(scale * 2.0 / hop_s):
        return np.zeros((0, 0)), np.zeros(0)
    step = max(1, int(round(scale * step_s / hop_s)))
    starts = np.arange(0, len(x) - wlen + 1, step)
    segs = np.stack([x[s : s + wlen] for s in starts]) * np.hanning(wlen)
    spec = np.fft.rfft(segs, 2 * wlen, axis=1)
    ac = np.fft.irfft(spec * np.conj(spec), axis=1)[:, :wlen]
    energy = ac[:, :1]
    ac = np.where(energy > 1e-12, ac / np.maximum(energy, 1e-12), 0.0)
    centres = (starts + wlen / 2) * hop_s
    return ac, centres


def _peak(
    score: np.ndarray, lags: np.ndarray, valid: np.ndarray, shape: np.ndarray | None = None
) -> tuple[float, float] | None:
    """The highest local maximum of ``shape`` (default ``score``), ranked by ``score``,
    inside ``valid``: (BPM with parabolic interpolation, score there)."""
    shape = score if shape is None else shape
    local = np.zeros(len(score), bool)
    local[1:-1] = (shape[1:-1] > shape[:-2]) & (shape[1:-1] >= shape[2:])
    s = np.where(valid & local, score, -np.inf)
    i = int(np.argmax(s))
    if not np.isfinite(s[i]) or i == 0 or i >= len(s) - 1:
        return None
    # the peak's position from the autocorrelation itself (the prior only ranks peaks),
    # so that a copy played faster gives the same lag in pose intervals
    a, b, c = shape[i - 1], shape[i], shape[i + 1]
    den = a - 2 * b + c
    frac = 0.5 * (a - c) / den if den < 0 else 0.0
    lag = (i + frac) * (lags[1] - lags[0])
    return 60.0 / lag, float(score[i])


def kinematic_tempo(
    signals: list[np.ndarray], *, hop_s: float, time_scale: float = 1.0, breaks_s=None
) -> tuple[float | None, float, np.ndarray, np.ndarray]:
    """Tempo of periodic movement.

    Parameters
    ----------
    signals : list of np.ndarray, each shape (n,)
        Movement signals on one uniform grid (kinetic speed, hip height, ...).
    hop_s : float
    time_scale : float
        Seconds of the video per second of the windows (8 s, 1 s apart, high-passed at
        1 s): the pose interval over 0.08 s, so that the windows are counted in pose
        intervals like the beat picker's constants.
    breaks_s : array-like, optional
        Cuts: the tempo is heard in the windows within one shot when there are at least
        two (a new shot restarts the movement at another phase, which a window across
        the cut hears as no period at all).

    Returns
    -------
    tempo_bpm : float or None
        None when the signals are too short (< 2 s) or flat.
    confidence : float
        The prior-weighted mean autocorrelation at the tempo, 0..1.
    curve_t : np.ndarray, shape (w,)
        Window centres (seconds).
    curve_bpm : np.ndarray, shape (w,)
        Local tempo per window (NaN where no peak lies near the global tempo).
    """
    acs = [_acf_windows(s, hop_s=hop_s, scale=time_scale) for s in signals]
    acs = [(a, c) for a, c in acs if a.size]
    if not acs:
        return None, 0.0, np.zeros(0), np.zeros(0)
    ac = np.mean([a for a, _ in acs], axis=0)  # (windows, lags)
    centres = acs[0][1]
    lags = np.arange(ac.shape[1]) * hop_s
    use = np.ones(len(centres), bool)
    if breaks_s is not None and len(breaks_s):
        half = 0.5 * ac.shape[1] * hop_s
        b = np.asarray(breaks_s, float)
        inside = (b[None, :] > centres[:, None] - half) & (b[None, :] < centres[:, None] + half)
        use = ~inside.any(axis=1)
        if use.sum() < 2:
            use[:] = True
    with np.errstate(divide="ignore"):
        bpm = np.where(lags > 0, 60.0 / np.maximum(lags, 1e-9), np.inf)
    prior = np.exp(-0.5 * np.log2(np.maximum(bpm, 1e-6) / TEMPO_PRIOR_BPM) ** 2)
    valid = (bpm >= TEMPO_RANGE_BPM[0]) & (bpm <= TEMPO_RANGE_BPM[1])
    mean_ac = ac[use].mean(axis=0)
    found = _peak(mean_ac * prior, lags, valid, mean_ac)
    if found is None:
        return None, 0.0, centres, np.full(len(centres), np.nan)
    tempo, _ = found
    conf = float(np.clip(np.interp(60.0 / tempo, lags, mean_ac), 0.0, 1.0))
    near = valid & (bpm >= tempo / 1.15) & (bpm <= tempo * 1.15)
    local = []
    for row in ac:
        pk = _peak(row, lags, near)
        local.append(pk[0] if pk is not None else np.nan)
    return round(float(tempo), 2), round(conf, 3), centres, np.asarray(local)


#: The octave rule counts the clear kinematic beats: strength at least this share of the
#: 90th percentile of the strengths (shallow minima inside a movement are not beats).
OCTAVE_MIN_STRENGTH = 0.3


def beat_octave(
    period_bpm: float | None, beats_s: np.ndarray, strength: np.ndarray | None = None
) -> float:
    """The octave (0.5, 1 or 2) of a movement's period that is its tempo: the one within
    60-200 BPM nearest, in octaves, the rate of the clear kinematic beats (60 over their
    median spacing; with ``strength``, those of at least :data:`OCTAVE_MIN_STRENGTH` of the
    90th percentile); 1 when there are fewer than 4 of them."""
    b = np.asarray(beats_s, float)
    if strength is not None and len(b):
        s = np.asarray(strength, float)
        b = b[s >= OCTAVE_MIN_STRENGTH * float(np.quantile(s, 0.9))]
    b = np.sort(b)
    if not period_bpm or len(b) < 4:
        return 1.0
    rate = 60.0 / max(float(np.median(np.diff(b))), 1e-6)
    lo, hi = TEMPO_RANGE_BPM
    options = [f for f in (1.0, 2.0, 0.5) if lo <= period_bpm * f <= hi]
    return min(options, key=lambda f: abs(math.log2(period_bpm * f / rate))) if options else 1.0


def kinematics(
    times_s: np.ndarray,
    xy: np.ndarray,
    visibility: np.ndarray,
    *,
    duration_s: float,
    hop_s: float | None = None,
    pose_rate_hz: float | None = None,
    breaks_s=None,
) -> dict:
    """Kinematic features of one body (see the module docstring).

    Parameters
    ----------
    times_s : np.ndarray, shape (n,)
        Frame times in seconds, increasing.
    xy : np.ndarray, shape (n, 33, 2)
        Landmarks in pixels (BlazePose order); NaN in frames without a body.
    visibility : np.ndarray, shape (n, 33)
        Per-landmark visibility 0..1.
    duration_s : float
        Length of the video (the grid covers 0..duration_s).
    hop_s : float, optional
        Grid step; default the median frame step.
    pose_rate_hz : float, optional
        The rate of the frames the pose model saw, which sets the picker's time constants;
        default the reciprocal of the median step of ``times_s``.
    breaks_s : array-like, optional
        Times of cuts (seconds): the body is not followed across them (the last position
        of a shot is not joined to the first of the next: that jump is not a movement).

    Returns
    -------
    dict
        JSON-ready: ``hop_s``, ``speed`` (torso lengths per second), ``intensity`` (0..1),
        ``beats`` ([{time_s, strength}]), ``tempo_bpm``, ``tempo_confidence``,
        ``tempo_curve`` ({t_s, bpm}), ``tempo_drift_pct`` (last minus first local tempo over
        the first, in %), ``accents`` ([{time_s, strength, kind}]), ``torso_px``,
        ``beats_per_s``, ``tempo_octave``, ``parts`` (median speeds of the arms and head and
        of the legs, the legs' visibility, ``thigh_drop``: hips to knees over the torso) and
        ``upper`` (beats and tempo of the head and arms alone, hands weighted: what a
        seated performer's beat is read from).
    """
    t = np.asarray(times_s, float)
    xy = np.asarray(xy, float)
    vis = np.asarray(visibility, float)
    if xy.ndim != 3 or xy.shape[1:] != (33, 2) or len(t) != len(xy) or vis.shape != xy.shape[:2]:
        raise ValueError(f"expected xy (n, 33, 2) and visibility (n, 33), got {xy.shape}")
    step = float(np.median(np.diff(t))) if len(t) > 1 else 0.08
    if hop_s is None:
        hop_s = step
    interval = 1.0 / pose_rate_hz if pose_rate_hz else step
    frames = interval / hop_s  # grid steps per pose interval
    n = max(1, int(math.floor(duration_s / hop_s)) + 1)
    grid = np.arange(n) * hop_s
    seen = np.isfinite(xy).all(axis=(1, 2))
    torso_f = np.linalg.norm(0.5 * (xy[:, 11] + xy[:, 12]) - 0.5 * (xy[:, 23] + xy[:, 24]), axis=1)
    torso = _interp_gaps(t, np.where(seen, torso_f, np.nan), grid, breaks_s)
    fill = float(np.nanmedian(torso)) if np.isfinite(torso).any() else 1.0
    torso = _running_torso(
        torso, window=int(TORSO_INTERVALS * frames) | 1, grid=grid, breaks_s=breaks_s
    )
    joints = list(KINEMATIC_JOINTS)
    pos = np.stack(
        [
            np.stack([_interp_gaps(t, xy[:, j, a], grid, breaks_s) for a in (0, 1)], axis=1)
            for j in joints
        ],
        axis=1,
    )  # (n, J, 2)
    pos = pos / torso[:, None, None]
    # the filter's clock in pose intervals (12.5 Hz seconds), like every time constant here
    pos = _one_euro_both_ways(pos, step=hop_s / (interval * REFERENCE_POSE_HZ), **ONE_EURO)
    pos = _gauss_runs(pos, POSITION_SIGMA_INTERVALS * frames)
    vis_g = np.stack(
        [_interp_gaps(t, np.where(seen, vis[:, j], np.nan), grid, breaks_s) for j in joints], 1
    )
    w = _joint_weights(vis_g)
    vel = np.gradient(pos, hop_s, axis=0)
    vel[~np.isfinite(pos)] = np.nan  # a central difference would step over a one-point gap
    sp = np.linalg.norm(vel, axis=2)  # (n, J)
    sigma = SPEED_SIGMA_INTERVALS * frames
    speed = _weighted_speed(sp, w, sigma=sigma)
    beats_t, beats_s, tempo, conf, ct, cb, octave, pace = _beats_and_tempo(
        speed, hop_s=hop_s, interval=interval, frames=frames, breaks_s=breaks_s
    )

    smooth = _nan_gauss(speed, 0.5 / hop_s)
    finite = np.isfinite(smooth)
    if finite.any():
        q5, q95 = np.quantile(smooth[finite], [0.05, 0.95])
        intensity = np.clip((smooth - q5) / max(q95 - q5, 1e-9), 0, 1)
    else:
        q5 = q95 = 0.0
        intensity = np.zeros(n)
    intensity = np.where(finite, intensity, 0.0)

    drift = math.nan
    good = np.isfinite(cb)
    if good.sum() >= 2:
        first, last = cb[good][: max(1, good.sum() // 4)], cb[good][-max(1, good.sum() // 4) :]
        drift = 100.0 * (float(np.median(last)) - float(np.median(first))) / float(np.median(first))

    upper = _upper_body(
        sp, w, joints, hop_s=hop_s, interval=interval, frames=frames, breaks_s=breaks_s
    )
    parts = _parts(sp, vis_g, joints, pos=pos, window=int(TORSO_INTERVALS * frames) | 1)
    parts["thigh_drop"] = _thigh_drop(xy, vis)
    accents = _accents(speed, vel, hop_s=hop_s, joints=joints, sigma=SPEED_SIGMA_INTERVALS * frames)

    def r(x, nd=4):
        return None if not np.isfinite(x) else round(float(x), nd)

    span = max(float(duration_s), 1e-9)
    return {
        "hop_s": round(hop_s, 6),
        "pose_rate_hz": round(1.0 / interval, 4),
        "joints": joints,
        "torso_px": r(fill, 2),
        "speed": [r(v) for v in speed],
        "intensity": [round(float(v), 4) for v in intensity],
        "speed_quantiles": [r(q5), r(q95)],
        "unit_speed": "torso lengths per second",
        "beats": [
            {"time_s": round(float(a), 4), "strength": round(float(b), 4)}
            for a, b in zip(beats_t, beats_s, strict=True)
        ],
        "beats_per_s": round(len(beats_t) / span, 4),
        "strong_beats_per_s": round(int((beats_s >= STRONG_BEAT_STRENGTH).sum()) / span, 4),
        "pace_per_s": round(pace / span, 4),
        "tempo_bpm": tempo,
        "tempo_confidence": conf,
        "tempo_octave": octave,
        "tempo_curve": {
            "t_s": [round(float(x), 3) for x in ct],
            "bpm": [r(x, 2) for x in cb],
        },
        "tempo_drift_pct": r(drift, 2),
        "accents": accents,
        "parts": parts,
        "upper": upper,
    }


def _joint_weights(vis: np.ndarray) -> np.ndarray:
    """A joint's weight in the kinetic speed from its visibility (n, J): 1.1 when seen
    (visibility >= 0.5), 0.1 when the model guesses it, 0 where no body was tracked.
    (Continuous weights -- visibility itself, its square, ramps -- were tried on dancer.avi
    and five re-encoded or shifted copies: no steadier beats.)"""
    return np.where(np.isfinite(vis), 0.1 + (vis >= 0.5), 0.0)


def _weighted_speed(sp: np.ndarray, w: np.ndarray, *, sigma: float) -> np.ndarray:
    """Weighted mean of per-joint speeds (n, J) with weights (n, J), smoothed."""
    ok = np.isfinite(sp)
    wsum = (w * ok).sum(axis=1)
    speed = np.where(
        wsum > 0, np.nansum(np.where(ok, sp, 0) * w, axis=1) / np.maximum(wsum, 1e-9), np.nan
    )
    return _gauss_runs(speed, sigma)


def _beats_and_tempo(
    speed: np.ndarray, *, hop_s: float, interval: float, frames: float, breaks_s=None
):
    """Kinematic beats of a speed curve, the tempo (period, confidence, curve, octave) and
    the number of the speed's minima, beats or not (the pace)."""
    n = len(speed)
    beats_t, beats_s = kinematic_beats(speed, hop_s=hop_s, window_s=PROMINENCE_INTERVALS * interval)
    pulses = np.zeros(n)
    np.add.at(pulses, np.clip(np.round(beats_t / hop_s).astype(int), 0, n - 1), beats_s)
    pulses = gaussian_filter1d(pulses, max(1.0, POSITION_SIGMA_INTERVALS * frames))
    tempo, conf, ct, cb = kinematic_tempo(
        [speed, pulses], hop_s=hop_s, time_scale=interval * REFERENCE_POSE_HZ, breaks_s=breaks_s
    )
    octave = beat_octave(tempo, beats_t, beats_s)
    if tempo is not None:
        tempo, cb = round(tempo * octave, 2), cb * octave
    keep = beats_s >= MIN_BEAT_STRENGTH  # the rest are the pose's jitter, not stops
    pace = len(beats_t)  # every dip of the speed: how busy the movement is
    return beats_t[keep], beats_s[keep], tempo, conf, ct, cb, octave, pace


#: A performer's beat joints and their weights: hands (wrists) first, then elbows and head.
UPPER_WEIGHTS = {0: 1.0, 11: 0.5, 12: 0.5, 13: 1.5, 14: 1.5, 15: 2.0, 16: 2.0}
_LEGS = (25, 26, 27, 28, 31, 32)


def _upper_body(
    sp, w, joints, *, hop_s: float, interval: float, frames: float, breaks_s=None
) -> dict:
    """Beats and tempo of the head and arms alone, hands weighted (a performer's beat)."""
    cols = [joints.index(j) for j in UPPER_WEIGHTS]
    weights = np.array([UPPER_WEIGHTS[j] for j in UPPER_WEIGHTS])
    speed = _weighted_speed(sp[:, cols], w[:, cols] * weights, sigma=SPEED_SIGMA_INTERVALS * frames)
    bt, bs, tempo, conf, _, _, octave, pace = _beats_and_tempo(
        speed, hop_s=hop_s, interval=interval, frames=frames, breaks_s=breaks_s
    )
    span = max(len(speed) * hop_s, 1e-9)
    return {
        "joints": list(UPPER_WEIGHTS),
        "weights": [float(x) for x in weights],
        "beats": [
            {"time_s": round(float(a), 4), "strength": round(float(b), 4)}
            for a, b in zip(bt, bs, strict=True)
        ],
        "beats_per_s": round(len(bt) / span, 4),
        "pace_per_s": round(pace / span, 4),
        "tempo_bpm": tempo,
        "tempo_confidence": conf,
        "tempo_octave": octave,
    }


def _spread(pos: np.ndarray, cols: list[int], window: int) -> float | None:
    """Median over time of the joints' positional spread (standard deviation over a running
    ``window`` of grid steps, x and y pooled, averaged over the joints), torso lengths."""
    from scipy.ndimage import uniform_filter1d

    x = pos[:, cols]
    ok = np.isfinite(x).all(axis=(1, 2))
    if ok.sum() < window:
        return None
    x = x[ok]
    m = uniform_filter1d(x, window, axis=0, mode="nearest")
    m2 = uniform_filter1d(x * x, window, axis=0, mode="nearest")
    sd = np.sqrt(np.maximum(m2 - m * m, 0.0)).mean(axis=(1, 2))
    return round(float(np.median(sd)), 4)


def _parts(sp: np.ndarray, vis_g: np.ndarray, joints: list[int], *, pos, window: int) -> dict:
    """How the body moves: median speeds of the arms and head and of the legs (torso lengths
    per second), how much each moves over 2 s (``*_spread``: positional standard deviation
    in torso lengths; pose jitter alone gives about 0.01), and how visible the legs are
    (median visibility of knees, ankles, feet)."""
    up = [joints.index(j) for j in (0, 13, 14, 15, 16)]
    lo = [joints.index(j) for j in _LEGS]

    def med(x):  # the mean of each row's joints, then the median over time
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            x = np.nanmean(x, axis=1)
        x = x[np.isfinite(x)]
        return round(float(np.median(x)), 4) if x.size else None

    return {
        "upper_speed": med(sp[:, up]),
        "lower_speed": med(sp[:, lo]),
        "lower_visibility": med(vis_g[:, lo]),
        "upper_spread": _spread(pos, up, window),
        "lower_spread": _spread(pos, lo, window),
    }


def _thigh_drop(xy: np.ndarray, vis: np.ndarray) -> float | None:
    """Median vertical drop from the hips to the knees over the torso length, in the frames
    with both knees seen: about 1 standing, near 0 seated, below 0 for no person's posture
    (knees above hips); None with fewer than 5 such frames."""
    ok = np.isfinite(xy).all(axis=(1, 2)) & (np.minimum(vis[:, 25], vis[:, 26]) >= 0.5)
    if ok.sum() < 5:
        return None
    a = xy[ok]
    hip, sh, knee = a[:, 23:25].mean(1), a[:, 11:13].mean(1), a[:, 25:27].mean(1)
    torso = np.maximum(np.linalg.norm(sh - hip, axis=1), 1e-6)
    return round(float(np.median((knee[:, 1] - hip[:, 1]) / torso)), 4)


def _accents(
    speed: np.ndarray, vel: np.ndarray, *, hop_s: float, joints: list[int], sigma: float
) -> list[dict]:
    """Stops and arm hits (fast deceleration) and jumps (fast upward hip motion). Where no
    body is followed (NaN: a gap, a cut) nothing is measured: the edge of a gap is not a
    stop."""
    decel = np.nan_to_num(np.maximum(0.0, -np.gradient(speed, hop_s)))
    arm_idx = [joints.index(j) for j in _ARMS]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        arm = np.linalg.norm(vel[:, arm_idx], axis=2).mean(axis=1)
    arm = _gauss_runs(arm, sigma)
    arm_decel = np.nan_to_num(np.maximum(0.0, -np.gradient(arm, hop_s)))
    hips = [joints.index(23), joints.index(24)]
    up = np.maximum(0.0, -np.nan_to_num(vel[:, hips, 1].mean(axis=1)))  # y grows downwards
    up = gaussian_filter1d(up, sigma)
    kinds = {"stop": decel, "arm": arm_decel, "jump": up}
    z = {}
    for k, x in kinds.items():
        sd = float(x.std())
        z[k] = (x - float(x.mean())) / sd if sd > 1e-9 else np.zeros_like(x)
    total = np.maximum.reduce([z["stop"], z["arm"], 1.2 * z["jump"]])
    out: list[dict] = []
    gap = int(round(0.5 / hop_s))
    order = np.argsort(-total)
    taken = np.zeros(len(total), bool)
    for i in order:
        if total[i] < 2.0:
            break
        if taken[max(0, i - gap) : i + gap + 1].any():
            continue
        taken[i] = True
        kind = max(kinds, key=lambda k: z[k][i] * (1.2 if k == "jump" else 1.0))
        out.append(
            {
                "time_s": round(float(i) * hop_s, 4),
                "strength": round(float(min(1.0, total[i] / 5.0)), 3),
                "kind": kind,
            }
        )
    out.sort(key=lambda a: a["time_s"])
    return out
