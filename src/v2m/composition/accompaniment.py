"""The accompaniment: chords in the style's rhythm, bass, arpeggio and drums (a mixin of
the composer, which owns the cue, grid, style and parts).

Harmony
    The progression (:func:`.harmony._plan_harmony`) voiced and voice-led, played in the
    style's comping rhythm (pad, block, strum, broken, off-beat); below energy 0.2 a slow
    broken chord that rings to the chord's end, and below ``PAD_BELOW`` a soft sustaining
    pad under decaying instruments.
Bass
    Per style (root and fifth, octaves, a pedal), soft and long in quiet passages, with an
    approach note into the next chord at high energy, inside the instrument's range.
Arpeggio
    The chord's tones under the melody at the style's rate, from moderate energy up.
Slow tempi
    Below :data:`SLOW_FIGURES_BPM` the broken chords and arpeggios move a note a beat (half
    the arpeggio's rate) while the tune keeps its eighths, so the beat, not its eighth
    notes, is the pulse a listener taps (Essentia's tracker heard piano and ambient at
    68-70 BPM at double time from their eighth-note figures; ``bench/heard.py``).
Drums
    The style's groove per energy level, a new variant every 8 bars, a pickup at phrase
    ends, fills of four kinds before sections and every 8 bars, a crash at each new
    section (:mod:`.drums`).
"""

from __future__ import annotations

from ..cuesheet import beat_period_s
from .drums import beat_pulse, fill, fill_kind, groove_bar
from .harmony import BASS_RANGE, _bass_note, _Chord, _plan_harmony, _scale, _voice

__all__ = ["AccompanimentMixin", "PAD_BELOW"]

#: Below this energy a sustaining pad (where the style has one) joins the harmony.
PAD_BELOW = 0.5
#: Below this tempo (BPM) broken chords and arpeggios move a note a beat.
SLOW_FIGURES_BPM = 76.0


class AccompanimentMixin:
    """The composer's accompaniment methods (see the module docstring)."""

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
            if self._tempo_at(s0) < SLOW_FIGURES_BPM:
                eighth = 1.0
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

    def _tempo_at(self, beat: float) -> float:
        """The tempo (BPM) of the grid at ``beat``."""
        return 60.0 / beat_period_s(self.cue.beats_s, beat)

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
            if self._tempo_at(ch.start) < SLOW_FIGURES_BPM:
                rate = max(1, rate // 2)
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
            pulse = beat_pulse(self._tempo_at(b0))
            for k, drum, loud in groove_bar(
                groove,
                nsteps=nsteps - fill_len,
                steps_per_beat=spb,
                variant=variant,
                pickup=in_sec % 4 == 3 and not fill_len,
                level=lvl,
            ):
                t = b0 + k / spb
                soft = 35 + 23 * pulse if k % spb == 0 else 35  # soft beats firm up when fast
                self._add("drums", t, t + 0.1, drum, (58 if loud else soft) + 55 * e)
            if fill_len:
                kind = fill_kind(self.cue.seed, bi, orchestral)
                for k, drum, level in fill(
                    kind, n_steps=fill_len, steps_per_beat=spb, orchestral=orchestral
                ):
                    t = b0 + (nsteps - fill_len + k) / spb
                    self._add("drums", t, t + 0.1, drum, 50 + 50 * e * level + 10 * level)
            if bi > 0 and si != self.bar_sections[bi - 1] and e >= 0.35:
                self._add("drums", b0, b0 + 1, 49, 90 + 30 * e)
