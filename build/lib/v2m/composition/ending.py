"""The ending: a held tonic chord released inside the video, or a stop (a mixin of the
composer, which owns the cue, grid, style and parts).

Cadence
    Every part resolves on the tonic chord in the final bar (:meth:`EndingMixin._final_bar`),
    which leaves it at least ``FINAL_CHORD_S`` and is released ``RELEASE_S`` before the
    end, so its release and reverb tail sound inside the video. The tune lands on the
    tonic; in a sting of a few seconds it keeps singing over the held chord first.
Stop
    The last hit a second before the end, nothing after it.
"""

from __future__ import annotations

import numpy as np

from ..cuesheet import time_to_beat
from .harmony import BASS_RANGE, _bass_note, _voice
from .hits import _sustained
from .score import ROLES, Note

__all__ = ["EndingMixin", "FINAL_CHORD_S", "RELEASE_S", "FINAL_VELOCITY", "FINAL_VELOCITY_ALONE"]

#: The final tonic chord lasts at least this long (s), then is released this long (s)
#: before the end, so its release and reverb decay inside the video.
FINAL_CHORD_S = 2.0
RELEASE_S = 0.6
#: Velocity of the final chord; where nothing sustains under it (a piano alone) it is
#: struck forte, or its decay falls under -45 dBFS within a long last bar (a 4.9 s final
#: chord of the piano style reached -46 dBFS at 84, -44.0 to -44.5 at 100, three seeds).
FINAL_VELOCITY = 84
FINAL_VELOCITY_ALONE = 104


class EndingMixin:
    """The composer's ending methods (see the module docstring)."""

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
        # the tune on top of a chord struck forte
        vel = (
            FINAL_VELOCITY if self._final_velocity() == FINAL_VELOCITY else FINAL_VELOCITY_ALONE + 4
        )
        if not tune:
            self._add("melody", land, end, tonic[0], vel)
            return
        last = max(tune, key=lambda n: n.start)
        top = max(self.voicings[-1])
        above = [p for p in tonic + [t + 12 for t in tonic] if p > top] or [tonic[-1]]
        pitch = min(above, key=lambda p: abs(p - last.pitch))
        if pitch == last.pitch:
            last.end = round(end, 6)
        else:
            self._add("melody", land, end, pitch, vel)

    def _final_velocity(self) -> int:
        """How firmly the final chord is struck: ``FINAL_VELOCITY``, or
        ``FINAL_VELOCITY_ALONE`` where nothing sustains under it (no pad, a decaying
        harmony instrument such as the piano), so its decay stays audible to the end."""
        alone = "pad" not in self.programs and not _sustained(self.programs.get("harmony", 0))
        return FINAL_VELOCITY_ALONE if alone else FINAL_VELOCITY

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
            vel = self._final_velocity()
            for p in v:
                self._add("harmony", b0, ring_end, p, vel)
            if "pad" in self.programs:
                for p in v:
                    self._add("pad", b0, ring_end, p, 56)
            if "bass" in self.programs:
                blo, bhi = BASS_RANGE.get(self.programs["bass"], (31, 50))
                self._add("bass", b0, ring_end, _bass_note(key.tonic, None, lo=blo, hi=bhi), vel)
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
