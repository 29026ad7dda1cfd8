"""Stage 2: :class:`~v2m.timeline.Timeline` -> :class:`~v2m.cuesheet.CueSheet`.

:func:`project` decides everything the music needs from what the video shows, and explains
each decision in ``cue.notes`` (and in the returned :class:`Projection`).

Beat grid (dynamic programming)
    Hard cuts (and the middles of gradual transitions) are *anchors*. The grid is built
    segment by segment between kept anchors; a segment of ``g`` seconds gets ``n`` beats of
    period ``g / n``, so a kept anchor falls exactly on a beat, and it starts a bar. The
    dynamic programme chooses which anchors to keep and ``n`` for each segment to minimise::

        sum_segments  w_t (ln p - ln p*)^2          # stay near the target tempo
                    + w_s (ln p - ln p_prev)^2      # change tempo gently
                    + w_m [n mod beats_per_bar != 0] # prefer whole bars between cuts
                    - w_v sum strength * exp(-d^2 / 2 s^2)  # visual beats near beats
        + sum_skipped_cuts  score (w_c (1 - exp(-d^2 / 2 s^2)) + w_d [not on a bar start])

    with ``p`` constrained to the musical range and ``s`` = 35 ms. A segment whose beat
    count is not a whole number of bars ends with one shorter (or longer) bar, as film
    composers change meter to hit a cut.
Sections
    Section boundaries are kept anchors chosen greedily by strength (cut score plus change
    of affect across it), at least four bars apart; sections whose affect is close reuse a
    label (so the music returns), and on longer videos the first and last become intro and
    outro.
Energy, key, tempo and style
    Energy per bar is ``0.6 motion + 0.4 (arousal + 1) / 2`` (per-video normalised motion),
    smoothed over three bars and scaled by the user's ``energy`` factor. Mode follows mean
    valence (> 0.15 major, < -0.15 minor, else mixolydian or dorian); the tonic follows
    warmth (warm pictures get sharp keys, cool ones flat keys). Without a user style: high
    arousal with fast cutting gives electronic, high arousal pop, low arousal and dark or
    grey pictures ambient, low arousal and bright ones piano, warm and calm folk, negative
    valence cinematic, otherwise lo-fi. Very dark valence (< -0.4) overrides arousal: ambient
    when calm, cinematic otherwise. The target tempo runs across the style's range with
    arousal and is pulled toward the visual tempo when that is confident.
Hits
    The strongest cuts (score in the top third, at most one per bar) and strong visual
    beats that sit on a beat become hits; user hits are kept as given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .cuesheet import (
    MAX_DURATION_S,
    METERS,
    SEED_MAX,
    CueSheet,
    Hit,
    Section,
    check_seed,
    parse_key,
)
from .errors import ParameterError
from .styles import get_style
from .timeline import Timeline

__all__ = ["project", "Projection", "solve_beat_grid", "content_seed", "check_controls"]

SIGMA_S = 0.035


@dataclass
class Projection:
    """A cue sheet and the reasons behind it.

    ``cut_offsets_s`` lists, per hard or gradual cut, the signed offset from the cut to the
    nearest beat (seconds) and whether that beat is a downbeat.
    """

    cue: CueSheet
    explanations: list[str] = field(default_factory=list)
    cut_offsets: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        off = (
            np.array([abs(c["offset_s"]) for c in self.cut_offsets])
            if self.cut_offsets
            else np.zeros(0)
        )
        return {
            "n_cuts": len(self.cut_offsets),
            "cuts_on_beat_35ms": int((off <= 0.035).sum()),
            "cuts_on_downbeat": int(
                sum(c["downbeat"] and abs(c["offset_s"]) <= 0.035 for c in self.cut_offsets)
            ),
            "max_abs_offset_ms": round(float(off.max()) * 1000, 2) if off.size else 0.0,
        }

    def report(self) -> dict:
        return {
            "schema_version": "1.0",
            "summary": self.summary(),
            "explanations": self.explanations,
            "cuts": self.cut_offsets,
            "cue": self.cue.to_dict(),
        }


# ------------------------------------------------------------------ beat grid DP


def solve_beat_grid(
    *,
    anchors_s: np.ndarray,
    weights: np.ndarray,
    duration_s: float,
    tempo_bpm: float,
    tempo_range_bpm: tuple[float, float],
    beats_per_bar: int,
    visual_beats_s: np.ndarray | None = None,
    visual_strength: np.ndarray | None = None,
    max_skip: int = 6,
) -> tuple[list[float], list[int], list[int]]:
    """Beat times that put anchors on beats (see the module docstring).

    Parameters
    ----------
    anchors_s : np.ndarray, shape (k,)
        Sorted anchor times in seconds (cuts), excluding 0.
    weights : np.ndarray, shape (k,)
        Importance of each anchor (>= 0).
    duration_s : float
    tempo_bpm : float
        Target tempo.
    tempo_range_bpm : (float, float)
        Hard limits on the local tempo.
    beats_per_bar : int

    Returns
    -------
    beats_s : list of float
        Beat times from 0 to at least ``duration_s``.
    downbeats : list of int
        Indices of beats that start bars.
    kept : list of int
        Indices into ``anchors_s`` of anchors placed exactly on beats.
    """
    p_star = 60.0 / tempo_bpm
    p_min, p_max = 60.0 / tempo_range_bpm[1], 60.0 / tempo_range_bpm[0]
    w_t, w_s, w_m, w_c, w_v, w_d = 4.0, 30.0, 0.6, 6.0, 0.3, 1.0

    def skipped_cost(anchors: np.ndarray, wt: np.ndarray, a: float, p: float) -> float:
        # a skipped cut costs by its distance to the nearest beat, and a little more when
        # that beat does not start a bar (bars run regularly from the segment's start)
        x = (anchors - a) / p
        d = np.abs(x - np.round(x)) * p
        off_bar = (np.round(x).astype(int) % beats_per_bar) != 0
        return float((wt * (w_c * (1 - np.exp(-0.5 * (d / SIGMA_S) ** 2)) + w_d * off_bar)).sum())

    pts = np.r_[0.0, np.asarray(anchors_s, float)]
    wts = np.r_[0.0, np.asarray(weights, float)]
    vb = np.asarray(visual_beats_s if visual_beats_s is not None else [], float)
    vs = np.asarray(visual_strength if visual_strength is not None else [], float)
    k = len(pts)

    def seg_cost(i: int, j: int, n: int) -> float:
        a, b = pts[i], pts[j]
        p = (b - a) / n
        c = w_t * math.log(p / p_star) ** 2 + (w_m if n % beats_per_bar else 0.0)
        if j - i > 1:  # skipped anchors: how far from this segment's beats
            c += skipped_cost(pts[i + 1 : j], wts[i + 1 : j], a, p)
        if vb.size:
            lo, hi = np.searchsorted(vb, [a, b])
            if hi > lo:
                x = (vb[lo:hi] - a) / p
                d = np.abs(x - np.round(x)) * p
                c -= w_v * float((vs[lo:hi] * np.exp(-0.5 * (d / SIGMA_S) ** 2)).sum())
        return c

    # state: (anchor index, period) -> best cost, back-pointer
    best: dict[int, list[tuple[float, float, tuple | None, int]]] = {0: [(0.0, p_star, None, 0)]}
    for j in range(1, k):
        cands = []
        for i in range(max(0, j - max_skip - 1), j):
            if i not in best:
                continue
            gap = pts[j] - pts[i]
            n_lo = max(1, math.ceil(gap / p_max - 1e-9))
            n_hi = math.floor(gap / p_min + 1e-9)
            for n in range(n_lo, n_hi + 1):
                base = seg_cost(i, j, n)
                p = gap / n
                for si, (cost, p_prev, _bp, _n) in enumerate(best[i]):
                    smooth = w_s * math.log(p / p_prev) ** 2 if i > 0 else 0.0
                    cands.append((cost + base + smooth, p, (i, si), n))
        if cands:
            cands.sort(key=lambda c: c[0])
            # keep a few distinct periods per anchor (beam) so smoothness can be traded off
            kept_states: list = []
            for c in cands:
                if all(abs(math.log(c[1] / s[1])) > 0.02 for s in kept_states):
                    kept_states.append(c)
                if len(kept_states) >= 6:
                    break
            best[j] = kept_states
    # close: the tail after the last anchor continues at its period; anchors never kept
    # after the final kept one are charged as skipped
    finals = []
    for i, states in best.items():
        tail = pts[i + 1 :]
        for si, (cost, p, _bp, _n) in enumerate(states):
            pp = p if i > 0 else p_star
            if tail.size:
                cost = cost + skipped_cost(tail, wts[i + 1 :], pts[i], pp)
            finals.append((cost, i, si))
    _, i, si = min(finals)
    chain = []
    while True:
        cost, p, bp, n = best[i][si]
        chain.append((i, p, n))
        if bp is None:
            break
        i, si = bp
    chain.reverse()
    beats: list[float] = [0.0]
    downbeats: list[int] = [0]
    kept = [i - 1 for i, _p, _n in chain[1:]]
    for (i0, _p0, _n0), (_i1, p1, n1) in zip(chain[:-1], chain[1:], strict=True):
        a = pts[i0]
        start_idx = len(beats) - 1
        for m in range(1, n1 + 1):
            beats.append(float(a + m * p1))
        _bars_in(downbeats, start_idx, n1, beats_per_bar)
    last_p = chain[-1][1] if len(chain) > 1 else p_star
    start_idx = len(beats) - 1
    t = beats[-1]
    n_tail = 0
    while t < duration_s + 1e-9:
        t += last_p
        beats.append(float(t))
        n_tail += 1
    _bars_in(downbeats, start_idx, n_tail, beats_per_bar, tail=True)
    return [round(b, 6) for b in beats], downbeats, kept


def _bars_in(downbeats: list[int], start: int, n: int, bpb: int, *, tail: bool = False) -> None:
    """Append downbeat indices for ``n`` beats after beat ``start`` (a downbeat); the last
    bar absorbs a remainder of one beat, a longer remainder becomes a short bar."""
    full, rem = divmod(n, bpb)
    pos = start
    bars = [bpb] * full
    if rem:
        if rem == 1 and bars and not tail:
            bars[-1] += 1
        else:
            bars.append(rem)
    for size in bars[:-1] if not tail else bars:
        pos += size
        downbeats.append(pos)
    if not tail and bars:
        downbeats.append(start + n)


# ------------------------------------------------------------------ projection


_SHARP_TONICS = [2, 9, 4, 7]  # D A E G
_FLAT_TONICS = [5, 10, 3, 0]  # F Bb Eb C


def _choose_style(
    *,
    arousal: float,
    valence: float,
    cut_rate_per_min: float,
    brightness: float,
    saturation: float,
    warmth: float,
) -> tuple[str, str]:
    if arousal > 0.25 and cut_rate_per_min >= 20:
        return "electronic", f"arousal {arousal:+.2f} and {cut_rate_per_min:.0f} cuts/min"
    if valence < -0.4:
        if arousal < -0.3:
            return "ambient", f"valence {valence:+.2f} is dark and arousal {arousal:+.2f} low"
        return "cinematic", f"valence {valence:+.2f} is dark"
    if arousal > 0.2:
        return "pop", f"arousal {arousal:+.2f} is high"
    if arousal < -0.3 and (brightness < 0.35 or saturation < 0.15):
        return "ambient", f"arousal {arousal:+.2f} is low and the picture is dark or grey"
    if arousal < -0.3:
        return "piano", f"arousal {arousal:+.2f} is low and the picture is bright"
    if warmth > 0.5 and valence >= -0.1:
        return "folk", f"warm colours (warmth {warmth:+.2f}) and calm"
    if valence < -0.1:
        return "cinematic", f"valence {valence:+.2f} is negative"
    return "lofi", f"moderate arousal {arousal:+.2f} and valence {valence:+.2f}"


def content_seed(timeline: Timeline) -> int:
    """A seed derived from what the timeline saw (size, length, cuts, colours, motion).

    The same input always gets the same seed; two inputs that differ in any of these get
    different seeds (up to hash collisions, 1 in 2**32), so they never share their music.
    """
    import hashlib
    import json

    src = timeline.source
    e = np.asarray(timeline.motion.get("energy", []), float)
    summary = {
        "size": [src.width, src.height],
        "duration_s": round(float(timeline.duration_s), 3),
        "cuts": [round(c.time_s, 3) for c in timeline.cuts],
        "shots": [
            [
                round(float(getattr(sh, a)), 3)
                for a in (
                    "brightness",
                    "saturation",
                    "colorfulness",
                    "warmth",
                    "contrast",
                    "motion",
                )
            ]
            for sh in timeline.shots
        ],
        "motion": [round(float(x), 2) for x in e[:: max(1, len(e) // 256)]],
        "image": {k: round(float(v), 4) for k, v in (timeline.image or {}).items()},
    }
    digest = hashlib.blake2b(json.dumps(summary, sort_keys=True).encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") % (SEED_MAX + 1)


def check_controls(
    *,
    style: str | None = None,
    tempo_bpm: float | None = None,
    key: str | None = None,
    energy: float = 1.0,
    meter: str = "4/4",
    seed: int | None = None,
    duration_s: float | None = None,
    hits_s: list[float] | None = None,
) -> None:
    """Raise a :class:`~v2m.errors.V2MError` naming the first user choice that is invalid.

    Ranges: ``energy`` (a factor on the energy curve) 0.25..2, ``tempo_bpm`` 30..240,
    ``seed`` 0..2**32-1, ``duration_s`` (still images) above 0 and at most 6 hours, hits at
    or after 0 s.
    """
    if not 0.25 <= energy <= 2.0:
        raise ParameterError(f"energy={energy}: must be in 0.25..2")
    if meter not in METERS:
        raise ParameterError(f"meter={meter!r}: must be one of {', '.join(METERS)}")
    if tempo_bpm is not None and not 30 <= tempo_bpm <= 240:
        raise ParameterError(f"tempo_bpm={tempo_bpm}: must be in 30..240")
    check_seed(seed)
    if duration_s is not None and not (0 < duration_s <= MAX_DURATION_S):
        raise ParameterError(
            f"duration_s={duration_s}: must be above 0 and at most {MAX_DURATION_S / 3600:g} hours"
        )
    for t in hits_s or []:
        if not (math.isfinite(t) and t >= 0):
            raise ParameterError(f"hit at {t} s: must be a time at or after 0 s")
    if key is not None:
        parse_key(key)
    if style is not None:
        get_style(style)


def project(
    timeline: Timeline,
    *,
    style: str | None = None,
    tempo_bpm: float | None = None,
    key: str | None = None,
    energy: float = 1.0,
    seed: int | None = None,
    hits_s: list[float] | None = None,
    meter: str = "4/4",
    ending: str | None = None,
) -> Projection:
    """Turn a timeline into a cue sheet whose beats land on the cuts.

    Parameters
    ----------
    timeline : Timeline
    style, tempo_bpm, key : optional
        User choices; each overrides the automatic one.
    energy : float
        Factor on the energy curve (0.25..2).
    seed : int, optional
        0..2**32-1; default :func:`content_seed` of the timeline.
    hits_s : list of float
        Extra moments to accent (seconds).
    meter : str
        "4/4", "3/4" or "6/8".
    ending : str, optional
        "cadence", "fade" or "stop" (default: cadence).

    Returns
    -------
    Projection
    """
    check_controls(style=style, tempo_bpm=tempo_bpm, key=key, energy=energy, meter=meter, seed=seed)
    dur = float(timeline.duration_s)
    if dur <= 0:
        raise ParameterError(f"{timeline.source.path}: zero duration")
    why: list[str] = []
    if seed is None:
        seed = content_seed(timeline)
        why.append(f"seed {seed}, derived from the picture (the same input gives the same music)")
    shots = timeline.shots
    lens = np.array([max(s.end_s - s.start_s, 1e-6) for s in shots])

    def wmean(attr):
        return float(np.average([getattr(s, attr) for s in shots], weights=lens))

    valence, arousal = wmean("valence"), wmean("arousal")
    brightness, saturation, warmth = wmean("brightness"), wmean("saturation"), wmean("warmth")
    hard = [c for c in timeline.cuts]
    cut_rate = 60.0 * len(hard) / dur

    # style
    if style is None:
        style, reason = _choose_style(
            arousal=arousal,
            valence=valence,
            cut_rate_per_min=cut_rate,
            brightness=brightness,
            saturation=saturation,
            warmth=warmth,
        )
        why.append(f"style {style} because {reason}")
    else:
        style = get_style(style).name
        why.append(f"style {style}: chosen by the user")
    st = get_style(style)

    # key
    if key is None:
        if valence > 0.15:
            mode = "major"
        elif valence < -0.15:
            mode = "minor"
        else:
            mode = "mixolydian" if valence >= 0 else "dorian"
        table = _SHARP_TONICS if warmth >= 0 else _FLAT_TONICS
        tonic = table[min(3, int(abs(warmth) * 4))]
        key_obj = parse_key(f"{'C C# D Eb E F F# G Ab A Bb B'.split()[tonic]} {mode}")
        why.append(
            f"{mode} because mean valence is {valence:+.2f}; tonic "
            f"{key_obj.name.split()[0]} because warmth is {warmth:+.2f}"
        )
        key = key_obj.name
    else:
        key = parse_key(key).name
        why.append(f"key {key}: chosen by the user")

    # target tempo and range
    lo, hi = st.tempo_bpm
    if tempo_bpm is None:
        target = lo + (hi - lo) * float(np.clip((arousal + 1) / 2, 0, 1))
        why_t = f"arousal {arousal:+.2f} puts it at {target:.0f} BPM in {style}'s {lo:g}-{hi:g}"
        vt = timeline.visual_tempo_bpm
        if vt and timeline.visual_tempo_confidence >= 0.3:
            while vt < lo:
                vt *= 2
            while vt > hi:
                vt /= 2
            if lo <= vt <= hi:
                target = 0.5 * (target + vt)
                why_t += f", pulled toward the visual tempo {timeline.visual_tempo_bpm:.0f} BPM"
        rng = (max(40.0, lo * 0.8), min(200.0, hi * 1.2))
    else:
        target = float(tempo_bpm)
        why_t = f"tempo {target:g} BPM chosen by the user"
        rng = (target * 0.88, target * 1.12)
    bpb = METERS[meter]

    # beat grid
    anchors = np.array([c.time_s for c in hard if 0.2 < c.time_s < dur - 0.05])
    cut_w = np.array([c.score for c in hard if 0.2 < c.time_s < dur - 0.05], float)
    if cut_w.size:
        cut_w = 0.5 + cut_w / max(cut_w.max(), 1e-9)
    vb = [b for b in timeline.visual_beats]
    beats, downbeats, kept = solve_beat_grid(
        anchors_s=anchors,
        weights=cut_w,
        duration_s=dur,
        tempo_bpm=target,
        tempo_range_bpm=rng,
        beats_per_bar=bpb,
        visual_beats_s=np.array([b.time_s for b in vb]),
        visual_strength=np.array([b.strength for b in vb]),
    )
    periods = np.diff(beats)
    bpm_lo, bpm_hi = 60 / periods.max(), 60 / periods.min()
    mean_bpm = 60 / float(np.median(periods))
    why.append(why_t)

    # cut offsets
    b_arr = np.asarray(beats)
    db_set = set(downbeats)
    offsets = []
    for c in hard:
        i = int(np.argmin(np.abs(b_arr - c.time_s)))
        offsets.append(
            {
                "time_s": c.time_s,
                "kind": c.kind,
                "beat": i,
                "offset_s": round(float(b_arr[i] - c.time_s), 6),
                "downbeat": i in db_set,
            }
        )
    n_on = sum(abs(o["offset_s"]) <= 0.035 for o in offsets)
    if offsets:
        why.append(
            f"tempo {mean_bpm:.0f} BPM (local {bpm_lo:.0f}-{bpm_hi:.0f}) puts {n_on} of "
            f"{len(offsets)} cuts on beats (within 35 ms)"
        )
    else:
        why.append(f"tempo {mean_bpm:.0f} BPM; no cuts to align")

    # energy per bar
    bar_t = b_arr[downbeats]
    bar_t = bar_t[bar_t < dur - 1e-6]
    downbeats = downbeats[: len(bar_t)]
    m = timeline.motion
    e_grid = np.asarray(m.get("energy", [0.0]), float)
    hop = float(m.get("hop_s", 0.04))
    tg = np.arange(len(e_grid)) * hop
    col = timeline.colour
    if col.get("arousal"):
        ar_t = np.arange(len(col["arousal"])) * col["hop_s"]
        ar_v = np.asarray(col["arousal"], float)
    else:
        ar_t = np.array([s.start_s for s in shots])
        ar_v = np.array([s.arousal for s in shots])
    bar_e = []
    ends = np.r_[bar_t[1:], dur]
    for a, b in zip(bar_t, ends, strict=True):
        sel = (tg >= a) & (tg < b)
        mo = float(e_grid[sel].mean()) if sel.any() else 0.0
        ar = float(np.interp(0.5 * (a + b), ar_t, ar_v)) if len(ar_t) else 0.0
        bar_e.append(0.6 * mo + 0.4 * (ar + 1) / 2)
    bar_e = np.convolve(np.pad(bar_e, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    if timeline.source.kind == "image":
        bar_e = np.full(len(bar_t), 0.35 + 0.3 * (arousal + 1) / 2)
    bar_e = np.clip(bar_e * energy, 0.05, 1.0)
    why.append(
        f"energy per bar from motion and arousal: mean {bar_e.mean():.2f}, range "
        f"{bar_e.min():.2f}-{bar_e.max():.2f}" + (f" (scaled x{energy:g})" if energy != 1 else "")
    )

    # sections
    sections = _sections(
        timeline, bar_t, bar_e, dur, kept_times=anchors[kept] if len(kept) else np.zeros(0), why=why
    )

    # hits
    hits: list[Hit] = []
    used_bars: set[int] = set()
    if len(kept):
        thr = np.quantile(cut_w[kept], 2 / 3) if len(kept) >= 3 else 0.0
        for i in kept:
            if cut_w[i] >= thr:
                bi = int(np.searchsorted(bar_t, anchors[i] + 1e-6)) - 1
                if bi in used_bars:
                    continue
                used_bars.add(bi)
                t = float(b_arr[np.argmin(np.abs(b_arr - anchors[i]))])
                hits.append(
                    Hit(time_s=round(t, 6), strength=round(min(1.0, cut_w[i] / 1.5), 3), kind="cut")
                )
    for b in vb:
        if b.strength >= 0.7:
            i = int(np.argmin(np.abs(b_arr - b.time_s)))
            bi = int(np.searchsorted(bar_t, b_arr[i] + 1e-6)) - 1
            if abs(b_arr[i] - b.time_s) <= 0.06 and bi not in used_bars and b_arr[i] < dur - 0.5:
                used_bars.add(bi)
                hits.append(
                    Hit(time_s=float(b_arr[i]), strength=round(0.7 * b.strength, 3), kind="impact")
                )
    for t in hits_s or []:
        if not 0 <= t <= dur:
            raise ParameterError(f"hit at {t} s is outside the video (0..{dur:.2f} s)")
        hits.append(Hit(time_s=float(t), strength=1.0, kind="user"))
    hits.sort(key=lambda h: h.time_s)
    why.append(
        f"{len(hits)} hits: "
        + ", ".join(f"{h.kind} at {h.time_s:.2f} s" for h in hits[:8])
        + (" ..." if len(hits) > 8 else "")
    )
    ending = ending or "cadence"
    why.append(f"ending: {ending} at {dur:.2f} s, with the video")

    cue = CueSheet(
        duration_s=round(dur, 6),
        beats_s=beats,
        downbeats=list(downbeats),
        meter=meter,
        key=key,
        style=style,
        sections=sections,
        energy=[round(float(e), 3) for e in bar_e],
        hits=hits,
        ending=ending,
        seed=int(seed),
        tempo_bpm=round(mean_bpm, 2),
        notes=list(why),
    )
    cue.validate()
    return Projection(cue=cue, explanations=why, cut_offsets=offsets)


def _sections(
    timeline: Timeline,
    bar_t: np.ndarray,
    bar_e: np.ndarray,
    dur: float,
    *,
    kept_times: np.ndarray,
    why: list[str],
) -> list[Section]:
    n_bars = len(bar_t)
    min_bars = 4
    target_bars = 8
    # candidate boundaries: kept cuts that are downbeats, scored by cut strength + affect change
    shots = timeline.shots

    def affect_at(t: float) -> np.ndarray:
        for s in shots:
            if s.start_s - 1e-6 <= t < s.end_s:
                return np.array([s.valence, s.arousal, s.motion])
        return np.array([shots[-1].valence, shots[-1].arousal, shots[-1].motion])

    cands = []
    for t in kept_times:
        bi = int(np.argmin(np.abs(bar_t - t)))
        if abs(bar_t[bi] - t) > 0.05 or bi < min_bars or n_bars - bi < min_bars // 2:
            continue
        change = float(np.abs(affect_at(t + 0.05) - affect_at(t - 0.05)).sum())
        cands.append((1.0 + change, bi))
    n_max = max(0, n_bars // target_bars - 1)
    chosen: list[int] = []
    for _score, bi in sorted(cands, reverse=True):
        if len(chosen) >= n_max:
            break
        if all(abs(bi - c) >= min_bars for c in chosen):
            chosen.append(bi)
    # long stretches without cuts: split every 16 bars so the music still develops
    bounds = sorted(set([0] + chosen))
    filled = []
    for a, b in zip(bounds, bounds[1:] + [n_bars], strict=True):
        filled.append(a)
        k = a + 16
        while b - k >= min_bars:
            filled.append(k)
            k += 16
    bounds = sorted(set(filled))
    secs = []
    feats = []
    for a, b in zip(bounds, bounds[1:] + [n_bars], strict=True):
        t0 = float(bar_t[a])
        t1 = float(bar_t[b]) if b < n_bars else dur
        sel = [s for s in shots if s.end_s > t0 and s.start_s < t1] or shots[-1:]
        f = np.array(
            [
                np.mean([s.valence for s in sel]),
                np.mean([s.arousal for s in sel]),
                float(np.mean(bar_e[a:b])),
            ]
        )
        feats.append(f)
        secs.append([t0, t1, float(np.mean(bar_e[a:b]))])
    labels: list[str] = []
    protos: list[tuple[str, np.ndarray]] = []
    names = iter(["A", "B", "C", "D", "E", "F", "G", "H"])
    for f in feats:
        match = next((lab for lab, p in protos if float(np.abs(f - p).sum()) < 0.35), None)
        if match is None:
            match = next(names, "A")
            protos.append((match, f))
        labels.append(match)
    if len(secs) >= 3:
        if secs[0][1] - secs[0][0] <= 0.3 * dur:
            labels[0] = "intro"
        if secs[-1][1] - secs[-1][0] <= 0.3 * dur:
            labels[-1] = "outro"
    out = [
        Section(
            start_s=round(a, 6),
            end_s=round(min(b, dur), 6),
            label=lab,
            energy=round(float(np.clip(e, 0, 1)), 3),
        )
        for (a, b, e), lab in zip(secs, labels, strict=True)
    ]
    why.append("sections: " + ", ".join(f"{s.label} {s.start_s:.1f}-{s.end_s:.1f} s" for s in out))
    return out
