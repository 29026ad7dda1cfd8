"""Music written around speech (a mixin of the composer, which owns the parts and grid).

A film composer leaves room for the voice: under each of the cue sheet's ``dialogue``
spans (from ``SPEECH_LEAD_S`` before the first syllable to ``SPEECH_TAIL_S`` after the
last),

* the tune rests (a note reaching into the span ends at its start; none starts inside),
  and the plucked figuration (arp) is left out;
* the harmony is sustained: the chord sounding when the voice starts is held, and inside
  the span a chord is struck only where it changes, and held to its end;
* the drums keep a soft pulse (kick and closed hi-hat); no fill, crash or snare starts
  there, except the light accent of a cut (projection marks cuts under speech lightly);
* bass, pad and harmony play ``SPEECH_VELOCITY`` as hard: lower energy.

In a pause of at least ``ANSWER_PAUSE_S`` the music answers: the tune comes back, a
little louder than composed (``ANSWER_ACCENT`` velocity), with the band at its full
energy. :func:`answers` lists those pauses for the report.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import numpy as np

from ..cuesheet import CueSheet, time_to_beat
from .score import Note

__all__ = [
    "DialogueMixin",
    "answers",
    "SPEECH_LEAD_S",
    "SPEECH_TAIL_S",
    "ANSWER_PAUSE_S",
    "PULSE_UNDER_SPEECH",
]

#: The tune is out this long before the voice starts, and back this long after it ends.
SPEECH_LEAD_S = 0.3
SPEECH_TAIL_S = 0.15
#: A pause this long (s) is answered by the tune.
ANSWER_PAUSE_S = 1.5
ANSWER_ACCENT = 6
#: Velocity factor of harmony, bass and pad under speech; of the drums' pulse.
SPEECH_VELOCITY = 0.75
PULSE_VELOCITY = 0.6
#: General MIDI drum notes that keep the pulse under speech: kicks, closed/pedal hi-hat.
PULSE_UNDER_SPEECH = frozenset({35, 36, 42, 44})
#: Drum notes of a light accent (a cut under speech): kicks and snares, no cymbal.
LIGHT_ACCENT = frozenset({35, 36, 38, 40})


def _spans_beats(cue: CueSheet) -> list[tuple[float, float]]:
    """Dialogue spans in beats, widened by the lead and the tail."""
    out = []
    for d in cue.dialogue:
        a = max(0.0, d.start_s - SPEECH_LEAD_S)
        b = min(cue.duration_s, d.end_s + SPEECH_TAIL_S)
        out.append((float(time_to_beat(a, cue.beats_s)), float(time_to_beat(b, cue.beats_s))))
    return out


def _pauses_s(cue: CueSheet) -> list[tuple[float, float]]:
    """The gaps between dialogue spans (and after the last), in seconds."""
    bounds = [(d.start_s, d.end_s) for d in cue.dialogue]
    if not bounds:
        return []
    out = []
    for (_, e), (s, _) in zip(bounds, bounds[1:] + [(cue.duration_s, None)], strict=True):
        if s - e >= ANSWER_PAUSE_S:
            out.append((e, s))
    if bounds and bounds[0][0] >= ANSWER_PAUSE_S:
        out.insert(0, (0.0, bounds[0][0]))
    return out


def answers(cue: CueSheet, melody: list[Note]) -> list[dict]:
    """The pauses between speech (at least ``ANSWER_PAUSE_S`` long) in which the tune
    answers: ``start_s``, ``end_s`` and the number of melody ``notes`` in the pause."""
    out = []
    starts = np.sort(np.interp([m.start for m in melody], np.arange(len(cue.beats_s)), cue.beats_s))
    for a, b in _pauses_s(cue):
        n = int(np.searchsorted(starts, b - SPEECH_LEAD_S) - np.searchsorted(starts, a))
        if n > 0:
            out.append({"start_s": round(a, 3), "end_s": round(b, 3), "notes": n})
    return out


class DialogueMixin:
    """The composer's method that writes around the cue's dialogue (see the module doc).
    Spans, chords and notes are found by bisection: a long video has thousands of each."""

    def around_dialogue(self) -> None:
        spans = _spans_beats(self.cue)
        if not spans:
            return
        self._span_ends = [b for _, b in spans]
        hit_beats = [float(time_to_beat(h.time_s, self.cue.beats_s)) for h in self.cue.hits]
        light = {round(b, 3) for b in hit_beats if self._span_at(spans, b, b) is not None}
        for role in list(self.parts):
            self.parts[role] = [
                n for n in self.parts[role] if self._under_speech(role, n, spans, light)
            ]
        self._hold_harmony(spans)
        self.accents = [(x, y) for x, y in self.accents if self._span_at(spans, y, y) is None]
        self._answer()

    def _span_at(self, spans, start: float, end: float) -> tuple[float, float] | None:
        """The first span that ``start``..``end`` (beats) overlaps (a point: contains)."""
        i = bisect_right(self._span_ends, start)
        if i < len(spans):
            a, b = spans[i]
            if (a <= start < b) or (start < b and end > a):
                return a, b
        return None

    def _under_speech(self, role: str, n: Note, spans, light: set[float]) -> bool:
        """Whether note ``n`` stays, changed as the module docstring says."""
        span = self._span_at(spans, n.start, n.end)
        if span is None:
            return True
        a, b = span
        inside = a <= n.start < b
        if role in ("melody", "arp"):
            if inside:
                return False
            n.end = round(min(n.end, a), 6)
            return n.end - n.start >= 0.25
        if not inside:
            return True
        if role == "drums":
            if round(n.start, 3) in light and n.pitch in LIGHT_ACCENT:
                return True  # a cut under speech, marked lightly
            if n.pitch not in PULSE_UNDER_SPEECH:
                return False
            n.velocity = max(1, int(round(n.velocity * PULSE_VELOCITY)))
            return True
        n.velocity = max(1, int(round(n.velocity * SPEECH_VELOCITY)))
        return True

    def _hold_harmony(self, spans) -> None:
        """Inside each span the harmony strikes only where the chord changes, and holds
        each chord to its end (or the span's): the chord sounding at the span's start is
        held from its last onset before it."""
        harm = self.parts["harmony"]
        chord_starts = [c.start for c in self.chords]
        by_chord: dict[int, list[Note]] = {}
        for n in harm:
            by_chord.setdefault(bisect_right(chord_starts, n.start) - 1, []).append(n)
        drop: set[int] = set()
        for a, b in spans:
            first_ci = max(0, bisect_right(chord_starts, a) - 1)
            for ci in range(first_ci, bisect_left(chord_starts, b)):
                ch = self.chords[ci]
                notes = by_chord.get(ci, [])
                onsets = sorted({n.start for n in notes if n.start < min(ch.end, b)})
                if not onsets:
                    continue
                before = [t for t in onsets if t < a]
                first = before[-1] if before else onsets[0]
                end = round(min(ch.end, b), 6)
                for n in notes:
                    if n.start == first:
                        n.end = max(n.end, end)
                    elif a <= n.start < b:
                        drop.add(id(n))
        if drop:
            self.parts["harmony"] = [n for n in harm if id(n) not in drop]

    def _answer(self) -> None:
        """In long pauses the tune answers, a little louder than composed."""
        mel = sorted(self.parts["melody"], key=lambda n: n.start)
        starts = [n.start for n in mel]
        for a_s, b_s in _pauses_s(self.cue):
            a = float(time_to_beat(a_s + SPEECH_TAIL_S, self.cue.beats_s))
            b = float(time_to_beat(max(a_s, b_s - SPEECH_LEAD_S), self.cue.beats_s))
            for n in mel[bisect_left(starts, a) : bisect_left(starts, b)]:
                n.velocity = int(min(127, n.velocity + ANSWER_ACCENT))
