"""Attack compensation: notes of slow-speaking presets start early, so they are heard on
the beat.

A bowed string section or a pad takes tens of milliseconds before its attack is heard as
an onset; a composer working with samples moves such tracks earlier ("negative track
delay") so that what the listener hears, not the note-on, lands on the beat and on the
cut. The renderer does the same for the default font, MuseScore General: each channel's
events (notes, controllers) move earlier by the lead of the program sounding on it, from a
table measured with ``bench/attack.py`` (the onset lag of each preset against a click,
librosa's onset envelope at 5.8 ms hops, velocity 80; lags under 10 ms are left alone,
longer ones capped at 50 ms). The MIDI file itself stays on the grid: another synthesiser
or a DAW has its own latencies. Drum kits are not moved (the composer leads the
orchestra kit's hit drums itself), nor are fonts the table was not measured on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["MUSESCORE_GENERAL_LEADS_MS", "leads_s", "shift_events"]

#: Program (bank 0) -> lead in ms for MuseScore General (``bench/attack.py``, fifteenth
#: session): string sections 37-50 (Strings Fast 37, Slow 50), cello 34, horns 29, pads up
#: to 50, plucked strings and basses 10-18; pianos, mallets and most synth leads under 10.
# fmt: off
MUSESCORE_GENERAL_LEADS_MS: dict[int, int] = {
    9: 10, 16: 12, 17: 10, 18: 10, 19: 22, 20: 25, 21: 16, 22: 23, 23: 12, 24: 10, 27: 10,
    28: 14, 29: 31, 31: 13, 32: 15, 33: 18, 34: 32, 35: 10, 37: 10, 40: 20, 41: 22, 42: 34,
    43: 20, 44: 46, 45: 15, 46: 15, 47: 12, 48: 37, 49: 50, 50: 50, 51: 50, 52: 50, 53: 27,
    54: 33, 55: 16, 56: 21, 57: 31, 58: 31, 59: 23, 60: 29, 61: 23, 63: 19, 64: 21, 65: 21,
    67: 17, 68: 12, 69: 15, 70: 34, 71: 35, 72: 20, 73: 13, 74: 31, 75: 15, 76: 22, 77: 22,
    78: 13, 79: 19, 82: 15, 83: 14, 85: 28, 89: 50, 91: 21, 92: 50, 93: 24, 94: 32, 95: 50,
    97: 50, 99: 20, 100: 13, 101: 50, 102: 33, 103: 32, 104: 14, 106: 11, 110: 15, 113: 10,
    119: 50, 120: 12, 121: 24, 122: 50, 123: 22, 124: 12, 125: 50, 126: 50, 127: 30
}
# fmt: on

_DRUMS = 9


def leads_s(soundfont: str | Path | None) -> dict[int, float]:
    """Per program, how early its notes start with ``soundfont`` (seconds): the table for
    MuseScore General (``MuseScore_General*.sf3`` / ``.sf2``), nothing for other fonts."""
    if soundfont is None or not Path(soundfont).name.lower().startswith("musescore_general"):
        return {}
    return {p: ms / 1000.0 for p, ms in MUSESCORE_GENERAL_LEADS_MS.items()}


def shift_events(
    frame: np.ndarray,
    kind: np.ndarray,
    channel: np.ndarray,
    a: np.ndarray,
    *,
    leads: dict[int, float],
    sample_rate: int,
) -> np.ndarray:
    """Event times after moving each channel's events earlier by its program's lead.

    Parameters
    ----------
    frame, kind, channel, a : np.ndarray, shape (n,)
        Events in playing order (see :class:`~v2m.rendering.synth.MidiEvents`).
    leads : dict
        Program -> lead in seconds (:func:`leads_s`).
    sample_rate : int

    Returns
    -------
    new_frame : np.ndarray, shape (n,)
        Each event's new time in samples (never before 0, never before an earlier event of
        its own channel, so a channel's order is kept where the lead grows at a program
        change). Sort the events by it (stably) to play them.
    """
    out = np.asarray(frame, np.int64).copy()
    if not leads or out.size == 0:
        return out
    program: dict[int, int] = {}
    last: dict[int, int] = {}
    lead_frames = {p: int(round(s * sample_rate)) for p, s in leads.items()}
    for i in range(out.size):
        ch = int(channel[i])
        if ch == _DRUMS:
            continue
        if kind[i] == 0xC0:
            program[ch] = int(a[i])
        shift = lead_frames.get(program.get(ch, 0), 0)
        t = max(0, int(out[i]) - shift, last.get(ch, 0))
        out[i] = t
        last[ch] = t
    return out
