"""Measure a score against the rules a film composer works by.

Every function takes a :class:`~v2m.composition.score.Score` (or its cue sheet) and returns
plain numbers, so tests can assert them and ``bench/music.py`` can print them. The rules
and their targets (from the project's issue on the score) are:

=======================  =====================================================  ========
function / key           what                                                   target
=======================  =====================================================  ========
tempo ``max_change``     largest beat-to-beat tempo change (fraction)           <= 0.04
tempo ``irregular_per_8``  most irregular bars in any 8 bars                    <= 1
tempo ``min_bar_beats``  the shortest bar, in beats                             >= 2
melody ``clash_rate``    melody onsets a semitone from a sounding note          <= 0.04
melody ``below_rate``    melody notes at or below the accompaniment's top       <= 0.05
melody ``repeat_rate``   melody notes repeating the previous pitch              <= 0.15
melody ``parallel_rate`` parallel fifths/octaves with the bass per chord change <= 0.05
form ``rhythms_per_64``  distinct melody bar rhythms per 64 bars                >= 12
form ``longest_repeat``  longest exact all-part repeat, in bars                 <= 8
form ``drum_bars``       distinct drum bars                                     >= 8
``final_chord_s``        how long the final chord sounds before its release     >= 2 s
=======================  =====================================================  ========
"""

from __future__ import annotations

import numpy as np

from .score import Score

__all__ = ["tempo_stats", "melody_stats", "form_stats", "final_chord_s"]

ACCOMPANIMENT = ("harmony", "pad", "arp")


def tempo_stats(cue) -> dict[str, float]:
    """Largest beat-to-beat tempo change, the most irregular bars in any 8 consecutive
    bars, the shortest bar."""
    p = np.diff(cue.beats_s)
    change = float(np.abs(p[1:] / p[:-1] - 1).max()) if len(p) > 1 else 0.0
    end = np.searchsorted(cue.beats_s, cue.duration_s)
    db = [d for d in cue.downbeats if d < end]
    bars = np.diff(db)
    irregular = int(np.sum(bars != cue.beats_per_bar)) if len(bars) else 0
    odd = (bars != cue.beats_per_bar).astype(int)
    worst = int(np.convolve(odd, np.ones(8, int), "valid").max()) if len(odd) >= 8 else irregular
    return {
        "max_change": change,
        "irregular_per_8": float(worst),
        "irregular_bars": irregular,
        "min_bar_beats": float(bars.min()) if len(bars) else float(cue.beats_per_bar),
    }


def _arr(notes) -> np.ndarray:
    if not notes:
        return np.zeros((0, 3))
    return np.array([(n.start, n.end, n.pitch) for n in notes], float)


def melody_stats(score: Score) -> dict[str, float]:
    """Clash, below-accompaniment, repeated-pitch and parallel-motion rates of the melody."""
    mel = sorted(score.parts.get("melody", []), key=lambda n: n.start)
    if not mel:
        return {"clash_rate": 0.0, "below_rate": 0.0, "repeat_rate": 0.0, "parallel_rate": 0.0}
    acc = _arr([n for r in ACCOMPANIMENT for n in score.parts.get(r, [])])
    bas = _arr(score.parts.get("bass", []))
    others = np.concatenate([acc, bas]) if bas.size else acc
    clash = below = 0
    for n in mel:
        t = n.start + 0.02  # what sounds just after the onset (not a release a few ms long)
        if others.size:
            m = (others[:, 0] <= t) & (others[:, 1] > t)
            if np.any(np.isin((n.pitch - others[m, 2]) % 12, (1, 11))):
                clash += 1
        if acc.size:
            m = (acc[:, 0] <= t) & (acc[:, 1] > t)
            if m.any() and n.pitch <= acc[m, 2].max():
                below += 1
    pitches = np.array([n.pitch for n in mel])
    repeat = float(np.mean(pitches[1:] == pitches[:-1])) if len(mel) > 1 else 0.0
    # parallel perfect intervals between melody and bass from one chord change to the next
    changes = sorted({round(c[0], 4) for c in score.chords})
    pairs = []
    for t in changes:
        mm = [n.pitch for n in mel if n.start - 0.05 <= t < n.end]
        bb = bas[(bas[:, 0] <= t + 0.05) & (bas[:, 1] > t), 2] if bas.size else []
        pairs.append((mm[0], int(min(bb))) if mm and len(bb) else None)
    par = total = 0
    for a, b in zip(pairs[:-1], pairs[1:], strict=True):
        if a is None or b is None:
            continue
        total += 1
        same = np.sign(b[0] - a[0]) == np.sign(b[1] - a[1]) != 0
        ia, ib = (a[0] - a[1]) % 12, (b[0] - b[1]) % 12
        if same and ia == ib and ia in (0, 7):
            par += 1
    return {
        "clash_rate": clash / len(mel),
        "below_rate": below / len(mel),
        "repeat_rate": repeat,
        "parallel_rate": par / max(total, 1),
    }


def _bar_bounds(score: Score) -> list[tuple[float, float]]:
    db = list(score.cue.downbeats)
    end = float(
        np.interp(score.cue.duration_s, score.cue.beats_s, np.arange(len(score.cue.beats_s)))
    )
    db = [d for d in db if d < end - 0.5]
    return [(float(a), float(b)) for a, b in zip(db, db[1:] + [end], strict=True)]


def form_stats(score: Score, *, grid: float = 0.25) -> dict[str, float]:
    """Distinct melody bar rhythms (per 64 bars), the longest exact repeat of all parts
    (bars) and the number of distinct drum bars. Onsets are compared on a ``grid`` of a
    beat, so the ensemble's timing does not make equal bars differ."""
    bars = _bar_bounds(score)

    def bar_key(role: str, a: float, b: float, *, pitch: bool) -> tuple:
        return tuple(
            sorted(
                (round((n.start - a) / grid), n.pitch if pitch else 0)
                for n in score.parts.get(role, [])
                if a - grid / 2 <= n.start < b - grid / 2
            )
        )

    rhythms = [bar_key("melody", a, b, pitch=False) for a, b in bars]
    rhythms_nonempty = [r for r in rhythms if r]
    n_bars = len(bars)
    distinct = len(set(rhythms_nonempty))
    per64 = (
        distinct * 64.0 / max(n_bars, 1)
        if n_bars < 64
        else float(
            np.mean([len({r for r in rhythms[i : i + 64] if r}) for i in range(0, n_bars - 63, 8)])
        )
    )
    roles = [r for r in score.parts if score.parts[r]]
    full = [tuple(bar_key(r, a, b, pitch=True) for r in roles) for a, b in bars]
    longest = 0
    for lag in range(1, n_bars):
        run = 0
        for i in range(lag, n_bars):
            run = run + 1 if full[i] == full[i - lag] and any(full[i]) else 0
            longest = max(longest, min(run, lag))
    drums = {bar_key("drums", a, b, pitch=True) for a, b in bars}
    drums.discard(())
    return {
        "rhythms_per_64": float(per64),
        "distinct_rhythms": float(distinct),
        "longest_repeat": float(longest),
        "drum_bars": float(len(drums)),
        "bars": float(n_bars),
    }


def final_chord_s(score: Score, *, release_s: float = 0.6) -> float:
    """Seconds the final chord sounds before its release: from the onset of the harmony
    notes still sounding ``release_s`` + 0.1 s before the end, to the release."""
    harm = score.parts.get("harmony", [])
    if not harm:
        return 0.0
    beats = np.asarray(score.cue.beats_s)
    idx = np.arange(len(beats))
    t_rel = score.cue.duration_s - release_s - 0.1
    b_rel = float(np.interp(t_rel, beats, idx))
    held = [n for n in harm if n.start <= b_rel < n.end]
    if not held:
        return 0.0
    t0 = float(np.interp(max(n.start for n in held), idx, beats))
    t1 = float(np.interp(max(n.end for n in held), idx, beats))
    return t1 - t0
