"""Melody: phrases written from motifs, rhythms that vary, and a last pass that checks
every melody note against the notes actually sounding with it.

:class:`MelodyMixin` gives the composer its melody: four-bar phrases from a one-bar
motif (rhythm and contour in scale steps) per section label, A B A' cadence (a second
phrase A C A'' cadence), a planned register arching over the phrase and rising with the
energy, chord tones on strong beats.

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

from .harmony import _Chord, _scale
from .score import Note

__all__ = ["MelodyMixin", "vary_rhythm", "refine_melody"]


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


class MelodyMixin:
    """The composer's melody methods (see the module docstring)."""

    def melody(self) -> None:
        """Four-bar phrases: rhythms A B A' cadence (a second phrase in the section takes
        A C A'' cadence), every later statement varied; the contour follows an arch over
        the phrase and rises with the section's energy (see :mod:`.melody` for the checks
        that follow)."""
        st = self.style
        if "melody" not in self.programs:
            return
        lo, hi = st.melody_register
        pos_pitch = (lo + hi) // 2
        rhythms: dict[tuple, list[tuple[float, float]]] = {}
        contours: dict[str, list[int]] = {}
        seen: dict[tuple, int] = {}
        unit = 1.0 / self.sub
        for bi, (b0, b1) in enumerate(self.bars):
            label = self._label(bi)
            e = self.bar_energy[bi]
            if label in ("intro", "outro") and st.name != "ambient":
                continue
            first = self.bar_sections.index(self.bar_sections[bi])
            phrase = (bi - first) // 4
            phrase_pos = (bi - first) % 4
            last_of_section = (
                bi + 1 >= len(self.bars) or self.bar_sections[bi + 1] != self.bar_sections[bi]
            )
            bar_len = b1 - b0
            slot = ("A",) if phrase_pos in (0, 2) else (("B",) if phrase % 2 == 0 else ("C",))
            key = (label, round(bar_len, 3), *slot)
            if key not in rhythms:
                rhythms[key] = self._motif_rhythm(bar_len, e)
            rhythm = rhythms[key]
            n_seen = seen.get(key, 0)
            seen[key] = n_seen + 1
            if n_seen and phrase_pos:  # later statements vary; a phrase's head returns as it was
                rhythm = vary_rhythm(rhythm, self.rng, bar_len=bar_len, unit=unit)
            if label not in contours:
                contours[label] = self._motif_contour()
            contour = contours[label]
            if phrase_pos in (1, 3):
                contour = self._vary(contour)
            if phrase_pos == 3 or last_of_section:
                # cadence bar: the rhythm's opening, then a long chord tone
                head = [r for r in rhythm if r[0] < bar_len / 2][:2] or rhythm[:1]
                rhythm = head + [(bar_len / 2, bar_len * 0.45)]
            # planned register: an arch over the phrase, higher in louder sections
            centre = (lo + hi) / 2 + (-2, 1, 4, 0)[phrase_pos] + 5 * (e - 0.5)
            notes_here = []
            for (off, dur), step in zip(rhythm, contour * 4, strict=False):
                start = b0 + off
                if start >= b1:
                    break
                if pos_pitch < centre - 4 and step < 0:
                    step = -step
                elif pos_pitch > centre + 4 and step > 0:
                    step = -step
                ch = self._chord_at(start)
                strong = abs(off - round(off)) < 1e-6 and (round(off) % max(1, self.bpb // 2) == 0)
                pitch = self._next_pitch(pos_pitch, step, ch, strong or dur >= 1.0, lo, hi)
                notes_here.append((start, min(start + dur, b1), pitch))
                pos_pitch = pitch
            vel = 48 + 55 * e
            for k, (s0, s1, p) in enumerate(notes_here):
                self._add("melody", s0, s1, p, vel + (6 if k == 0 else 0))

    def refine_melody(self) -> None:
        """Above the accompaniment, no clashes with what sounds, few repeats, no
        parallel fifths or octaves with the bass (:func:`.melody.refine_melody`)."""
        if not self.parts["melody"]:
            return
        lo, hi = self.style.melody_register
        self.parts["melody"] = refine_melody(
            self.parts["melody"],
            accompaniment=self.parts["harmony"] + self.parts["pad"] + self.parts["arp"],
            bass=self.parts["bass"],
            chord_at=self._chord_at,
            scale_of=lambda ch: set(_scale(ch.key, leading_tone=ch.raised)),
            lo=lo,
            hi=hi,
        )

    def _motif_rhythm(self, bar_len: float, e: float) -> list[tuple[float, float]]:
        eighth = 1.0 / self.sub
        slots = int(round(bar_len / eighth))
        dens = float(np.clip(self.style.melody_density * (0.6 + 0.7 * e), 0.1, 0.9))
        onsets = [0]
        for k in range(1, slots):
            strong = k % self.sub == 0
            p = dens * (1.3 if strong else 0.7)
            if self.rng.random() < p:
                onsets.append(k)
        out = []
        for i, k in enumerate(onsets):
            nxt = onsets[i + 1] if i + 1 < len(onsets) else slots
            dur = (nxt - k) * eighth
            if dur > eighth and self.rng.random() < 0.25:
                dur -= eighth  # a breath before the next note
            out.append((k * eighth, dur))
        return out

    def _motif_contour(self) -> list[int]:
        steps = np.array([-1, 1, -2, 2, 0, 3, -3, 4, -4])
        w = np.array([30, 30, 9, 9, 7, 5, 5, 2.5, 2.5])
        out: list[int] = []
        for _ in range(12):
            if out and abs(out[-1]) >= 3:
                s = -int(np.sign(out[-1]))  # step back after a leap
            else:
                s = int(self.rng.choice(steps, p=w / w.sum()))
            out.append(s)
        return out

    def _vary(self, contour: list[int]) -> list[int]:
        c = list(contour)
        k = len(c) // 2
        for i in range(k, len(c)):
            if self.rng.random() < 0.5:
                c[i] = -c[i] if abs(c[i]) <= 2 else c[i]
        return c

    def _next_pitch(self, cur: int, step: int, ch: _Chord, strong: bool, lo: int, hi: int) -> int:
        scale = set(_scale(ch.key, leading_tone=ch.raised))
        deg = sorted(p for p in range(lo - 12, hi + 13) if p % 12 in scale)
        i = int(np.argmin([abs(p - cur) for p in deg]))
        j = i + step
        if deg[min(max(j, 0), len(deg) - 1)] > hi or deg[min(max(j, 0), len(deg) - 1)] < lo:
            j = i - step
        j = min(max(j, 0), len(deg) - 1)
        p = deg[j]
        if strong and p % 12 not in ch.pcs:
            tones = [q for q in deg if q % 12 in ch.pcs and lo <= q <= hi]
            if tones:
                p = min(tones, key=lambda q: (abs(q - p), q))
        return int(min(max(p, lo), hi))
