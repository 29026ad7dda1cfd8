"""``v2m study``: blind listening studies of V2M systems, in the survey's subjective terms.

``create_study``
    From several systems' outputs for the same inputs (files named by item id in one folder
    per system; audio, or videos with their music) and optionally the input videos, builds a
    study folder: every stimulus under an opaque name (audio is muxed under its video when
    the videos are given, so participants judge music with picture), the trials, and
    ``study.json`` (the key from stimulus to system, which the server never sends).
    Trials: a MOS trial per (system, item) with the questions below on a 1-5 scale
    (without videos only ``quality``); with ``pairwise`` an A/B trial per item and pair of
    systems (which soundtrack fits the video better), positions randomised; and
    ``attention`` instructed-response trials ("answer N to every question").
``serve_study``
    Serves the study locally: each participant gets the trials in their own random order
    (seeded by their id), and every answer is written to ``answers.sqlite`` in the study
    folder at once (one row per answer), so nothing is lost if the server stops; a
    participant who comes back continues where they stopped.
``report_study``
    Participants who failed an attention check are excluded (listed with the reason); per
    system and question the mean with its 95 % CI; Wilcoxon signed-rank tests between
    systems on paired ratings with Holm's correction; Krippendorff's alpha (interval)
    among participants per question; A/B preference shares with binomial tests (Holm).
    Written as ``report.json``, ``report.csv`` and ``report.md`` in the study folder.

Questions (MOS, 1 = bad ... 5 = excellent): ``quality`` overall music quality,
``correspondence`` music-video correspondence, ``sync`` rhythm / synchronisation with the
picture, ``emotion`` emotional fit.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import secrets
import shutil
import sqlite3
import time
from pathlib import Path

from .._io import write_text_atomic
from ..errors import InputError, OutputExistsError, ParameterError

__all__ = ["QUESTIONS", "create_study", "create_app", "serve_study", "report_study"]

QUESTIONS = {
    "quality": "How good is the music itself? (overall quality)",
    "correspondence": "How well does the music fit the video? (music-video correspondence)",
    "sync": "How well does the music's rhythm follow the video (cuts, movement)?",
    "emotion": "How well does the mood of the music match the video?",
}
SCALE = ["1 bad", "2 poor", "3 fair", "4 good", "5 excellent"]
AB_QUESTION = "Which soundtrack fits the video better?"
AUDIO = {".wav", ".flac", ".mp3", ".ogg", ".m4a"}
VIDEO = {".mp4", ".mov", ".mkv", ".webm", ".m4v"}
DB = "answers.sqlite"


# ---------------------------------------------------------------------- create
def _media_by_id(folder: Path, what: str) -> dict[str, Path]:
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder ({what})")
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in AUDIO | VIDEO:
            out.setdefault(p.stem, p)
    if not out:
        raise InputError(f"{folder}: no audio or video files ({what})")
    return out


def _token(salt: str, *parts: str) -> str:
    return hashlib.sha256("|".join((salt, *parts)).encode()).hexdigest()[:16]


def create_study(
    systems: dict[str, str | Path],
    *,
    out_dir: str | Path,
    videos: str | Path | None = None,
    pairwise: bool = False,
    attention: int = 2,
    title: str = "Music for video: a listening study",
    force: bool = False,
) -> dict:
    """Build a study folder (see the module docstring); returns the study description."""
    if len(systems) < 1:
        raise ParameterError("give at least one system (--system NAME=DIR)")
    if pairwise and len(systems) < 2:
        raise ParameterError("pairwise A/B trials need at least two systems")
    if not 0 <= attention <= 20:
        raise ParameterError(f"attention={attention}: must be 0..20")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        if not force:
            raise OutputExistsError(f"{out}: exists and is not empty (use --force)")
        shutil.rmtree(out)
    files = {name: _media_by_id(Path(d), f"system {name}") for name, d in systems.items()}
    vids = _media_by_id(Path(videos), "videos") if videos else {}
    items = sorted(set.intersection(*(set(f) for f in files.values())))
    if not items:
        raise InputError("no item id is present in every system's folder")
    if vids:
        missing = [i for i in items if i not in vids]
        if missing:
            raise InputError(f"no video for item(s) {', '.join(missing[:5])} in {videos}")
    with_picture = bool(vids) or all(
        files[s][i].suffix.lower() in VIDEO for s in files for i in items
    )
    salt = secrets.token_hex(8)
    stim_dir = out / "stimuli"
    stim_dir.mkdir(parents=True)
    stimuli: dict[str, dict] = {}
    for s, by_id in files.items():
        for i in items:
            src = by_id[i]
            tok = _token(salt, s, i)
            dst = _stimulus(src, vids.get(i), stim_dir / tok)
            stimuli[tok] = {"system": s, "item": i, "file": dst.name, "source": str(src)}
    questions = list(QUESTIONS) if with_picture else ["quality"]
    trials = []
    for tok in stimuli:
        trials.append({"id": _token(salt, "mos", tok), "kind": "mos", "stimuli": [tok],
                       "questions": questions})  # fmt: skip
    if pairwise:
        for i in items:
            for a, b in itertools.combinations(sorted(files), 2):
                ta, tb = _token(salt, a, i), _token(salt, b, i)
                trials.append({"id": _token(salt, "ab", ta, tb), "kind": "ab",
                               "stimuli": [ta, tb], "questions": ["preference"]})  # fmt: skip
    rng = random.Random(salt)
    toks = sorted(stimuli)
    for k in range(attention):
        value = rng.randint(1, 5)
        trials.append({"id": _token(salt, "attention", str(k)), "kind": "attention",
                       "stimuli": [rng.choice(toks)], "questions": questions,
                       "expected": value})  # fmt: skip
    study = {
        "version": 1, "title": title, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "salt": salt, "systems": sorted(files), "items": items, "questions": questions,
        "question_text": {q: QUESTIONS[q] for q in questions}, "scale": SCALE,
        "pairwise": pairwise, "stimuli": stimuli, "trials": trials,
    }  # fmt: skip
    write_text_atomic(out / "study.json", json.dumps(study, indent=1))
    return study


def _stimulus(src: Path, video: Path | None, base: Path) -> Path:
    """Copy a system's output, or mux its audio under the item's video (MP4)."""
    if src.suffix.lower() in AUDIO and video is not None:
        import soundfile as sf

        from ..muxing import mux

        sr = sf.info(str(src)).samplerate
        out = base.with_suffix(".mp4")
        mux(video, src, sr, out, keep_audio=False)
        return out
    out = base.with_suffix(src.suffix.lower())
    shutil.copyfile(src, out)
    return out


def _load(study_dir: Path) -> dict:
    p = Path(study_dir) / "study.json"
    if not p.is_file():
        raise InputError(f"{study_dir}: not a study folder (no study.json; see v2m study create)")
    return json.loads(p.read_text())


# ---------------------------------------------------------------------- answers
def _db(study_dir: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(Path(study_dir) / DB), timeout=30, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(
        "CREATE TABLE IF NOT EXISTS answers (participant TEXT NOT NULL, trial TEXT NOT NULL, "
        "question TEXT NOT NULL, value TEXT NOT NULL, answered_at REAL NOT NULL, "
        "PRIMARY KEY (participant, trial, question))"
    )
    return con


def _order(study: dict, participant: str) -> list[dict]:
    """The participant's trials in their own random order, A/B positions swapped at random
    (both seeded by the participant's id, so a reload gives the same order)."""
    rng = random.Random(study["salt"] + "|" + participant)
    trials = [dict(t) for t in study["trials"]]
    rng.shuffle(trials)
    for t in trials:
        if t["kind"] == "ab" and rng.random() < 0.5:
            t["stimuli"] = t["stimuli"][::-1]
    return trials


# ---------------------------------------------------------------------- serve
def create_app(study_dir: str | Path):
    """The Starlette application of a study (participant page, trials, answers)."""
    from .._deps import require

    require("starlette", purpose="v2m study serve")
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from .._web import inside

    folder = Path(study_dir)
    study = _load(folder)
    con = _db(folder)
    trial_ids = {t["id"]: t for t in study["trials"]}
    static = Path(__file__).parent / "static"

    def error(status, msg):
        return JSONResponse({"error": msg}, status_code=status)

    def participant_of(value) -> str | None:
        p = str(value or "").strip()
        return p if p and len(p) <= 64 and all(c.isalnum() or c in "-_." for c in p) else None

    async def index(request: Request):
        return FileResponse(static / "index.html")

    async def trials(request: Request):
        pid = participant_of(request.query_params.get("participant"))
        if pid is None:
            return error(400, "participant id: 1-64 letters, digits, '-', '_' or '.'")
        done = {r[0] for r in con.execute(
            "SELECT DISTINCT trial FROM answers WHERE participant = ?", (pid,))}  # fmt: skip
        order = _order(study, pid)
        out = []
        for t in order:
            files = [f"/stimuli/{study['stimuli'][s]['file']}" for s in t["stimuli"]]
            q = [{"id": k, "text": study["question_text"].get(k, AB_QUESTION)}
                 for k in t["questions"]]  # fmt: skip
            row = {"id": t["id"], "kind": "ab" if t["kind"] == "ab" else "mos", "media": files,
                   "questions": q, "done": t["id"] in done}  # fmt: skip
            if t["kind"] == "attention":
                row["instruction"] = (
                    f"Attention check: please answer {t['expected']} to every question."
                )
            out.append(row)
        return JSONResponse({"title": study["title"], "scale": study["scale"], "trials": out})

    async def answer(request: Request):
        try:
            body = await request.json()
        except ValueError:
            return error(400, "the request body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("answers"), dict):
            return error(400, "send a JSON object with participant, trial and answers")
        pid = participant_of(body.get("participant"))
        t = trial_ids.get(str(body.get("trial")))
        if pid is None or t is None:
            return error(400, "unknown participant or trial")
        ans = body.get("answers") or {}
        if set(ans) != set(t["questions"]):
            return error(400, f"answer every question: {', '.join(t['questions'])}")
        rows = []
        for q, v in ans.items():
            ok = v in ("A", "B") if q == "preference" else str(v) in {"1", "2", "3", "4", "5"}
            if not ok:
                return error(400, f"{q}: {v!r} is not an allowed answer")
            if q == "preference":  # store which stimulus was chosen, not the position
                order = {o["id"]: o for o in _order(study, pid)}[t["id"]]["stimuli"]
                v = order[0] if v == "A" else order[1]
            rows.append((pid, t["id"], q, str(v), time.time()))
        with con:  # one transaction, committed before the reply
            con.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)", rows)
        return JSONResponse({"ok": True})

    async def stimulus(request: Request):
        try:
            p = inside(folder / "stimuli", request.path_params["name"])
        except InputError as exc:
            return error(403, str(exc))
        if not p.is_file():
            return error(404, "no such stimulus")
        return FileResponse(p)

    app = Starlette(routes=[
        Route("/", index),
        Route("/api/trials", trials),
        Route("/api/answer", answer, methods=["POST"]),
        Route("/stimuli/{name}", stimulus),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ])  # fmt: skip
    return app


def serve_study(study_dir: str | Path, *, host: str = "127.0.0.1", port: int = 7861) -> None:
    from .._web import Server

    srv = Server(create_app(study_dir), host=host, port=port)
    print(f"v2m study: {srv.url}  (answers go to {Path(study_dir) / DB}; Ctrl-C stops)", flush=True)
    srv.run()


# ---------------------------------------------------------------------- report
def report_study(study_dir: str | Path, *, write: bool = True) -> dict:
    """Analyse the answers (see the module docstring); writes report.json/.csv/.md."""
    from .report import build_report, write_report

    folder = Path(study_dir)
    study = _load(folder)
    if not (folder / DB).is_file():
        raise InputError(f"{folder}: no answers yet ({DB} is missing)")
    con = _db(folder)
    rows = con.execute("SELECT participant, trial, question, value FROM answers").fetchall()
    con.close()
    rep = build_report(study, rows)
    if write:
        write_report(rep, folder)
    return rep
