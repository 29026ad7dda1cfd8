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
    (raised leading tone). Chords are voiced in close position and voice-led: of all
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
    off-beat) per style.
Hits
    Every hit is placed at its exact time on the grid, with a breath before it, the tune
    and the whole band on it (:mod:`.hits`).
"""

from __future__ import annotations

import numpy as np

from ..cuesheet import CueSheet, time_to_beat
from ..styles import PROGRAM_LEVEL_DB, get_style
from .drums import fill, fill_kind, groove_bar
from .harmony import BASS_RANGE, _bass_note, _Chord, _plan_harmony, _scale, _voice
from .hits import BREATH_MAX_S, FLAM_S, HitsMixin
from .melody import MelodyMixin
from .mixing import CC_VOLUME, db_to_cc, mix_controls, role_mix
from .performance import perform
from .score import PPQ, ROLE_CHANNELS, ROLES, Note, Score

__all__ = ["Note", "Score", "compose", "PPQ", "ROLE_CHANNELS", "ROLES", "BREATH_MAX_S", "FLAM_S"]

#: The final tonic chord lasts at least this long (s), then is released this long (s)
#: before the end, so its release and reverb decay inside the video.
FINAL_CHORD_S = 2.0
RELEASE_S = 0.6
#: Below this energy a sustaining pad (where the style has one) joins the harmony.
PAD_BELOW = 0.5


# ===================================================================== composer


class _Composer(MelodyMixin, HitsMixin):
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
        self.bar_energy = []
        for i in range(len(bar_t)):
            if i < len(cue.energy):
                e = cue.energy[i]
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
    def harmony(self) -> None:
        st = self.style
        self.final_bar = self._final_bar()
        self.chords = _plan_harmony(
            self.cue, st, self.bars, self.bar_sections, self.rng, final_bar=self.final_bar
        )
        lo, hi = st.harmony_register
        prev = None
        self.voicings = []
        for ch in self.chords:
            v = _voice(ch.pcs, prev, lo, hi, first_inversion=ch.diminished)
            prev = v
            self.voicings.append(v)
            e = self._energy_at(ch.start)
            vel = 32 + 62 * e
            self._comp(ch, v, e, vel)
            if "pad" in self.programs and e < PAD_BELOW:
                # quiet passages: a soft sustaining layer under decaying instruments
                for p in v:
                    self._add("pad", ch.start, ch.end, p, 38 + 30 * e)

    def _energy_at(self, beat: float) -> float:
        for bi, (b0, b1) in enumerate(self.bars):
            if b0 <= beat < b1:
                return self.bar_energy[bi]
        return self.bar_energy[-1]

    def _comp(self, ch: _Chord, v: list[int], e: float, vel: float) -> None:
        kind = self.style.comp
        s0, s1 = ch.start, ch.end
        length = s1 - s0
        eighth = 1.0 / self.sub
        if kind == "pad":
            step = length if e < 0.7 or length < 2 else length / 2
            t = s0
            while t < s1 - 1e-6:
                for p in v:
                    self._add("harmony", t, min(t + step, s1), p, vel - 10)
                t += step
        elif e < 0.2:
            # quiet: a slow broken chord, one note a beat, each ringing to the chord's end,
            # so a decaying instrument never leaves the bar silent
            order = [0, 1, 2, 1] if len(v) >= 3 else [0, 1]
            t, k = s0, 0
            while t < s1 - 1e-6:
                self._add("harmony", t, s1, v[order[k % len(order)] % len(v)], vel - 8)
                t += 1.0
                k += 1
        elif kind == "block":
            step = 1.0 if e >= 0.45 else 2.0
            t = s0
            while t < s1 - 1e-6:
                for p in v:
                    self._add("harmony", t, min(t + step * 0.9, s1), p, vel - (0 if t == s0 else 8))
                t += step
        elif kind == "strum":
            pattern = [1, 0, 1, 1, 0, 1, 1, 1] if e >= 0.45 else [1, 0, 0, 0, 1, 0, 0, 0]
            n = int(round(length / eighth))
            for k in range(n):
                if not pattern[k % len(pattern)]:
                    continue
                t = s0 + k * eighth
                up = k % 2 == 1
                for j, p in enumerate(reversed(v) if up else v):
                    self._add(
                        "harmony",
                        t + 0.015 * j,
                        min(t + eighth * 1.8, s1),
                        p,
                        vel - (12 if up else 0),
                    )
        elif kind == "broken":
            order = [0, 2, 1, 2] if len(v) >= 3 else [0, 1]
            n = int(round(length / eighth))
            for k in range(n):
                t = s0 + k * eighth
                p = v[order[k % len(order)] % len(v)]
                self._add(
                    "harmony", t, min(t + eighth * 1.5, s1), p, vel - 12 + (8 if k == 0 else 0)
                )
        elif kind == "offbeat":
            t = s0
            while t < s1 - 1e-6:
                if e >= 0.45:
                    for p in v:
                        self._add("harmony", t + 0.5, min(t + 0.85, s1), p, vel)
                else:
                    for p in v:
                        self._add("harmony", t, min(t + 2.0, s1), p, vel - 10)
                t += 1.0 if e >= 0.45 else 2.0

    def bass(self) -> None:
        st = self.style
        if "bass" not in self.programs:
            return
        prev_root: int | None = None
        lo, hi = BASS_RANGE.get(self.programs["bass"], (31, 50))
        for i, ch in enumerate(self.chords):
            e = self._energy_at(ch.start)
            root = _bass_note(ch.bass_pc, prev_root, lo=lo, hi=hi)
            prev_root = root
            fifth = root + 7
            vel = 42 + 58 * e
            s0, s1 = ch.start, ch.end
            kind = st.bass
            if e < 0.25 and kind != "pedal":
                self._add("bass", s0, s1 - 0.05, root, 42 + 40 * e)  # quiet: soft and long
                continue
            if kind == "pedal":
                tonic = lo + (ch.key.tonic - lo) % 12
                self._add("bass", s0, s1, tonic, vel - 10)
                continue
            if kind == "octave" and e >= 0.6:
                t, k = s0, 0
                while t < s1 - 1e-6:
                    self._add(
                        "bass", t, t + 0.45, root + (12 if k % 2 else 0), vel - (8 if k % 2 else 0)
                    )
                    t += 0.5
                    k += 1
            elif kind in ("root5", "octave") and s1 - s0 >= 2 and e >= 0.4:
                half = (s1 - s0) / 2
                self._add("bass", s0, s0 + half * 0.95, root, vel)
                self._add(
                    "bass", s0 + half, s1 - 0.05, fifth if kind == "root5" else root + 12, vel - 6
                )
            else:
                self._add("bass", s0, s1 - 0.05, root, vel)
            # approach note into the next chord at high energy
            if e >= 0.7 and i + 1 < len(self.chords) and s1 - s0 >= 2:
                nxt = self.chords[i + 1]
                target = _bass_note(nxt.bass_pc, root, lo=lo, hi=hi)
                sc = _scale(ch.key)
                approach = target - 1 if ((target - 1) % 12) in sc else target - 2
                self._trim_role("bass", s1 - 0.5)
                self._add("bass", s1 - 0.5, s1 - 0.05, approach, vel - 5)

    def _trim_role(self, role: str, at: float) -> None:
        for n in self.parts[role]:
            if n.start < at < n.end:
                n.end = round(at, 6)

    def _chord_at(self, beat: float) -> _Chord:
        for ch in self.chords:
            if ch.start <= beat < ch.end:
                return ch
        return self.chords[-1]

    def arp(self) -> None:
        st = self.style
        if "arp" not in self.programs or not st.arp_rate:
            return
        for ch, v in zip(self.chords, self.voicings, strict=True):
            e = self._energy_at(ch.start)
            if e < (0.3 if st.name == "ambient" else 0.55):
                continue
            tones = sorted(set(v + [p - 12 for p in v]))  # under the melody
            pattern = tones + tones[-2:0:-1]
            rate = st.arp_rate
            t, k = ch.start, 0
            while t < ch.end - 1e-6:
                self._add("arp", t, t + 0.9 / rate, pattern[k % len(pattern)], 35 + 50 * e)
                t += 1.0 / rate
                k += 1

    def drums(self) -> None:
        """The style's groove per energy level, a new variant every 8 bars, a pickup at
        phrase ends, fills of four kinds before sections and every 8 bars, a crash at each
        new section (see :mod:`.drums`)."""
        st = self.style
        if not st.drums:
            return
        spb = 4 if self.sub == 2 else 3
        orchestral = st.drum_kit == 48
        for bi, (b0, b1) in enumerate(self.bars):
            e = self.bar_energy[bi]
            lvl = 0 if e < 0.35 else (1 if e < 0.7 else 2)
            groove = st.grooves.get(lvl, {})
            nsteps = int(round((b1 - b0) * spb))
            si = self.bar_sections[bi]
            in_sec = bi - self.bar_sections.index(si)
            last_of_section = bi + 1 < len(self.bars) and self.bar_sections[bi + 1] != si
            fill_len = 0
            if e >= 0.35 and (last_of_section or in_sec % 8 == 7):
                fill_len = min(nsteps, spb * (2 if lvl == 2 and last_of_section else 1))
            variant = (in_sec // 8 + si) % 3
            for k, drum, loud in groove_bar(
                groove,
                nsteps=nsteps - fill_len,
                steps_per_beat=spb,
                variant=variant,
                pickup=in_sec % 4 == 3 and not fill_len,
                level=lvl,
            ):
                t = b0 + k / spb
                self._add("drums", t, t + 0.1, drum, (58 if loud else 35) + 55 * e)
            if fill_len:
                kind = fill_kind(self.cue.seed, bi, orchestral)
                for k, drum, level in fill(
                    kind, n_steps=fill_len, steps_per_beat=spb, orchestral=orchestral
                ):
                    t = b0 + (nsteps - fill_len + k) / spb
                    self._add("drums", t, t + 0.1, drum, 50 + 50 * e * level + 10 * level)
            if bi > 0 and si != self.bar_sections[bi - 1] and e >= 0.35:
                self._add("drums", b0, b0 + 1, 49, 90 + 30 * e)

    def _final_bar(self) -> int:
        """The bar where the final tonic starts: the last one that leaves it at least
        ``FINAL_CHORD_S`` plus its release before the end (a whole bar in short pieces)."""
        bar_t = np.interp(
            [b[0] for b in self.bars], np.arange(len(self.cue.beats_s)), self.cue.beats_s
        )
        need = FINAL_CHORD_S + RELEASE_S
        ok = np.flatnonzero(self.cue.duration_s - bar_t >= need)
        return int(ok[-1]) if ok.size else 0

    def _tune_over_final_chord(self, b0: float, ring_end: float) -> tuple[list[Note], float]:
        """In a piece so short that the final chord starts on its first bar (a sting of a
        few seconds), the tune still sings over the held chord (it was written over that
        tonic chord) and lands on the tonic two beats before the release: the notes kept
        and the beat it lands on. Else nothing, and the tonic comes with the chord."""
        land = float(np.floor(ring_end - 2.0))
        if self.final_bar != 0 or "melody" not in self.programs or land < b0 + 2.0:
            return [], b0
        tune = [n for n in self.parts["melody"] if n.start < land - 1e-6]
        for n in tune:
            n.end = round(min(n.end, land), 6)
        return [n for n in tune if n.end - n.start >= 0.05], land

    def _land_on_tonic(self, tune: list[Note], tonic: list[int], land: float, end: float):
        """The tune's last note: the tonic from ``land`` to ``end``. After a tune kept over
        the final chord (:meth:`_tune_over_final_chord`) it is the tonic nearest its last
        note above the chord (a note it holds already is held on)."""
        if not tune:
            self._add("melody", land, end, tonic[0], 84)
            return
        last = max(tune, key=lambda n: n.start)
        top = max(self.voicings[-1])
        above = [p for p in tonic + [t + 12 for t in tonic] if p > top] or [tonic[-1]]
        pitch = min(above, key=lambda p: abs(p - last.pitch))
        if pitch == last.pitch:
            last.end = round(end, 6)
        else:
            self._add("melody", land, end, pitch, 84)

    def _release_beat(self) -> float:
        """Where the final notes are let go: ``RELEASE_S`` before the end, so the release
        and the reverb tail sound inside the video."""
        t_end = self.cue.duration_s - RELEASE_S
        return float(time_to_beat(t_end, self.cue.beats_s))

    def ending(self) -> None:
        cue = self.cue
        if cue.ending == "cadence":
            b0 = self.bars[self.final_bar][0]
            ring_end = max(b0 + 0.5, self._release_beat())
            tune, land = self._tune_over_final_chord(b0, ring_end)
            # Every part resolves on the tonic chord, which is held and then released.
            for role in ("melody", "arp", "drums", "harmony", "bass", "pad"):
                self.parts[role] = [n for n in self.parts[role] if n.start < b0 - 1e-6]
                self._trim_role(role, b0)
            self.parts["melody"] += tune
            key = self.chords[-1].key
            lo, hi = self.style.melody_register
            tonic = [p for p in range(lo, hi + 1) if p % 12 == key.tonic]
            if "melody" in self.programs and tonic and any(self.parts["melody"]):
                self._land_on_tonic(tune, tonic, land, ring_end)
            if self.style.drums:
                self._add("drums", b0, b0 + 1.0, 49, 95)
                self._add("drums", b0, b0 + 0.2, 36, 95)
            v = self.voicings[-1]
            # struck firmly enough to ring through its bar (a soft piano chord is gone
            # in a second)
            for p in v:
                self._add("harmony", b0, ring_end, p, 84)
            if "pad" in self.programs:
                for p in v:
                    self._add("pad", b0, ring_end, p, 56)
            if "bass" in self.programs:
                blo, bhi = BASS_RANGE.get(self.programs["bass"], (31, 50))
                self._add("bass", b0, ring_end, _bass_note(key.tonic, None, lo=blo, hi=bhi), 84)
        elif cue.ending == "stop":
            # the last hit a second before the end, so its ring has died away by then
            last = float(
                np.floor(time_to_beat(max(0.0, self.cue.duration_s - 1.0), self.cue.beats_s))
            )
            for role in ROLES:
                self.parts[role] = [n for n in self.parts[role] if n.start < last - 1e-6]
                self._trim_role(role, last)
            ch = self._chord_at(last)
            for p in _voice(ch.pcs, None, *self.style.harmony_register):
                self._add("harmony", last, last + 0.4, p, 105)
            if "bass" in self.programs:
                self._add("bass", last, last + 0.4, 36 + (ch.root_pc - 36) % 12, 105)
            if self.style.drums:
                self._add("drums", last, last + 0.4, 49, 110)
                self._add("drums", last, last + 0.2, 36, 110)

    def run(self) -> Score:
        self.harmony()
        self.bass()
        self.melody()
        self.arp()
        self.drums()
        self.ending()
        self.hits()  # after the ending: a cut inside the final chord is still marked
        self.refine_melody()
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
