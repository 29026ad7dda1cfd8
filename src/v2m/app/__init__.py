"""``v2m app``: a local web page for creators (extra ``app``: Starlette and uvicorn).

Drop a video or an image on the page; v2m analyses it once, then scores it with the
controls you set (style, tempo, key, energy, seed, hits, mode and, when installed, a
neural backend); the page plays the video with its new music, shows the analysis plot,
the cuts and the reasons for every choice, lets you edit the cue sheet's sections (style,
key, energy) and re-renders from the edited cue without analysing again; every file can be
downloaded (MP4, WAV, FLAC, MIDI, stems, cue sheet).

Safe by default: binds 127.0.0.1 (``--host`` to change it), refuses uploads over
``max_upload_mb`` (default 500) and files that are not video or images v2m can decode,
writes only inside its work folder (a temporary one by default, removed when the server
stops; sessions older than six hours are removed while it runs), and serves files only
from there. Each upload is its own session: two browser tabs work side by side.

API (JSON): ``POST /api/upload`` (multipart ``file``) -> session; ``POST /api/score``
{session, style, tempo_bpm, key, energy, seed, hits_s, mode, backend, stems, keep_audio}
-> job (a video's dialogue is kept and the music mixed around it, as ``v2m score``);
``POST /api/cue`` {session, cue} -> job; ``GET /api/jobs/{id}`` -> state, stage,
progress, result; ``GET /files/{session}/...`` -> a file of the session.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from .._deps import require
from ..errors import InputError, ParameterError, V2MError

__all__ = ["create_app", "serve"]

STATIC = Path(__file__).parent / "static"
DEFAULT_MAX_UPLOAD_MB = 500.0


def create_app(*, work_dir: str | Path | None = None, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB):
    """The Starlette application (see the module docstring)."""
    require("starlette", purpose="v2m app")
    require("python_multipart", purpose="uploads in v2m app")
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from .. import __version__
    from .._web import inside, save_upload
    from ..projection.controls import MODES
    from ..styles import STYLE_NAMES
    from ._jobs import Jobs

    temp = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="v2m-app-")) if temp else Path(work_dir)
    jobs = Jobs(work)
    max_bytes = int(max_upload_mb * 2**20)

    def error(status: int, msg: str) -> JSONResponse:
        return JSONResponse({"error": public_message(msg, work)}, status_code=status)

    async def index(request: Request):
        return FileResponse(STATIC / "index.html")

    async def info(request: Request):
        from ..backends import BACKENDS

        return JSONResponse({
            "version": __version__, "styles": list(STYLE_NAMES), "modes": list(MODES),
            "backends": BACKENDS.names(), "max_upload_mb": max_upload_mb,
        })  # fmt: skip

    async def upload(request: Request):
        too_large = f"the file is larger than the upload limit of {max_upload_mb:.0f} MB"
        length = request.headers.get("content-length")
        if length and (not length.isdigit() or int(length) > max_bytes + 2**16):
            return error(413, too_large)
        try:
            form = await _limited(request, max_bytes + 2**16).form(max_files=1, max_fields=4)
        except _TooLarge:
            return error(413, too_large)
        f = form.get("file")
        if f is None or not hasattr(f, "read"):
            return error(400, "no file in the upload (field 'file')")
        folder = jobs.session_folder()
        try:
            path = await save_upload(f, folder, max_bytes=max_bytes)
            s = jobs.new_session(path)
        except ParameterError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return error(413, str(exc))
        except V2MError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return error(415, str(exc))
        finally:
            await f.close()
        return JSONResponse({"session": s.id, "name": s.input.name, "kind": s.kind,
                             "duration_s": round(s.duration_s, 3)})  # fmt: skip

    async def _start(request: Request, kind: str):
        try:
            body = await request.json()
        except ValueError:
            return error(400, "the request body is not JSON")
        if not isinstance(body, dict):
            return error(400, "the request body must be a JSON object")
        s = jobs.sessions.get(str(body.get("session", "")))
        if s is None:
            return error(404, "no such session (upload the file again)")
        if kind == "cue" and not isinstance(body.get("cue"), dict):
            return error(400, "no cue sheet in the request")
        try:
            _check_params(body)
        except V2MError as exc:  # a bad style, key, tempo, ... named by the library
            return error(400, str(exc))
        except (TypeError, ValueError) as exc:
            return error(400, f"bad control value ({exc})")
        job = jobs.submit(s, kind, body)
        return JSONResponse(_public_job(job.public(), work))

    async def score(request: Request):
        return await _start(request, "score")

    async def cue(request: Request):
        return await _start(request, "cue")

    async def job(request: Request):
        j = jobs.jobs.get(request.path_params["job"])
        if j is None:
            return error(404, "no such job")
        return JSONResponse(_public_job(j.public(), work))

    async def files(request: Request):
        sid = request.path_params["session"]
        if sid not in jobs.sessions:
            return error(404, "no such session")
        try:
            p = inside(work / sid, *request.path_params["path"].split("/"))
        except InputError as exc:
            return error(403, str(exc))
        if not p.is_file() or p.suffix == ".part":
            return error(404, "no such file")
        return FileResponse(p, filename=p.name if request.query_params.get("dl") else None)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        jobs.close()
        if temp:
            shutil.rmtree(work, ignore_errors=True)

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/info", info),
            Route("/api/upload", upload, methods=["POST"]),
            Route("/api/score", score, methods=["POST"]),
            Route("/api/cue", cue, methods=["POST"]),
            Route("/api/jobs/{job}", job),
            Route("/files/{session}/{path:path}", files),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.jobs = jobs
    app.state.work = work
    return app


class _TooLarge(Exception):
    """The request body passed the upload limit while it streamed."""


def _limited(request, limit: int):
    """``request`` whose body stops with :class:`_TooLarge` past ``limit`` bytes, however
    it is sent (a chunked body has no Content-Length to check first)."""
    from starlette.requests import Request

    total = 0

    async def receive():
        nonlocal total
        msg = await request.receive()
        if msg.get("type") == "http.request":
            total += len(msg.get("body", b""))
            if total > limit:
                raise _TooLarge()
        return msg

    return Request(request.scope, receive)


def public_message(msg: str, work: Path) -> str:
    """A message fit for an HTTP answer: no path of the server's work folder (a file is
    named by its own name) and no FFmpeg error numbers."""
    import re

    for root in {str(work), str(Path(work).resolve())}:
        msg = re.sub(re.escape(root) + r"/[^/\s:]+/", "", msg)
        msg = msg.replace(root, "<work>")
    return re.sub(r"\[Errno -?\d+\]\s*", "", msg)


def _public_job(d: dict, work: Path) -> dict:
    if d.get("error"):
        d = dict(d, error=public_message(d["error"], work))
    return d


def _check_params(p: dict) -> None:
    """The controls' types and ranges, checked before a job starts (the library checks
    again); numbers given as text are turned into numbers in ``p``."""
    import math

    def num(name):
        v = p.get(name)
        if v in (None, ""):
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise ParameterError(f"{name}={v!r}: not a number")
        try:
            x = float(v)
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(f"{name}={v!r}: not a number") from None
        if not math.isfinite(x):
            raise ParameterError(f"{name}={v!r}: not a finite number")
        p[name] = x
        return x

    for name in ("backend", "model_dir"):  # the controls' own types: Controls checks them
        v = p.get(name)
        if v is not None and not isinstance(v, str):
            raise ParameterError(f"{name}={v!r}: must be text")
    seed = num("seed")
    if seed is not None:
        if seed != int(seed):
            raise ParameterError(f"seed={p['seed']!r}: must be a whole number")
        p["seed"] = int(seed)
    hits = p.get("hits_s") or []
    if not isinstance(hits, list):
        raise ParameterError("hits_s: give a list of times in seconds")
    num("tempo_bpm")
    num("energy")
    from ._jobs import controls_of

    controls_of(p)  # every control checked once, as the pipeline checks them
    if p.get("keep_audio") not in (None, "", "auto", "on", "off"):
        raise ParameterError(f"keep_audio={p.get('keep_audio')!r}: must be auto, on or off")
    if (p.get("backend") or "rules") != "rules" and not p.get("model_dir"):
        raise ParameterError("a neural backend needs a model folder (v2m never downloads one)")


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    work_dir: str | Path | None = None,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    open_browser: bool = False,
) -> None:
    """Run the app until interrupted."""
    from .._web import Server

    srv = Server(create_app(work_dir=work_dir, max_upload_mb=max_upload_mb), host=host, port=port)
    print(f"v2m app: {srv.url}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(srv.url)
    srv.run()
