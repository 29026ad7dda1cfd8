"""What the music does at each cut: the strongest land on beats and downbeats, a cut the
grid cannot reach smoothly is caught by an accent at its exact time (or let go, with the
reason), and the cuts, strong visual beats and the user's moments become hits."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..cuesheet import Hit
from ..errors import ParameterError
from .tempo_map import SIGMA_S

__all__ = ["strong_cuts", "cut_decisions", "cut_hits", "with_user_hits", "cuts_note", "hits_note"]


def strong_cuts(cut_w: np.ndarray) -> np.ndarray:
    """The cuts that must land on beats and downbeats: the strongest third by score (every
    cut when there are fewer than three)."""
    if cut_w.size < 3:
        return np.ones(cut_w.size, bool)
    q = np.quantile(cut_w, 2 / 3)
    strong = cut_w >= q
    above = cut_w > q
    if strong.mean() > 0.5 and above.any():
        # ties at the threshold (e.g. many cuts of one score below a few scene changes):
        # only the cuts that stand out are strong, else every cut would be
        strong = above
    return strong


def cut_decisions(hard, b_arr, db_set, anchors, cut_w, strong):
    """Per cut: ``on_beat`` (within 35 ms of a beat), ``caught`` (an accent at the cut's
    exact time) or ``let_go``, with the reason. Returns (decisions, caught hits)."""
    offsets: list[dict] = []
    caught: list[Hit] = []
    median_w = float(np.median(cut_w)) if cut_w.size else 0.0  # weaker cuts: softer accents
    for c in hard:
        i = int(np.argmin(np.abs(b_arr - c.time_s)))
        off = float(b_arr[i] - c.time_s)
        rec = {
            "time_s": c.time_s,
            "kind": c.kind,
            "beat": i,
            "offset_s": round(off, 6),
            "downbeat": i in db_set,
        }
        k = int(np.argmin(np.abs(anchors - c.time_s))) if anchors.size else -1
        w = float(cut_w[k]) if k >= 0 and abs(anchors[k] - c.time_s) < 1e-9 else 0.0
        if abs(off) <= SIGMA_S:
            rec["status"], rec["why"] = "on_beat", "on the beat grid"
        elif k < 0 or w == 0.0:
            rec["status"], rec["why"] = "let_go", "at the very start or end of the video"
        elif any(abs(h.time_s - c.time_s) < 0.35 for h in caught):
            rec["status"], rec["why"] = "let_go", "another accent less than 0.35 s away"
        else:
            rec["status"] = "caught"
            rec["why"] = (
                f"{abs(off) * 1000:.0f} ms from the nearest beat: reaching it would change "
                "the tempo by more than 4 % per beat, so an accent marks the cut itself"
            )
            strength = min(1.0, w / 1.5) * (1.0 if strong[k] or w >= median_w else 0.7)
            caught.append(Hit(time_s=round(c.time_s, 6), strength=round(strength, 3), kind="cut"))
        offsets.append(rec)
    return offsets, caught


def cut_hits(b_arr, bar_t, anchors, cut_w, vb, dur, *, caught, user_hits_s) -> list[Hit]:
    """Hits: every cut on the grid (the strongest third, at most one per bar, in full; the
    others lightly), the cuts caught off the grid, strong visual beats on beats, and the
    user's."""
    hits: list[Hit] = list(caught)
    used_bars: set[int] = {int(np.searchsorted(bar_t, h.time_s + 1e-6)) - 1 for h in caught}
    if anchors.size:
        # every cut on the grid is articulated: the strongest (top third, one a bar) with a
        # full hit, the others with a light accent (no cymbal) unless one is near
        thr = np.quantile(cut_w, 2 / 3) if anchors.size >= 3 else 0.0
        for i in np.argsort(-cut_w, kind="stable"):
            j = int(np.argmin(np.abs(b_arr - anchors[i])))
            if abs(b_arr[j] - anchors[i]) > SIGMA_S:
                continue  # caught or let go: decided already
            t = float(b_arr[j])
            bi = int(np.searchsorted(bar_t, t + 1e-6)) - 1
            if any(abs(h.time_s - t) < 0.35 for h in hits):
                continue
            if cut_w[i] >= thr and bi not in used_bars:
                used_bars.add(bi)
                strength = min(1.0, cut_w[i] / 1.5)
            else:
                strength = 0.35
            hits.append(Hit(time_s=round(t, 6), strength=round(strength, 3), kind="cut"))
    impacts: list[Hit] = []
    for b in vb:
        if b.strength >= 0.7:
            i = int(np.argmin(np.abs(b_arr - b.time_s)))
            bi = int(np.searchsorted(bar_t, b_arr[i] + 1e-6)) - 1
            if abs(b_arr[i] - b.time_s) <= 0.06 and bi not in used_bars and b_arr[i] < dur - 0.5:
                used_bars.add(bi)
                strength = round(0.7 * float(b.strength), 3)
                impacts.append(Hit(time_s=float(b_arr[i]), strength=strength, kind="impact"))
    # an impact on a cut's light accent makes that accent full
    return with_user_hits(with_cut_hits(impacts, hits), user_hits_s, dur)


def with_cut_hits(hits: list[Hit], cut_hits_: list[Hit]) -> list[Hit]:
    """``hits`` (a dancer's accents, strong visual beats) with the cuts' hits: each cut
    takes the strength of the strongest of them within 0.35 s, which it replaces; sorted
    by time."""
    near = [[h for h in hits if abs(h.time_s - c.time_s) < 0.35] for c in cut_hits_]
    gone = {id(h) for hs in near for h in hs}
    cuts = [
        replace(c, strength=max([c.strength, *(h.strength for h in hs)]))
        for c, hs in zip(cut_hits_, near, strict=True)
    ]
    return sorted([h for h in hits if id(h) not in gone] + cuts, key=lambda h: h.time_s)


def with_user_hits(hits: list[Hit], user_hits_s, dur: float) -> list[Hit]:
    """``hits`` and the user's moments (full strength, kind "user"), sorted by time; a
    moment outside 0..``dur`` seconds is a ParameterError."""
    for t in user_hits_s:
        if not 0 <= t <= dur:
            raise ParameterError(f"hit at {t} s is outside the video (0..{dur:.2f} s)")
        hits.append(Hit(time_s=float(t), strength=1.0, kind="user"))
    hits.sort(key=lambda h: h.time_s)
    return hits


def cuts_note(offsets: list[dict], *, n_caught: int) -> str:
    """The report's line on the cuts: on beats, caught by an accent, let go."""
    if not offsets:
        return "no cuts to align"
    n_on = sum(o["status"] == "on_beat" for o in offsets)
    return (
        f"{n_on} of {len(offsets)} cuts on beats (within 35 ms), "
        f"{n_caught} caught by an accent at the cut, "
        f"{len(offsets) - n_on - n_caught} let go"
    )


def hits_note(hits) -> str:
    """The report's line on the hits (the first eight by time)."""
    if not hits:
        return "no hits: nothing in the picture to mark"
    return (
        f"{len(hits)} hits: "
        + ", ".join(f"{h.kind} at {h.time_s:.2f} s" for h in hits[:8])
        + (" ..." if len(hits) > 8 else "")
    )
