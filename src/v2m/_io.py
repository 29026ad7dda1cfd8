"""Outputs: checked before any work, written atomically, never clobbered, nothing half-made.

Every file v2m writes goes through :func:`atomic_path`: the data goes to a temporary file
beside the target (named ``.v2m-tmp.<pid>.<name>.<random><suffix>``) and only a complete
file is moved into place.

A command that writes several files wraps its work in an :class:`OutputSet`:

- before any work it checks every output (distinct from each other and from the inputs,
  not existing unless ``force``, a directory that exists or can be made and is writable)
  and sweeps temporary files that killed runs of v2m left there;
- while it works, finished files wait under their temporary names;
- at the end all of them are moved into place together, each with a *no-clobber* link
  (``os.link`` fails if the target appeared meanwhile, so two runs racing for one output
  cannot overwrite each other: one wins, the other fails with exit 2 and leaves nothing);
- on any error, Ctrl-C or SIGTERM nothing is left behind: no temporary file, no partial
  output, no directory the command made.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import math
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import OutputError, OutputExistsError, ParameterError

__all__ = [
    "OutputSet",
    "atomic_path",
    "check_output",
    "check_suffix",
    "json_safe",
    "write_bytes_atomic",
    "write_text_atomic",
]

TMP_PREFIX = ".v2m-tmp"
_TMP_RE = re.compile(r"^\.v2m-tmp\.(\d+)\.")
#: Errors that mean "this place cannot be written", as opposed to a bug.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG}

_active: contextvars.ContextVar[OutputSet | None] = contextvars.ContextVar(
    "v2m_output_set", default=None
)


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _writable_dir(path: Path) -> tuple[Path, list[Path]]:
    """The nearest existing ancestor of ``path``'s directory and the folders to make."""
    d = path.parent if str(path.parent) else Path(".")
    missing = []
    while not d.exists():
        missing.append(d)
        if d.parent == d:
            break
        d = d.parent
    return d, missing[::-1]


def _why_not_writable(d: Path) -> str | None:
    if not d.is_dir():
        return f"{d} is not a directory"
    if not os.access(d, os.W_OK | os.X_OK):
        try:
            st = os.statvfs(d)
            if st.f_flag & os.ST_RDONLY:
                return f"{d} is on a read-only file system"
        except OSError:
            pass
        return f"no permission to write in {d}"
    return None


def _orphans(folder, pattern: re.Pattern, *, dirs: bool) -> list[str]:
    """Entries of ``folder`` named by ``pattern`` (group 1: the process id) whose process
    no longer runs: folders when ``dirs``, else files."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    out = []
    for e in entries:
        m = pattern.match(e.name)
        kind_ok = e.is_dir(follow_symlinks=False) if dirs else e.is_file(follow_symlinks=False)
        if m and kind_ok and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            out.append(e.path)
    return out


def sweep_stale_temps(folder: Path) -> list[Path]:
    """Remove temporary files in ``folder`` left by v2m processes that no longer run
    (killed with SIGKILL, or a machine that went down). Returns what was removed."""
    removed = []
    for path in _orphans(folder, _TMP_RE, dirs=False):
        with contextlib.suppress(OSError):
            os.unlink(path)
            removed.append(Path(path))
    return removed


#: Work folders of v2m's passes in TMPDIR: ``v2m-<what>-<pid>-<random>``.
_WORK_RE = re.compile(r"^v2m-[a-z]+-(\d+)-[A-Za-z0-9_]+$")


def work_dir(stack, what: str) -> Path:
    """A temporary folder for one pass (``render``, ``music``, ``dialogue``), removed when
    ``stack`` (an ExitStack) closes. Its name carries the process id, so folders left by a
    killed v2m (SIGKILL, a machine that went down: no cleanup runs) are removed by the
    next run (:func:`sweep_work_dirs`)."""
    sweep_work_dirs()
    tmp = tempfile.TemporaryDirectory(prefix=f"v2m-{what}-{os.getpid()}-")
    return Path(stack.enter_context(tmp))


def sweep_work_dirs(folder: str | os.PathLike | None = None) -> list[Path]:
    """Remove v2m work folders in ``folder`` (default TMPDIR) whose process no longer runs.
    Returns what was removed."""
    import shutil

    removed = []
    for path in _orphans(Path(folder or tempfile.gettempdir()), _WORK_RE, dirs=True):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(Path(path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_special(path: Path) -> bool:
    """True for an existing path that is not a regular file or folder (``/dev/null``,
    ``/dev/stdout``, a FIFO): written in place, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_suffix(path, allowed: set[str], option: str) -> None:
    """Refuse, before any work, an output ``path`` (given for ``option``) whose file type
    is not one of ``allowed`` (suffixes with the dot); ``None`` passes."""
    if path is not None and Path(path).suffix.lower() not in allowed:
        raise ParameterError(
            f"{path}: {option} must end in {' or '.join(sorted(allowed))}, "
            f"not {Path(path).suffix or 'nothing'!r}"
        )


def check_output(path: str | os.PathLike, *, force: bool, inputs: Iterable = ()) -> Path:
    """Check one output path before any work (see :class:`OutputSet`); returns it."""
    out = Path(path)
    if is_special(out):
        return out
    for inp in inputs:
        if inp is not None and _same(Path(inp), out):
            raise ParameterError(f"{out}: refusing to overwrite the input file")
    if out.is_dir():
        raise ParameterError(f"{out}: is a directory; give a file name")
    if out.exists() and not force:
        raise OutputExistsError(f"{out}: output exists already (use --force to overwrite)")
    existing, _missing = _writable_dir(out)
    why = _why_not_writable(existing)
    if why:
        raise OutputError(f"{out}: cannot write there: {why}")
    return out


class OutputSet:
    """The files one command writes (see the module docstring).

    Parameters
    ----------
    outputs : dict
        Option name (for messages, e.g. ``"--report"``) -> path; ``None`` values are ignored.
    force : bool
        Replace existing outputs (never an input).
    inputs : iterable of path
        Files the command reads; no output may be one of them.
    input_folders : iterable of path
        Folders the command reads (a dataset's root): no existing file in them is ever
        replaced, even with ``force``.
    """

    def __init__(
        self,
        outputs: dict[str, str | os.PathLike | None],
        *,
        force: bool,
        inputs=(),
        input_folders=(),
    ):
        self.force = force
        self.outputs = {k: Path(v) for k, v in outputs.items() if v is not None}
        self.inputs = [Path(i) for i in inputs if i is not None]
        self.input_folders = [Path(i) for i in input_folders if i is not None]
        self._staged: list[tuple[Path, Path]] = []
        self._made_dirs: list[Path] = []
        self._token = None
        self.check()

    def check(self) -> None:
        """Raise a :class:`~v2m.errors.V2MError` naming the first output that cannot be
        written; nothing is created."""
        seen: dict[Path, str] = {}
        for name, p in self.outputs.items():
            key = p.resolve()
            if key in seen:
                raise ParameterError(
                    f"{p}: given for both {seen[key]} and {name}; every output needs its own path"
                )
            seen[key] = name
            check_output(p, force=self.force, inputs=self.inputs)
            self._not_in_input_folders(p)

    def _not_in_input_folders(self, p: Path) -> None:
        if not p.exists() or is_special(p):
            return
        for d in self.input_folders:
            try:
                inside = p.resolve().is_relative_to(d.resolve())
            except OSError:
                inside = False
            if inside:
                raise ParameterError(
                    f"{p}: refusing to overwrite a file of the input folder {d} (even with "
                    "--force); write the output elsewhere"
                )

    def add(self, name: str, path: str | os.PathLike) -> Path:
        """Register (and check) one more output, e.g. a stem inside a folder."""
        p = Path(path)
        for other_name, q in self.outputs.items():
            if q.resolve() == p.resolve():
                raise ParameterError(
                    f"{p}: given for both {other_name} and {name}; every output needs its own path"
                )
        check_output(p, force=self.force, inputs=self.inputs)
        self.outputs[name] = p
        return p

    # --------------------------------------------------------------- context
    def __enter__(self) -> OutputSet:
        for p in self.outputs.values():
            existing, missing = _writable_dir(p)
            for d in missing:
                try:
                    d.mkdir()
                except FileExistsError:
                    continue
                except OSError as exc:
                    self._remove_dirs()
                    raise OutputError(f"{d}: cannot make the folder ({exc.strerror})") from None
                self._made_dirs.append(d)
            if not is_special(p):
                sweep_stale_temps(p.parent)
        self._token = _active.set(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        _active.reset(self._token)
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.rollback()
                raise
        else:
            self.rollback()

    def owns(self, path: Path) -> bool:
        return any(_same_path(path, p) for p in self.outputs.values())

    def stage(self, tmp: Path, final: Path) -> None:
        self._staged.append((tmp, final))

    def commit(self) -> None:
        """Move every finished file into place (no-clobber unless ``force``)."""
        done: list[Path] = []
        try:
            for tmp, final in self._staged:
                _place(tmp, final, force=self.force)
                done.append(final)
        except BaseException:
            if not self.force:
                for p in done:  # ours alone: we made them a moment ago with O_EXCL semantics
                    with contextlib.suppress(OSError):
                        p.unlink()
            raise
        self._staged.clear()

    def rollback(self) -> None:
        for tmp, _final in self._staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._staged.clear()
        self._remove_dirs()

    def _remove_dirs(self) -> None:
        for d in reversed(self._made_dirs):
            with contextlib.suppress(OSError):
                d.rmdir()  # only if empty
        self._made_dirs.clear()


def _same_path(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _place(tmp: Path, final: Path, *, force: bool) -> None:
    if force:
        os.replace(tmp, final)
        return
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise OutputExistsError(
            f"{final}: appeared while v2m was working (another run?); nothing was written"
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise OutputError(f"{final}: cannot write ({exc.strerror})") from None
        # No hard links on this file system: claim the name exclusively, then replace it.
        try:
            fd = os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise OutputExistsError(
                f"{final}: appeared while v2m was working (another run?); nothing was written"
            ) from None
        os.close(fd)
        os.replace(tmp, final)
        return
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; the finished file replaces ``path``.

    The temporary file keeps the final suffix, so libraries that choose a format from the
    file name (FFmpeg, soundfile, matplotlib) still do the right thing. Inside an
    :class:`OutputSet` that owns ``path`` the file is moved into place when the set
    commits; otherwise at once (a plain library call replaces an existing file, as
    ``numpy.save`` does). A failure to write (disk full, read-only, no permission) raises
    :class:`~v2m.errors.OutputError` naming ``path``.
    """
    final = Path(path)
    if is_special(final):
        yield final  # a device or pipe: written in place
        return
    oset = _active.get()
    if oset is None or not oset.owns(final):
        final.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f"{TMP_PREFIX}.{os.getpid()}.{final.stem}.",
            suffix=final.suffix,
            dir=final.parent,
        )
    except OSError as exc:
        raise OutputError(f"{final}: cannot write ({exc.strerror})") from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs get the usual permissions
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
        except OSError as exc:
            if exc.errno in _WRITE_ERRNOS:
                raise OutputError(f"{final}: cannot write ({exc.strerror})") from None
            raise
        if oset is not None and oset.owns(final):
            oset.stage(tmp_path, final)
            tmp_path = None
        else:
            os.replace(tmp_path, final)
            tmp_path = None
    finally:
        if tmp_path is not None:
            with contextlib.suppress(OSError):
                tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def json_safe(obj):
    """``obj`` with every non-finite float (NaN, +-inf) replaced by None, so that the JSON
    written is standard (``-Infinity`` is not JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj
