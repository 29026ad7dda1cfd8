"""A minimal ctypes binding of the FluidSynth 2 C library (Debian: ``libfluidsynth3``).

Only what streaming synthesis needs: settings, a synthesiser, SoundFont loading, channel
messages and ``fluid_synth_write_float`` into numpy buffers. ctypes releases the GIL during
each call, so synthesisers in several threads render on several cores.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading

import numpy as np

#: Synthesisers are created, loaded and deleted one at a time: FluidSynth initialises
#: shared tables in the first ``new_fluid_synth`` and keeps a process-wide sample cache, and
#: a render starts one synthesiser per part in parallel threads. (A render with stems
#: crashed once with SIGSEGV in about 20 runs, not reproduced since; this rules out the
#: concurrent set-up and tear-down as its cause.) Rendering itself runs in parallel.
_LIFECYCLE = threading.Lock()

__all__ = ["available", "library_path", "FluidSynth"]

_P = ctypes.c_void_p
_I = ctypes.c_int
_D = ctypes.c_double
_S = ctypes.c_char_p

_SIGNATURES = {
    "new_fluid_settings": (_P, []),
    "delete_fluid_settings": (None, [_P]),
    "fluid_settings_setnum": (_I, [_P, _S, _D]),
    "fluid_settings_setint": (_I, [_P, _S, _I]),
    "fluid_settings_setstr": (_I, [_P, _S, _S]),
    "new_fluid_synth": (_P, [_P]),
    "delete_fluid_synth": (None, [_P]),
    "fluid_synth_sfload": (_I, [_P, _S, _I]),
    "fluid_synth_noteon": (_I, [_P, _I, _I, _I]),
    "fluid_synth_noteoff": (_I, [_P, _I, _I]),
    "fluid_synth_cc": (_I, [_P, _I, _I, _I]),
    "fluid_synth_program_change": (_I, [_P, _I, _I]),
    "fluid_synth_pitch_bend": (_I, [_P, _I, _I]),
    "fluid_synth_channel_pressure": (_I, [_P, _I, _I]),
    "fluid_synth_write_float": (_I, [_P, _I, _P, _I, _I, _P, _I, _I]),
    "fluid_set_log_function": (_P, [_I, _P, _P]),
}


def library_path() -> str | None:
    """Where the FluidSynth 2 library is (``V2M_FLUIDSYNTH_LIB`` wins), or None."""
    env = os.environ.get("V2M_FLUIDSYNTH_LIB")
    if env is not None:
        return env or None  # set but empty: behave as if FluidSynth were absent
    for name in ("fluidsynth", "libfluidsynth-3", "fluidsynth-3"):
        found = ctypes.util.find_library(name)
        if found:
            return found
    return None


@functools.cache
def _lib() -> ctypes.CDLL | None:
    path = library_path()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
        for name, (res, args) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
    except (OSError, AttributeError):
        return None
    # FluidSynth logs warnings (a missing preset, a voice stolen) to stderr; ours are enough.
    for level in range(1, 5):  # ERR, WARN, INFO, DBG; PANIC stays
        lib.fluid_set_log_function(level, None, None)
    return lib


def available() -> bool:
    """True when the FluidSynth 2 library can be loaded."""
    return _lib() is not None


class FluidSynth:
    """One FluidSynth synthesiser with one SoundFont, rendering float stereo on demand.

    Parameters
    ----------
    soundfont : str
        Path of a ``.sf2`` or ``.sf3`` file.
    sample_rate : int
        Output rate in Hz.
    settings : dict
        Extra FluidSynth settings (``"synth.reverb.room-size": 0.6`` ...).
    select_defaults : bool
        Give every channel its General MIDI default preset when the font is loaded (piano;
        standard kit on channel 10). Off, a channel has no preset until a program change
        selects one, so with dynamic sample loading no sample is loaded that the piece
        does not play (MuseScore General's piano alone is ~100 MB); the caller then
        selects a program on every channel it plays.
    """

    def __init__(
        self,
        soundfont: str,
        *,
        sample_rate: int,
        settings: dict | None = None,
        select_defaults: bool = True,
    ):
        with _LIFECYCLE:
            self._open(soundfont, sample_rate=sample_rate, settings=settings)
            self.sfont_id = self._lib.fluid_synth_sfload(
                self._synth, os.fsencode(soundfont), int(select_defaults)
            )
            if self.sfont_id < 0:
                self._close()
                raise ValueError(f"{soundfont}: FluidSynth cannot load this SoundFont")

    def _open(self, soundfont: str, *, sample_rate: int, settings: dict | None) -> None:
        lib = _lib()
        if lib is None:
            raise OSError("the FluidSynth library (libfluidsynth 2) is not installed")
        self._lib = lib
        self._settings = lib.new_fluid_settings()
        base = {
            "synth.sample-rate": float(sample_rate),
            "synth.gain": 0.2,
            "synth.polyphony": 512,
            "synth.dynamic-sample-loading": 1,  # decode only the presets a piece plays
            "synth.threadsafe-api": 0,  # one thread drives each synthesiser
            "synth.cpu-cores": 1,
        }
        for key, val in {**base, **(settings or {})}.items():
            k = key.encode()
            if isinstance(val, str):
                lib.fluid_settings_setstr(self._settings, k, val.encode())
            elif isinstance(val, int):
                lib.fluid_settings_setint(self._settings, k, val)
            else:
                lib.fluid_settings_setnum(self._settings, k, float(val))
        self._synth = lib.new_fluid_synth(self._settings)
        if not self._synth:
            lib.delete_fluid_settings(self._settings)
            raise OSError("FluidSynth could not create a synthesiser")

    def message(self, kind: int, channel: int, a: int, b: int) -> None:
        """Send a channel message: ``kind`` is the MIDI status high nibble (0x90 note on ...)."""
        s, lib = self._synth, self._lib
        if kind == 0x90:
            if b:
                lib.fluid_synth_noteon(s, channel, a, b)
            else:
                lib.fluid_synth_noteoff(s, channel, a)
        elif kind == 0x80:
            lib.fluid_synth_noteoff(s, channel, a)
        elif kind == 0xB0:
            lib.fluid_synth_cc(s, channel, a, b)
        elif kind == 0xC0:
            lib.fluid_synth_program_change(s, channel, a)
        elif kind == 0xE0:
            lib.fluid_synth_pitch_bend(s, channel, a)
        elif kind == 0xD0:
            lib.fluid_synth_channel_pressure(s, channel, a)

    def write(self, left: np.ndarray, right: np.ndarray) -> None:
        """Render ``len(left)`` frames into two contiguous float32 arrays (overwritten)."""
        n = left.shape[0]
        if n:
            self._lib.fluid_synth_write_float(
                self._synth, n, left.ctypes.data, 0, 1, right.ctypes.data, 0, 1
            )

    def close(self) -> None:
        with _LIFECYCLE:
            self._close()

    def _close(self) -> None:
        if getattr(self, "_synth", None):
            self._lib.delete_fluid_synth(self._synth)
            self._synth = None
        if getattr(self, "_settings", None):
            self._lib.delete_fluid_settings(self._settings)
            self._settings = None

    def __enter__(self) -> FluidSynth:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
