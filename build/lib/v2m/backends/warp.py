"""Put generated audio back on the cue sheet's beat grid.

A neural model given "96 BPM" plays near 96 BPM, with its own phase and drift, so the cuts
that v2m placed on beats no longer land on the music's beats. Here the beats of the
generated audio are tracked (librosa's dynamic-programming tracker, started at the cue's
tempo), matched to the cue's beats, and the audio is time-warped so that every matched beat
moves onto its grid time: a piecewise-linear time map between the matched beats drives a
phase vocoder whose read position varies frame by frame (Flanagan & Golden's phase
vocoder as Ellis formulates it, with a time-varying step), so each segment is stretched
by its own ratio and the joins are seamless. Pitch is kept.

:func:`sync_to_grid` does all of it and reports the cut-to-beat hit rate (beats tracked
in the audio within 70 ms of the cuts) before and after.
"""

from __future__ import annotations

import numpy as np

from .._deps import require
from ..errors import ParameterError
from ..metrics.rhythm import cut_beat_hit_rate

__all__ = ["track_beats", "match_beats", "warp", "sync_to_grid"]

N_FFT = 2048
HOP = 512
#: Matched beats may move by at most this fraction of the local beat period.
MAX_SHIFT_FRAC = 0.45
#: Local stretch ratios are kept within this range (beyond it the vocoder smears).
MAX_RATIO = 1.35


def track_beats(y: np.ndarray, sr: int, *, tempo_bpm: float | None = None) -> np.ndarray:
    """Beat times (s) of mono or (n, channels) audio, tracked with librosa.

    The tracker starts at ``tempo_bpm`` when given (the cue's tempo), so it locks onto
    that metrical level rather than half or double it.
    """
    librosa = require("librosa", purpose="beat tracking of generated audio")
    x = np.asarray(y, np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1)
    kw = {"start_bpm": float(tempo_bpm)} if tempo_bpm else {}
    _, beats = librosa.beat.beat_track(y=x, sr=sr, units="time", tightness=200, **kw)
    return np.asarray(beats, float)


def match_beats(tracked_s, grid_s) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (tracked beat, grid beat), followed through the piece.

    The first tracked beat pairs with the nearest grid beat; then, grid beat by grid beat,
    the next tracked beat is predicted from the last pair and the running tempo ratio
    (audio seconds per grid second, started at the ratio of the median beat periods), and
    the tracked beat nearest the prediction pairs with the grid beat when it lies within
    ``MAX_SHIFT_FRAC`` of a beat period of it. Following the ratio keeps the pairing right
    when the audio drifts by more than half a beat over the piece, where pairing each grid
    beat with its nearest tracked beat would slip a beat.

    Returns
    -------
    src_s, dst_s : np.ndarray
        Increasing times in the audio (src) and on the grid (dst).
    """
    t = np.sort(np.asarray(tracked_s, float))
    g = np.asarray(grid_s, float)
    if t.size < 2 or g.size < 2:
        return np.zeros(0), np.zeros(0)
    ratio = float(np.median(np.diff(t)) / np.median(np.diff(g)))
    if not 1 / MAX_RATIO <= ratio <= MAX_RATIO:
        ratio = 1.0  # another metrical level (half or double tempo): pair beat by beat
    j0 = int(np.argmin(np.abs(g - t[0])))
    src, dst = [t[0]], [g[j0]]
    for j in range(j0 + 1, g.size):
        pred = src[-1] + (g[j] - dst[-1]) * ratio
        k = int(np.argmin(np.abs(t - pred)))
        if t[k] <= src[-1] or abs(t[k] - pred) > MAX_SHIFT_FRAC * (g[j] - g[j - 1]) * ratio:
            continue
        r = (t[k] - src[-1]) / (g[j] - dst[-1])
        if not 1 / MAX_RATIO <= r <= MAX_RATIO:
            continue
        src.append(t[k])
        dst.append(g[j])
        ratio = 0.7 * ratio + 0.3 * r
    return np.array(src), np.array(dst)


def _time_map(src: np.ndarray, dst: np.ndarray, n_out_s: float, n_in_s: float):
    """Output time -> input time: linear between anchors, slope 1 before the first and
    after the last anchor, clamped to the input."""
    if src.size == 0:
        return lambda t: np.minimum(t, n_in_s)
    xs = np.concatenate([[dst[0] - 1e3], dst, [dst[-1] + 1e3]])
    ys = np.concatenate([[src[0] - 1e3], src, [src[-1] + 1e3]])
    return lambda t: np.clip(np.interp(t, xs, ys), 0.0, n_in_s)


def warp(y: np.ndarray, sr: int, *, src_s, dst_s, n_out: int) -> np.ndarray:
    """Time-warp ``y`` so that audio at ``src_s`` plays at ``dst_s`` (phase vocoder).

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (n, channels)
    src_s, dst_s : array_like
        Matched, increasing anchor times in seconds (input, output).
    n_out : int
        Output length in samples.

    Returns
    -------
    np.ndarray, shape (n_out,) or (n_out, channels), float32
    """
    librosa = require("librosa", purpose="the phase vocoder")
    x = np.asarray(y, np.float32)
    mono = x.ndim == 1
    if mono:
        x = x[:, None]
    src, dst = np.asarray(src_s, float), np.asarray(dst_s, float)
    if src.shape != dst.shape:
        raise ParameterError(f"anchors: {src.size} source vs {dst.size} target times")
    fmap = _time_map(src, dst, n_out / sr, x.shape[0] / sr)
    n_frames_out = 1 + n_out // HOP
    steps = fmap(np.arange(n_frames_out) * HOP / sr) * sr / HOP  # fractional input frames
    omega = np.linspace(0, np.pi * HOP, 1 + N_FFT // 2)[:, None]
    out = np.zeros((n_out, x.shape[1]), np.float32)
    for ch in range(x.shape[1]):
        d = librosa.stft(x[:, ch], n_fft=N_FFT, hop_length=HOP)
        d = np.pad(d, ((0, 0), (0, 2)))
        i0 = np.minimum(steps.astype(int), d.shape[1] - 2)
        alpha = (steps - i0)[None, :]
        a, b = d[:, i0], d[:, i0 + 1]
        mag = (1 - alpha) * np.abs(a) + alpha * np.abs(b)
        dphi = np.angle(b) - np.angle(a) - omega
        dphi -= 2 * np.pi * np.round(dphi / (2 * np.pi))
        # the phase of output frame k: the first input frame's, advanced by one hop of
        # each frame's instantaneous frequency for every frame before it
        adv = np.cumsum(omega + dphi, axis=1)
        phase = np.angle(d[:, :1]) + np.concatenate([np.zeros_like(adv[:, :1]), adv[:, :-1]], 1)
        spec = mag * np.exp(1j * phase)
        out[:, ch] = librosa.istft(spec, hop_length=HOP, n_fft=N_FFT, length=n_out)
    return out[:, 0] if mono else out


def sync_to_grid(
    y: np.ndarray,
    sr: int,
    *,
    beats_s,
    cuts_s,
    tempo_bpm: float | None = None,
    tolerance_s: float = 0.07,
) -> tuple[np.ndarray, dict]:
    """Warp generated audio onto the cue's beats; report the cut-to-beat hit rates.

    Parameters
    ----------
    y : np.ndarray, shape (n, channels)
    beats_s : array_like
        The cue sheet's beat grid (s).
    cuts_s : array_like
        The cuts (or other hits) that must land on beats.

    Returns
    -------
    y_out : np.ndarray, same shape as ``y``
    report : dict
        ``hit_rate_before``, ``hit_rate_after`` (fractions of cuts with a tracked beat
        within ``tolerance_s``), ``anchors`` (matched beats), ``grid_beats``,
        ``max_shift_s`` (largest move of a beat), ``warped`` (False when no beat could be
        matched and the audio is left as it was).
    """
    grid = np.asarray(beats_s, float)
    grid = grid[(grid >= 0) & (grid <= y.shape[0] / sr)]
    cuts = np.asarray(cuts_s, float)
    before = track_beats(y, sr, tempo_bpm=tempo_bpm)
    src, dst = match_beats(before, grid)
    rep = {
        "hit_rate_before": cut_beat_hit_rate(cuts, before, tolerance_s=tolerance_s)
        if cuts.size and before.size
        else None,
        "anchors": int(src.size),
        "grid_beats": int(grid.size),
        "max_shift_s": float(np.max(np.abs(src - dst))) if src.size else 0.0,
        "warped": bool(src.size >= 2),
    }
    out = warp(y, sr, src_s=src, dst_s=dst, n_out=y.shape[0]) if src.size >= 2 else y
    after = track_beats(out, sr, tempo_bpm=tempo_bpm)
    rep["hit_rate_after"] = (
        cut_beat_hit_rate(cuts, after, tolerance_s=tolerance_s)
        if cuts.size and after.size
        else None
    )
    return np.asarray(out, np.float32), rep
