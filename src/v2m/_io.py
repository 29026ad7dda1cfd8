"""Output helpers: atomic writes and refusal to clobber."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputExistsError, ParameterError


def check_output(path: str | os.PathLike, *, force: bool, inputs: tuple = ()) -> Path:
    """Validate an output path before any work is done.

    Raises
    ------
    ParameterError
        If ``path`` is one of the ``inputs`` (v2m never overwrites an input).
    OutputExistsError
        If ``path`` exists and ``force`` is false.
    """
    out = Path(path)
    for inp in inputs:
        if inp is None:
            continue
        if Path(inp).resolve() == out.resolve():
            raise ParameterError(f"{out}: refusing to overwrite the input file")
    if out.exists() and not force:
        raise OutputExistsError(f"{out}: output exists already (use --force to overwrite)")
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    return out


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    The temporary file keeps the final suffix, so libraries that choose a format from the
    file name (FFmpeg, soundfile, matplotlib) still do the right thing.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs get the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
