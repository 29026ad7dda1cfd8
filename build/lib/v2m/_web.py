"""What the local web servers share (``v2m app``, ``v2m study serve``): safe file serving
inside a folder, uploads with a size limit, and running a Starlette app with uvicorn
(extra ``app``)."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from pathlib import Path

from ._deps import require
from .errors import InputError, ParameterError

LOCAL = "127.0.0.1"


def inside(root: Path, *parts: str) -> Path:
    """``root / parts`` resolved, or InputError when it would leave ``root`` (``..``,
    absolute parts, symlinks pointing out)."""
    root = root.resolve()
    p = root.joinpath(*parts).resolve()
    if p != root and root not in p.parents:
        raise InputError(f"{'/'.join(parts)}: outside the served folder")
    return p


async def save_upload(upload, folder: Path, *, max_bytes: int) -> Path:
    """Stream an uploaded file into ``folder`` (its own name, sanitised), refusing more than
    ``max_bytes``: ParameterError naming the limit; nothing is left behind."""
    name = Path(upload.filename or "upload").name.replace(os.sep, "_") or "upload"
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[-120:].lstrip(".")
    if not name:  # "..", "." or only dots: a name of its own
        name = "upload"
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > max_bytes:
                    raise ParameterError(
                        f"{upload.filename}: larger than the upload limit of "
                        f"{max_bytes / 2**20:.0f} MB"
                    )
                fh.write(chunk)
        dest = folder / name
        os.replace(tmp, dest)
        tmp = None
        return dest
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def free_port(host: str = LOCAL) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Server:
    """A Starlette app served by uvicorn in a background thread (tests, ``--no-block``) or
    in the foreground (:meth:`run`)."""

    def __init__(self, app, *, host: str = LOCAL, port: int = 0):
        uvicorn = require("uvicorn", purpose="the local web server")
        self.host = host
        self.port = port or free_port(host)
        cfg = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(cfg)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def run(self) -> None:
        self._server.run()

    def start(self) -> Server:
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        import time

        for _ in range(200):
            if self._server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("the web server did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
