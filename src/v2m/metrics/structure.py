"""MusDr's structure indicator (SI): how strongly a piece repeats itself.

Wu & Yang (2020) take the fitness scape plot of the audio (Mueller, Grosche & Jiang 2012,
"audio thumbnailing") and report, for a range of segment lengths, the largest fitness:
``SI_short`` (3-8 s), ``SI_mid`` (8-15 s) and ``SI_long`` (15 s and longer).

Pipeline, with our parameters:

1. Chroma (librosa ``chroma_stft``, 22050 Hz, hop 2048) smoothed and resampled to
   ``feature_rate_hz`` (2 Hz) by averaging, each vector normalised to unit length.
2. Self-similarity ``S = C^T C``, thresholded as in Mueller's SM Toolbox: the top 15 % of
   values rescaled to 0..1, the rest set to the penalty -2.
3. For every segment ``a = [s, s + M)`` an optimal *path family* over the whole piece
   through the columns of ``a`` is found by dynamic programming (steps (1,1), (1,2),
   (2,1); an "elevator" column lets a family pause between paths). From its score
   ``sigma``, total length ``|P|`` and the rows it covers ``gamma``:
   normalised score ``(sigma - M) / (|P| - M)``, normalised coverage ``(gamma - M) / N``, and the
   fitness is their harmonic mean (0 when either is not positive).
4. ``SI`` for a length range = the largest fitness of segments whose length (in seconds) is
   inside it; NaN if the piece is too short for the range.

The dynamic programme runs for all start positions of one length at once (vectorised).
Pieces longer than 3 minutes get a proportionally lower feature rate (at most 360 frames),
which bounds time and memory.
"""

from __future__ import annotations

import math

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
]

SI_BOUNDS_S = {"si_short": (3.0, 8.0), "si_mid": (8.0, 15.0), "si_long": (15.0, None)}
NEG = -1e9
MAX_FRAMES = 360  # longer pieces use a lower feature rate (3 minutes at 2 Hz)


def chroma_features(y: np.ndarray, sr: int, *, feature_rate_hz: float = 2.0) -> np.ndarray:
    """Unit-norm chroma at ``feature_rate_hz``, shape (12, n_frames)."""
    librosa = require("librosa", purpose="the structure indicator")
    y = np.asarray(y, np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1) if y.shape[1] <= 2 else y.mean(axis=0)
    if sr != 22050:
        y = librosa.resample(y, orig_sr=sr, target_sr=22050)
    hop = 2048
    c = librosa.feature.chroma_stft(y=y, sr=22050, hop_length=hop)
    per = max(1, int(round(22050 / hop / feature_rate_hz)))
    n = c.shape[1] // per
    if n < 2:
        return np.zeros((12, 0))
    c = c[:, : n * per].reshape(12, n, per).mean(axis=2)
    return c / np.maximum(np.linalg.norm(c, axis=0, keepdims=True), 1e-9)


def self_similarity(chroma: np.ndarray, *, keep: float = 0.15, penalty: float = -2.0) -> np.ndarray:
    """Thresholded self-similarity matrix (N, N) from unit-norm features (12, N)."""
    s = chroma.T @ chroma
    thr = np.quantile(s, 1.0 - keep)
    hi = s >= thr
    out = np.full_like(s, penalty)
    lo_v, hi_v = thr, s.max()
    out[hi] = (s[hi] - lo_v) / max(hi_v - lo_v, 1e-12)
    return out


def fitness_scape(ssm: np.ndarray, *, min_len: int = 1) -> np.ndarray:
    """Fitness of every segment: array (N, N) indexed [length - 1, start] (NaN if invalid)."""
    n = ssm.shape[0]
    fit = np.full((n, n), np.nan)
    for m in range(max(1, min_len), n + 1):
        starts = np.arange(0, n - m + 1)
        k = starts.size
        cols = starts[:, None] + np.arange(m)[None, :]  # (k, m)
        seg = ssm[:, cols]  # (n, k, m): rows of the whole piece, columns of each segment
        # D[.., 0] elevator, D[.., j] path ended at segment column j-1; with length and cover
        d_prev2 = np.full((k, m + 1), NEG)
        l_prev2 = np.zeros((k, m + 1))
        c_prev2 = np.zeros((k, m + 1))
        d_prev = np.full((k, m + 1), NEG)
        d_prev[:, 0] = 0.0
        d_prev[:, 1] = seg[0, :, 0]
        l_prev = np.zeros((k, m + 1))
        l_prev[:, 1] = 1
        c_prev = np.zeros((k, m + 1))
        c_prev[:, 1] = 1
        for r in range(1, n):
            d = np.full((k, m + 1), NEG)
            length = np.zeros((k, m + 1))
            cover = np.zeros((k, m + 1))
            # elevator: from the elevator or from the end of a path on the previous row
            take_end = d_prev[:, m] > d_prev[:, 0]
            d[:, 0] = np.where(take_end, d_prev[:, m], d_prev[:, 0])
            length[:, 0] = np.where(take_end, l_prev[:, m], l_prev[:, 0])
            cover[:, 0] = np.where(take_end, c_prev[:, m], c_prev[:, 0])
            # a path starts at the segment's first column
            d[:, 1] = d[:, 0] + seg[r, :, 0]
            length[:, 1] = length[:, 0] + 1
            cover[:, 1] = cover[:, 0] + 1
            if m >= 2:
                a = d_prev[:, 1:m]  # step (1, 1)
                b = d_prev[:, 0 : m - 1]  # step (1, 2)
                b = np.where(np.arange(m - 1)[None, :] >= 1, b, NEG)  # not from elevator
                c = d_prev2[:, 1:m]  # step (2, 1)
                best = np.maximum(np.maximum(a, b), c)
                pick_a = (a >= b) & (a >= c)
                pick_b = ~pick_a & (b >= c)
                la = np.where(
                    pick_a, l_prev[:, 1:m], np.where(pick_b, l_prev[:, 0 : m - 1], l_prev2[:, 1:m])
                )
                ca = np.where(
                    pick_a,
                    c_prev[:, 1:m] + 1,
                    np.where(pick_b, c_prev[:, 0 : m - 1] + 1, c_prev2[:, 1:m] + 2),
                )
                d[:, 2:] = best + seg[r, :, 1:]
                length[:, 2:] = la + 1
                cover[:, 2:] = ca
            d_prev2, l_prev2, c_prev2 = d_prev, l_prev, c_prev
            d_prev, l_prev, c_prev = d, length, cover
        take_end = d_prev[:, m] > d_prev[:, 0]
        score = np.where(take_end, d_prev[:, m], d_prev[:, 0])
        plen = np.where(take_end, l_prev[:, m], l_prev[:, 0])
        cov = np.where(take_end, c_prev[:, m], c_prev[:, 0])
        score_n = (score - m) / np.maximum(plen - m, 1e-9)
        cover_n = (cov - m) / n
        ok = (score_n > 0) & (cover_n > 0)
        f = np.where(ok, 2 * score_n * cover_n / np.where(ok, score_n + cover_n, 1.0), 0.0)
        fit[m - 1, starts] = f
    return fit


def structure_indicator(
    y: np.ndarray, sr: int, *, feature_rate_hz: float = 2.0, bounds_s: dict | None = None
) -> dict[str, float]:
    """SI per length range (see the module docstring): ``{"si_short", "si_mid", "si_long"}``."""
    bounds = bounds_s or SI_BOUNDS_S
    if feature_rate_hz <= 0:
        raise ParameterError(f"feature_rate_hz={feature_rate_hz}: must be > 0")
    dur = len(y) / sr
    if dur * feature_rate_hz > MAX_FRAMES:  # bound time and memory on long pieces
        feature_rate_hz = MAX_FRAMES / dur
    chroma = chroma_features(y, sr, feature_rate_hz=feature_rate_hz)
    n = chroma.shape[1]
    if n < 4:
        return {k: math.nan for k in bounds}
    lo_all = min(int(math.floor(lo * feature_rate_hz)) for lo, _ in bounds.values())
    fit = fitness_scape(self_similarity(chroma), min_len=max(1, lo_all))
    out = {}
    for name, (lo, hi) in bounds.items():
        a = max(1, int(math.ceil(lo * feature_rate_hz)))
        b = n if hi is None else min(n, int(math.floor(hi * feature_rate_hz)))
        block = fit[a - 1 : b]
        out[name] = float(np.nanmax(block)) if block.size and np.isfinite(block).any() else math.nan
    return out


def evaluate(y: np.ndarray, sr: int) -> dict[str, float]:
    return structure_indicator(y, sr)
