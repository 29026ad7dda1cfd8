"""Stage 3: :class:`~v2m.cuesheet.CueSheet` -> multi-track score (MIDI).

:func:`compose` is deterministic: the same cue sheet (including its ``seed``) gives a
byte-identical MIDI file. The music is built in beats and placed on the cue sheet's own
beat grid, so every beat of the file sounds at ``beats_s[i]``.

Harmony
    Each section takes a progression loop from the style's vocabulary (sections with the
    same label reuse theirs, so an A section returns as A). Bars are varied with the
    functional substitutions of tonal harmony (I <-> vi, IV <-> ii, V <-> vii°), each
    section ends on a half cadence (predominant -> V) and the piece on an authentic
    (V -> I) or plagal (IV -> I) cadence. Minor keys use the harmonic-minor dominant
    (raised leading tone) wherever the dominant sounds, so the key cannot be heard as its
    relative major. Chords are voiced in close position and voice-led: of all
    inversions in the register, the one with the least total movement from the previous
    voicing is taken.
Melody
    Four-bar phrases built from a one-bar motif (rhythm + contour in scale steps): motif,
    varied motif, motif, cadence. Motifs are kept per section label, so they return.
    Steps dominate, a leap is followed by a step back, strong beats take chord tones,
    phrases end on long notes and rests let it breathe; the range is the style's register
    (at most about an octave and a half).
Rhythm
    Style grooves for drums per energy level (low: sparse, high: full), fills in the bar
    before a new section, crashes at sections and hits; bass patterns per style with
    approach notes at high energy; the harmony's rhythm (pad, block, strum, broken,
    off-beat) per style (:mod:`.accompaniment`, :mod:`.drums`).
Ending
    A held tonic chord released inside the video, or a stop (:mod:`.ending`).
Hits
    Every hit is placed at its exact time on the grid, with a breath before it, the tune
    and the whole band on it (:mod:`.hits`).
Dialogue
    Under the cue's speech spans the tune rests, the harmony holds, the drums keep a soft
    pulse without fills or crashes; in long pauses the tune answers (:mod:`.dialogue`).
"""

from __future__ import annotations

import numpy as np

from ..cuesheet import CueSheet, time_to_beat
from ..styles import PROGRAM_LEVEL_DB, get_style
from .accompaniment import PAD_BELOW, AccompanimentMixin
from .dialogue import DialogueMixin
from .ending import FINAL_CHORD_S, RELEASE_S, EndingMixin
from .harmony import _Chord
from .hits import BREATH_MAX_S, FLAM_S, HitsMixin
from .melody import MelodyMixin
from .mixing import CC_VOLUME, db_to_cc, mix_controls, role_mix
from .performance import perform
from .score import PPQ, ROLE_CHANNELS, ROLES, Note, Score

__all__ = [
    "Note",
    "Score",
    "compose",
    "PPQ",
    "ROLE_CHANNELS",
    "ROLES",
    "BREATH_MAX_S",
    "FLAM_S",
    "FINAL_CHORD_S",
    "RELEASE_S",
    "PAD_BELOW",
]


# ===================================================================== composer


class _Composer(AccompanimentMixin, MelodyMixin, HitsMixin, EndingMixin, DialogueMixin):
    def __init__(self, cue: CueSheet):
        cue.validate()
        self.cue = cue
        self.style = get_style(cue.style)
        self.rng = np.random.default_rng(cue.seed)
        self.bpb = cue.beats_per_bar
        self.sub = 3 if cue.meter == "6/8" else 2  # eighth notes per beat
        self.end_beat = float(time_to_beat(cue.duration_s, cue.beats_s))
        self.parts: dict[str, list[Note]] = {r: [] for r in ROLES}
        #: (breath start, hit) beats of the accents: the pedal is lifted over them
        self.accents: list[tuple[float, float]] = []
        self.programs = {r: p for r, p in self.style.programs.items()}
        self.programs.update({r: int(p) for r, p in cue.instruments.items()})
        self._bars()

    # --------------------------------------------------------------- grid
    def _bars(self) -> None:
        cue = self.cue
        db = [d for d in cue.downbeats if d < self.end_beat - 0.5]
        if not db:
            db = [cue.downbeats[0]]
        bars = []
        for i, d in enumerate(db):
            nxt = db[i + 1] if i + 1 < len(db) else min(d + self.bpb, self.end_beat)
            bars.append((float(d), float(max(nxt, d + 1))))
        self.bars = bars
        bar_t = np.interp([b[0] for b in bars], np.arange(len(cue.beats_s)), cue.beats_s)
        secs = cue.sections
        self.bar_sections = []
        for t in bar_t:
            si = 0
            for k, s in enumerate(secs):
                if s.start_s - 1e-3 <= t:
                    si = k
            self.bar_sections.append(si)
        given = cue.bar_energy() if cue.energy else []
        self.bar_energy = []
        for i in range(len(bar_t)):
            if i < len(given):
                e = given[i]
            elif secs:
                e = secs[self.bar_sections[i]].energy
            else:
                e = 0.6
            self.bar_energy.append(float(e))

    def _label(self, bi: int) -> str:
        return self.cue.sections[self.bar_sections[bi]].label if self.cue.sections else "A"

    def _add(self, role: str, start: float, end: float, pitch: int, vel: float) -> None:
        if start >= self.end_beat - 1e-6 or end <= start:
            return
        end = min(end, self.end_beat)
        v = int(np.clip(round(vel + self.rng.normal(0, 1.5)), 1, 127))
        self.parts[role].append(Note(round(start, 6), round(end, 6), int(pitch), v))

    # --------------------------------------------------------------- parts
    def _energy_at(self, beat: float) -> float:
        for bi, (b0, b1) in enumerate(self.bars):
            if b0 <= beat < b1:
                return self.bar_energy[bi]
        return self.bar_energy[-1]

    def _trim_role(self, role: str, at: float) -> None:
        for n in self.parts[role]:
            if n.start < at < n.end:
                n.end = round(at, 6)

    def _chord_at(self, beat: float) -> _Chord:
        for ch in self.chords:
            if ch.start <= beat < ch.end:
                return ch
        return self.chords[-1]

    def run(self) -> Score:
        self.harmony()
        self.bass()
        self.melody()
        self.arp()
        self.drums()
        self.ending()
        self.hits()  # after the ending: a cut inside the final chord is still marked
        self.refine_melody()
        self.around_dialogue()  # after the hits: cuts under speech stay light
        cue = self.cue
        exact = {round(float(time_to_beat(h.time_s, cue.beats_s)), 3) for h in cue.hits}
        self.parts = perform(
            self.parts,
            beats_s=cue.beats_s,
            downbeats=cue.downbeats,
            swing=self.style.swing,
            sub=self.sub,
            exact_beats=exact,
            end_beat=self.end_beat,
            seed=cue.seed,
        )
        self.lead_hit_drums(exact)
        controls = mix_controls(
            self.style,
            self.parts,
            bars=self.bars,
            bar_energy=self.bar_energy,
            chord_starts=[c.start for c in self.chords],
            hits=[(float(time_to_beat(h.time_s, cue.beats_s)), h.strength) for h in cue.hits],
            accents=self.accents,
        )
        changes = self._program_changes()
        for role, evs in changes.items():  # a new colour keeps the role's level
            base = self.programs[role]
            level = role_mix(self.style, role).level_db
            for beat, prog in evs:
                known = base in PROGRAM_LEVEL_DB and prog in PROGRAM_LEVEL_DB
                gain = PROGRAM_LEVEL_DB[base] - PROGRAM_LEVEL_DB[prog] if known else 0.0
                controls.setdefault(role, []).append((beat, CC_VOLUME, db_to_cc(level + gain)))
        names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
        chords = [
            (c.start, names[c.root_pc] + ("m" if (c.pcs[1] - c.pcs[0]) % 12 == 3 else ""))
            for c in self.chords
        ]
        return Score(
            cue=self.cue,
            parts=self.parts,
            programs={r: p for r, p in self.programs.items()},
            chords=chords,
            drum_kit=self.style.drum_kit,
            controls=controls,
            program_changes=changes,
            breaths=[(a, b - self._hit_lead_beats(b)) for a, b in self.accents if b > a],
        )

    def _program_changes(self) -> dict[str, list[tuple[float, int]]]:
        """Per role, (beat, program) where a section's ``instruments`` change the colour:
        at its first beat, and back to the cue's program where the next section starts."""
        cue = self.cue
        out: dict[str, list[tuple[float, int]]] = {}
        roles = {r for s in cue.sections for r in (s.instruments or {}) if r in self.programs}
        now = dict(self.programs)
        for sec in sorted(cue.sections, key=lambda s: s.start_s):
            beat = float(time_to_beat(sec.start_s, cue.beats_s))
            for role in sorted(roles):
                want = int((sec.instruments or {}).get(role, self.programs[role]))
                if want != now[role]:
                    out.setdefault(role, []).append((round(beat, 6), want))
                    now[role] = want
        return out


def compose(cue: CueSheet) -> Score:
    """Compose a multi-track score for ``cue``.

    Parameters
    ----------
    cue : CueSheet
        A valid cue sheet (it is validated first).

    Returns
    -------
    Score
        Notes per role; ``Score.save(path)`` writes the MIDI file whose beat ``i`` sounds at
        ``cue.beats_s[i]``.
    """
    return _Composer(cue).run()
