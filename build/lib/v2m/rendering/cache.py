"""Renders of MIDI files kept on disk, so evaluating the same files again does not
synthesise them again.

``v2m eval`` (the structure indicator) and ``v2m bench --protocol diffbgm`` render every
MIDI file; a render takes 0.2-2 s of CPU, the rest of the metrics of a file milliseconds.
A render is looked up by the SHA-256 of: the MIDI file's bytes, the SoundFont (path, size,
modification time), the synthesiser, the sample rate, v2m's version and the source of
:mod:`v2m.rendering` (a change to the renderer never serves an old render).

Renders go to ``<cache>/renders/`` (the cache folder of :func:`cache_dir`) as float32
``.npy`` (exact: a cached render equals a fresh one), written atomically. The folder is
kept under ``V2M_RENDER_CACHE_MB`` megabytes (default 2048) by deleting the least recently
used renders; ``V2M_RENDER_CACHE=0`` turns the cache off. A folder that cannot be written
only means no caching.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from ._sfcache import cache_dir

__all__ = ["render_mix"]

log = logging.getLogger("v2m")


@lru_cache(maxsize=1)
def _code_digest() -> str:
    from .. import __version__

    h = hashlib.sha256(__version__.encode())
    for f in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def _key(midi: Path, sample_rate: int, soundfont, synth: str) -> str:
    from .soundfont import find_soundfont

    choice = find_soundfont(soundfont, synth=synth)
    st = choice.path.stat()
    h = hashlib.sha256(midi.read_bytes())
    h.update(f"|{choice.path}|{st.st_size}|{st.st_mtime_ns}|{choice.synth}|{sample_rate}|".encode())
    h.update(_code_digest().encode())
    return h.hexdigest()[:32]


def _limit_bytes() -> int:
    try:
        return int(float(os.environ.get("V2M_RENDER_CACHE_MB", "2048")) * 2**20)
    except ValueError:
        return 2048 * 2**20


def _prune(folder: Path, limit: int) -> None:
    files = []
    for f in folder.glob("*.npy"):
        try:
            st = f.stat()
        except OSError:
            continue
        files.append((max(st.st_atime, st.st_mtime), st.st_size, f))
    total = sum(s for _, s, _ in files)
    for _, size, f in sorted(files, key=lambda t: t[0]):
        if total <= limit:
            break
        f.unlink(missing_ok=True)
        total -= size


def render_mix(
    midi: str | os.PathLike,
    *,
    sample_rate: int = 44100,
    soundfont: str | os.PathLike | None = None,
    synth: str = "auto",
) -> tuple[np.ndarray, int]:
    """The rendered, mastered mix of a MIDI file, from the cache when it was rendered before.

    Parameters
    ----------
    midi : path
        A ``.mid`` file.
    sample_rate : int
        44100 or 48000 Hz.
    soundfont, synth
        As for :func:`v2m.rendering.render`.

    Returns
    -------
    mix : np.ndarray, shape (n_samples, 2), float32
    sample_rate : int
    """
    from . import render

    midi = Path(midi)
    if os.environ.get("V2M_RENDER_CACHE", "1") == "0":
        out = render(midi, soundfont=soundfont, synth=synth, sample_rate=sample_rate)
        return out.mix, out.sample_rate
    key = _key(midi, sample_rate, soundfont, synth)
    folder = cache_dir() / "renders"
    path = folder / f"{key}.npy"
    try:
        mix = np.load(path, allow_pickle=False)
        os.utime(path)  # recently used
        return mix, sample_rate
    except (OSError, ValueError):
        pass
    out = render(midi, soundfont=soundfont, synth=synth, sample_rate=sample_rate)
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, np.ascontiguousarray(out.mix, np.float32), allow_pickle=False)
        os.replace(tmp, path)
        tmp = None
        _prune(folder, _limit_bytes())
    except OSError as exc:
        log.debug("render cache not written (%s)", exc)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return out.mix, out.sample_rate
