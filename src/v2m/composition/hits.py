"""Hits: accents at their exact times, as loud against their surroundings as their
strength says (a mixin of the composer, which owns the parts, grid and style).

For a hit at least 0.5 strong, outside the final chord:

Breath
    Above energy ``BREATH_ABOVE`` the band leaves a sixteenth (at most ``BREATH_MAX_S``)
    before it: sustained notes stop early and the drums leave it empty; bass and pad
    hold the floor. The score marks the breath (:attr:`Score.breaths`) and the master
    takes the whole mix down there, ringing tails included, as far as a floor allows (see
    :mod:`v2m.rendering.mastering`): stopping bass and pad too had left some breaths of
    a quiet groove at -46 dBFS, and hits stood out less (onset at hits against ordinary
    downbeats on pop/lofi montages 1.66-2.37x with it, 1.81-2.72x without).
Flams
    A hit between beats (a cut caught off the grid) takes the onsets of the band that
    would sound within ``FLAM_S`` of it (or in its breath): pitched notes move onto the
    hit, drum notes are dropped.
The tune
    A melody note held across the hit is struck again on it; a note it starts there is
    accented like the stab.
The band
    A plucked layer (the style's arp instrument), crash, kick and snare (a second crash
    and a clap outside the orchestra kit), a chord stab (doubled an octave up without
    drums), a low bass note. Inside the held final chord only a bell-like note above it.
``kind="stop"`` also silences the beat before the hit.
"""

from __future__ import annotations

import numpy as np

from ..cuesheet import beat_period_s, time_to_beat
from .harmony import BASS_RANGE, _bass_note, _voice
from .score import ROLES, Note

__all__ = ["HitsMixin", "BREATH_ABOVE", "BREATH_MAX_S", "FLAM_S", "KIT_LEAD_S"]

#: A breath before strong hits only at this energy or above: in the quietest passages the
#: hit stands out anyway. (It was 0.45 while the breath also stopped bass and pad, which
#: could fall silent; with the master's floor, 0.25 lifts the onset at lofi's hits
#: against ordinary downbeats by ~0.1x and leaves the quietest 100 ms where it was.)
BREATH_ABOVE = 0.25
#: The breath lasts a sixteenth, at most this long (seconds).
BREATH_MAX_S = 0.16
#: Onsets of the band this close to an off-grid hit would flam with it (seconds).
FLAM_S = 0.1
#: Drum kits whose hit sounds build their attack more slowly than the standard kit's
#: (seconds): the hit's drums start this much before the cut, so the attack is heard at it.
#: MuseScore General's orchestra kit (bass drum, cymbals) is placed by librosa's onset
#: detector 30 ms after the note-on, the standard kit's kick and snare 19-20 ms after;
#: on 60-180 s cinematic montages 85-94 % of the cuts were heard as an onset within 35 ms,
#: with the lead 94-100 %.
KIT_LEAD_S = {48: 0.010}


class HitsMixin:
    """The composer's hit methods (see the module docstring)."""

    def hits(self) -> None:
        """Accents at their exact times, as loud against their surroundings as their strength
        says: crash and kick (styles with drums), a chord stab, a low bass note."""
        cue = self.cue
        final_from = self.bars[self.final_bar][0] if cue.ending == "cadence" else 1e9
        for h in cue.hits:
            b = float(time_to_beat(h.time_s, cue.beats_s))
            if b >= self.end_beat - 0.05:
                continue
            e = self._energy_at(b)
            vel = min(127.0, 72 + 25 * e + 30 * h.strength)
            if h.kind == "stop":
                self._stop_before(b)
            in_final = b >= final_from - 1e-6
            # the final chord is never broken off; in the quietest passages the hit stands
            # out anyway
            if h.strength >= 0.5 and not in_final:
                breath = e >= BREATH_ABOVE
                # melody notes held across the hit, taken before the breath trims them
                mel = self.parts["melody"]
                held = [(n, n.end) for n in mel if n.start < b - 1e-6 < n.end - 0.1]
                self._clear_flams(b, before=self._breath_beats(b) if breath else None)
                if breath:
                    self._breath(b)
                self._tune_on_hit(b, vel, held)
                self.accents.append((b - self._breath_beats(b) if breath else b, b))
            self._hit_band(h, b, vel, in_final=in_final)

    def _stop_before(self, b: float) -> None:
        """A stop hit: everything ends a beat before it and nothing starts in that beat."""
        for role in ROLES:
            for n in self.parts[role]:
                if n.start < b and n.end > b - 1:
                    n.end = round(max(n.start + 0.05, b - 1), 6)
            self.parts[role] = [n for n in self.parts[role] if not (b - 1 <= n.start < b)]

    def _clear_flams(self, b: float, *, before: float | None) -> None:
        """No onset of the band a few tens of milliseconds beside a hit that is off the grid
        (a cut caught between beats): such a note would be heard as a flam and take the
        hit's attack. Pitched notes starting in the breath (``before`` beats) or within
        ``FLAM_S`` of the hit move onto the hit; drum notes there are dropped (the hit
        brings its own)."""
        t = float(np.interp(b, np.arange(len(self.cue.beats_s)), self.cue.beats_s))
        lo_b = b - before if before else float(time_to_beat(t - FLAM_S, self.cue.beats_s))
        hi_b = float(time_to_beat(t + FLAM_S, self.cue.beats_s))
        for role in ROLES:
            near = [n for n in self.parts[role] if lo_b - 1e-6 <= n.start < hi_b and n.start != b]
            if not near:
                continue
            if role == "drums":
                self.parts[role] = [n for n in self.parts[role] if n not in near]
                continue
            for n in near:
                n.start = b
            self.parts[role] = [n for n in self.parts[role] if n.end - n.start >= 0.05]

    def _tune_on_hit(self, b: float, vel: float, held: list[tuple[Note, float]]) -> None:
        """The tune takes part in a hit: a melody note ``held`` across it (note and its
        end before the breath) is struck again on it (accented, after the breath; the
        melody's refinement may re-pitch it); a note it starts there is accented."""
        mel = self.parts["melody"]
        through = held
        for n in mel:
            if abs(n.start - b) < 0.05:
                n.velocity = int(max(n.velocity, vel))
        for n, end in through:
            n.end = round(min(n.end, b - 0.05), 6)
            self._add("melody", b, end, n.pitch, max(n.velocity, vel))

    def _hit_band(self, h, b: float, vel: float, *, in_final: bool) -> None:
        """The band's part of a hit: a plucked layer, cymbals and drums, a chord stab
        (doubled without drums) and a low bass note; inside the final chord only a bell-like
        note above it."""
        if "arp" in self.programs:
            # a plucked or struck layer (pizzicato, guitar, piano, ...) gives the
            # accent an attack as sharp as the cut, where bowed or blown parts speak
            # tens of milliseconds late
            ch0 = self._chord_at(b)
            dur = 1.0 if not self.style.drums else 0.5
            for p in _voice(ch0.pcs, None, *self.style.harmony_register):
                self._add("arp", b, b + dur, p + 12, vel)
        if self.style.drums:
            strong = h.strength >= 0.5 or h.kind in ("cymbal", "user")
            if strong:
                self._add("drums", b, b + 1.0, 49 if h.kind != "impact" else 57, vel)
            if strong and self.style.drum_kit != 48:
                # a second crash and a clap: broadband, so the hit stands out of the
                # groove's own downbeats (kick, bass and a chord change); the orchestra
                # kit's cymbals and bass drum are enough there
                self._add("drums", b, b + 1.0, 57 if h.kind != "impact" else 49, 0.9 * vel)
                self._add("drums", b, b + 0.2, 39, vel)
            self._add("drums", b, b + 0.2, 36, vel)
            # a snare (concert snare in the orchestra kit) gives the accent a sharp
            # attack that is heard at the cut, not some tens of ms later
            self._add("drums", b, b + 0.1, 38, vel)
        ch = self._chord_at(b)
        v = _voice(ch.pcs, None, *self.style.harmony_register, first_inversion=ch.diminished)
        if in_final:
            # inside the held final chord a stab on the same pitches would cut it
            # short: a bell-like accent an octave above its top instead
            if not self.style.drums:
                self._add("harmony", b, b + 0.5, max(v) + 12, vel)
            return
        if h.strength < 0.5 and _sustained(self.programs.get("harmony", 0)):
            return  # a light accent: bowed or blown stabs would blur its attack
        for p in v:
            self._add("harmony", b, b + 0.5, p, vel)
        if h.strength >= 0.5 and not self.style.drums:
            # without drums the hit is the whole band: the chord doubled an octave up
            for p in v:
                if p + 12 <= 108:
                    self._add("harmony", b, b + 0.5, p + 12, vel)
        if "bass" in self.programs:
            lo, hi = BASS_RANGE.get(self.programs.get("bass", -1), (31, 50))
            self._add("bass", b, b + 1.0, _bass_note(ch.bass_pc, None, lo=lo, hi=hi), vel)

    def _hit_lead_beats(self, beat: float) -> float:
        """The kit's lead (``KIT_LEAD_S``) at ``beat``, in beats."""
        lead = KIT_LEAD_S.get(self.style.drum_kit, 0.0) if self.style.drums else 0.0
        if not lead:
            return 0.0
        return lead / max(beat_period_s(self.cue.beats_s, beat), 1e-6)

    def lead_hit_drums(self, exact: set[float]) -> None:
        """Start the drum notes on the hits (beats ``exact``, rounded to 1e-3) early by the
        kit's lead, after the performance pass (which keeps them exactly on the hits)."""
        for n in self.parts["drums"]:
            if round(n.start, 3) in exact:
                n.start = round(max(0.0, n.start - self._hit_lead_beats(n.start)), 6)

    def _breath(self, beat: float) -> None:
        """A breath before a strong hit: sustained notes stop a sixteenth early and the
        drums leave it empty, so the hit is heard as an event; bass and pad keep sounding
        under it (the master takes the breath down, see the module docstring)."""
        at = beat - self._breath_beats(beat)
        for role in ("harmony", "arp", "melody"):
            self._trim_role(role, at)
        self.parts["drums"] = [
            n for n in self.parts["drums"] if not (at - 1e-6 <= n.start < beat - 1e-6)
        ]

    def _breath_beats(self, beat: float) -> float:
        """The breath before a hit at ``beat``: a sixteenth, at most ``BREATH_MAX_S``
        (in slow tempi a longer gap would fall silent)."""
        period = beat_period_s(self.cue.beats_s, beat)
        return min(0.5 / self.sub, BREATH_MAX_S / max(period, 1e-6))


def _sustained(program: int) -> bool:
    """General MIDI programs that speak slowly: strings, ensembles, choirs, brass, reeds,
    pipes and synth pads."""
    return 40 <= program <= 79 or 88 <= program <= 95
