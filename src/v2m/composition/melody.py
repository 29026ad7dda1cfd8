"""Melody: phrase rhythms that vary, and a last pass that checks every melody note against
the notes actually sounding with it.

:func:`vary_rhythm` makes the second and later statements of a bar rhythm differ a little
(a note split, two merged, an onset moved), as a composer varies a motif.

:func:`refine_melody` runs after all parts are written and, note by note:

1. keeps the melody *above* the accompaniment (harmony, pad, arpeggio): a note at or
   below the accompaniment's top note moves to the nearest allowed pitch above it;
2. removes *clashes*: a melody pitch a semitone (or a major seventh / minor ninth) from any
   pitch sounding with it in another part moves to the nearest pitch that clashes with
   none, chord tones first;
3. breaks up *repeated pitches* (a note repeating the one before) by a step to a
   neighbouring allowed pitch;
4. avoids *parallel fifths and octaves* with the bass from one chord change to the next
   (both voices moving the same way into the same perfect interval) by taking another
   chord tone.

Every choice is among the scale (with the chord's raised leading tone) within the
register, so the key is kept.
"""

from __future__ import annotations

import numpy as np

from .score import Note

__all__ = ["vary_rhythm", "refine_melody"]


def vary_rhythm(
    rhythm: list[tuple[float, float]], rng: np.random.Generator, *, bar_len: float, unit: float
) -> list[tuple[float, float]]:
    """A variant of a bar rhythm ``[(offset, duration), ...]`` (beats): one note split in
    two, two notes merged, or one onset moved by ``unit``; the bar length is kept."""
    r = [list(x) for x in rhythm]
    kind = int(rng.integers(3))
    if kind == 0:  # split the longest note
        i = int(np.argmax([d for _o, d in r]))
        o, d = r[i]
        if d >= 2 * unit:
            half = round(d / unit / 2) * unit
            r[i] = [o, half]
            r.insert(i + 1, [o + half, d - half])
            return [tuple(x) for x in r]
    if kind == 1 and len(r) >= 3:  # merge two neighbours
        i = int(rng.integers(1, len(r) - 1))
        r[i - 1][1] = r[i][0] + r[i][1] - r[i - 1][0]
        del r[i]
        return [tuple(x) for x in r]
    if len(r) >= 2:  # move one inner onset by a unit (anticipation or delay)
        i = int(rng.integers(1, len(r)))
        step = unit if rng.random() < 0.5 else -unit
        new = r[i][0] + step
        prev_end = r[i - 1][0] + unit
        nxt = r[i + 1][0] if i + 1 < len(r) else bar_len
        if prev_end <= new < nxt - unit / 2:
            r[i - 1][1] = new - r[i - 1][0]
            r[i][1] = r[i][0] + r[i][1] - new
            r[i][0] = new
    return [tuple(x) for x in r]


def _sounding(arr: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Pitches of notes ``arr`` (n, 3: start, end, pitch) overlapping [t0, t1)."""
    if arr.size == 0:
        return arr[:, 2] if arr.ndim == 2 else arr
    m = (arr[:, 0] < t1 - 1e-6) & (arr[:, 1] > t0 + 1e-6)
    return arr[m, 2]


def _as_array(notes: list[Note]) -> np.ndarray:
    if not notes:
        return np.zeros((0, 3))
    return np.array([(n.start, n.end, n.pitch) for n in notes], float)


def refine_melody(
    melody: list[Note],
    *,
    accompaniment: list[Note],
    bass: list[Note],
    chord_at,
    scale_of,
    lo: int,
    hi: int,
) -> list[Note]:
    """Apply the four checks of the module docstring to ``melody`` (changed in place and
    returned, in time order).

    Parameters
    ----------
    accompaniment, bass : list of Note
    chord_at : callable
        Beat -> the chord sounding then (with ``pcs``, ``start``).
    scale_of : callable
        Chord -> set of allowed pitch classes.
    lo, hi : int
        The melody's register (MIDI notes); notes may go up to ``hi + 5`` to clear a high
        accompaniment.
    """
    acc = _as_array(accompaniment)
    bas = _as_array(bass)
    everyone = np.concatenate([acc, bas]) if bas.size else acc
    mel = sorted(melody, key=lambda n: (n.start, n.pitch))
    prev: Note | None = None
    prev_pair: tuple[int, int] | None = None  # (melody, bass) at the last chord change
    for k, n in enumerate(mel):
        ch = chord_at(n.start)
        scale = scale_of(ch)
        top = _sounding(acc, n.start, n.start + 0.05)
        floor = int(top.max()) + 1 if top.size else lo
        others = _sounding(everyone, n.start, min(n.end, n.start + 0.5))
        bass_now = _sounding(bas, n.start, n.start + 0.05)
        last = k == len(mel) - 1
        cands = [p for p in range(max(lo, floor), hi + 6) if p % 12 in scale]
        if not cands:
            cands = [p for p in range(floor, floor + 12) if p % 12 in scale]

        clash = {int(q) % 12 for q in others}
        bad = {(q + 1) % 12 for q in clash} | {(q - 1) % 12 for q in clash}

        def ok(p: int, bad=bad) -> bool:
            return p % 12 not in bad

        def rank(p: int, ch=ch, n=n, ok=ok) -> tuple:
            return (not ok(p), p % 12 not in ch.pcs, abs(p - n.pitch), p)

        p = n.pitch
        if p < floor or not ok(p) or p not in cands:
            p = min(cands, key=rank)
        if prev is not None and p == prev.pitch and not last and n.start - prev.end < 1.0:
            moves = [q for q in cands if q != p and abs(q - p) <= 4 and ok(q)]
            if moves:
                p = min(moves, key=lambda q: (q % 12 not in ch.pcs, abs(q - p), q))
        at_change = abs(n.start - ch.start) < 1e-6 and bass_now.size
        if at_change:
            b = int(bass_now.min())
            if prev_pair is not None:
                pm, pb = prev_pair
                same_dir = np.sign(p - pm) == np.sign(b - pb) != 0
                if same_dir and (p - b) % 12 in (0, 7) and (pm - pb) % 12 == (p - b) % 12:
                    alt = [
                        q
                        for q in cands
                        if ok(q) and q % 12 in ch.pcs and (q - b) % 12 not in (0, 7)
                    ]
                    if alt:
                        p = min(alt, key=lambda q: (abs(q - p), q))
            prev_pair = (p, b)
        n.pitch = int(p)
        prev = n
    return mel
