"""What a render plays: a composed :class:`~v2m.composition.Score`, or a MIDI file."""

from __future__ import annotations

import io
import os
from pathlib import Path

from ..composition import Score
from ..composition.score import (
    BREATH_MARKER,
    HIT_MARKER,
    SPEECH_END_MARKER,
    SPEECH_MARKER,
    marker_spans,
)
from ..cuesheet import CueSheet
from ..errors import InputError, ParameterError
from ..styles import STYLE_NAMES

__all__ = ["MidiFileSource", "as_source"]


class MidiFileSource:
    """An existing MIDI file to render: one stem per track that has notes.

    Its length is the file's length plus ``ring_s`` seconds of ring-out.
    """

    def __init__(self, path: str | os.PathLike, *, ring_s: float = 1.5):
        import mido

        from .._media import check_readable

        p = check_readable(path)
        try:
            self.midi = mido.MidiFile(str(p))
        except (OSError, ValueError, EOFError, KeyError, IndexError) as exc:
            why = str(exc) or "the file ends early"
            raise InputError(f"{p}: not a MIDI file ({why})") from None
        from ..metrics.symbolic import check_midi_length

        self.path = p
        self.duration_s = check_midi_length(self.midi, p) + ring_s
        if self.midi.length <= 0 or not any(
            m.type == "note_on" and m.velocity > 0 for tr in self.midi.tracks for m in tr
        ):
            raise InputError(f"{p}: MIDI file has no notes")
        self.ending = "cadence"
        #: the v2m style that wrote the file (its room and mastering EQ), or None
        self.style: str | None = None
        for msg in self.midi.tracks[0] if self.midi.tracks else []:
            if msg.type == "text" and msg.text.startswith("v2m:"):
                fields = dict(kv.split("=", 1) for kv in msg.text[4:].split(";") if "=" in kv)
                try:
                    self.duration_s = float(fields.get("duration_s", self.duration_s))
                except ValueError:
                    pass
                if fields.get("ending") in ("cadence", "fade", "stop"):
                    self.ending = fields["ending"]
                if fields.get("style") in STYLE_NAMES:
                    self.style = fields["style"]
        self.breaths_s = marker_spans(self.midi, BREATH_MARKER, HIT_MARKER)
        self.dialogue_s = marker_spans(self.midi, SPEECH_MARKER, SPEECH_END_MARKER)
        self._names = []
        for i, tr in enumerate(self.midi.tracks):
            if any(m.type == "note_on" for m in tr):
                self._names.append(tr.name.strip() or f"track{i}")
            else:
                self._names.append(None)

    @property
    def roles(self) -> list[str]:
        return [n for n in self._names if n]

    def role_cost(self, role: str) -> float:
        """A synthesis-cost estimate for the track(s) called ``role``: their sounding time
        plus a release per note, in beats, as :meth:`v2m.composition.Score.role_cost`
        counts it (so a v2m file is split into the same synthesiser groups as its score,
        and renders to the same samples)."""
        tpb = self.midi.ticks_per_beat or 480
        total = 0.0
        for tr, name in zip(self.midi.tracks, self._names, strict=True):
            if name != role:
                continue
            t, open_ = 0, {}
            for m in tr:
                t += m.time
                if m.type == "note_on" and m.velocity > 0:
                    open_.setdefault((m.channel, m.note), []).append(t)
                elif m.type in ("note_on", "note_off") and open_.get((m.channel, m.note)):
                    total += (t - open_[(m.channel, m.note)].pop(0)) / tpb + 1.0
        return total

    def to_bytes(self, roles: tuple[str, ...] | None = None) -> bytes:
        import mido

        mf = mido.MidiFile(type=self.midi.type, ticks_per_beat=self.midi.ticks_per_beat)
        for tr, name in zip(self.midi.tracks, self._names, strict=True):
            if name is None or roles is None or name in roles:
                mf.tracks.append(tr)
        buf = io.BytesIO()
        mf.save(file=buf)
        return buf.getvalue()


def as_source(score) -> Score | MidiFileSource:
    """What a render plays: a composed :class:`Score`, or a MIDI file (a path). A cue sheet
    is the composer's input, not the renderer's: ``render(compose(cue))``."""
    if isinstance(score, CueSheet) or (
        isinstance(score, (str, os.PathLike)) and Path(score).suffix.lower() == ".json"
    ):
        raise ParameterError(
            f"{score if not isinstance(score, CueSheet) else 'a cue sheet'}: the renderer "
            "plays a composed score or a MIDI file; compose the cue sheet first "
            "(v2m.composition.compose, or v2m compose)"
        )
    if isinstance(score, (str, os.PathLike)):
        return MidiFileSource(score)
    if not isinstance(score, Score):
        raise ParameterError(f"cannot render a {type(score).__name__} (a Score or a MIDI path)")
    return score
