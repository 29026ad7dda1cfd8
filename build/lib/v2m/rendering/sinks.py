"""Where rendered audio goes: arrays in memory, WAV/FLAC files written atomically block by
block, temporary raw stores between the passes, and the levels the render plot draws."""

from __future__ import annotations

import os
from collections import deque
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from .._io import atomic_path
from ..errors import OutputError, ParameterError

__all__ = [
    "subtype_for",
    "copy_audio",
    "write_audio",
    "ArraySinks",
    "FileSinks",
    "RawStore",
    "Levels",
]


def subtype_for(path: Path, subtype: str | None) -> tuple[str, str]:
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


def write_audio(path, x: np.ndarray, sr: int, *, subtype: str | None = None) -> None:
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
        self.fmt, self.subtype = subtype_for(path, subtype)
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


class RawStore:
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


class Levels:
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


class ArraySinks:
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


class FileSinks:
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
