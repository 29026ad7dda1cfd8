"""Rhythm and vision-music correspondence metrics.

Shape after mir_eval: :func:`validate`, one function per metric, :func:`evaluate`.
Times are in seconds unless a name says otherwise.

``beat_f_measure``
    mir_eval's beat F-measure: estimated and reference beats are paired one-to-one
    (maximum bipartite matching) when within ``window_s`` (0.07 s); F = 2PR / (P + R).
``beats_coverage_score``, ``beats_hit_score`` (BCS, BHS)
    Onsets of the reference and generated audio are detected with librosa at 22050 Hz
    (``onset_detect`` with ``wait=1, delta=0.2`` and the variant's averaging windows) and
    marked on a grid of ``bins_per_s`` bins a second (1 in both papers; 5 in later work).
    BHS = bins with an onset in both / reference bins with an onset (both papers). BCS has
    two definitions, chosen with ``formula``: ``"d2mgan"`` (D2M-GAN, CDCD: generated onset
    bins / reference onset bins, which can exceed 1) and ``"loris"`` (LORIS's
    ``beats_scores.py``: bins with an onset in both / generated onset bins, a precision);
    LORIS also reports ``beats_f1`` = 2 BCS BHS / (BCS + BHS) of its own BCS. Onset
    settings per paper (``variant``): ``"d2mgan"`` (``pre_avg=1, post_avg=1, post_max=1``,
    librosa's default ``pre_max=1``) and ``"loris"`` (``pre_avg=3, post_avg=3, pre_max=3,
    post_max=3``). The reference grid is cut to the generated length.
``beat_align_score_motion`` (AIST++/FACT) and ``beat_align_score_music`` (Bailando)
    ``mean_i exp(-min_j |a_i - b_j|^2 / (2 sigma^2))`` with times in frames and sigma = 3
    frames: averaged over motion (visual) beats against music beats in AIST++, over music
    beats against motion beats in Bailando.
``beat_align_score_chance``
    What the AIST++ score gives music whose beats have no relation to the movement: its mean
    over the music beats shifted by offsets spread evenly over one median beat period (a
    circular-shift surrogate). The score grows with the density of the music's beats
    (random-phase music at period p scores sigma sqrt(2 pi) erf(p / (2 sqrt(2) sigma)) / p),
    so a score means little without it; the difference is the alignment the music earns.
``cut_beat_hit_rate`` and ``cut_beat_offsets``
    Fraction of cuts with a music beat within ``tolerance_s``; the signed offset (beat minus
    cut) of the nearest beat for every cut, for a histogram.
``av_align``
    AV-Align (Yariv et al. 2024): audio onsets A and video motion peaks V (local maxima of
    optical-flow energy); ``(#{a in A near V} + #{v in V near A}) / (|A| + |V|)``, where
    "near" is within one video frame.
"""

from __future__ import annotations

import math

import numpy as np

from .._deps import require
from ..errors import ParameterError

__all__ = [
    "validate",
    "beat_f_measure",
    "detect_onsets",
    "onset_grid",
    "beats_coverage_score",
    "beats_hit_score",
    "beats_f1",
    "beat_align_score_motion",
    "beat_align_score_music",
    "beat_align_score_chance",
    "cut_beat_hit_rate",
    "cut_beat_offsets",
    "motion_peaks",
    "av_align",
    "evaluate",
]

BCS_VARIANTS = {
    "d2mgan": {"wait": 1, "delta": 0.2, "pre_avg": 1, "post_avg": 1, "post_max": 1},
    "loris": {"wait": 1, "delta": 0.2, "pre_avg": 3, "post_avg": 3, "pre_max": 3, "post_max": 3},
}
ONSET_SR = 22050


def validate(*times: np.ndarray) -> None:
    """Check times for the metrics: each a 1-d array of finite, non-negative, sorted seconds.

    Parameters
    ----------
    *times : np.ndarray, shape (n,)
        Event times in seconds.

    Raises
    ------
    ParameterError
        Naming the first problem (not 1-d, not finite, negative or unsorted).

    Examples
    --------
    >>> validate(np.array([0.5, 1.0]), np.array([2.0]))
    >>> validate(np.array([1.0, 0.5]))
    Traceback (most recent call last):
    ...
    v2m.errors.ParameterError: argument 0: times must be sorted
    """
    for i, t in enumerate(times):
        t = np.asarray(t, float)
        if t.ndim != 1:
            raise ParameterError(f"argument {i}: times must be 1-d, got shape {t.shape}")
        if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
            raise ParameterError(f"argument {i}: times must be finite and >= 0")
        if t.size > 1 and np.any(np.diff(t) < 0):
            raise ParameterError(f"argument {i}: times must be sorted")


def _match(ref: np.ndarray, est: np.ndarray, window: float) -> int:
    """Size of the maximum one-to-one matching of ref and est within ``window``."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    if ref.size == 0 or est.size == 0:
        return 0
    lo = np.searchsorted(est, ref - window - 1e-12, side="left")
    hi = np.searchsorted(est, ref + window + 1e-12, side="right")
    rows, cols = [], []
    for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
        for j in range(a, b):
            if abs(est[j] - ref[i]) <= window:
                rows.append(i)
                cols.append(j)
    if not rows:
        return 0
    m = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(ref.size, est.size))
    match = maximum_bipartite_matching(m, perm_type="column")
    return int((match >= 0).sum())


def beat_f_measure(reference_beats, estimated_beats, *, window_s: float = 0.07) -> float:
    """Beat F-measure as mir_eval computes it: beats paired one to one within ``window_s``.

    Parameters
    ----------
    reference_beats, estimated_beats : array-like, shape (n,), (m,)
        Beat times in seconds (sorted, >= 0).
    window_s : float
        Largest distance of a pair, seconds (mir_eval's 0.07).

    Returns
    -------
    float
        ``2 P R / (P + R)`` in 0..1 (higher is better); 0 when either list is empty.

    Examples
    --------
    >>> beat_f_measure([0.5, 1.0, 1.5, 2.0], [0.52, 1.0, 1.6, 2.0])
    0.75
    """
    ref = np.asarray(reference_beats, float)
    est = np.asarray(estimated_beats, float)
    validate(ref, est)
    if ref.size == 0 or est.size == 0:
        return 0.0
    n = _match(ref, est, window_s)
    p, r = n / est.size, n / ref.size
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def detect_onsets(y: np.ndarray, sr: int, *, variant: str = "loris") -> np.ndarray:
    """Onset times with a paper's librosa settings (BCS/BHS's onsets).

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (n, channels)
        Audio (mixed to mono; resampled to 22050 Hz when ``sr`` differs).
    sr : int
        Sample rate of ``y``, Hz.
    variant : {"loris", "d2mgan"}
        Whose onset settings (see the module docstring).

    Returns
    -------
    np.ndarray, shape (k,)
        Onset times in seconds.

    Examples
    --------
    >>> sr = 22050
    >>> y = np.zeros(2 * sr, np.float32)
    >>> for t in (0.5, 1.0, 1.5):
    ...     y[int(t * sr) : int(t * sr) + 200] = 0.9
    >>> np.round(detect_onsets(y, sr), 1).tolist()
    [0.5, 1.0, 1.5]
    """
    librosa = require("librosa", purpose="onset detection")
    if variant not in BCS_VARIANTS:
        raise ParameterError(f"variant={variant!r}: one of {', '.join(BCS_VARIANTS)}")
    y = np.asarray(y, np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1) if y.shape[1] <= 2 else y.mean(axis=0)
    if sr != ONSET_SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=ONSET_SR)
    return librosa.onset.onset_detect(y=y, sr=ONSET_SR, units="time", **BCS_VARIANTS[variant])


def onset_grid(onsets_s: np.ndarray, *, duration_s: float, bins_per_s: float = 1.0) -> np.ndarray:
    """Mark onsets on a grid of ``bins_per_s`` bins a second.

    Parameters
    ----------
    onsets_s : np.ndarray, shape (k,)
        Onset times, seconds.
    duration_s : float
        The grid covers 0 .. ``duration_s``.
    bins_per_s : float
        Bins a second.

    Returns
    -------
    np.ndarray of bool, shape (ceil(duration_s * bins_per_s),)
        True in every bin holding at least one onset.

    Examples
    --------
    >>> onset_grid(np.array([0.2, 0.4, 2.5]), duration_s=4.0).tolist()
    [True, False, True, False]
    """
    n = int(math.ceil(duration_s * bins_per_s))
    g = np.zeros(n, bool)
    idx = np.trunc(np.asarray(onsets_s) * bins_per_s).astype(int)
    g[idx[(idx >= 0) & (idx < n)]] = True
    return g


def _grids(ref_onsets, gen_onsets, ref_duration_s, gen_duration_s, bins_per_s):
    gr = onset_grid(ref_onsets, duration_s=ref_duration_s, bins_per_s=bins_per_s)
    gg = onset_grid(gen_onsets, duration_s=gen_duration_s, bins_per_s=bins_per_s)
    gr = gr[: len(gg)]
    if len(gr) < len(gg):
        gr = np.r_[gr, np.zeros(len(gg) - len(gr), bool)]
    return gr, gg


BCS_FORMULAS = ("d2mgan", "loris")


def beats_coverage_score(
    ref_onsets_s,
    gen_onsets_s,
    *,
    ref_duration_s: float,
    gen_duration_s: float,
    bins_per_s: float = 1.0,
    formula: str = "d2mgan",
) -> float:
    """Beats coverage score (BCS) of generated audio against its reference.

    ``formula="d2mgan"`` (D2M-GAN, CDCD): generated onset bins / reference onset bins, which
    can exceed 1; ``formula="loris"`` (LORIS): bins with an onset in both / generated onset
    bins, a precision (see the module docstring).

    Parameters
    ----------
    ref_onsets_s, gen_onsets_s : array-like, shape (n,), (m,)
        Onset times of the reference and the generated audio, seconds (sorted, >= 0;
        :func:`detect_onsets` gives them as the papers did).
    ref_duration_s, gen_duration_s : float
        The two audios' lengths, seconds (the reference grid is cut to the generated one).
    bins_per_s : float
        Grid bins a second (1 in D2M-GAN and LORIS; 5 in later work).
    formula : {"d2mgan", "loris"}

    Returns
    -------
    float
        The score (closer to 1 is better); NaN when the denominator is 0.

    Examples
    --------
    >>> ref, gen = [0.5, 1.5, 2.5, 3.5], [0.5, 2.5]
    >>> beats_coverage_score(ref, gen, ref_duration_s=4.0, gen_duration_s=4.0)
    0.5
    """
    if formula not in BCS_FORMULAS:
        raise ParameterError(f"formula={formula!r}: one of {', '.join(BCS_FORMULAS)}")
    gr, gg = _grids(ref_onsets_s, gen_onsets_s, ref_duration_s, gen_duration_s, bins_per_s)
    if formula == "loris":
        return float((gr & gg).sum() / gg.sum()) if gg.sum() else math.nan
    return float(gg.sum() / gr.sum()) if gr.sum() else math.nan


def beats_hit_score(
    ref_onsets_s,
    gen_onsets_s,
    *,
    ref_duration_s: float,
    gen_duration_s: float,
    bins_per_s: float = 1.0,
) -> float:
    """Beats hit score (BHS): reference onset bins that the generated audio also hits.

    Parameters
    ----------
    ref_onsets_s, gen_onsets_s : array-like, shape (n,), (m,)
        Onset times of the reference and the generated audio, seconds (sorted, >= 0;
        :func:`detect_onsets` gives them as the papers did).
    ref_duration_s, gen_duration_s : float
        The two audios' lengths, seconds (the reference grid is cut to the generated one).
    bins_per_s : float
        Grid bins a second (1 in D2M-GAN and LORIS; 5 in later work).

    Returns
    -------
    float
        Bins with an onset in both / reference onset bins, 0..1 (higher is better); NaN
        when the reference has no onset.

    Examples
    --------
    >>> ref, gen = [0.5, 1.5, 2.5, 3.5], [0.5, 2.5, 3.2]
    >>> beats_hit_score(ref, gen, ref_duration_s=4.0, gen_duration_s=4.0)
    0.75
    """
    gr, gg = _grids(ref_onsets_s, gen_onsets_s, ref_duration_s, gen_duration_s, bins_per_s)
    return float((gr & gg).sum() / gr.sum()) if gr.sum() else math.nan


def beats_f1(
    ref_onsets_s,
    gen_onsets_s,
    *,
    ref_duration_s: float,
    gen_duration_s: float,
    bins_per_s: float = 1.0,
) -> float:
    """LORIS's F1 of its BCS (``formula="loris"``) and BHS.

    Parameters
    ----------
    ref_onsets_s, gen_onsets_s : array-like, shape (n,), (m,)
        Onset times of the reference and the generated audio, seconds (sorted, >= 0;
        :func:`detect_onsets` gives them as the papers did).
    ref_duration_s, gen_duration_s : float
        The two audios' lengths, seconds (the reference grid is cut to the generated one).
    bins_per_s : float
        Grid bins a second (1 in D2M-GAN and LORIS; 5 in later work).

    Returns
    -------
    float
        ``2 BCS BHS / (BCS + BHS)``, 0..1 (higher is better); 0 when both are 0, NaN when
        either is.

    Examples
    --------
    >>> ref, gen = [0.5, 1.5, 2.5, 3.5], [0.5, 2.5, 3.2]
    >>> round(beats_f1(ref, gen, ref_duration_s=4.0, gen_duration_s=4.0), 4)
    0.8571
    """
    kw = {"ref_duration_s": ref_duration_s, "gen_duration_s": gen_duration_s}
    kw["bins_per_s"] = bins_per_s
    c = beats_coverage_score(ref_onsets_s, gen_onsets_s, formula="loris", **kw)
    h = beats_hit_score(ref_onsets_s, gen_onsets_s, **kw)
    if math.isnan(c) or math.isnan(h):
        return math.nan
    return 0.0 if c + h == 0 else 2 * c * h / (c + h)


def _align(a: np.ndarray, b: np.ndarray, sigma: float) -> float:
    if a.size == 0 or b.size == 0:
        return math.nan
    idx = np.clip(np.searchsorted(b, a), 1, max(1, b.size - 1))
    d = np.minimum(np.abs(a - b[idx - 1]), np.abs(a - b[np.minimum(idx, b.size - 1)]))
    return float(np.mean(np.exp(-(d**2) / (2 * sigma**2))))


def beat_align_score_motion(
    motion_beats_s, music_beats_s, *, fps: float = 60.0, sigma_frames: float = 3.0
) -> float:
    """AIST++ / FACT beat align score: over the motion beats, against the music beats.

    Parameters
    ----------
    motion_beats_s, music_beats_s : array-like, shape (n,), (m,)
        Kinematic (or visual) beats and music beats, seconds.
    fps : float
        Frames a second: the distances are counted in frames (AIST++: 60).
    sigma_frames : float
        Width of the Gaussian, frames (3).

    Returns
    -------
    float
        ``mean_i exp(-min_j d_ij^2 / (2 sigma^2))`` in 0..1 (higher is better; compare with
        :func:`beat_align_score_chance`); NaN when either list is empty.

    Examples
    --------
    >>> round(beat_align_score_motion([1.0, 2.0, 3.0], [1.0, 2.05, 3.5]), 4)
    0.5355
    """
    a, b = np.asarray(motion_beats_s, float), np.asarray(music_beats_s, float)
    validate(a, b)
    return _align(a * fps, b * fps, sigma_frames)


def beat_align_score_music(
    music_beats_s, motion_beats_s, *, fps: float = 60.0, sigma_frames: float = 3.0
) -> float:
    """Bailando beat align score: over the music beats, against the motion beats.

    Parameters
    ----------
    music_beats_s, motion_beats_s : array-like, shape (n,), (m,)
        Music beats and kinematic (or visual) beats, seconds.
    fps, sigma_frames : float
        As :func:`beat_align_score_motion`.

    Returns
    -------
    float
        The mean over the music beats, 0..1 (higher is better); NaN when either is empty.

    Examples
    --------
    >>> round(beat_align_score_music([1.0, 2.05, 3.5], [1.0, 2.0, 3.0]), 4)
    0.5355
    """
    a, b = np.asarray(music_beats_s, float), np.asarray(motion_beats_s, float)
    validate(a, b)
    return _align(a * fps, b * fps, sigma_frames)


def beat_align_score_chance(
    motion_beats_s,
    music_beats_s,
    *,
    fps: float = 60.0,
    sigma_frames: float = 3.0,
    n_shifts: int = 64,
) -> float:
    """The AIST++ beat align score of the same music beats at unrelated phases.

    Parameters
    ----------
    motion_beats_s, music_beats_s : array-like, shape (n,), (m,)
        Beat times in seconds (m >= 2 for a period).
    fps, sigma_frames : float
        As :func:`beat_align_score_motion`.
    n_shifts : int
        Offsets ``k / n_shifts`` of the music's median inter-beat interval, k = 0 .. n - 1.

    Returns
    -------
    float
        The mean of :func:`beat_align_score_motion` over the shifted music beats (NaN with
        fewer than two music beats or no motion beats).

    Examples
    --------
    >>> motion, music = [1.0, 2.0, 3.0], [1.0, 2.05, 3.5]
    >>> round(beat_align_score_motion(motion, music), 3)
    0.536
    >>> round(beat_align_score_chance(motion, music), 3)  # what unrelated phases score
    0.107
    """
    a, b = np.asarray(motion_beats_s, float), np.asarray(music_beats_s, float)
    validate(a, b)
    if n_shifts < 1:
        raise ParameterError(f"n_shifts={n_shifts!r}: must be >= 1")
    if a.size == 0 or b.size < 2:
        return math.nan
    period = float(np.median(np.diff(b)))
    # music beats extended by a period at each end, so a shift never leaves a gap
    ext = np.r_[b[0] - period, b, b[-1] + period]
    scores = [
        _align(a * fps, (ext + period * k / n_shifts) * fps, sigma_frames) for k in range(n_shifts)
    ]
    return float(np.mean(scores))


def cut_beat_offsets(cuts_s, beats_s) -> np.ndarray:
    """Signed offset of the nearest beat from every cut (for a histogram).

    Parameters
    ----------
    cuts_s, beats_s : array-like, shape (n,), (m,)
        Cut times and beat times, seconds.

    Returns
    -------
    np.ndarray, shape (n,)
        Nearest beat minus cut, seconds (NaN for every cut when there are no beats).

    Examples
    --------
    >>> np.round(cut_beat_offsets([1.0, 2.52], np.arange(0, 4, 0.5)), 3).tolist()
    [0.0, -0.02]
    """
    c, b = np.asarray(cuts_s, float), np.asarray(beats_s, float)
    validate(c, b)
    if c.size == 0 or b.size == 0:
        return np.full(c.size, np.nan)
    idx = np.clip(np.searchsorted(b, c), 0, b.size - 1)
    prev = np.clip(idx - 1, 0, b.size - 1)
    near = np.where(np.abs(b[prev] - c) < np.abs(b[idx] - c), b[prev], b[idx])
    return near - c


def cut_beat_hit_rate(cuts_s, beats_s, *, tolerance_s: float = 0.07) -> float:
    """Share of cuts with a beat within ``tolerance_s``.

    Parameters
    ----------
    cuts_s, beats_s : array-like, shape (n,), (m,)
        Cut times and beat times, seconds.
    tolerance_s : float
        Largest distance that counts as on the beat (35 ms: heard as together).

    Returns
    -------
    float
        0..1 (higher is better); NaN without cuts.

    Examples
    --------
    >>> round(cut_beat_hit_rate([1.0, 2.52, 3.3], np.arange(0, 4, 0.5)), 4)
    0.6667
    """
    off = cut_beat_offsets(cuts_s, beats_s)
    return float(np.mean(np.abs(off) <= tolerance_s)) if off.size else math.nan


def motion_peaks(energy: np.ndarray, *, hop_s: float, min_prominence: float = 0.1) -> np.ndarray:
    """AV-Align's video peaks: local maxima of an optical-flow energy curve.

    Parameters
    ----------
    energy : np.ndarray, shape (n,)
        Motion energy per step (any unit; normalised by its maximum).
    hop_s : float
        Step of ``energy``, seconds.
    min_prominence : float
        Smallest prominence of a peak, as a share of the maximum.

    Returns
    -------
    np.ndarray, shape (k,)
        Peak times, seconds.

    Examples
    --------
    >>> e = np.zeros(100)
    >>> e[[20, 50, 80]] = 1.0
    >>> motion_peaks(e, hop_s=0.04).tolist()
    [0.8, 2.0, 3.2]
    """
    from scipy.signal import find_peaks

    e = np.asarray(energy, float)
    if e.size < 3 or e.max() <= 0:
        return np.zeros(0)
    peaks, _ = find_peaks(e / e.max(), prominence=min_prominence)
    return peaks * hop_s


def av_align(audio_onsets_s, video_peaks_s, *, fps: float) -> float:
    """AV-Align (Yariv et al. 2024): audio onsets and video peaks that find a partner.

    Parameters
    ----------
    audio_onsets_s, video_peaks_s : array-like, shape (n,), (m,)
        Audio onsets and video motion peaks (:func:`motion_peaks`), seconds.
    fps : float
        The video's frame rate: a partner is within one frame.

    Returns
    -------
    float
        ``(#{a near V} + #{v near A}) / (|A| + |V|)``, 0..1 (higher is better); NaN when
        both are empty.

    Examples
    --------
    >>> round(av_align([0.8, 2.0, 3.2], [0.8, 2.0, 3.0], fps=25.0), 4)
    0.6667
    """
    a, v = np.asarray(audio_onsets_s, float), np.asarray(video_peaks_s, float)
    validate(a, v)
    if a.size + v.size == 0:
        return math.nan
    tol = 1.0 / fps + 1e-9

    def near(x, y):
        if x.size == 0 or y.size == 0:
            return 0
        return int((np.abs(cut_beat_offsets(x, y)) <= tol).sum())

    return (near(a, v) + near(v, a)) / (a.size + v.size)


def evaluate(
    *,
    reference_beats=None,
    estimated_beats=None,
    cuts=None,
    music_beats=None,
    motion_beats=None,
    fps: float = 60.0,
) -> dict:
    """Every rhythm metric whose inputs are given, keyed by stable names.

    Parameters
    ----------
    reference_beats, estimated_beats : array-like, optional
        For ``beat_f_measure``.
    cuts, music_beats : array-like, optional
        For ``cut_beat_hit_rate_35ms`` and ``cut_beat_hit_rate_70ms``.
    motion_beats, music_beats : array-like, optional
        For ``beat_align_score_motion``, ``beat_align_score_music`` and
        ``beat_align_score_chance``.
    fps : float
        Frames a second for the beat align scores.

    Returns
    -------
    dict
        Metric name -> value (seconds in, unitless scores out).

    Examples
    --------
    >>> evaluate(cuts=[1.0, 2.52], music_beats=np.arange(0, 4, 0.5))
    {'cut_beat_hit_rate_35ms': 1.0, 'cut_beat_hit_rate_70ms': 1.0}
    """
    out: dict[str, float] = {}
    if reference_beats is not None and estimated_beats is not None:
        out["beat_f_measure"] = beat_f_measure(reference_beats, estimated_beats)
    if cuts is not None and music_beats is not None:
        out["cut_beat_hit_rate_35ms"] = cut_beat_hit_rate(cuts, music_beats, tolerance_s=0.035)
        out["cut_beat_hit_rate_70ms"] = cut_beat_hit_rate(cuts, music_beats, tolerance_s=0.07)
    if motion_beats is not None and music_beats is not None:
        out["beat_align_score_motion"] = beat_align_score_motion(motion_beats, music_beats, fps=fps)
        out["beat_align_score_music"] = beat_align_score_music(music_beats, motion_beats, fps=fps)
        out["beat_align_score_chance"] = beat_align_score_chance(motion_beats, music_beats, fps=fps)
    return out
