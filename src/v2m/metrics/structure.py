"""MusDr's structure indicator (SI): how strongly a piece repeats itself.

Wu & Yang (2020, "The Jazz Transformer on the Front Line") take the fitness scape plot of
the audio (Mueller, Jiang & Grosche 2013, "A robust fitness measure for capturing
repetitions in music recordings") and report, for a range of segment lengths, the largest
fitness: ``si_short`` SI(3, 8), ``si_mid`` SI(8, 15) and ``si_long`` SI(15, 128) (seconds).

Every step follows MusDr's Python scape-plot script (``run_python_scapeplot.py``, built on
Mueller's FMP code, the same code as ``libfmp``) with its parameters; the test-suite checks
each step against ``libfmp`` with those parameters.

1. :func:`chroma_features`: audio at 22050 Hz, librosa ``chroma_stft`` (``tuning=0``,
   ``n_fft=4410``, hop 2205: 10 Hz, L2 norm), smoothed with a 21-frame box filter and
   down-sampled by 5 (2 Hz), each column L2-normalised (columns with norm <= 0.001 become
   the unit vector ``1/sqrt(12)``).
2. :func:`self_similarity`: dot-product SSM, path-enhanced by averaging along 16-frame
   diagonals forward and backward at 7 relative tempi (0.5 .. 2, log-spaced), made
   transposition-invariant (maximum over the 12 cyclic chroma shifts), thresholded
   relatively (the top 25 % of cells kept and scaled to 0..1, the rest set to the penalty
   -2) and given a unit diagonal.
3. :func:`fitness_scape`: for every segment (start ``s``, length ``M``) the optimal *path
   family* through the columns of the segment over the whole piece (steps (1,1), (2,1),
   (1,2); an "elevator" column between paths), found by dynamic programming. With its
   score ``sigma``, the total number of cells of its paths ``|P|`` and the rows they cover
   ``gamma``: normalised score ``(sigma - M) / |P|``, normalised coverage ``(gamma - M) / N``,
   fitness ``2 ab / (a + b)``. The DP runs for all starts of one length at once
   (vectorised); length and coverage are tracked along the path that FMP's backtracking
   would return, including its rules near the matrix edges, so the values equal the
   reference's cell for cell.
4. :func:`structure_indicator`: the largest fitness among segment lengths
   ``int(lo * 2) .. int(hi * 2)`` frames; 0 when the piece is shorter than ``lo``.

Cost grows with the cube of the piece's length; segments longer than the largest upper
bound (128 s) are not computed, since no SI uses them.
"""

from __future__ import annotations

import numpy as np

from .._deps import require
from ..errors import ParameterError

__all__ = [
    "chroma_features",
    "self_similarity",
    "fitness_scape",
    "structure_indicator",
    "evaluate",
    "SI_BOUNDS_S",
    "FEATURE_RATE_HZ",
]

SI_BOUNDS_S = {"si_short": (3.0, 8.0), "si_mid": (8.0, 15.0), "si_long": (15.0, 128.0)}
FEATURE_RATE_HZ = 2.0  # 22050 / 2205 / 5
SR = 22050
MAX_DURATION_S = 600.0


def chroma_features(y: np.ndarray, sr: int) -> np.ndarray:
    """Smoothed, unit-norm chroma at 2 Hz, shape (12, n_frames).

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (n, channels)
        Audio samples.
    sr : int
        Sample rate of ``y`` in Hz (resampled to 22050 Hz with librosa's default).
    """
    librosa = require("librosa", purpose="the structure indicator")
    from scipy.signal import convolve

    y = np.asarray(y, np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1) if y.shape[1] <= 8 else y.mean(axis=0)
    if sr != SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=SR)
    c = librosa.feature.chroma_stft(y=y, sr=SR, tuning=0, norm=2, hop_length=2205, n_fft=4410)
    filt_len, down = 21, 5
    x = convolve(c, np.ones((1, filt_len)), mode="same") / filt_len
    x = x[:, ::down]
    norm = np.sqrt(np.sum(x**2, axis=0))
    out = np.empty_like(x, dtype=np.float64)
    ok = norm > 0.001
    out[:, ok] = x[:, ok] / norm[ok]
    out[:, ~ok] = 1.0 / np.sqrt(12)
    return out


def _resample_index(n_from: int, n_to: int) -> np.ndarray:
    """Indices (0-based) that resample a length-``n_from`` axis to ``n_to`` points."""
    r = np.round(np.arange(1, n_to + 1) / n_to * n_from) - 1
    return np.maximum(r, 0).astype(np.int64)


def _diagonal_smooth(s: np.ndarray, length: int, tempi: np.ndarray) -> np.ndarray:
    """Forward and backward diagonal averaging at relative ``tempi``; maximum of all."""
    n = s.shape[0]
    best = np.zeros_like(s)
    for t in tempi:
        m = int(np.ceil(n / t))
        sr = s[:, _resample_index(n, m)]  # (n, m): columns stretched to tempo t
        padded = np.zeros((n + 2 * length, m + 2 * length))
        padded[length : length + n, length : length + m] = sr
        fwd = np.zeros((n, m))
        bwd = np.zeros((n, m))
        for k in range(length):
            fwd += padded[length + k : length + k + n, length + k : length + k + m]
            bwd += padded[length - k : length - k + n, length - k : length - k + m]
        back = _resample_index(m, n)
        best = np.maximum(best, np.maximum(fwd, bwd)[:, back] / length)
    return best


def self_similarity(
    chroma: np.ndarray,
    *,
    smooth_frames: int = 16,
    tempi: np.ndarray | None = None,
    keep: float = 0.25,
    penalty: float = -2.0,
) -> np.ndarray:
    """Enhanced, thresholded self-similarity matrix (N, N) from unit-norm chroma (12, N).

    Parameters
    ----------
    chroma : np.ndarray, shape (12, N)
        Output of :func:`chroma_features`.
    smooth_frames : int
        Length of the diagonal smoothing filter in frames (MusDr: 16).
    tempi : np.ndarray, optional
        Relative tempi for the smoothing (MusDr: 7 values log-spaced from 0.5 to 2).
    keep : float
        Fraction of cells kept by the relative threshold (MusDr: 0.25).
    penalty : float
        Value of the cells below the threshold (MusDr: -2).
    """
    if not 0 < keep <= 1:
        raise ParameterError(f"keep={keep}: must be in (0, 1]")
    if smooth_frames < 1:
        raise ParameterError(f"smooth_frames={smooth_frames}: must be >= 1")
    if tempi is None:
        tempi = np.exp(np.linspace(np.log(0.5), np.log(2.0), 7))
    x = np.asarray(chroma, float)
    n = x.shape[1]
    s = None
    for shift in range(12):
        sc = _diagonal_smooth(np.roll(x, shift, axis=0).T @ x, smooth_frames, tempi)
        s = sc if s is None else np.maximum(s, sc)
    # relative threshold: the value at the sorted position round(size * (1 - keep))
    below = int(np.round(s.size * (1 - keep)))
    if below < s.size:
        thr = np.sort(s, axis=None)[below]
        s = np.where(s < thr, 0.0, s)
    else:
        s = np.zeros_like(s)
    pos = s > 0
    if pos.any():
        lo, hi = s[pos].min(), s.max()
        if hi > lo:
            zero = s == 0
            s = (s - lo) / (hi - lo)
            s[zero] = penalty
    s[np.arange(n), np.arange(n)] = 1.0
    return s


def fitness_scape(ssm: np.ndarray, *, min_len: int = 1, max_len: int | None = None) -> np.ndarray:
    """Fitness of every segment, shape (N, N) indexed ``[length - 1, start]``.

    Cells of segments that do not fit in the piece, or whose length is outside
    ``min_len .. max_len`` (frames), are 0, as in the reference scape plot.
    """
    s = np.ascontiguousarray(ssm, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ParameterError(f"ssm of shape {s.shape}: must be square")
    n = s.shape[0]
    max_len = n if max_len is None else min(n, max_len)
    fit = np.zeros((n, n))
    if n:
        _kernels().scape(s, max(1, min_len), max_len, fit)
    return fit


_KERNELS = None


def _kernels():
    """Compile (once, cached on disk) the numba kernels of the path-family DP."""
    global _KERNELS
    if _KERNELS is None:
        from . import _scape

        _KERNELS = _scape
    return _KERNELS


def structure_indicator(
    y: np.ndarray,
    sr: int,
    *,
    bounds_s: dict[str, tuple[float, float]] | None = None,
    max_duration_s: float = MAX_DURATION_S,
) -> dict[str, float]:
    """SI per length range (see the module docstring).

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (n, channels)
        Audio samples.
    sr : int
        Sample rate in Hz.
    bounds_s : dict, optional
        ``{name: (low_s, high_s)}``; default :data:`SI_BOUNDS_S`.
    max_duration_s : float
        Longest audio accepted (the scape plot's cost grows with the cube of the length:
        about 5 s for 3 minutes on two cores).

    Raises
    ------
    ParameterError
        Bad bounds, or audio longer than ``max_duration_s``.

    Returns
    -------
    dict
        ``{name: SI}``, each in [0, 1].

    Examples
    --------
    >>> sr = 22050
    >>> t = np.arange(40 * sr) / sr
    >>> y = np.sin(2 * np.pi * np.where((t // 5) % 2 == 0, 220.0, 330.0) * t)  # A B A B ...
    >>> si = structure_indicator(y, sr, bounds_s={"sections": (8.0, 16.0)})
    >>> list(si), 0.0 <= si["sections"] <= 1.0
    (['sections'], True)
    """
    bounds = bounds_s or SI_BOUNDS_S
    for name, (lo, hi) in bounds.items():
        if not (lo > 0 and hi > lo):
            raise ParameterError(f"{name}: bounds ({lo}, {hi}) s must satisfy 0 < low < high")
    duration_s = len(y) / sr
    if duration_s > max_duration_s:
        raise ParameterError(
            f"structure indicator: audio of {duration_s:.0f} s is longer than "
            f"max_duration_s={max_duration_s:.0f} s (the scape plot's cost grows with the "
            "cube of the length; raise max_duration_s to compute it anyway)"
        )
    chroma = chroma_features(y, sr)
    n = chroma.shape[1]
    rows = {
        name: (int(lo * FEATURE_RATE_HZ) - 1, int(hi * FEATURE_RATE_HZ))
        for name, (lo, hi) in bounds.items()
    }
    lo_row = min(a for a, _ in rows.values())
    hi_row = max(b for _, b in rows.values())
    if n == 0 or lo_row >= n:
        return {name: 0.0 for name in bounds}
    fit = fitness_scape(self_similarity(chroma), min_len=lo_row + 1, max_len=hi_row)
    return {name: (float(np.max(fit[a:b])) if a < n else 0.0) for name, (a, b) in rows.items()}


def evaluate(y: np.ndarray, sr: int) -> dict[str, float]:
    """Diff-BGM's structure indicator of audio at the three length ranges, by stable names.

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (n, channels)
        Audio (mixed to mono).
    sr : int
        Its sample rate, Hz.

    Returns
    -------
    dict
        ``si_short``, ``si_mid``, ``si_long``: the largest fitness of a repeated segment in
        each length range, 0..1 (higher: more repetition; see :func:`structure_indicator`).

    Examples
    --------
    >>> sr = 22050
    >>> t = np.arange(40 * sr) / sr
    >>> y = np.sin(2 * np.pi * np.where((t // 5) % 2 == 0, 220.0, 330.0) * t)  # A B A B ...
    >>> sorted(evaluate(y, sr))
    ['si_long', 'si_mid', 'si_short']
    """
    return structure_indicator(y, sr)
