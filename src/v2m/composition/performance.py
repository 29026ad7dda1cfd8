"""Performance: how the written notes are played.

:func:`perform` runs last, on all parts together:

Swing
    In swung styles every note (drums, bass, chords, melody alike) that starts on the
    second eighth of a beat is delayed by ``swing / 2`` of a beat, so the band swings as
    one (before, only the hi-hat did).
Ensemble timing
    Each onset time on the grid gets one small offset (Gaussian, sigma 5 ms, at most
    12 ms), shared by every part that plays then: a band's feel, not a machine's, and
    never a flam between parts. Onsets at hits (cuts) and at the first beat stay exact.
Phrase dynamics
    Velocities follow the phrase: a four-bar arc (0.92, 0.98, 1.05, 0.95), downbeats a
    little stronger, off-beats a little softer, instead of random noise. The slower the
    tempo, the softer the band's off-beats (down to ``OFFBEAT[1]`` at 60 BPM; the tune
    keeps its line), so a listener taps the written beat, not its eighth notes: at 84 BPM
    both Essentia's and librosa's trackers heard pop at double time before.
Overlaps
    A note that starts while the same pitch still sounds in the same part ends the earlier
    one just before it, so a re-struck note is never cut off by the earlier note-off.
"""

from __future__ import annotations

import numpy as np

from .score import Note

__all__ = ["perform", "trim_overlaps"]

SIGMA_S = 0.005
MAX_S = 0.012
PHRASE_ARC = (0.92, 0.98, 1.05, 0.95)
#: Velocity factor of notes off the beat: from OFFBEAT[0] at SLOW_BPM[1] and faster to
#: OFFBEAT[1] at SLOW_BPM[0] and slower.
OFFBEAT = (0.94, 0.55)
SLOW_BPM = (60.0, 90.0)


def trim_overlaps(notes: list[Note], *, gap: float = 0.01) -> list[Note]:
    """End a note ``gap`` beats before the next onset of the same pitch; drop notes that
    would become shorter than ``gap``. Returns the notes sorted by onset."""
    notes = sorted(notes, key=lambda n: (n.start, n.pitch, n.end))
    last: dict[int, Note] = {}
    out = []
    for n in notes:
        p = last.get(n.pitch)
        if p is not None and p.end > n.start - gap:
            if n.start - p.start <= gap:  # the same onset twice: keep the longer, louder one
                p.end = max(p.end, n.end)
                p.velocity = max(p.velocity, n.velocity)
                continue
            p.end = round(n.start - gap, 6)
        out.append(n)
        last[n.pitch] = n
    return [n for n in out if n.end - n.start >= gap / 2]


def perform(
    parts: dict[str, list[Note]],
    *,
    beats_s: list[float],
    downbeats: list[int],
    swing: float,
    sub: int,
    exact_beats: set[float],
    end_beat: float,
    seed: int,
) -> dict[str, list[Note]]:
    """Apply swing, ensemble timing, phrase dynamics and overlap trimming (module
    docstring) to every part; returns the new parts.

    Parameters
    ----------
    beats_s : list of float
        The grid (seconds per beat index), for turning milliseconds into beats.
    swing : float
        0..0.33 of an eighth note (0: straight).
    sub : int
        Eighth notes per beat (2, or 3 in 6/8).
    exact_beats : set of float
        Beat positions (rounded to 1e-3) that must not move (hits, cuts).
    """
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 31337])
    b = np.asarray(beats_s, float)
    periods = np.diff(b)
    db = np.asarray(downbeats, float)
    offsets: dict[float, float] = {}

    def period_at(beat: float) -> float:
        return float(periods[int(np.clip(beat, 0, len(periods) - 1))])

    def shift(beat: float) -> float:
        key = round(beat, 3)
        if key in offsets:
            return offsets[key]
        if key in exact_beats or beat <= 1e-6 or beat >= end_beat - 1.0:
            offsets[key] = 0.0
            return 0.0
        ms = float(np.clip(rng.normal(0, SIGMA_S), -MAX_S, MAX_S))
        offsets[key] = ms / period_at(beat)
        return offsets[key]

    def level(beat: float, role: str) -> float:
        bar = int(np.searchsorted(db, beat + 1e-6)) - 1
        arc = PHRASE_ARC[max(bar, 0) % 4]
        frac = beat - np.floor(beat + 1e-6)
        on_bar = bar >= 0 and abs(beat - db[bar]) < 1e-3
        off = OFFBEAT[0] if role == "melody" else offbeat(beat)  # the tune keeps its line
        accent = 1.06 if on_bar else (1.0 if frac < 1e-3 else off)
        return arc * accent

    def offbeat(beat: float) -> float:
        """Off-beats are softer the slower the tempo, so a listener taps the written beat,
        not the eighth notes (:data:`SLOW_BPM`)."""
        bpm = 60.0 / period_at(beat)
        t = float(np.clip((SLOW_BPM[1] - bpm) / (SLOW_BPM[1] - SLOW_BPM[0]), 0.0, 1.0))
        return OFFBEAT[0] + (OFFBEAT[1] - OFFBEAT[0]) * t

    out: dict[str, list[Note]] = {}
    for role, notes in parts.items():
        new = []
        for n in notes:
            s, e = n.start, n.end
            frac = s - np.floor(s + 1e-6)
            if swing and sub == 2 and abs(frac - 0.5) < 1e-3:
                d = swing * 0.5
                s, e = s + d, max(e + (d if e - n.start <= 0.5 else 0.0), s + 0.05)
            s += shift(n.start)
            e += min(0.0, shift(n.end))  # ends move only earlier: never into a stop or a cut
            vel = int(np.clip(round(n.velocity * level(n.start, role)), 1, 127))
            new.append(Note(round(max(0.0, s), 6), round(min(e, end_beat), 6), n.pitch, vel))
        out[role] = trim_overlaps([n for n in new if n.end > n.start])
    return out
