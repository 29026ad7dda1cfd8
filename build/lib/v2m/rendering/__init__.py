"""Stage 4: score -> mastered audio, with a SoundFont synthesiser, in bounded memory.

:func:`render` returns the audio as arrays; :func:`render_to_file` writes WAV/FLAC files
(the mix and, optionally, one file per role) and never holds the whole piece in memory.

- **Synthesis** (:mod:`.synth`): FluidSynth when its library is installed (MuseScore
  General ``.sf3`` by default, see :mod:`.soundfont`), streaming chunk by chunk with one
  synthesiser per part on its own thread; else ``midirenderer``. The mix is rendered as
  a few groups of roles (one per core) and summed; with stems, every role is its own
  part, so the stems always add up to the mix. The MIDI carries the mix: volume, pan,
  expression, pedal and reverb/chorus sends per role (:mod:`v2m.composition.mixing`); the
  style sets the room (reverb).
- **Mastering** (:mod:`.mastering`): integrated loudness to -14 LUFS (ITU-R BS.1770-4),
  true peak at or below -1 dBTP (4x oversampled, look-ahead limiter), exactly
  ``duration_s`` long; the closing fade (cadence and stop: squared cosine over 0.6 s, so
  the last 50 ms lie below -40 dBFS and nothing clicks; fade: cosine over
  ``min(6 s, 15 %)``). Raw audio waits in a temporary file between the passes.
"""

from __future__ import annotations

from .core import Rendered, RenderInfo, master, render, render_to_file
from .mastering import (
    TARGET_LUFS,
    TRUE_PEAK_DBTP,
    db_to_gain,
    gain_to_db,
    integrated_loudness,
    true_peak_dbtp,
)
from .sinks import copy_audio, write_audio
from .soundfont import SoundFontChoice, find_soundfont
from .sources import MidiFileSource

__all__ = [
    "find_soundfont",
    "render",
    "render_to_file",
    "copy_audio",
    "write_audio",
    "Rendered",
    "RenderInfo",
    "SoundFontChoice",
    "MidiFileSource",
    "master",
    "true_peak_dbtp",
    "integrated_loudness",
    "db_to_gain",
    "gain_to_db",
    "TARGET_LUFS",
    "TRUE_PEAK_DBTP",
]
