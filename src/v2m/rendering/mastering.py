"""Mastering in blocks: loudness to a target, true peak under a ceiling, any length.

The audio is never held whole. Three passes over chunks:

1. **analysis** (while the synthesiser delivers the chunks): the K-weighted energy of every
   1 ms block (ITU-R BS.1770-4 K-weighting, filter state carried across chunks) and the
   sample peak of every block;
2. **true peak** of the blocks that could reach the ceiling: 4x-oversampled (BS.1770-4
   Annex 2 interpolation, 48 taps) with a few samples of context read back from the raw
   store; the limiter gain per block (one block of look-ahead, 80 ms release) and the
   make-up gain follow from the block figures alone;
   Before strong hits the composer leaves a breath (the band stops a sixteenth early);
   the gain curve dips there by up to ``BREATH_DIP_DB`` so the ringing tails and reverb
   fall silent too and the hit starts from near silence -- never below
   ``BREATH_FLOOR_DBFS`` (a quiet passage keeps its breath as it is) and back to unity
   ``BREATH_RISE_MS`` before the hit.
3. **apply**: the gain curve is applied while writing, and the result is measured: its
   integrated loudness from its own K-weighted energies, its true peak from the raw
   block true peaks times the gain (within a block the gain lies between the values at
   its ends). If the loudness misses the target by more than 0.05 LU, the trim is
   applied and pass 3 runs again.

The integrated loudness (400 ms blocks, 75 % overlap, absolute gate -70 LUFS, relative
gate -10 LU) is computed from 100 ms segment energies; the tests hold it to pyloudnorm.
"""

from __future__ import annotations

import functools
import math
import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

__all__ = [
    "TARGET_LUFS",
    "TRUE_PEAK_DBTP",
    "db_to_gain",
    "gain_to_db",
    "true_peak_dbtp",
    "integrated_loudness",
    "gated_loudness",
    "KMeter",
    "Mastering",
    "Equalizer",
    "biquad",
]

TARGET_LUFS = -14.0
TRUE_PEAK_DBTP = -1.0
#: Deepest dip of a breath before a hit (dB); the level it never takes the breath below
#: (RMS of the mid signal over the breath's second half, in the master's output); its
#: ramps (ms): down over the breath's first ``BREATH_FALL_MS``, back up over
#: ``BREATH_RISE_MS`` ending one block before the hit.
BREATH_DIP_DB = 12.0
BREATH_FLOOR_DBFS = -40.0
BREATH_FALL_MS = 10
BREATH_RISE_MS = 3
_PAD = 12  # context samples each side of a block for the interpolation filter


def db_to_gain(db: float) -> float:
    """Linear amplitude gain of ``db`` decibels."""
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    """Decibels of a linear amplitude ``gain`` (floored at -240 dB)."""
    return float(20.0 * np.log10(max(gain, 1e-12)))


def _interpolator() -> np.ndarray:
    """4x interpolation FIR: 48 taps (12 per phase), as BS.1770-4 Annex 2 prescribes in size;
    a Kaiser-windowed sinc with its cut-off at the original Nyquist frequency."""
    from scipy.signal import firwin

    return firwin(48, 0.25, window=("kaiser", 6.0)) * 4.0


@functools.cache
def _taps() -> tuple[np.ndarray, float]:
    """The interpolation filter and its largest phase gain (sum of |taps| per phase)."""
    h = _interpolator()
    return h, max(float(np.abs(h[p::4]).sum()) for p in range(4))


def _k_weighting_sos(sr: int) -> np.ndarray:
    """BS.1770-4 K-weighting (high shelf + RLB high-pass) as second-order sections for
    any sample rate, with the analogue prototypes used by libebur128 and pyloudnorm."""
    g_db, q_s, f_s = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    k = np.tan(np.pi * f_s / sr)
    vh = 10 ** (g_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q_s + k * k
    shelf = [
        (vh + vb * k / q_s + k * k) / a0,
        2 * (k * k - vh) / a0,
        (vh - vb * k / q_s + k * k) / a0,
        1.0,
        2 * (k * k - 1) / a0,
        (1 - k / q_s + k * k) / a0,
    ]
    q_h, f_h = 0.5003270373238773, 38.13547087602444
    k = np.tan(np.pi * f_h / sr)
    a0 = 1 + k / q_h + k * k
    hp = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q_h + k * k) / a0]
    return np.array([shelf, hp])


def biquad(kind: str, freq_hz: float, gain_db: float, q: float, sr: int) -> np.ndarray:
    """One second-order section (RBJ Audio EQ Cookbook): ``kind`` is ``lowshelf``,
    ``highshelf``, ``peak`` or ``highpass``; shape (6,) as scipy's sos rows."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * freq_hz / sr
    cw, sw = np.cos(w0), np.sin(w0)
    alpha = sw / (2 * q)
    if kind == "peak":
        b = [1 + alpha * a, -2 * cw, 1 - alpha * a]
        den = [1 + alpha / a, -2 * cw, 1 - alpha / a]
    elif kind in ("lowshelf", "highshelf"):
        sq = 2 * np.sqrt(a) * alpha
        sgn = 1 if kind == "lowshelf" else -1
        b = [
            a * ((a + 1) - sgn * (a - 1) * cw + sq),
            sgn * 2 * a * ((a - 1) - sgn * (a + 1) * cw),
            a * ((a + 1) - sgn * (a - 1) * cw - sq),
        ]
        den = [
            (a + 1) + sgn * (a - 1) * cw + sq,
            -sgn * 2 * ((a - 1) + sgn * (a + 1) * cw),
            (a + 1) + sgn * (a - 1) * cw - sq,
        ]
    elif kind == "highpass":
        b = [(1 + cw) / 2, -(1 + cw), (1 + cw) / 2]
        den = [1 + alpha, -2 * cw, 1 - alpha]
    else:
        raise ValueError(f"biquad kind {kind!r}")
    return np.array([*(np.array(b) / den[0]), 1.0, den[1] / den[0], den[2] / den[0]])


class Equalizer:
    """A chain of biquads applied chunk by chunk (state carried), to (frames, 2) audio."""

    def __init__(self, bands: tuple[tuple[str, float, float, float], ...], sr: int):
        from scipy.signal import sosfilt

        self._sosfilt = sosfilt
        self.sos = np.array([biquad(k, f, g, q, sr) for k, f, g, q in bands], np.float64)
        self.zi = np.zeros((len(bands), 2, 2)) if len(bands) else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.zi is None or not x.shape[0]:
            return x
        y, self.zi = self._sosfilt(self.sos, x, axis=0, zi=self.zi)
        return y.astype(np.float32)


class KMeter:
    """Streaming K-weighted mean square per block of ``block`` frames, summed over the
    channels (BS.1770 weights 1.0 for left and right).

    Feed (frames, channels) chunks whose length is a multiple of ``block`` (the last may
    be shorter: its incomplete block is not counted).
    """

    def __init__(self, sr: int, block: int, channels: int = 2):
        from scipy.signal import sosfilt

        self._sosfilt = sosfilt
        self.sos = _k_weighting_sos(sr).astype(np.float32)
        self.block = block
        self.zi = np.zeros((self.sos.shape[0], 2, channels), np.float32)
        self._parts: list[np.ndarray] = []

    def feed(self, x: np.ndarray) -> np.ndarray:
        """Energies of the complete blocks of ``x``; shape (len(x) // block,)."""
        k = x.shape[0] // self.block * self.block
        if not k:
            return np.zeros(0)
        z, self.zi = self._sosfilt(self.sos, np.asarray(x[:k], np.float32), axis=0, zi=self.zi)
        zz = z.reshape(k // self.block, self.block * x.shape[1])
        tot = np.einsum("ij,ij->i", zz, zz, dtype=np.float64) / self.block
        self._parts.append(tot)
        return tot

    def energies(self) -> np.ndarray:
        """Every complete block's energy so far."""
        return _join_once(self._parts)


def _join_once(parts: list[np.ndarray]) -> np.ndarray:
    """The chunks' ``parts`` joined, and kept as one part in the list (the parts are not
    held beside the whole, and a second call does not copy again)."""
    if len(parts) > 1:
        parts[:] = [np.concatenate(parts)]
    return parts[0] if parts else np.zeros(0)


def gated_loudness(seg_energy: np.ndarray) -> float:
    """Integrated loudness (LUFS) from 100 ms segment energies: 400 ms blocks with 75 %
    overlap, absolute gate -70 LUFS, relative gate -10 LU (BS.1770-4)."""
    if seg_energy.size < 4:
        return float("-inf")
    blocks = np.convolve(seg_energy, np.ones(4) / 4, mode="valid")
    lk = -0.691 + 10 * np.log10(np.maximum(blocks, 1e-20))
    sel = blocks[lk > -70.0]
    if sel.size == 0:
        return float("-inf")
    rel = -0.691 + 10 * np.log10(sel.mean()) - 10.0
    sel = blocks[(lk > -70.0) & (lk > rel)]
    return float(-0.691 + 10 * np.log10(sel.mean())) if sel.size else float("-inf")


def integrated_loudness(x: np.ndarray, sr: int) -> float:
    """Integrated loudness of (frames, channels) audio in LUFS (BS.1770-4)."""
    meter = KMeter(sr, max(1, sr // 10), channels=x.shape[1])
    for a in range(0, x.shape[0], meter.block * 50):
        meter.feed(x[a : a + meter.block * 50])
    return gated_loudness(meter.energies())


def _sample_peaks(x: np.ndarray, block: int) -> np.ndarray:
    """max |x| over the channels per block; shape (ceil(len / block),)."""
    a = np.abs(x[:, 0])
    for c in range(1, x.shape[1]):  # elementwise max: far faster than max(axis=1)
        np.maximum(a, np.abs(x[:, c]), out=a)
    nb = -(-a.shape[0] // block)
    if nb * block != a.shape[0]:
        a = np.pad(a, (0, nb * block - a.shape[0]))
    return a.reshape(nb, block).max(axis=1)


def _true_peaks(xc: np.ndarray, lead: int, block: int, rel: np.ndarray) -> np.ndarray:
    """4x-oversampled peak of blocks ``rel`` (indices counted from ``lead``) of ``xc``,
    which holds at least ``_PAD`` frames of context on each side of them."""
    from scipy.signal import upfirdn

    h, _ = _taps()
    delay = (len(h) - 1) // 2
    offs = np.arange(-_PAD, block + _PAD)
    out = np.empty(len(rel))
    per = max(1, 65536 // block)  # blocks per batch: a few MB of working memory
    for c0 in range(0, len(rel), per):
        cc = rel[c0 : c0 + per]
        seg = xc[lead + cc[:, None] * block + offs[None, :]]  # (k, block + 2 pad, channels)
        up = upfirdn(h, seg, up=4, axis=1)
        core = up[:, 4 * _PAD + delay : 4 * _PAD + delay + 4 * block]
        out[c0 : c0 + per] = np.abs(core).max(axis=(1, 2))
    return out


def _candidates(sp: np.ndarray, floor: float) -> np.ndarray:
    """Blocks whose true peak could exceed ``floor``: a block's true peak is at most the
    sample peak of it and its neighbours times the filter's largest phase gain."""
    _, bound = _taps()
    nb_max = np.maximum(sp, np.maximum(np.r_[sp[1:], 0.0], np.r_[0.0, sp[:-1]]))
    return np.flatnonzero(nb_max * bound > floor)


def true_peak_dbtp(x: np.ndarray, sr: int) -> float:
    """True peak in dBTP: the peak of the signal upsampled 4x (ITU-R BS.1770-4 Annex 2)."""
    if x.size == 0:
        return float("-inf")
    xs = x if x.ndim == 2 else x[:, None]
    block = max(1, sr // 1000)
    sp = _sample_peaks(xs, block)
    cand = _candidates(sp, float(sp.max()))
    tp = sp.copy()
    if cand.size:
        xc = _with_context(0, xs.shape[0], xs.shape[0], lambda a, b: xs[a:b])
        tp[cand] = np.maximum(sp[cand], _true_peaks(xc, _PAD, block, cand))
    return gain_to_db(float(tp.max()))


def _release(need: np.ndarray, *, release_blocks: float) -> np.ndarray:
    """Look-ahead (one block each side) minimum, then a one-pole release."""
    padded = np.pad(need, 1, mode="edge")
    g = np.minimum(np.minimum(padded[:-2], padded[1:-1]), padded[2:])
    out = g.copy()
    idx = np.flatnonzero(g < 1.0)
    if idx.size == 0:
        return out
    rel = float(np.exp(-1.0 / release_blocks))
    i, cur = int(idx[0]), 1.0
    while i < len(g):  # visits only the stretches after a reduction
        cur = g[i] if g[i] < cur else g[i] + (cur - g[i]) * rel
        out[i] = cur
        if cur > 0.9999 and g[i] >= 1.0:
            nxt = idx[np.searchsorted(idx, i + 1) :]
            if nxt.size == 0:
                break
            i, cur = int(nxt[0]), 1.0
            continue
        i += 1
    return out


def _with_context(a: int, b: int, n: int, read: Callable[[int, int], np.ndarray]) -> np.ndarray:
    """Frames ``a - _PAD .. b + _PAD`` (edges replicated beyond 0 and ``n``)."""
    lo, hi = max(0, a - _PAD), min(n, b + _PAD)
    x = read(lo, hi)
    before, after = _PAD - (a - lo), _PAD - (hi - b)
    if before or after:
        x = np.pad(x, ((before, after), (0, 0)), mode="edge")
    return x


def fade_curve(k: int, ending: str) -> np.ndarray:
    """Closing fade over the last ``k`` frames, shape (k, 1): cosine for a fade
    ending, squared cosine for a cadence or stop (the tail reaches < -40 dB)."""
    fade = (0.5 * (1 + np.cos(np.linspace(0, np.pi, k)))).astype(np.float32)[:, None]
    if ending != "fade":
        fade *= fade
    return fade


def fade_s(ending: str, duration_s: float) -> float:
    """Length of the closing fade: the release and reverb tail of a cadence (0.6 s), a
    deliberate stop alike, or a long fade-out (min(6 s, 15 %))."""
    if ending == "fade":
        return min(6.0, 0.15 * duration_s)
    return min(0.6, 0.2 * duration_s)


@dataclass
class _Plan:
    g0: float
    g_blocks: np.ndarray  # limiter gain per 1 ms block (before g0)
    tp_raw: np.ndarray  # true peak (or its bound) per block of the raw mix


class Mastering:
    """Block-wise mastering of one mix (and, alike, of its stems).

    Use: :meth:`feed` every raw mix chunk in order (pass 1), :meth:`plan` with a reader of
    the raw mix (pass 2), then :meth:`apply` with the chunks again (pass 3).
    """

    def __init__(
        self,
        sr: int,
        n_frames: int,
        *,
        target_lufs: float = TARGET_LUFS,
        ceiling_dbtp: float = TRUE_PEAK_DBTP,
        breaths_s: Iterable[tuple[float, float]] = (),
        breath_guard_s: float = 0.0,
        loudness_exclude_s: Iterable[tuple[float, float]] = (),
        release_ms: float = 80.0,
    ):
        self.sr = sr
        #: the limiter's release (a block is about 1 ms)
        self.release_ms = float(release_ms)
        #: spans (s) left out of the loudness the target is for: under dialogue the
        #: composer thins the music, and the target is for the music away from speech
        self.exclude_s = [(float(a), float(b)) for a, b in loudness_exclude_s if b > a]
        self.breaths_s = [(float(a), float(b)) for a, b in breaths_s if b > a]
        # the end of each breath left out of its level: notes that start early (attack
        # compensation, v2m.rendering.attack) already sound there
        self.breath_guard_s = max(0.0, float(breath_guard_s))
        self.n = n_frames
        self.block = max(1, sr // 1000)  # 1 ms
        self.chunk = self.block * 1000
        self.target = target_lufs
        self.ceiling_dbtp = ceiling_dbtp
        self.ceiling = db_to_gain(ceiling_dbtp - 0.1)
        self._meter = KMeter(sr, self.block)
        self._sp: list[np.ndarray] = []
        self._plan: _Plan | None = None
        self.loudness_lufs = float("-inf")
        self.true_peak_dbtp = float("-inf")

    # ------------------------------------------------------------------ pass 1
    def feed(self, mix: np.ndarray) -> None:
        """Analyse the next raw mix chunk (frames, 2)."""
        self._meter.feed(mix)
        self._sp.append(_sample_peaks(mix, self.block))

    # ------------------------------------------------------------------ pass 2
    def plan(self, read: Callable[[int, int], np.ndarray]) -> None:
        """Decide the gain curve; ``read(a, b)`` returns raw mix frames a..b."""
        e_blocks = self._meter.energies()
        sp = _join_once(self._sp)
        n_seg = len(e_blocks) // 100
        energy = e_blocks[: n_seg * 100].reshape(n_seg, 100).mean(axis=1)
        keep = self._measured(n_seg)
        lufs0 = gated_loudness(energy[keep])
        if not np.isfinite(lufs0):  # silence: nothing to normalise
            self._plan = _Plan(1.0, np.ones(len(sp)), sp)
            return
        g0 = db_to_gain(self.target - lufs0)
        breaths = self._breaths(read, len(sp))
        # True peak per block of the raw mix: the sample peak, made exact (4x oversampled)
        # wherever the make-up gain could bring the block within 0.5 dB of the ceiling.
        tp = sp.copy()
        done = np.zeros(len(sp), bool)
        self._exact_peaks(read, sp, tp, done, self.ceiling / (g0 * db_to_gain(1.5)))
        g_blocks = np.ones(len(tp))
        for _ in range(6):
            # exact wherever the make-up gain so far could bring a block near the ceiling
            self._exact_peaks(read, sp, tp, done, self.ceiling / (g0 * db_to_gain(0.5)))
            need = np.minimum(1.0, self.ceiling / np.maximum(g0 * tp, 1e-12))
            lim = _release(need, release_blocks=self.release_ms)
            g_blocks = lim * self._breath_dips(breaths, lim, g0)
            if len(g_blocks) >= n_seg * 100:
                gb = g_blocks[: n_seg * 100]  # a view: no copy per iteration
            else:
                gb = np.ones(n_seg * 100)
                gb[: len(g_blocks)] = g_blocks
            seg_e = (e_blocks[: n_seg * 100] * gb * gb).reshape(n_seg, 100).mean(axis=1)
            err = self.target - gated_loudness(seg_e[keep] * g0 * g0)
            if abs(err) <= 0.02 or err > 3.0:
                break
            g0 *= db_to_gain(err)
        n_done = int(done.sum())
        self._exact_peaks(read, sp, tp, done, self.ceiling / (g0 * db_to_gain(0.5)))
        if int(done.sum()) != n_done:
            need = np.minimum(1.0, self.ceiling / np.maximum(g0 * tp, 1e-12))
            lim = _release(need, release_blocks=self.release_ms)
            g_blocks = lim * self._breath_dips(breaths, lim, g0)
        self._plan = _Plan(g0, g_blocks, tp)

    @property
    def make_up_gain_db(self) -> float:
        """The make-up gain of the planned (and applied) master, in dB."""
        return gain_to_db(self._plan.g0) if self._plan is not None else 0.0

    def _measured(self, n_seg: int) -> np.ndarray:
        """Which 100 ms segments count for the loudness (none of ``exclude_s``), as a
        boolean mask; all of them when the spans would leave under 3 s."""
        keep = np.ones(n_seg, bool)
        seg_s = 100 * self.block / self.sr
        for a, b in self.exclude_s:
            keep[max(0, int(a / seg_s)) : max(0, int(math.ceil(b / seg_s)))] = False
        return keep if keep.sum() * seg_s >= 3.0 else np.ones(n_seg, bool)

    def _breath_ramps(self) -> tuple[int, int]:
        """The breath's fall and rise in blocks (a block is about 1 ms)."""
        ms = self.sr / 1000 / self.block
        return round(BREATH_FALL_MS * ms), max(1, round(BREATH_RISE_MS * ms))

    def _breaths(self, read: Callable[[int, int], np.ndarray], nb: int) -> list:
        """The breaths as (first block, last block, raw RMS of the mid signal over the
        breath's second half, where the tails have decayed most, without its last
        ``breath_guard_s``); blocks ``nb`` in all."""
        out = []
        shortest = sum(self._breath_ramps())
        guard = int(round(self.breath_guard_s * self.sr)) // self.block
        for a_s, b_s in self.breaths_s:
            ia, ih = int(a_s * self.sr) // self.block, int(b_s * self.sr) // self.block
            ib = ih - 1  # unity again one block before the hit
            if ia < 0 or ib - ia < shortest or ih > nb:
                continue
            half = (ia + ib) // 2
            mid = read(half * self.block, max(half + 1, ib - guard) * self.block).mean(axis=1)
            rms = float(np.sqrt(np.mean(np.square(mid, dtype=np.float64)))) if mid.size else 0.0
            out.append((ia, ib, rms))
        return out

    def _breath_dips(self, breaths: list, lim: np.ndarray, g0: float) -> np.ndarray:
        """Gain per block (shape like ``lim``) that takes each breath (see :meth:`_breaths`)
        down by up to ``BREATH_DIP_DB``, its second half no lower than ``BREATH_FLOOR_DBFS``
        after the make-up gain ``g0`` and the limiter's gain ``lim``."""
        d = np.ones(len(lim))
        fall, rise = self._breath_ramps()
        for ia, ib, rms in breaths:
            level = gain_to_db(rms * g0 * float(np.mean(lim[ia:ib])))
            depth = min(BREATH_DIP_DB, level - BREATH_FLOOR_DBFS)
            if depth <= 0.0:
                continue
            low = db_to_gain(-depth)
            curve = np.full(ib - ia + 1, low)
            curve[: fall + 1] = np.linspace(1.0, low, fall + 1)
            curve[-rise - 1 :] = np.linspace(low, 1.0, rise + 1)
            d[ia : ib + 1] = np.minimum(d[ia : ib + 1], curve)
        return d

    def _exact_peaks(self, read, sp, tp, done, floor: float) -> None:
        """Fill ``tp`` with the 4x-oversampled peak of every block that could exceed
        ``floor`` and is not done yet."""
        cand = _candidates(sp, floor)
        cand = cand[~done[cand]]
        if cand.size == 0:
            return
        per_chunk = self.chunk // self.block
        bounds = np.searchsorted(cand, np.arange(0, len(sp) + per_chunk, per_chunk))
        # the oversampling (scipy releases the GIL) runs on every core; the reads stay
        # in this thread, in order
        jobs: deque = deque()

        def settle() -> None:
            sel_j, job = jobs.popleft()
            tp[sel_j] = np.maximum(sp[sel_j], job.result())

        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            for c0 in np.unique(cand // per_chunk):
                sel = cand[bounds[c0] : bounds[c0 + 1]]
                a = int(c0) * self.chunk
                xc = _with_context(a, min(self.n, a + self.chunk), self.n, read)
                rel = sel - c0 * per_chunk
                jobs.append((sel, pool.submit(_true_peaks, xc, _PAD, self.block, rel)))
                if len(jobs) > 8:  # a few chunks in flight: memory stays bounded
                    settle()
            while jobs:
                settle()
        done[cand] = True

    def gain(self, a: int, b: int) -> np.ndarray:
        """The gain for frames a..b, shape (b - a, 1), float32: linear between the block
        values (block i's value at its first frame)."""
        p = self._plan
        nb = len(p.g_blocks)
        lo = min(max(0, a // self.block), max(0, nb - 1))
        hi = min(nb, b // self.block + 2)
        pos = np.arange(a, b) / self.block
        g = np.interp(pos, np.arange(lo, hi), p.g_blocks[lo:hi]) * p.g0
        return g.astype(np.float32)[:, None]

    # ------------------------------------------------------------------ pass 3
    def apply(
        self,
        chunks: Callable[[], Iterable[tuple[np.ndarray, dict[str, np.ndarray]]]],
        read: Callable[[int, int], np.ndarray],
        write: Callable[[int, np.ndarray, dict[str, np.ndarray]], None],
        restart: Callable[[], None],
    ) -> None:
        """Apply the gain to every chunk and hand it to ``write(start, mix, stems)``.

        ``chunks()`` yields (raw mix, raw stems) chunks in order, again from the start
        each time it is called; ``restart()`` is called before a second run (when the
        measured result needs a trim).
        """
        for attempt in range(3):
            lufs, tp = self._apply_once(chunks, read, write)
            trim = 0.0
            if np.isfinite(lufs):
                # up only within the true-peak headroom, and by at most 0.4 dB (the blocks
                # whose true peak is only bounded lie >= 0.5 dB under the ceiling)
                trim = min(self.target - lufs, self.ceiling_dbtp - 0.1 - tp, 0.4)
                if tp <= self.ceiling_dbtp and abs(self.target - lufs) <= 0.05:
                    trim = 0.0
            if abs(trim) <= 0.02 or attempt == 2:
                break
            self._plan.g0 *= db_to_gain(trim)
            restart()
        self.loudness_lufs, self.true_peak_dbtp = lufs, tp

    def _apply_once(self, chunks, read, write) -> tuple[float, float]:
        meter = KMeter(self.sr, self.block * 100)
        start = 0
        for mix, stems in chunks():
            b = start + mix.shape[0]
            g = self.gain(start, b)
            out = mix * g
            write(start, out, {r: x * g for r, x in stems.items()})
            meter.feed(out)
            start = b
        e = meter.energies()
        keep = self._measured(len(e))
        return gated_loudness(e[keep]), self._true_peak_out()

    def _true_peak_out(self) -> float:
        """True peak of the output from the block figures: within block i the gain lies
        between g[i] and g[i + 1], so the peak is at most max(g[i], g[i + 1]) g0 tp[i]
        (exact true peak wherever it could come near the ceiling, see :meth:`plan`)."""
        p = self._plan
        g = p.g_blocks
        g_hi = np.maximum(g, np.r_[g[1:], g[-1:]]) if g.size else g
        peak = float((g_hi * p.g0 * p.tp_raw).max()) if g.size else 0.0
        return gain_to_db(peak) if peak > 0 else -math.inf
