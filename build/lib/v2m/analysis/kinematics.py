"""Kinematic features of a tracked body (pure numpy/scipy; no model).

:func:`kinematics` turns body keypoints per frame (from :mod:`v2m.analysis.pose` or any
other 2-D pose source) into what the music needs from a dancer:

* **Body size.** Lengths are divided by the torso (mid-shoulder to mid-hip distance, its
  running median over 2 s), so speeds read in torso lengths per second whatever the camera
  distance.
* **Speed and acceleration.** Positions are resampled on a uniform grid (gaps up to 0.5 s
  bridged linearly, longer ones left empty), lightly smoothed (Gaussian, 40 ms) and
  differentiated; the kinetic speed is the visibility-weighted mean speed of 15 joints
  (nose, shoulders, elbows, wrists, hips, knees, ankles, toes), smoothed with a Gaussian of
  83 ms -- the 5 frames at 60 fps of the AIST++ / Bailando beat-align protocol.
* **Kinematic beats** are the local minima of the kinetic speed (moments the body stops or
  turns), as in AIST++ (Li et al. 2021), Bailando (Siyao et al. 2022) and Davis & Agrawala
  (2018). Each gets a strength: its prominence (the lower of the maxima within 0.5 s on
  either side, minus the minimum) over the speed's 95th percentile.
* **Intensity** is the kinetic speed smoothed over 0.5 s, normalised to 0..1 by its 5th and
  95th percentiles in the video (``intensity``) and kept raw (``speed``).
* **Tempo.** Windowed autocorrelations (8 s Hann windows, 1 s apart) of two periodic
  signals -- the kinetic speed and the vertical bounce of the hips -- each high-passed
  (1 s), are averaged and weighted by a log-normal prior centred on 120 BPM (one octave
  wide); the peak between 60 and 200 BPM (parabolic interpolation) is the tempo, and the
  weighted autocorrelation there its confidence. The local tempo per window (the peak
  within +-15 % of the global tempo) gives the drift.
* **Accents**: peaks of deceleration (the kinetic speed falling fast: a stop, an arm hit)
  and of upward hip speed (a jump), above the mean plus two standard deviations, at least
  0.5 s apart, labelled ``stop``, ``arm`` or ``jump`` by what dominates.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

__all__ = ["kinematics", "kinematic_tempo", "kinematic_beats", "KINEMATIC_JOINTS"]

#: Landmark indices whose speeds make up the kinetic speed.
KINEMATIC_JOINTS = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 31, 32)
_ARMS = (13, 14, 15, 16)
SPEED_SIGMA_S = 5.0 / 60.0
MAX_GAP_S = 0.5
TEMPO_RANGE_BPM = (60.0, 200.0)
TEMPO_PRIOR_BPM = 120.0


def _interp_gaps(t: np.ndarray, x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Linear interpolation of a series with NaNs onto ``grid``; gaps over MAX_GAP_S stay NaN."""
    ok = np.isfinite(x)
    out = np.full(len(grid), np.nan)
    if ok.sum() < 2:
        return out
    tv, xv = t[ok], x[ok]
    out[:] = np.interp(grid, tv, xv)
    i = np.clip(np.searchsorted(tv, grid), 1, len(tv) - 1)
    gap = tv[i] - tv[i - 1]
    out[(gap > MAX_GAP_S) & (grid > tv[i - 1]) & (grid < tv[i])] = np.nan
    out[(grid < tv[0] - 1e-9) | (grid > tv[-1] + 1e-9)] = np.nan
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
    xf = np.where(np.isfinite(x), x, np.inf)
    mid = xf[1:-1]
    is_min = (mid < xf[:-2]) & (mid <= xf[2:]) & np.isfinite(mid)
    idx = np.nonzero(is_min)[0] + 1
    q95 = float(np.nanquantile(x, 0.95)) or 1.0
    w = max(1, int(round(window_s / hop_s)))
    times, strength = [], []
    for i in idx:
        left = x[max(0, i - w) : i + 1]
        right = x[i : i + w + 1]
        prom = min(np.nanmax(left), np.nanmax(right)) - x[i]
        if prom <= 1e-6 * q95:
            continue
        a, b, c = x[i - 1], x[i], x[i + 1]
        den = a - 2 * b + c
        frac = 0.5 * (a - c) / den if np.isfinite(den) and den > 0 else 0.0
        times.append((i + float(np.clip(frac, -0.5, 0.5))) * hop_s)
        strength.append(min(1.0, prom / q95))
    return np.asarray(times), np.asarray(strength)


def _acf_windows(x: np.ndarray, *, hop_s: float, window_s: float = 8.0, step_s: float = 1.0):
    """Normalised autocorrelation of Hann-windowed segments, shape (n_windows, n_lags)."""
    x = np.where(np.isfinite(x), x, 0.0)
    x = x - gaussian_filter1d(x, 1.0 / hop_s, mode="nearest")
    wlen = int(round(window_s / hop_s))
    if len(x) < wlen:
        wlen = len(x)
    if wlen < int(2.0 / hop_s):
        return np.zeros((0, 0)), np.zeros(0)
    step = max(1, int(round(step_s / hop_s)))
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
    a, b, c = score[i - 1], score[i], score[i + 1]
    den = a - 2 * b + c
    frac = 0.5 * (a - c) / den if den < 0 else 0.0
    lag = (i + frac) * (lags[1] - lags[0])
    return 60.0 / lag, float(b)


def kinematic_tempo(
    signals: list[np.ndarray], *, hop_s: float
) -> tuple[float | None, float, np.ndarray, np.ndarray]:
    """Tempo of periodic movement.

    Parameters
    ----------
    signals : list of np.ndarray, each shape (n,)
        Movement signals on one uniform grid (kinetic speed, hip height, ...).
    hop_s : float

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
    acs = [_acf_windows(s, hop_s=hop_s) for s in signals]
    acs = [(a, c) for a, c in acs if a.size]
    if not acs:
        return None, 0.0, np.zeros(0), np.zeros(0)
    ac = np.mean([a for a, _ in acs], axis=0)  # (windows, lags)
    centres = acs[0][1]
    lags = np.arange(ac.shape[1]) * hop_s
    with np.errstate(divide="ignore"):
        bpm = np.where(lags > 0, 60.0 / np.maximum(lags, 1e-9), np.inf)
    prior = np.exp(-0.5 * np.log2(np.maximum(bpm, 1e-6) / TEMPO_PRIOR_BPM) ** 2)
    valid = (bpm >= TEMPO_RANGE_BPM[0]) & (bpm <= TEMPO_RANGE_BPM[1])
    mean_ac = ac.mean(axis=0)
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


def kinematics(
    times_s: np.ndarray,
    xy: np.ndarray,
    visibility: np.ndarray,
    *,
    duration_s: float,
    hop_s: float | None = None,
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

    Returns
    -------
    dict
        JSON-ready: ``hop_s``, ``speed`` (torso lengths per second), ``intensity`` (0..1),
        ``beats`` ([{time_s, strength}]), ``tempo_bpm``, ``tempo_confidence``,
        ``tempo_curve`` ({t_s, bpm}), ``tempo_drift_pct`` (last minus first local tempo over
        the first, in %), ``accents`` ([{time_s, strength, kind}]), ``torso_px``.
    """
    t = np.asarray(times_s, float)
    xy = np.asarray(xy, float)
    vis = np.asarray(visibility, float)
    if xy.ndim != 3 or xy.shape[1:] != (33, 2) or len(t) != len(xy) or vis.shape != xy.shape[:2]:
        raise ValueError(f"expected xy (n, 33, 2) and visibility (n, 33), got {xy.shape}")
    if hop_s is None:
        hop_s = float(np.median(np.diff(t))) if len(t) > 1 else 0.04
    n = max(1, int(math.floor(duration_s / hop_s)) + 1)
    grid = np.arange(n) * hop_s
    seen = np.isfinite(xy).all(axis=(1, 2))
    torso_f = np.linalg.norm(0.5 * (xy[:, 11] + xy[:, 12]) - 0.5 * (xy[:, 23] + xy[:, 24]), axis=1)
    torso = _interp_gaps(t, np.where(seen, torso_f, np.nan), grid)
    if np.isfinite(torso).any():
        fill = float(np.nanmedian(torso))
        torso = median_filter(np.where(np.isfinite(torso), torso, fill), int(2.0 / hop_s) | 1)
    else:
        fill = 1.0
        torso = np.ones(n)
    torso = np.maximum(torso, 1.0)
    joints = list(KINEMATIC_JOINTS)
    pos = np.stack(
        [np.stack([_interp_gaps(t, xy[:, j, a], grid) for a in (0, 1)], axis=1) for j in joints],
        axis=1,
    )  # (n, J, 2)
    pos = _nan_gauss(pos / torso[:, None, None], 0.04 / hop_s)
    w = np.stack([_interp_gaps(t, np.where(seen, vis[:, j], np.nan), grid) for j in joints], 1)
    w = np.where(np.isfinite(w), 0.1 + (w >= 0.5), 0.0)
    vel = np.gradient(pos, hop_s, axis=0)
    sp = np.linalg.norm(vel, axis=2)  # (n, J)
    ok = np.isfinite(sp)
    wsum = (w * ok).sum(axis=1)
    speed = np.where(
        wsum > 0, np.nansum(np.where(ok, sp, 0) * w, axis=1) / np.maximum(wsum, 1e-9), np.nan
    )
    speed = _nan_gauss(speed, SPEED_SIGMA_S / hop_s)
    beats_t, beats_s = kinematic_beats(speed, hop_s=hop_s)

    smooth = _nan_gauss(speed, 0.5 / hop_s)
    finite = np.isfinite(smooth)
    if finite.any():
        q5, q95 = np.quantile(smooth[finite], [0.05, 0.95])
        intensity = np.clip((smooth - q5) / max(q95 - q5, 1e-9), 0, 1)
    else:
        q5 = q95 = 0.0
        intensity = np.zeros(n)
    intensity = np.where(finite, intensity, 0.0)

    pulses = np.zeros(n)
    np.add.at(pulses, np.clip(np.round(beats_t / hop_s).astype(int), 0, n - 1), beats_s)
    pulses = gaussian_filter1d(pulses, max(1.0, 0.04 / hop_s))
    tempo, conf, ct, cb = kinematic_tempo([speed, pulses], hop_s=hop_s)
    drift = math.nan
    good = np.isfinite(cb)
    if good.sum() >= 2:
        first, last = cb[good][: max(1, good.sum() // 4)], cb[good][-max(1, good.sum() // 4) :]
        drift = 100.0 * (float(np.median(last)) - float(np.median(first))) / float(np.median(first))

    accents = _accents(speed, vel, hop_s=hop_s, joints=joints)

    def r(x, nd=4):
        return None if not np.isfinite(x) else round(float(x), nd)

    return {
        "hop_s": round(hop_s, 6),
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
        "tempo_bpm": tempo,
        "tempo_confidence": conf,
        "tempo_curve": {
            "t_s": [round(float(x), 3) for x in ct],
            "bpm": [r(x, 2) for x in cb],
        },
        "tempo_drift_pct": r(drift, 2),
        "accents": accents,
    }


def _accents(speed: np.ndarray, vel: np.ndarray, *, hop_s: float, joints: list[int]) -> list[dict]:
    """Stops and arm hits (fast deceleration) and jumps (fast upward hip motion)."""
    s = np.where(np.isfinite(speed), speed, 0.0)
    decel = np.maximum(0.0, -np.gradient(s, hop_s))
    arm_idx = [joints.index(j) for j in _ARMS]
    arm = np.nan_to_num(np.linalg.norm(vel[:, arm_idx], axis=2).mean(axis=1))
    arm_decel = np.maximum(0.0, -np.gradient(gaussian_filter1d(arm, SPEED_SIGMA_S / hop_s), hop_s))
    hips = [joints.index(23), joints.index(24)]
    up = np.maximum(0.0, -np.nan_to_num(vel[:, hips, 1].mean(axis=1)))  # y grows downwards
    up = gaussian_filter1d(up, SPEED_SIGMA_S / hop_s)
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
