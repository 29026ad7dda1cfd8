"""Harmony: chords per bar from progressions written for each mode, and voice leading."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cuesheet import CueSheet, Key, parse_key
from ..styles import MODES, Style

_SUBSTITUTES = {0: (5, 2), 1: (3,), 2: (0, 5), 3: (1, 5), 4: (6,), 5: (0, 3), 6: (4,)}

#: Progression loops (scale degrees, 0 = tonic) written for each modal colour: they lean on
#: the mode's characteristic chord (dorian IV, mixolydian bVII, lydian II, phrygian bII)
#: and avoid its diminished triad. Major and minor keys use the style's own loops.
MODE_LOOPS: dict[str, tuple[tuple[int, ...], ...]] = {
    "dorian": ((0, 3, 0, 3), (0, 6, 3, 0), (0, 2, 3, 0), (0, 4, 3, 6), (0, 3, 6, 0)),
    "mixolydian": ((0, 6, 3, 0), (0, 6, 0, 3), (0, 4, 6, 3), (0, 3, 6, 0), (3, 6, 0, 0)),
    "lydian": ((0, 1, 0, 1), (0, 1, 5, 0), (0, 5, 1, 4), (0, 1, 2, 1)),
    "phrygian": ((0, 1, 0, 1), (0, 1, 2, 1), (0, 5, 1, 0), (0, 6, 1, 0), (0, 3, 1, 0)),
}

#: The approach to a cadence per mode: (predominant, dominant-function chord) -> tonic.
#: Minor and dorian raise the leading tone of their cadential dominant (harmonic minor);
#: minor raises it in every dominant chord, loops included (see :func:`_plan_harmony`).
CADENCES: dict[str, tuple[int, int]] = {
    "major": (3, 4),
    "minor": (3, 4),
    "dorian": (3, 4),
    "mixolydian": (3, 6),
    "lydian": (1, 4),
    "phrygian": (6, 1),
}


@dataclass
class _Chord:
    degree: int
    pcs: tuple[int, ...]  # pitch classes, root first
    root_pc: int
    start: float
    end: float
    key: Key
    raised: bool = False  # dominant in minor (cadential in dorian): harmonic-minor leading tone

    @property
    def diminished(self) -> bool:
        return (self.pcs[1] - self.pcs[0]) % 12 == 3 and (self.pcs[2] - self.pcs[0]) % 12 == 6

    @property
    def bass_pc(self) -> int:
        """The lowest note's pitch class: diminished triads stand in first inversion."""
        return self.pcs[1] if self.diminished else self.pcs[0]


def _scale(key: Key, *, leading_tone: bool = False) -> list[int]:
    s = [(key.tonic + x) % 12 for x in MODES[key.mode]]
    if leading_tone and key.mode in ("minor", "dorian"):
        s[6] = (key.tonic + 11) % 12
    return s


def _chord_pcs(key: Key, degree: int, *, seventh: bool, raised: bool) -> tuple[int, ...]:
    sc = _scale(key, leading_tone=raised)
    tones = [sc[degree % 7], sc[(degree + 2) % 7], sc[(degree + 4) % 7]]
    if seventh:
        tones.append(sc[(degree + 6) % 7])
    return tuple(tones)


def _is_diminished(key: Key, degree: int) -> bool:
    sc = _scale(key)
    r, t, f = sc[degree % 7], sc[(degree + 2) % 7], sc[(degree + 4) % 7]
    return (t - r) % 12 == 3 and (f - r) % 12 == 6


def _loops_for(style: Style, key: Key) -> tuple[tuple[int, ...], ...]:
    if key.mode in MODE_LOOPS:
        return MODE_LOOPS[key.mode]
    return style.loops_minor if key.mode == "minor" else style.loops_major


def _pick_loop(vocab, seed: int, label: str):
    """The loop for a section label: a generator of its own per (seed, label), so seeds
    that differ pick different loops (the first draw of seeds 0 and 1 agree too often)."""
    g = np.random.default_rng([int(seed) & 0xFFFFFFFF, sum(map(ord, label)), 7919])
    return vocab[int(g.integers(len(vocab)))]


def _pickup(cue: CueSheet, bars: list[tuple[float, float]], bar_sections: list[int]) -> bool:
    """True when the piece opens with a pickup: a first bar shorter than the meter (a
    dance's grid starts on the first beat, its bars on her strong beats) followed by a
    bar of the same section."""
    return (
        len(bars) > 1
        and bars[0][1] - bars[0][0] < cue.beats_per_bar - 1e-6
        and bar_sections[1] == bar_sections[0]
    )


def _plan_harmony(
    cue: CueSheet,
    style: Style,
    bars: list[tuple[float, float]],
    bar_sections: list[int],
    rng: np.random.Generator,
    *,
    final_bar: int | None = None,
) -> list[_Chord]:
    """Chords for every bar; with a cadence ending, bars from ``final_bar`` on hold the
    tonic and the bar before it carries the cadence.

    In minor keys every dominant chord is major (V, with the raised leading tone), in a
    loop as at a cadence: the natural-minor v leaves the relative major's pitch set whole,
    and madmom's key estimator named C major for A minor in 15 of 70 of v2m's pieces
    (4 after the change, ``bench/heard.py``). Dorian raises it at cadences only (its v
    chord is part of its colour)."""
    base_key = cue.key_obj
    loops_by_label: dict[str, tuple[int, ...]] = {}
    chords: list[_Chord] = []
    n_bars = len(bars)
    fb = n_bars - 1 if final_bar is None else final_bar
    pickup = _pickup(cue, bars, bar_sections)
    for bi, (b0, b1) in enumerate(bars):
        si = bar_sections[bi]
        sec = cue.sections[si] if cue.sections else None
        key = parse_key(sec.key) if sec is not None and sec.key else base_key
        label = sec.label if sec is not None else "A"
        lk = f"{label}/{key.name}"
        if lk not in loops_by_label:
            loops_by_label[lk] = _pick_loop(_loops_for(style, key), cue.seed, lk)
        loop = loops_by_label[lk]
        # the loop starts on the first full bar: a pickup plays the loop's last chord,
        # which leads into its first
        first_bar = bar_sections.index(si) + (1 if pickup and si == bar_sections[0] else 0)
        pos = bi - first_bar
        degree = loop[pos % len(loop)]
        if pos % len(loop) != 0 and rng.random() < 0.15:
            alt = [d for d in _SUBSTITUTES[degree] if not _is_diminished(key, d)]
            if alt:
                degree = int(rng.choice(alt))
        if _is_diminished(key, degree) and key.mode != "major":
            degree = (degree + 2) % 7  # modal and minor loops: the diatonic third above
        last_of_section = bi + 1 >= n_bars or bar_sections[bi + 1] != si
        is_final = bi >= fb
        is_penultimate = bi == fb - 1
        seventh = style.sevenths
        pre, dom = CADENCES[key.mode]
        # (degree, start, end, cadential)
        segs: list[tuple[int, float, float, bool]]
        if is_final and cue.ending == "cadence":
            segs = [(0, b0, b1, False)]
        elif is_penultimate and cue.ending == "cadence":
            plagal = style.final_cadence == "plagal"
            segs = [(3 if plagal else dom, b0, b1, not plagal)]
            if not plagal and b1 - b0 >= 2:
                mid = b0 + (b1 - b0) / 2
                segs = [(pre, b0, mid, False), (dom, mid, b1, True)]
        elif last_of_section and not is_final and b1 - b0 >= 2:
            mid = b0 + (b1 - b0) / 2
            first = degree if degree in (1, 3) and not _is_diminished(key, degree) else pre
            segs = [(first, b0, mid, False), (dom, mid, b1, True)]
        else:
            segs = [(degree, b0, b1, False)]
        for deg, s0, s1, cadential in segs:
            raised = deg == 4 and (cadential or key.mode == "minor")
            pcs = _chord_pcs(key, deg, seventh=seventh and deg != 6, raised=raised)
            chords.append(
                _Chord(
                    degree=deg, pcs=pcs, root_pc=pcs[0], start=s0, end=s1, key=key, raised=raised
                )
            )
    return chords


def _voice(
    pcs: tuple[int, ...], prev: list[int] | None, lo: int, hi: int, *, first_inversion=False
) -> list[int]:
    """Close-position voicing of ``pcs`` in [lo, hi] with least motion from ``prev``
    (``first_inversion``: the third lowest, as diminished triads are voiced)."""
    cands = []
    n = len(pcs)
    for inv in (1,) if first_inversion else range(n):
        order = pcs[inv:] + pcs[:inv]
        for base in range(lo, hi - 6):
            if base % 12 != order[0]:
                continue
            v = [base]
            for pc in order[1:]:
                nxt = v[-1] + 1
                while nxt % 12 != pc:
                    nxt += 1
                v.append(nxt)
            if v[-1] <= hi:
                cands.append(v)
    if not cands:
        root = lo + (pcs[0] - lo) % 12
        return [root + (pc - pcs[0]) % 12 for pc in pcs]
    if prev is None:
        mid = (lo + hi) / 2
        return min(cands, key=lambda v: (abs(np.mean(v) - mid), v))
    return min(
        cands,
        key=lambda v: (sum(abs(a - b) for a, b in zip(sorted(v), sorted(prev), strict=False)), v),
    )


#: Playable bass range (MIDI notes) per General MIDI program; others use 31..50.
BASS_RANGE = {42: (36, 57), 43: (28, 50), 32: (28, 50), 33: (28, 50), 0: (28, 52), 1: (28, 52)}


def _bass_note(pc: int, prev: int | None, *, lo: int = 31, hi: int = 50) -> int:
    """The bass note of pitch class ``pc`` in [lo, hi] nearest the previous one (the bass
    moves by the smaller interval instead of jumping back into one fixed octave)."""
    cands = [p for p in range(lo, hi + 1) if p % 12 == pc % 12]
    if prev is None:
        return min(cands, key=lambda p: (abs(p - 40), p))
    return min(cands, key=lambda p: (abs(p - prev), p))
