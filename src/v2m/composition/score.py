"""The composed score: notes per role on the cue sheet's beat grid, written as MIDI."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import mido

from .._io import write_bytes_atomic
from ..cuesheet import CueSheet, Key, time_to_beat

__all__ = [
    "Note",
    "Score",
    "PPQ",
    "ROLE_CHANNELS",
    "ROLES",
    "BREATH_MARKER",
    "HIT_MARKER",
    "SPEECH_MARKER",
    "SPEECH_END_MARKER",
    "marker_spans",
]

PPQ = 480
#: Conductor-track markers of a breath's start and of the hit that ends it.
BREATH_MARKER, HIT_MARKER = "v2m:breath", "v2m:hit"
#: Conductor-track markers of the cue's dialogue spans (start, end): the renderer measures
#: the music's loudness away from speech, as it does for a cue sheet.
SPEECH_MARKER, SPEECH_END_MARKER = "v2m:speech", "v2m:speech-end"
ROLE_CHANNELS = {"harmony": 0, "bass": 1, "melody": 2, "arp": 3, "pad": 4, "drums": 9}
ROLES = ("drums", "bass", "harmony", "pad", "melody", "arp")


@dataclass
class Note:
    """A note in beats on the cue sheet's grid (beat 0 = ``beats_s[0]``)."""

    start: float
    end: float
    pitch: int
    velocity: int


@dataclass
class Score:
    """The composed parts, ready to write as MIDI.

    ``parts`` maps a role (drums, bass, harmony, melody, arp) to its notes; ``programs``
    the General MIDI program per pitched role.
    """

    cue: CueSheet
    parts: dict[str, list[Note]]
    programs: dict[str, int]
    chords: list[tuple[float, str]] = field(default_factory=list)
    drum_kit: int = 0  # GM2 drum kit (program on channel 10): 0 standard, 48 orchestra
    #: Controller changes per role: (beat, controller, value 0-127); beat None = at tick 0
    #: (the channel's mix: volume, pan, sends). See :mod:`v2m.composition.mixing`.
    controls: dict[str, list[tuple[float | None, int, int]]] = field(default_factory=dict)
    #: Program changes per role after the start: (beat, program), e.g. a section that
    #: passes the tune to another instrument.
    program_changes: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    #: Breaths before strong hits: (start beat, hit beat). The band falls silent there; the
    #: master takes the ringing tails down as well (see :mod:`v2m.rendering.mastering`).
    #: Written to the MIDI's conductor track as ``v2m:breath`` / ``v2m:hit`` markers.
    breaths: list[tuple[float, float]] = field(default_factory=list)

    @property
    def breaths_s(self) -> list[tuple[float, float]]:
        """The breaths in seconds: (start, hit) pairs, as the MIDI file's markers place
        them (on its tick grid, through its tempo map: a rendered file and its score give
        the same samples)."""
        if not self.breaths:
            return []
        return marker_spans(self._conductor_file(), BREATH_MARKER, HIT_MARKER)

    @property
    def dialogue_s(self) -> list[tuple[float, float]]:
        """The cue's dialogue spans in seconds, as the MIDI file's markers place them."""
        if not self.cue.dialogue:
            return []
        return marker_spans(self._conductor_file(), SPEECH_MARKER, SPEECH_END_MARKER)

    def _conductor_file(self) -> mido.MidiFile:
        mf = mido.MidiFile(type=1, ticks_per_beat=PPQ)
        mf.tracks.append(self._conductor())
        return mf

    @property
    def ticks_per_beat(self) -> int:
        return PPQ * 3 // 2 if self.cue.meter == "6/8" else PPQ

    # ------------------------------------------------------------- MIDI
    def _pre(self) -> int:
        return 1 if self.cue.beats_s[0] > 1e-6 else 0

    def beat_to_tick(self, beat: float) -> int:
        return int(round((beat + self._pre()) * self.ticks_per_beat))

    def _conductor(self) -> mido.MidiTrack:
        cue = self.cue
        tpb = self.ticks_per_beat
        tr = mido.MidiTrack()
        tr.append(mido.MetaMessage("track_name", name="v2m conductor", time=0))
        num, den = {"4/4": (4, 4), "3/4": (3, 4), "6/8": (6, 8)}[cue.meter]
        tr.append(mido.MetaMessage("time_signature", numerator=num, denominator=den, time=0))
        tr.append(mido.MetaMessage("key_signature", key=_key_signature(cue.key_obj), time=0))
        # Read back by the renderer so a rendered .mid keeps the cue's exact length and ending.
        tr.append(
            mido.MetaMessage(
                "text",
                text=f"v2m:duration_s={cue.duration_s!r};ending={cue.ending};style={cue.style}",
                time=0,
            )
        )
        beats = list(cue.beats_s)
        if self._pre():
            beats = [0.0] + beats
        # One tempo event per beat; rounding error is carried so it never accumulates.
        events = []
        t_actual_us = 0.0
        for i in range(len(beats) - 1):
            if beats[i] >= cue.duration_s - 1e-6:
                break  # no tempo event after the music's end (the file would seem longer)
            target_next_us = beats[i + 1] * 1e6
            us_per_beat = target_next_us - t_actual_us
            us_per_quarter = int(round(us_per_beat * PPQ / tpb))
            us_per_quarter = max(1, min(us_per_quarter, 16_777_215))
            t_actual_us += us_per_quarter * tpb / PPQ
            events.append((i * tpb, us_per_quarter))
        msgs = []
        prev_tempo = None
        for tick, tempo in events:
            if tempo != prev_tempo:
                msgs.append((tick, 0, mido.MetaMessage("set_tempo", tempo=tempo)))
                prev_tempo = tempo
        for a, b in self.breaths:
            if b > a:
                for beat, text in ((a, BREATH_MARKER), (b, HIT_MARKER)):
                    msgs.append((self.beat_to_tick(beat), 1, mido.MetaMessage("text", text=text)))
        for a, b in [(d.start_s, d.end_s) for d in cue.dialogue]:
            for t_s, text in ((a, SPEECH_MARKER), (b, SPEECH_END_MARKER)):
                beat = float(time_to_beat(t_s, cue.beats_s))
                msgs.append((self.beat_to_tick(beat), 2, mido.MetaMessage("text", text=text)))
        last_tick = 0
        for tick, _, msg in sorted(msgs, key=lambda m: m[:2]):
            msg.time = tick - last_tick
            tr.append(msg)
            last_tick = tick
        tr.append(mido.MetaMessage("end_of_track", time=0))
        return tr

    def _part_track(self, role: str) -> mido.MidiTrack:
        ch = ROLE_CHANNELS[role]
        tr = mido.MidiTrack()
        tr.append(mido.MetaMessage("track_name", name=role, time=0))
        if role != "drums":
            tr.append(
                mido.Message("program_change", program=self.programs[role], channel=ch, time=0)
            )
        elif self.drum_kit:
            tr.append(mido.Message("program_change", program=self.drum_kit, channel=ch, time=0))
        # at one tick: note-offs, then program changes, then controllers, then note-ons
        ev = []
        for beat, prog in self.program_changes.get(role, []) if role != "drums" else []:
            ev.append((max(0, self.beat_to_tick(beat)), 1, prog, 0))
        for beat, cc, val in self.controls.get(role, []):
            tick = 0 if beat is None else max(0, self.beat_to_tick(beat))
            ev.append((tick, 2, cc, val))
        for n in self.parts.get(role, []):
            a, b = self.beat_to_tick(n.start), self.beat_to_tick(n.end)
            if b <= a:
                b = a + 1
            ev.append((a, 3, n.pitch, n.velocity))
            ev.append((b, 0, n.pitch, 0))
        ev = _robust_start(ev)
        # controllers at the start keep the order they were written in (an NRPN is a
        # sequence); everything else sorts by controller/pitch and value
        ev.sort(key=lambda e: e[:2] if e[:2] == (0, 2) else e)
        now = 0
        for tick, order, x, y in ev:
            if order == 1:
                msg = mido.Message("program_change", program=x, channel=ch, time=0)
            elif order == 2:
                msg = mido.Message("control_change", control=x, value=y, channel=ch, time=0)
            else:
                kind = "note_on" if order == 3 else "note_off"
                msg = mido.Message(kind, note=x, velocity=y, channel=ch, time=0)
            msg.time = tick - now
            tr.append(msg)
            now = tick
        tr.append(mido.MetaMessage("end_of_track", time=0))
        return tr

    def to_midi(self, roles: tuple[str, ...] | None = None) -> mido.MidiFile:
        """A type-1 MIDI file: conductor track (tempo, meter, key) and one track per role."""
        mf = mido.MidiFile(type=1, ticks_per_beat=PPQ)
        mf.tracks.append(self._conductor())
        for role in ROLES:
            if (roles is None or role in roles) and self.parts.get(role):
                mf.tracks.append(self._part_track(role))
        return mf

    def to_bytes(self, roles: tuple[str, ...] | None = None) -> bytes:
        buf = io.BytesIO()
        self.to_midi(roles).save(file=buf)
        return buf.getvalue()

    def save(self, path: str | Path) -> None:
        """Write the MIDI file atomically."""
        write_bytes_atomic(path, self.to_bytes())

    @property
    def roles(self) -> list[str]:
        return [r for r in ROLES if self.parts.get(r)]

    def role_cost(self, role: str) -> float:
        """A synthesis-cost estimate for ``role``: its sounding time plus a release per
        note, in beats (the renderer balances its threads with it)."""
        return float(sum(n.end - n.start + 1.0 for n in self.parts.get(role, [])))


#: Meta events that carry v2m's annotations: text events (pretty_midi and most tools keep
#: them; files before this wrote markers, still read).
_NOTES = ("text", "marker")


def marker_spans(midi, start_text: str, end_text: str) -> list[tuple[float, float]]:
    """(start, end) seconds of the spans marked on the conductor track (first track) by a
    ``start_text`` marker and the ``end_text`` marker after it (see
    :class:`v2m.composition.Score`)."""
    out: list[tuple[float, float]] = []
    if not midi.tracks:
        return out
    tempo, t_s, start = 500_000, 0.0, None
    for msg in midi.tracks[0]:
        t_s += mido.tick2second(msg.time, midi.ticks_per_beat, tempo)
        if msg.type == "set_tempo":
            tempo = msg.tempo
        elif msg.type in _NOTES and msg.text == start_text:
            start = t_s
        elif msg.type in _NOTES and msg.text == end_text and start is not None:
            if t_s > start:
                out.append((start, t_s))
            start = None
    return out


#: The controllers of an NRPN: parameter select (99, 98) and data entry (6, 38).
_NRPN_CCS = {99, 98, 6, 38}


def _robust_start(ev: list[tuple]) -> list[tuple]:
    """The start of a track made independent of the order of its plain controllers at
    tick 0 (tools such as pretty_midi sort controllers at a tick by number when they save
    a file): of each only the last value is kept. An NRPN's steps stay as written, in
    order (pretty_midi's sort breaks them; spreading them over ticks would leave the first
    notes without the offset)."""
    start = [e for e in ev if e[0] == 0 and e[1] == 2]
    if not start:
        return ev
    last = {e[2]: e for e in start if e[2] not in _NRPN_CCS}
    drop = {id(e) for e in start if e[2] not in _NRPN_CCS and last[e[2]] is not e}
    return [e for e in ev if id(e) not in drop]


def _key_signature(key: Key) -> str:
    majors = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    minors = ["Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm"]
    if key.mode == "minor":
        return minors[key.tonic]
    parent = {"major": 0, "dorian": 2, "phrygian": 4, "lydian": 5, "mixolydian": 7}[key.mode]
    return majors[(key.tonic - parent) % 12]
