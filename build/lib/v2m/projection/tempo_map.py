"""A tempo map as a film composer makes it: smooth tempo, regular bars, cuts on beats.

:func:`solve_beat_grid` chooses, by dynamic programming over the cuts (*anchors*), which
cuts to put exactly on a beat and how many beats lie between them. Between two placed
anchors the beat period changes *linearly* from the period at the first to the period at
the second (a ramp, possibly flat), so the anchor lands exactly on its beat and the tempo
never jumps:

    p_k = p_i + d k,   k = 1..n,   sum_k p_k = t_j - t_i
    =>  p_j = p_i + 2 (t_j - t_i - n p_i) / (n + 1),   d = (p_j - p_i) / n

Hard rules
    * beat-to-beat tempo change at most ``max_change`` (4 %: listeners hear 2-5 %);
    * the period stays inside the style's tempo range;
    * bars are regular (``beats_per_bar``); a bar may be cut short or lengthened only at a
      *strong* anchor (a section start), never to fewer than 2 beats, and at most once in
      any 8 bars.
Costs (minimised)
    * ``w_t`` x beats x squared log distance of the tempo from the target;
    * ``w_r`` x beats x (per-beat change / 1 %)^2, and more above 2 % (audible);
    * per anchor left off the grid: its weight x (1 - exp(-d^2 / 2 s^2)), d = distance to
      the nearest beat, s = 35 ms (an anchor within 35 ms of a beat costs almost nothing);
    * a strong anchor not placed on a downbeat, and an irregular bar;
    * minus a small reward for visual beats near beats.

Anchors left off the grid are reported; :mod:`v2m.projection` then *catches* the ones that
matter with an accent at their exact time, or lets them go, and says which and why.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["BeatGrid", "solve_beat_grid"]

SIGMA_S = 0.035


@dataclass
class BeatGrid:
    """The result of :func:`solve_beat_grid`.

    Attributes
    ----------
    beats_s : list of float
        Beat times from 0 to at least the duration (seconds).
    downbeats : list of int
        Indices of the beats that start bars.
    kept : list of int
        Indices of the anchors placed exactly on a beat.
    irregular_bars : list of int
        Indices (into ``downbeats``) of the bars whose length is not ``beats_per_bar``
        (they end at a strong anchor: a meter change at a section start).
    """

    beats_s: list[float]
    downbeats: list[int]
    kept: list[int]
    irregular_bars: list[int] = field(default_factory=list)

    def __iter__(self):  # beats, downbeats, kept = solve_beat_grid(...)
        return iter((self.beats_s, self.downbeats, self.kept))


@dataclass
class _State:
    cost: float
    anchor: int  # index into the points (0 = time 0)
    beat: int  # beat index of this point
    period: float  # period of the beat ending at this point (s)
    phase: int  # beats since the last downbeat at this point (0 = on a downbeat)
    bar: int  # bars started before this point
    last_irregular_bar: int  # bar index of the last irregular bar (-99: none)
    back: _State | None
    n: int  # beats in the segment that ends here
    reset: bool  # an irregular bar ends at this point


def _ramp_times(t0: float, p0: float, n: int, gap: float) -> tuple[np.ndarray, float]:
    """Beat times after ``t0`` for a linear period ramp of ``n`` beats that fills ``gap``."""
    p1 = p0 + 2.0 * (gap - n * p0) / (n + 1)
    d = (p1 - p0) / n
    k = np.arange(1, n + 1)
    return t0 + k * p0 + d * k * (k + 1) / 2.0, p1


def _nearest(times: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Distance from each ``x`` to the nearest of the sorted ``times``."""
    i = np.clip(np.searchsorted(times, x), 1, len(times) - 1)
    return np.minimum(np.abs(x - times[i - 1]), np.abs(times[i] - x))


def _ramp_dist1(y: float, p0: float, d: float, n: int) -> float:
    """Distance from the time ``y`` (seconds after the segment's start) to the nearest
    beat of the linear ramp of ``n`` beats (beat k at ``k p0 + d k (k + 1) / 2``), without
    listing the beats."""
    if -1e-12 < d < 1e-12:
        k = y / p0
    else:
        b = p0 + d / 2
        disc = b * b + 2 * d * y
        k = (-b + math.sqrt(disc if disc > 0 else 0.0)) / d
    m = int(k) if k > 0 else 0  # the beats on either side of y
    if m >= n:
        m = n - 1
    a = abs(y - (m * p0 + d * m * (m + 1) / 2))
    m += 1
    c = abs(y - (m * p0 + d * m * (m + 1) / 2))
    return a if a < c else c


def solve_beat_grid(
    *,
    anchors_s: np.ndarray,
    weights: np.ndarray,
    duration_s: float,
    tempo_bpm: float,
    tempo_range_bpm: tuple[float, float],
    beats_per_bar: int,
    strong: np.ndarray | None = None,
    visual_beats_s: np.ndarray | None = None,
    visual_strength: np.ndarray | None = None,
    max_change: float = 0.04,
    max_skip: int = 5,
    beam: int = 12,
) -> BeatGrid:
    """Beat times that put the anchors that matter on beats, with a smooth tempo.

    Parameters
    ----------
    anchors_s : np.ndarray, shape (k,)
        Sorted anchor times in seconds (cuts), after 0.
    weights : np.ndarray, shape (k,)
        Importance of each anchor (>= 0).
    duration_s : float
    tempo_bpm : float
        Target tempo.
    tempo_range_bpm : (float, float)
        Hard limits on the local tempo.
    beats_per_bar : int
    strong : np.ndarray of bool, shape (k,), optional
        Anchors that should fall on downbeats and may start a section (and so end an
        irregular bar). Default: none.
    visual_beats_s, visual_strength : np.ndarray, optional
        Visual beats, rewarded when near a beat.
    max_change : float
        Largest relative change of the beat period from one beat to the next.

    Returns
    -------
    BeatGrid
    """
    bpb = int(beats_per_bar)
    pts = np.r_[0.0, np.asarray(anchors_s, float)]
    stg = np.r_[True, np.asarray(strong if strong is not None else [], bool)]
    if len(stg) != len(pts):
        stg = np.r_[True, np.zeros(len(pts) - 1, bool)]
    costs = _Costs(
        pts=pts,
        wts=np.r_[0.0, np.asarray(weights, float)],
        stg=stg,
        vb=np.asarray(visual_beats_s if visual_beats_s is not None else [], float),
        vs=np.asarray(visual_strength if visual_strength is not None else [], float),
        p_star=60.0 / tempo_bpm,
        bpb=bpb,
    )
    p_range = (60.0 / tempo_range_bpm[1], 60.0 / tempo_range_bpm[0])
    # start: time 0 is a downbeat; the opening period is free (see _expand)
    states: dict[int, list[_State]] = {
        0: [_State(0.0, 0, 0, costs.p_star, 0, 0, -99, None, 0, False)]
    }
    for j in range(1, len(pts)):
        cands = _expand(j, states, costs, p_range=p_range, max_change=max_change, max_skip=max_skip)
        if cands:
            states[j] = _prune(cands, beam)
    return _rebuild(_close(states, costs, duration_s), pts, duration_s, bpb)


#: Cost weights (see the module docstring): tempo off target, ramp, audible ramp (> 2 % a
#: beat), an anchor off the grid, a strong anchor off its downbeat, an irregular bar, a
#: visual beat on a beat (a reward).
W_TEMPO, W_RAMP, W_RAMP_AUDIBLE, W_CUT, W_DOWNBEAT, W_IRREGULAR, W_VISUAL = (
    5.0, 0.08, 1.0, 12.0, 8.0, 2.5, 0.3,
)  # fmt: skip


class _Costs:
    """The search's costs over the anchors ``pts`` (time 0 first), their weights ``wts``
    and strong flags ``stg``, the visual beats ``vb`` and their strengths ``vs``. Plain
    Python on lists inside: called on a few anchors at a time, where numpy's per-call cost
    would dominate."""

    def __init__(self, *, pts, wts, stg, vb, vs, p_star: float, bpb: int):
        self.pts, self.wts, self.stg = pts, wts, stg
        self.pts_l, self.wts_l, self.stg_l = pts.tolist(), wts.tolist(), stg.tolist()
        self.vb_l, self.vs_l = vb.tolist(), vs.tolist()
        self.p_star, self.bpb = p_star, bpb
        self.inv2s2 = 0.5 / SIGMA_S**2

    def miss(self, m: int, dist: float) -> float:
        """Anchor ``m`` left off the grid, ``dist`` seconds from its nearest beat (a strong
        anchor also misses its downbeat)."""
        strong = self.stg_l[m]
        near = 1 - math.exp(-dist * dist * self.inv2s2)
        return self.wts_l[m] * (
            W_CUT * (3.0 if strong else 1.0) * near + (W_DOWNBEAT if strong else 0.0)
        )

    def skip(self, times: np.ndarray, lo: int, hi: int) -> float:
        """Anchors lo..hi-1 left off the grid ``times``."""
        if hi <= lo:
            return 0.0
        d = _nearest(times, self.pts[lo:hi]).tolist()
        return sum(self.miss(m, d[m - lo]) for m in range(lo, hi))

    def segment(self, i: int, j: int, p0: float, p1: float, n: int) -> float:
        """Anchors between i and j left off the ramp, minus visual beats on it."""
        c = 0.0
        pts_l, vb_l, miss = self.pts_l, self.vb_l, self.miss
        t0 = pts_l[i]
        d = (p1 - p0) / n
        for m in range(i + 1, j):
            c += miss(m, _ramp_dist1(pts_l[m] - t0, p0, d, n))
        if vb_l:
            lo = bisect.bisect_left(vb_l, t0)
            hi = bisect.bisect_left(vb_l, pts_l[j])
            for m in range(lo, hi):
                dist = _ramp_dist1(vb_l[m] - t0, p0, d, n)
                c -= W_VISUAL * self.vs_l[m] * math.exp(-dist * dist * self.inv2s2)
        return c

    def tempo(self, p0: float, p1: float, n: int) -> float:
        """A ramp of ``n`` beats from period p0 to p1: off the target tempo, and its slope."""
        l0, l1 = math.log(p0), math.log(p1)
        dev = ((l0 + l1) / 2 - math.log(self.p_star)) ** 2 + (l1 - l0) ** 2 / 12
        rel = abs(p1 - p0) / n / min(p0, p1)
        ramp = W_RAMP * (rel / 0.01) ** 2 + W_RAMP_AUDIBLE * max(0.0, (rel - 0.02) / 0.01) ** 2
        return n * (W_TEMPO * dev + ramp)

    def beat_counts(self, gap: float, p0: float, phase: int) -> set[int]:
        """Numbers of beats worth trying over ``gap`` seconds: near the gap at the current
        and the target period, and the nearest counts that end on a downbeat."""
        out: set[int] = set()
        bpb = self.bpb
        for p in (p0, self.p_star):
            c = gap / p
            for m in range(-2, 3):
                out.add(int(round(c)) + m)
            for base in (math.floor(c), math.ceil(c)):
                r = (phase + base) % bpb
                out.add(base - r)
                out.add(base + (bpb - r) % bpb)
        return {n for n in out if n >= 1}


def _expand(
    j: int,
    states: dict[int, list[_State]],
    costs: _Costs,
    *,
    p_range: tuple[float, float],
    max_change: float,
    max_skip: int,
) -> list[_State]:
    """Every way to place anchor ``j`` on a beat after one of the ``max_skip + 1``
    anchors before it: a ramp of n beats from that state's period, inside the tempo range
    and the per-beat change limit; in regular meter, or with a meter change at a strong
    anchor (at most one irregular bar in 8)."""
    pts, wts, stg, bpb = costs.pts, costs.wts, costs.stg, costs.bpb
    tempo, segment, beat_counts = costs.tempo, costs.segment, costs.beat_counts
    p_min, p_max = p_range
    cands: list[_State] = []
    for i in range(max(0, j - max_skip - 1), j):
        gap = pts[j] - pts[i]
        if gap < p_min * 0.9:
            continue
        for s in states.get(i, []):
            for n in beat_counts(gap, s.period, s.phase):
                if i == 0:  # the opening tempo is free: a steady first segment
                    s = _State(0.0, 0, 0, gap / n, 0, 0, -99, None, 0, False)
                p1 = s.period + 2.0 * (gap - n * s.period) / (n + 1)
                if not (p_min - 1e-9 <= p1 <= p_max + 1e-9):
                    continue
                if abs(p1 - s.period) / n > max_change * min(p1, s.period) + 1e-12:
                    continue
                base = s.cost + tempo(s.period, p1, n)
                base += segment(i, j, s.period, p1, n)
                raw = s.phase + n  # beats since the last downbeat, at anchor j
                bars = s.bar + raw // bpb
                phase = raw % bpb
                # regular meter: anchor j on whatever beat the bars give
                c = base + (W_DOWNBEAT * wts[j] if stg[j] and phase else 0.0)
                cands.append(
                    _State(c, j, s.beat + n, p1, phase, bars, s.last_irregular_bar, s, n, False)
                )
                # meter change at a strong anchor: the bar before it ends early (>= 2
                # beats) or absorbs one extra beat, at most once in 8 bars
                # (the irregular bar: the short one ending here, or the one before it
                # that absorbs a single beat)
                irr = bars if phase >= 2 else bars - 1
                if stg[j] and phase and irr >= 0 and irr - s.last_irregular_bar >= 8:
                    cands.append(
                        _State(
                            base + W_IRREGULAR, j, s.beat + n, p1, 0,
                            bars + (1 if phase >= 2 else 0), irr, s, n, True,
                        )
                    )  # fmt: skip
    return cands


def _prune(cands: list[_State], beam: int) -> list[_State]:
    """The ``beam`` cheapest states, one per (bar phase, period to 1 %)."""
    cands.sort(key=lambda st: st.cost)
    kept: list[_State] = []
    seen: set[tuple[int, int]] = set()
    for st in cands:
        key = (st.phase, int(round(math.log(st.period) / 0.01)))
        if key in seen:
            continue
        seen.add(key)
        kept.append(st)
        if len(kept) >= beam:
            break
    return kept


def _close(states: dict[int, list[_State]], costs: _Costs, duration_s: float) -> _State:
    """The best final state: the tail after its last placed anchor keeps its period;
    anchors after it are charged as left off the grid."""
    pts, k = costs.pts, len(costs.pts)
    best: _State | None = None
    best_cost = math.inf
    for i, sts in states.items():
        for s in sts:
            n_tail = max(1, int(math.ceil((duration_s - pts[i]) / s.period)) + 1)
            tail = pts[i] + s.period * np.arange(0, n_tail + 1)
            c = (
                s.cost
                + costs.skip(tail, i + 1, k)
                + n_tail * W_TEMPO * math.log(s.period / costs.p_star) ** 2
            )
            if c < best_cost:
                best, best_cost = s, c
    return best


def _rebuild(last: _State, pts: np.ndarray, duration_s: float, bpb: int) -> BeatGrid:
    chain: list[_State] = []
    s: _State | None = last
    while s is not None:
        chain.append(s)
        s = s.back
    chain.reverse()
    beats = [0.0]
    downbeats = [0]
    for prev, cur in zip(chain[:-1], chain[1:], strict=True):
        gap = pts[cur.anchor] - pts[prev.anchor]
        times, _ = _ramp_times(pts[prev.anchor], prev.period, cur.n, gap)
        times[-1] = pts[cur.anchor]  # exact
        for m, t in enumerate(times, start=1):
            beats.append(float(t))
            i = len(beats) - 1
            if (m == cur.n and cur.reset) or i - downbeats[-1] == bpb:
                downbeats.append(i)
    t, p = beats[-1], last.period
    while t < duration_s + 1e-9:
        t += p
        beats.append(float(t))
        if len(beats) - 1 - downbeats[-1] == bpb:
            downbeats.append(len(beats) - 1)
    # a meter change one beat after a downbeat: the bar before absorbs that beat
    merged = [downbeats[0]]
    for d in downbeats[1:]:
        if d - merged[-1] == 1 and len(merged) > 1:
            merged[-1] = d
        else:
            merged.append(d)
    sizes = np.diff(merged)
    return BeatGrid(
        beats_s=[round(b, 6) for b in beats],
        downbeats=merged,
        kept=[s.anchor - 1 for s in chain[1:]],
        irregular_bars=[int(i) for i in np.flatnonzero(sizes != bpb)],
    )
