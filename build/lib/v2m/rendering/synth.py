"""Synthesis: MIDI -> float stereo audio, delivered in fixed-size chunks.

:func:`synthesize` renders one MIDI file per *part* (a role's stem, or a group of roles
for the mix) and yields, chunk by chunk, one (frames, 2) float32 array per part, all parts
in step. With FluidSynth every part is a synthesiser in its own thread (ctypes releases
the GIL while FluidSynth renders, so the parts use every core) and nothing longer than a
chunk is ever held: the memory does not grow with the length. With ``midirenderer`` (the
pip-only fallback) each part is rendered whole in a child process and then cut into
chunks.
"""

from __future__ import annotations

import io
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SoundFontError
from . import _fluidsynth, attack
from ._sfcache import decoded_soundfont, presets_of

__all__ = ["synthesize", "MidiEvents", "midi_events"]

_KIND = {"note_on": 0x90, "note_off": 0x80, "control_change": 0xB0, "program_change": 0xC0}


@dataclass
class MidiEvents:
    """Channel messages of a MIDI file with their times in samples, in playing order.

    Arrays of equal length: ``frame`` (int64), ``kind`` (status high nibble), ``channel``,
    ``a``, ``b`` (data bytes; pitch bend 0..16383 in ``a``).
    """

    frame: np.ndarray
    kind: np.ndarray
    channel: np.ndarray
    a: np.ndarray
    b: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)


def midi_events(midi_bytes: bytes, sample_rate: int) -> MidiEvents:
    """Parse a standard MIDI file (any tempo map) into :class:`MidiEvents`."""
    import mido

    mf = mido.MidiFile(file=io.BytesIO(midi_bytes))
    rows = []
    now = 0.0
    for msg in mf:  # merged tracks, delta times in seconds through the tempo map
        now += msg.time
        t = msg.type
        if t in ("note_on", "note_off"):
            rows.append((now, _KIND[t], msg.channel, msg.note, msg.velocity))
        elif t == "control_change":
            rows.append((now, 0xB0, msg.channel, msg.control, msg.value))
        elif t == "program_change":
            rows.append((now, 0xC0, msg.channel, msg.program, 0))
        elif t == "pitchwheel":
            rows.append((now, 0xE0, msg.channel, msg.pitch + 8192, 0))
        elif t == "aftertouch":
            rows.append((now, 0xD0, msg.channel, msg.value, 0))
    if not rows:
        z = np.zeros(0, np.int64)
        return MidiEvents(z, z, z, z, z)
    arr = np.array(rows)
    return MidiEvents(
        frame=np.round(arr[:, 0] * sample_rate).astype(np.int64),
        kind=arr[:, 1].astype(np.int64),
        channel=arr[:, 2].astype(np.int64),
        a=arr[:, 3].astype(np.int64),
        b=arr[:, 4].astype(np.int64),
    )


def _fluid_chunks(
    soundfont: str,
    midi_bytes: bytes,
    *,
    sample_rate: int,
    n_frames: int,
    chunk: int,
    settings: dict | None,
    leads: dict[int, float] | None = None,
) -> Iterator[np.ndarray]:
    ev = midi_events(midi_bytes, sample_rate)
    frame = ev.frame
    order = np.arange(len(frame))
    if leads:  # slow-speaking presets start early (see v2m.rendering.attack)
        frame = attack.shift_events(
            ev.frame, ev.kind, ev.channel, ev.a, leads=leads, sample_rate=sample_rate
        )
        order = np.argsort(frame, kind="stable")
    frames = frame[order].tolist()
    rows = list(
        zip(
            ev.kind[order].tolist(),
            ev.channel[order].tolist(),
            ev.a[order].tolist(),
            ev.b[order].tolist(),
            strict=True,
        )
    )
    # No preset is selected until the piece selects one: a channel that plays before any
    # program change gets the General MIDI default (program 0; the standard kit on 10).
    first_note: dict[int, int] = {}
    first_prog: dict[int, int] = {}
    for k, (kind, ch, _, _) in enumerate(rows):
        if kind == 0x90:
            first_note.setdefault(ch, k)
        elif kind == 0xC0:
            first_prog.setdefault(ch, k)
    defaults = [ch for ch, k in sorted(first_note.items()) if first_prog.get(ch, k + 1) > k]
    try:
        synth = _fluidsynth.FluidSynth(
            soundfont, sample_rate=sample_rate, settings=settings, select_defaults=False
        )
    except (OSError, ValueError) as exc:
        raise SoundFontError(str(exc)) from None
    for ch in defaults:
        synth.message(0xC0, ch, 0, 0)
    with synth:
        left = np.empty(chunk, np.float32)
        right = np.empty(chunk, np.float32)
        i, n_ev = 0, len(frames)
        for start in range(0, n_frames, chunk):
            end = min(start + chunk, n_frames)
            pos = start
            while i < n_ev and frames[i] < end:
                t = max(frames[i], pos)
                synth.write(left[pos - start : t - start], right[pos - start : t - start])
                pos = t
                synth.message(*rows[i])
                i += 1
            synth.write(left[pos - start : end - start], right[pos - start : end - start])
            k = end - start
            out = np.empty((k, 2), np.float32)
            out[:, 0] = left[:k]
            out[:, 1] = right[:k]
            yield out


def _threaded(gen: Iterator[np.ndarray], stop: threading.Event, depth: int = 3):
    """Run a chunk generator in a thread; returns an iterator over its chunks."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for item in gen:
                if not put(item):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
        finally:
            gen.close()  # frees the synthesiser even when the consumer stopped early

    th = threading.Thread(target=work, daemon=True)
    th.start()

    def it():
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    return it(), th


def _midirenderer_whole(soundfont: str, midi_bytes: bytes) -> tuple[np.ndarray, int]:
    import midirenderer
    import soundfile as sf

    try:
        wav = midirenderer.render_wave_from(Path(soundfont).read_bytes(), midi_bytes)
    except (ValueError, RuntimeError) as exc:
        raise SoundFontError(f"synthesis failed ({exc})") from None
    x, sr = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    return x, sr


def _midirenderer_parts(
    soundfont: str, midis: list[bytes], *, sample_rate: int
) -> list[np.ndarray]:
    """Render every part whole; on several cores in child processes (midirenderer holds
    the GIL, so threads would not help)."""
    workers = min(len(midis), os.cpu_count() or 1)
    if workers < 2:
        res = [_midirenderer_whole(soundfont, m) for m in midis]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
            res = list(ex.map(_midirenderer_whole, [soundfont] * len(midis), midis))
    out = []
    for x, sr in res:
        if sr != sample_rate:
            from math import gcd

            from scipy.signal import resample_poly

            g = gcd(sample_rate, sr)
            x = resample_poly(x, sample_rate // g, sr // g, axis=0).astype(np.float32)
        out.append(x)
    return out


def synthesize(
    soundfont: str,
    midis: list[bytes],
    *,
    synth: str,
    sample_rate: int,
    n_frames: int,
    chunk: int,
    settings: dict | None = None,
    leads: dict[int, float] | None = None,
) -> Iterator[list[np.ndarray]]:
    """Render several MIDI files in step, ``chunk`` frames at a time.

    Parameters
    ----------
    soundfont : str
        Path of the SoundFont.
    midis : list of bytes
        One standard MIDI file per part.
    synth : {"fluidsynth", "midirenderer"}
    n_frames : int
        Exact length in frames; what sounds later is cut, shorter parts are padded.
    chunk : int
        Frames per yielded chunk (the last may be shorter).
    settings : dict, optional
        FluidSynth settings (reverb and chorus); ignored by midirenderer.
    leads : dict, optional
        Program -> seconds a channel's events start early (:mod:`.attack`); FluidSynth only.

    Yields
    ------
    list of np.ndarray
        One (frames, 2) float32 array per part, all of the same length.
    """
    if synth == "fluidsynth":
        # an .sf3's samples decoded once into a cached .sf2, not by every synthesiser
        soundfont = str(decoded_soundfont(soundfont, presets_of(midis)))
        stop = threading.Event()
        runs = [
            _threaded(
                _fluid_chunks(
                    soundfont,
                    m,
                    sample_rate=sample_rate,
                    n_frames=n_frames,
                    chunk=chunk,
                    settings=settings,
                    leads=leads,
                ),
                stop,
            )
            for m in midis
        ]
        try:
            yield from zip(*(it for it, _ in runs), strict=True)
        finally:
            stop.set()
            for _, th in runs:
                th.join(timeout=5)
        return
    whole = _midirenderer_parts(soundfont, midis, sample_rate=sample_rate)
    for start in range(0, n_frames, chunk):
        end = min(start + chunk, n_frames)
        parts = []
        for x in whole:
            y = np.zeros((end - start, 2), np.float32)
            seg = x[start:end]
            y[: len(seg)] = seg
            parts.append(y)
        yield parts
