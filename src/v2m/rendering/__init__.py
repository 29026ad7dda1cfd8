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

import io
import logging
import os
import tempfile
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._io import atomic_path
from ..composition import Score, compose
from ..composition.score import BREATH_MARKER, HIT_MARKER
from ..cuesheet import CueSheet
from ..errors import InputError, OutputError, ParameterError
from . import attack
from ._sfcache import presets_of
from .mastering import (
    TARGET_LUFS,
    TRUE_PEAK_DBTP,
    Equalizer,
    Mastering,
    db_to_gain,
    fade_curve,
    fade_s,
    gain_to_db,
    integrated_loudness,
    true_peak_dbtp,
)
from .soundfont import SoundFontChoice, fallback_note, find_soundfont
from .synth import synthesize

__all__ = [
    "find_soundfont",
    "render",
    "render_to_file",
    "copy_audio",
    "Rendered",
    "RenderInfo",
    "SoundFontChoice",
    "master",
    "true_peak_dbtp",
    "integrated_loudness",
    "db_to_gain",
    "gain_to_db",
    "TARGET_LUFS",
    "TRUE_PEAK_DBTP",
]

log = logging.getLogger("v2m")


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
        self.path = p
        self.duration_s = float(self.midi.length) + ring_s
        if self.midi.length <= 0:
            raise InputError(f"{p}: MIDI file has no notes (zero length)")
        self.ending = "cadence"
        for msg in self.midi.tracks[0] if self.midi.tracks else []:
            if msg.type == "text" and msg.text.startswith("v2m:"):
                fields = dict(kv.split("=", 1) for kv in msg.text[4:].split(";") if "=" in kv)
                try:
                    self.duration_s = float(fields.get("duration_s", self.duration_s))
                except ValueError:
                    pass
                if fields.get("ending") in ("cadence", "fade", "stop"):
                    self.ending = fields["ending"]
        self.breaths_s = _breath_markers(self.midi)
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
        """Synthesis-cost estimate: the number of notes of the track(s) called ``role``."""
        return float(
            sum(
                sum(m.type == "note_on" for m in tr)
                for tr, name in zip(self.midi.tracks, self._names, strict=True)
                if name == role
            )
        )

    def to_bytes(self, roles: tuple[str, ...] | None = None) -> bytes:
        import mido

        mf = mido.MidiFile(type=self.midi.type, ticks_per_beat=self.midi.ticks_per_beat)
        for tr, name in zip(self.midi.tracks, self._names, strict=True):
            if name is None or roles is None or name in roles:
                mf.tracks.append(tr)
        buf = io.BytesIO()
        mf.save(file=buf)
        return buf.getvalue()


@dataclass
class RenderInfo:
    """What a render made: its length, loudness, true peak and where the sound came from.

    ``levels`` (when asked for) holds what :func:`v2m.plotting.plot_render` draws:
    ``times_s`` (frames,), ``freqs_hz`` (bins,), ``spectrogram_db`` (bins, frames) of the
    mix, and ``rms_db`` mapping "mix" and each role to its level per frame.
    """

    duration_s: float
    sample_rate: int
    soundfont: str
    soundfont_origin: str
    synth: str
    loudness_lufs: float
    true_peak_dbtp: float
    roles: list[str] = field(default_factory=list)
    levels: dict | None = None

    @property
    def loudness_text(self) -> str:
        """``"-14.0 LUFS"``, or why there is no figure (under 400 ms of sound)."""
        lufs = self.loudness_lufs
        return f"{lufs:.1f} LUFS" if np.isfinite(lufs) else "too short to measure loudness"

    @property
    def summary(self) -> str:
        return (
            f"{self.duration_s:.3f} s, {self.loudness_text}, true peak "
            f"{self.true_peak_dbtp:.1f} dBTP; SoundFont {self.soundfont} "
            f"({self.soundfont_origin}, {self.synth})"
        )


@dataclass
class Rendered(RenderInfo):
    """Rendered audio in memory.

    ``mix`` has shape (n_samples, 2), float32, at ``sample_rate`` Hz; ``stems`` maps a role
    to an array of the same shape; the stems sum to the mix (to float32 rounding).
    """

    mix: np.ndarray | None = None
    stems: dict[str, np.ndarray] = field(default_factory=dict)

    def save(self, path: str | Path, *, subtype: str | None = None) -> None:
        """Write the mix as WAV or FLAC (by suffix), atomically."""
        _write_audio(path, self.mix, self.sample_rate, subtype=subtype)

    def save_stems(self, folder: str | Path, *, suffix: str = ".wav") -> list[Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for role, x in self.stems.items():
            p = folder / f"{role}{suffix}"
            _write_audio(p, x, self.sample_rate, subtype="FLOAT" if suffix == ".wav" else None)
            out.append(p)
        return out


def _subtype_for(path: Path, subtype: str | None) -> tuple[str, str]:
    fmt = {".wav": "WAV", ".flac": "FLAC"}.get(path.suffix.lower())
    if fmt is None:
        raise ParameterError(f"{path}: audio output must end in .wav or .flac")
    return fmt, subtype or "PCM_24"


def copy_audio(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Re-encode a WAV/FLAC file as ``dst`` (WAV 24-bit or FLAC, by suffix), in pieces."""
    import soundfile as sf

    with sf.SoundFile(str(src)) as f, ExitStack() as stack:
        sink = _FileSink(Path(dst), f.samplerate)
        sink.open(stack)
        for block in f.blocks(blocksize=1 << 16, dtype="float32", always_2d=True):
            sink.write(block)
        sink.close()


def _write_audio(path, x: np.ndarray, sr: int, *, subtype: str | None = None) -> None:
    """Write a whole array as WAV/FLAC, atomically."""
    sink = _FileSink(Path(path), sr, subtype=subtype)
    with ExitStack() as stack:
        sink.open(stack)
        sink.write(x)
        sink.close()


class _FileSink:
    """Writes one signal (the mix or a stem) block by block to WAV/FLAC, atomically."""

    def __init__(self, path: Path, sr: int, *, subtype: str | None = None):
        self.path = path
        self.sr = sr
        self.fmt, self.subtype = _subtype_for(path, subtype)
        self._f = None
        self._tmp = None
        self.frames = 0

    def open(self, stack: ExitStack) -> None:
        import soundfile as sf

        if self._tmp is None:
            self._tmp = stack.enter_context(atomic_path(self.path))
        self._f = sf.SoundFile(
            str(self._tmp), "w", self.sr, 2, subtype=self.subtype, format=self.fmt
        )
        self.frames = 0

    def write(self, x: np.ndarray) -> None:
        import soundfile as sf

        try:
            self._f.write(x)
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            import shutil

            free = shutil.disk_usage(self._tmp.parent).free
            raise OutputError(
                f"{self.path}: cannot write ({exc}; {free / 1e6:.1f} MB free on that disk)"
            ) from None
        self.frames += x.shape[0]

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


class _RawStore:
    """Raw float32 stereo audio in a temporary file, appended in order, read back by range."""

    def __init__(self, path: Path):
        self.path = path
        self._f = open(path, "w+b")  # noqa: SIM115 (closed by the render's ExitStack)
        self.n = 0

    def append(self, x: np.ndarray) -> None:
        try:
            self._f.write(np.ascontiguousarray(x, dtype=np.float32).tobytes())
        except OSError as exc:
            raise OutputError(
                f"{self.path.parent}: cannot write temporary audio ({exc.strerror or exc}); "
                "set TMPDIR to a folder with more space"
            ) from None
        self.n += x.shape[0]

    def read(self, a: int, b: int) -> np.ndarray:
        a, b = max(0, a), min(self.n, b)
        self._f.seek(a * 8)
        return np.frombuffer(self._f.read(max(0, b - a) * 8), np.float32).reshape(-1, 2)

    def close(self) -> None:
        self._f.close()


class _Levels:
    """What the render plot draws: a spectrogram of the mix and RMS levels per role,
    accumulated chunk by chunk onto at most ``cols`` time columns."""

    def __init__(self, n: int, sr: int, roles: list[str], cols: int = 1200, n_fft: int = 2048):
        self.sr, self.n_fft = sr, n_fft
        self.cols = max(1, min(cols, n // n_fft))
        self.per_col = n / self.cols
        self.spec = np.zeros((n_fft // 2 + 1, self.cols))
        self.spec_n = np.zeros(self.cols)
        self.ms = {r: np.zeros(self.cols) for r in ["mix", *roles]}
        self.ms_n = np.zeros(self.cols)
        self.window = np.hanning(n_fft).astype(np.float32)

    def write(self, start: int, mix: np.ndarray, stems: dict[str, np.ndarray]) -> None:
        k = mix.shape[0]
        col = np.minimum(((start + np.arange(k)) / self.per_col).astype(int), self.cols - 1)
        cnt = np.bincount(col, minlength=self.cols)
        self.ms_n += cnt
        for name, x in [("mix", mix), *stems.items()]:
            if name in self.ms:
                self.ms[name] += np.bincount(col, weights=(x * x).mean(axis=1), minlength=self.cols)
        mono = mix.mean(axis=1)
        for a in range(0, k - self.n_fft + 1, self.n_fft):
            c = col[a + self.n_fft // 2]
            spec = np.abs(np.fft.rfft(mono[a : a + self.n_fft] * self.window)) ** 2
            self.spec[:, c] += spec
            self.spec_n[c] += 1

    def restart(self) -> None:
        for a in (self.spec, self.spec_n, self.ms_n, *self.ms.values()):
            a[...] = 0

    def finish(self) -> None:
        pass

    def result(self) -> dict:
        ms_n = np.maximum(self.ms_n, 1)
        norm = (self.window**2).sum() * self.sr / 2
        spec = self.spec / np.maximum(self.spec_n, 1) / norm
        # a column no whole FFT frame fell in (frames do not cross chunk edges) takes
        # its nearest filled neighbour's spectrum
        filled = np.flatnonzero(self.spec_n > 0)
        if filled.size:
            near = filled[
                np.clip(np.searchsorted(filled, np.arange(self.cols)), 0, filled.size - 1)
            ]
            spec = spec[:, near]
        return {
            "times_s": (np.arange(self.cols) + 0.5) * self.per_col / self.sr,
            "freqs_hz": np.fft.rfftfreq(self.n_fft, 1 / self.sr),
            "spectrogram_db": 10 * np.log10(np.maximum(spec, 1e-14)),
            "rms_db": {r: 10 * np.log10(np.maximum(v / ms_n, 1e-12)) for r, v in self.ms.items()},
        }


def _breath_markers(midi) -> list[tuple[float, float]]:
    """(start, hit) seconds of the breaths marked on the conductor track (first track),
    ``v2m:breath`` then ``v2m:hit`` (see :class:`v2m.composition.Score`)."""
    import mido

    out: list[tuple[float, float]] = []
    if not midi.tracks:
        return out
    tempo, t_s, start = 500_000, 0.0, None
    for msg in midi.tracks[0]:
        t_s += mido.tick2second(msg.time, midi.ticks_per_beat, tempo)
        if msg.type == "set_tempo":
            tempo = msg.tempo
        elif msg.type == "marker" and msg.text == BREATH_MARKER:
            start = t_s
        elif msg.type == "marker" and msg.text == HIT_MARKER and start is not None:
            if t_s > start:
                out.append((start, t_s))
            start = None
    return out


def _source(score) -> Score | MidiFileSource:
    if isinstance(score, (str, os.PathLike)):
        if Path(score).suffix.lower() == ".json":
            score = CueSheet.load(score)
        else:
            score = MidiFileSource(score)
    if isinstance(score, CueSheet):
        score = compose(score)
    return score


def _n_groups() -> int:
    """Synthesisers for a mix: one more than the cores when there are several. The cost
    estimate misjudges presets (Strings Pizzicato costs 4x its sounding time against the
    piano's), so with one synthesiser per core one finishes early and its core idles; a
    third lets the scheduler even them out: 10 minutes of cinematic 10.1-11.3 -> 9.5-10.0 s,
    pop 7.2-8.2 -> 7.4-7.5 s on two cores (four synthesisers: no better)."""
    cores = os.cpu_count() or 1
    return cores + 1 if cores > 1 else 1


def _groups(score: Score | MidiFileSource, n: int) -> list[tuple[str, ...]]:
    """Roles in ``n`` groups of about equal synthesis cost (sounding note time)."""
    roles = score.roles
    if n <= 1 or len(roles) <= 1:
        return [tuple(roles)]
    cost = {r: score.role_cost(r) for r in roles}
    groups: list[list[str]] = [[] for _ in range(min(n, len(roles)))]
    load = [0.0] * len(groups)
    for r in sorted(roles, key=lambda r: -cost[r]):
        i = int(np.argmin(load))
        groups[i].append(r)
        load[i] += cost[r]
    return [tuple(g) for g in groups if g]


def _style_eq(score) -> tuple:
    from ..styles import get_style

    return get_style(score.cue.style).eq if isinstance(score, Score) else ()


def _synth_settings(score) -> dict:
    from ..styles import Room, get_style

    room = get_style(score.cue.style).room if isinstance(score, Score) else Room()
    return {
        "synth.reverb.room-size": room.size,
        "synth.reverb.damp": room.damp,
        "synth.reverb.width": room.width,  # Freeverb width 0..1 (above 1 it inverts phase)
        "synth.reverb.level": room.level,
        # FluidSynth's chorus costs as much as a third of the synthesis; the stereo image
        # comes from the pan positions and the reverb instead
        "synth.chorus.active": 0,
    }


def _synthesis_pass(
    score, choice, groups, roles, stem_stores, mix_store, mastering, *, ending: str, leads
) -> None:
    """Pass 1: synthesise every group chunk by chunk, fade the ending, EQ, sum, analyse
    the mix for mastering and keep the raw mix (and stems) in their stores."""
    sr, n = mastering.sr, mastering.n
    duration_s = n / sr
    k_fade = min(n, max(1, int(fade_s(ending, duration_s) * sr)))
    fade = fade_curve(k_fade, ending)
    bands = _style_eq(score)
    # the EQ is linear: on each stem when stems are kept (they still sum to the mix),
    # else once on the mix
    eqs = [Equalizer(bands, sr) for _ in groups] if stem_stores else [Equalizer(bands, sr)]
    start = 0
    for parts in synthesize(
        str(choice.path),
        [score.to_bytes(roles=g) for g in groups],
        synth=choice.synth,
        sample_rate=sr,
        n_frames=n,
        chunk=mastering.chunk,
        settings=_synth_settings(score),
        leads=leads,
    ):
        k = parts[0].shape[0]
        if start + k > n - k_fade:  # the closing fade, on every part alike
            a = max(start, n - k_fade)
            f = fade[a - (n - k_fade) : start + k - (n - k_fade)]
            for x in parts:
                x[a - start :] *= f
        if stem_stores:
            parts = [eq(x) for eq, x in zip(eqs, parts, strict=True)]
            for r, x in zip(roles, parts, strict=True):
                stem_stores[r].append(x)
        mix = parts[0] if len(parts) == 1 else np.sum(parts, axis=0, dtype=np.float32)
        if not stem_stores:
            mix = eqs[0](mix)
        mastering.feed(mix)
        mix_store.append(mix)
        start += k


def _attack_leads(choice, enabled: bool) -> dict[int, float]:
    """Program -> lead (s) for this font and synthesiser (see :mod:`.attack`)."""
    return attack.leads_s(choice.path) if enabled and choice.synth == "fluidsynth" else {}


def _attack_guard_s(score, leads: dict[int, float]) -> float:
    """The longest attack lead among the programs the piece selects (the renderer starts
    their notes that much early, see :mod:`v2m.rendering.attack`)."""
    if not leads or not score.breaths_s:
        return 0.0
    programs = {p for bank, p in presets_of([score.to_bytes()]) if bank == 0}
    return max((leads.get(p, 0.0) for p in programs), default=0.0)


def _render(
    score,
    *,
    soundfont,
    synth: str,
    sample_rate: int,
    target_lufs: float,
    stems: bool,
    levels: bool,
    make_sinks,
    attack_leads: bool = True,
) -> RenderInfo:
    """Synthesise, master and hand the result to the sinks that ``make_sinks(roles, n)``
    returns (a list of objects with ``write(start, mix, stems)``)."""
    if sample_rate not in (44100, 48000):
        raise ParameterError(f"sample_rate={sample_rate}: must be 44100 or 48000")
    score = _source(score)
    choice = find_soundfont(soundfont, synth=synth)
    note = fallback_note(choice)
    if note:
        log.warning("%s", note)
    log.info("SoundFont: %s (%s, %s)", choice.path, choice.origin, choice.synth)
    duration_s = score.duration_s if isinstance(score, MidiFileSource) else score.cue.duration_s
    ending = score.ending if isinstance(score, MidiFileSource) else score.cue.ending
    n = int(round(duration_s * sample_rate))
    # levels per role need every role on its own: callers pass stems=True with levels
    groups = [(r,) for r in score.roles] if stems else _groups(score, _n_groups())
    roles = [g[0] for g in groups] if stems else []
    leads = _attack_leads(choice, attack_leads)
    mastering = Mastering(
        sample_rate,
        n,
        target_lufs=target_lufs,
        breaths_s=score.breaths_s,
        breath_guard_s=_attack_guard_s(score, leads),
    )
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="v2m-render-")))
        stores = {name: _RawStore(tmp / f"{name or 'mix'}.f32") for name in [None, *roles]}
        for st in stores.values():
            stack.callback(st.close)
        mix_store = stores.pop(None)
        _synthesis_pass(
            score, choice, groups, roles, stores, mix_store, mastering, ending=ending, leads=leads
        )
        mastering.plan(mix_store.read)
        chunk = mastering.chunk

        def chunks() -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
            for a in range(0, n, chunk):
                yield (
                    mix_store.read(a, a + chunk),
                    {r: st.read(a, a + chunk) for r, st in stores.items()},
                )

        lv = _Levels(n, sample_rate, roles) if levels else None
        sinks = make_sinks(roles, n) + ([lv] if lv is not None else [])

        def write(a: int, mix: np.ndarray, st: dict[str, np.ndarray]) -> None:
            for s in sinks:
                s.write(a, mix, st)

        def restart() -> None:
            for s in sinks:
                s.restart()

        mastering.apply(chunks, mix_store.read, write, restart)
        for s in sinks:
            s.finish()
    return RenderInfo(
        duration_s=n / sample_rate,
        sample_rate=sample_rate,
        soundfont=str(choice.path),
        soundfont_origin=choice.origin,
        synth=choice.synth,
        loudness_lufs=mastering.loudness_lufs,
        true_peak_dbtp=mastering.true_peak_dbtp,
        roles=list(score.roles),
        levels=lv.result() if lv is not None else None,
    )


class _ArraySinks:
    def __init__(self, roles: list[str], n: int):
        self.mix = np.zeros((n, 2), np.float32)
        self.stems = {r: np.zeros((n, 2), np.float32) for r in roles}

    def write(self, a: int, mix: np.ndarray, stems: dict[str, np.ndarray]) -> None:
        b = a + mix.shape[0]
        self.mix[a:b] = mix
        for r, x in stems.items():
            self.stems[r][a:b] = x

    def restart(self) -> None:
        pass  # every frame is written again

    def finish(self) -> None:
        pass


class _FileSinks:
    """The mix and stem files of a render. Encoding (FLAC above all) runs in one
    background thread while the mastering pass prepares the next chunk (libsndfile
    releases the GIL); at most ``IN_FLIGHT`` chunks wait, so memory stays bounded, and
    chunks are written in order."""

    IN_FLIGHT = 2

    def __init__(
        self,
        stack: ExitStack,
        sr: int,
        mix_path: Path | None,
        stem_paths: dict,
        *,
        subtype: str | None = None,
    ):
        from concurrent.futures import ThreadPoolExecutor

        self.stack = stack
        self.files: dict[str | None, _FileSink] = {}
        if mix_path is not None:
            self.files[None] = _FileSink(Path(mix_path), sr, subtype=subtype)
        for r, p in stem_paths.items():
            sub = "FLOAT" if Path(p).suffix.lower() == ".wav" else None
            self.files[r] = _FileSink(Path(p), sr, subtype=sub)
        for f in self.files.values():
            f.open(stack)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="v2m-write")
        # registered after the files: on an error the writer stops before they close
        stack.callback(self._pool.shutdown, wait=True, cancel_futures=True)
        self._pending: deque = deque()
        self._failed = False

    def write(self, a: int, mix: np.ndarray, stems: dict[str, np.ndarray]) -> None:
        while len(self._pending) >= self.IN_FLIGHT:
            self._pending.popleft().result()  # re-raises the writer's OutputError
        self._pending.append(self._pool.submit(self._write_now, mix, stems))

    def _write_now(self, mix: np.ndarray, stems: dict[str, np.ndarray]) -> None:
        if self._failed:  # chunks queued behind a failed write are not tried
            return
        try:
            for r, f in self.files.items():
                f.write(mix if r is None else stems[r])
        except BaseException:
            self._failed = True
            raise

    def _drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def restart(self) -> None:
        self._drain()
        self._failed = False
        for f in self.files.values():
            f.close()
            f.open(self.stack)

    def finish(self) -> None:
        self._drain()
        for f in self.files.values():
            f.close()


def render(
    score: Score | CueSheet | str | os.PathLike,
    *,
    soundfont: str | os.PathLike | None = None,
    synth: str = "auto",
    sample_rate: int = 48000,
    target_lufs: float = TARGET_LUFS,
    stems: bool = False,
    levels: bool = False,
    attack_leads: bool = True,
) -> Rendered:
    """Synthesise and master a score (a cue sheet is composed first), in memory.

    Parameters
    ----------
    score : Score, CueSheet, or path
        A composed score, a cue sheet (composed first), or a path to a ``.mid`` file or a
        cue sheet ``.json``.
    soundfont : path, optional
        See :func:`find_soundfont` for the search order when not given.
    synth : {"auto", "fluidsynth", "midirenderer"}
        ``auto``: FluidSynth when installed.
    sample_rate : int
        44100 or 48000 Hz.
    target_lufs : float
        Integrated loudness target (default -14 LUFS).
    stems : bool
        Render each role on its own (``Rendered.stems``; the mix is their sum).
    levels : bool
        Also collect the spectrogram and per-role levels for :func:`v2m.plotting.plot_render`
        (renders per role, like ``stems``).
    attack_leads : bool
        With MuseScore General, start slow-speaking presets early so their attack is heard
        on time (:mod:`v2m.rendering.attack`); False renders every event where the MIDI
        file puts it.

    Returns
    -------
    Rendered
    """
    holder: dict = {}

    def make(roles, n):
        holder["s"] = _ArraySinks(roles, n)
        return [holder["s"]]

    info = _render(
        score,
        soundfont=soundfont,
        synth=synth,
        sample_rate=sample_rate,
        target_lufs=target_lufs,
        stems=stems or levels,
        levels=levels,
        make_sinks=make,
        attack_leads=attack_leads,
    )
    sinks = holder["s"]
    return Rendered(
        **{f: getattr(info, f) for f in RenderInfo.__dataclass_fields__},
        mix=sinks.mix,
        stems=sinks.stems if stems else {},
    )


def render_to_file(
    score: Score | CueSheet | str | os.PathLike,
    path: str | os.PathLike | None,
    *,
    stems_dir: str | os.PathLike | None = None,
    stems_suffix: str = ".wav",
    soundfont: str | os.PathLike | None = None,
    synth: str = "auto",
    sample_rate: int = 48000,
    target_lufs: float = TARGET_LUFS,
    levels: bool = False,
    subtype: str | None = None,
    attack_leads: bool = True,
) -> RenderInfo:
    """Synthesise and master a score straight to WAV/FLAC files, in bounded memory.

    Parameters
    ----------
    path : path or None
        The mix (``.wav`` 24-bit or ``.flac``); None writes only the stems.
    stems_dir : path, optional
        Also write ``<role>.wav`` (32-bit float) per role there; they sum to the mix.
    levels : bool
        Collect what :func:`v2m.plotting.plot_render` draws (``RenderInfo.levels``).
    subtype : str, optional
        libsndfile subtype of the mix (default 24-bit PCM; ``"FLOAT"`` for 32-bit float).

    Other parameters as :func:`render`. Peak memory does not depend on the length: the
    audio is synthesised, measured and written in one-second chunks, and the raw audio
    waits in a temporary file (``TMPDIR``) between the passes.
    """
    if path is not None:
        _subtype_for(Path(path), None)
    with ExitStack() as stack:

        def make(roles, n):
            stem_paths = {}
            if stems_dir is not None:
                d = Path(stems_dir)
                d.mkdir(parents=True, exist_ok=True)
                stem_paths = {r: d / f"{r}{stems_suffix}" for r in roles}
            return [
                _FileSinks(
                    stack, sample_rate, Path(path) if path else None, stem_paths, subtype=subtype
                )
            ]

        return _render(
            score,
            soundfont=soundfont,
            synth=synth,
            sample_rate=sample_rate,
            target_lufs=target_lufs,
            stems=stems_dir is not None or levels,
            levels=levels,
            make_sinks=make,
            attack_leads=attack_leads,
        )


def master(
    stems: dict[str, np.ndarray],
    sr: int,
    *,
    duration_s: float,
    ending: str,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = TRUE_PEAK_DBTP,
    breaths_s: list[tuple[float, float]] = (),
    breath_guard_s: float = 0.0,
) -> tuple[dict[str, np.ndarray], float, float]:
    """Master audio already in memory: cut to length, shape the ending, normalise loudness
    and limit true peak, with the same block-wise mastering as :func:`render`.

    ``stems`` maps names to (n, 2) arrays; the mix is their sum, and one gain curve is
    applied to every stem. ``breaths_s`` are (start, hit) seconds of breaths before hits
    (:attr:`v2m.composition.Score.breaths_s`), taken down as :func:`render` does (their
    last ``breath_guard_s`` left out of the level that sets the dip, as where notes start
    early). Returns
    the mastered stems (float32), the mix's integrated loudness (LUFS) and its true peak
    (dBTP).
    """
    n = int(round(duration_s * sr))
    k = min(n, max(1, int(fade_s(ending, duration_s) * sr)))
    fade = fade_curve(k, ending)
    raw = {}
    for r, x in stems.items():
        y = np.zeros((n, 2), np.float32)
        m = min(n, x.shape[0])
        y[:m] = x[:m]
        y[n - k :] *= fade
        raw[r] = y
    mix = np.sum(list(raw.values()), axis=0, dtype=np.float32) if raw else np.zeros((n, 2))
    m = Mastering(
        sr,
        n,
        target_lufs=target_lufs,
        ceiling_dbtp=ceiling_dbtp,
        breaths_s=breaths_s,
        breath_guard_s=breath_guard_s,
    )
    for a in range(0, n, m.chunk):
        m.feed(mix[a : a + m.chunk])
    m.plan(lambda a, b: mix[max(0, a) : b])
    out = {r: np.zeros((n, 2), np.float32) for r in raw}

    def chunks():
        for a in range(0, n, m.chunk):
            yield mix[a : a + m.chunk], {r: x[a : a + m.chunk] for r, x in raw.items()}

    def write(a, mx, st):
        for r, x in st.items():
            out[r][a : a + x.shape[0]] = x

    m.apply(chunks, lambda a, b: mix[max(0, a) : b], write, lambda: None)
    return out, m.loudness_lufs, m.true_peak_dbtp
