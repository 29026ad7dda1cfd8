"""Sessions and jobs of the web app: one session per uploaded file (its own folder), jobs
run in background threads, stage by stage, so the page can show progress; the analysis of
a session is kept, so changing the controls or the cue sheet re-runs only projection,
composition and rendering."""

from __future__ import annotations

import json
import shutil
import threading
import time
import traceback
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import _media
from .._io import json_safe
from ..errors import V2MError

#: Runs kept per session (older ones are deleted with their files).
KEEP_RUNS = 3


@dataclass
class Job:
    id: str
    session: str
    kind: str
    state: str = "queued"  # queued | running | done | error
    stage: str = ""
    progress: float = 0.0
    error: str | None = None
    result: dict | None = None

    def public(self) -> dict:
        keys = ("id", "session", "kind", "state", "stage", "progress", "error", "result")
        return {k: getattr(self, k) for k in keys}


@dataclass
class Session:
    id: str
    folder: Path
    input: Path
    kind: str  # video | image
    duration_s: float
    created: float = field(default_factory=time.time)
    timeline: object | None = None
    pose: str = ""  # the pose setting of the cached analysis
    last_cue: dict | None = None
    last_result: dict | None = None
    runs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Jobs:
    """Sessions and their jobs, inside ``work_dir`` (nothing is written elsewhere)."""

    def __init__(self, work_dir: Path, *, workers: int = 2, ttl_s: float = 6 * 3600):
        self.work = work_dir
        self.work.mkdir(parents=True, exist_ok=True)
        self.ttl_s = ttl_s
        self.sessions: dict[str, Session] = {}
        self.jobs: dict[str, Job] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="v2m-job")
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ sessions
    def new_session(self, upload: Path) -> Session:
        """A session for a file already saved in ``work/<id>/``; InputError when the file
        is not media v2m can read."""
        sid = upload.parent.name
        try:
            if _media.is_image_path(upload):
                _media.load_image(upload)
                kind, dur = "image", 30.0
            else:
                info = _media.probe_video(upload)
                kind, dur = "video", float(info.duration_s)
        except V2MError as exc:
            shutil.rmtree(upload.parent, ignore_errors=True)
            raise type(exc)(f"{upload.name}: not a video or image v2m can read ({exc})") from None
        s = Session(sid, upload.parent, upload, kind, dur)
        with self._lock:
            self.sessions[sid] = s
        self.cleanup()
        return s

    def session_folder(self) -> Path:
        return self.work / uuid.uuid4().hex[:16]

    def cleanup(self) -> None:
        """Delete sessions older than ``ttl_s`` (and folders left by a crashed run)."""
        now = time.time()
        with self._lock:
            old = [s for s in self.sessions.values() if now - s.created > self.ttl_s]
            for s in old:
                self.sessions.pop(s.id, None)
        for s in old:
            shutil.rmtree(s.folder, ignore_errors=True)
        for d in self.work.iterdir():
            if d.is_dir() and d.name not in self.sessions and now - d.stat().st_mtime > self.ttl_s:
                shutil.rmtree(d, ignore_errors=True)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ jobs
    def submit(self, session: Session, kind: str, params: dict) -> Job:
        job = Job(uuid.uuid4().hex[:12], session.id, kind)
        with self._lock:
            self.jobs[job.id] = job
        self._pool.submit(self._run, job, session, params)
        return job

    def _run(self, job: Job, s: Session, params: dict) -> None:
        with s.lock:  # one job at a time per session; other tabs' sessions run alongside
            job.state = "running"
            try:
                job.result = _work(job, s, params)
                job.state, job.progress, job.stage = "done", 1.0, "done"
            except V2MError as exc:
                job.state, job.error = "error", str(exc)
            except Exception as exc:  # noqa: BLE001 - shown in the page, logged in full
                traceback.print_exc()
                job.state, job.error = "error", f"internal error: {exc}"


def _colours(cue: dict) -> dict:
    """A section's colour given as ``{"style": NAME}`` becomes that style's instruments."""
    from ..errors import CueSheetError
    from ..styles import STYLES

    cue = json.loads(json.dumps(cue))
    for i, sec in enumerate(cue.get("sections") or []):
        inst = sec.get("instruments")
        if isinstance(inst, dict) and "style" in inst:
            name = inst["style"]
            if name not in STYLES:
                raise CueSheetError(f"sections[{i}].instruments: unknown style {name!r}")
            sec["instruments"] = {r: int(p) for r, p in STYLES[name].programs.items()}
    return cue


def _stage(job: Job, name: str, progress: float) -> None:
    job.stage, job.progress = name, progress


def _work(job: Job, s: Session, p: dict) -> dict:
    from ..analysis import analyze
    from ..composition import compose
    from ..cuesheet import CueSheet
    from ..plotting import plot_timeline
    from ..projection import project

    mode = p.get("mode") or "auto"
    pose = {"auto": "auto", "cuts": "off", "dance": "on", "performance": "on"}.get(mode, "auto")
    # analysed once per session; again only when dance mode asks for the body pose that an
    # earlier analysis did not track
    if s.timeline is None or (pose == "on" and s.pose != "on" and not s.timeline.pose):
        _stage(job, "analysing the picture", 0.05)
        s.timeline = analyze(s.input, keep_thumbnails=True, pose=pose)
        s.pose = pose
        plot_timeline(s.timeline, s.folder / "analysis.png")
    tl = s.timeline
    if job.kind == "cue":
        cue = CueSheet.from_dict(_colours(p["cue"]))
        if s.last_cue is not None and cue.to_dict() == s.last_cue and s.last_result:
            return {**s.last_result, "unchanged": True}  # nothing changed: nothing to redo
        explanations = ["cue sheet edited in the page"]
        summary = None
    else:
        _stage(job, "choosing tempo, key and sections", 0.35)
        proj = project(tl, controls=controls_of(p))
        cue, explanations, summary = proj.cue, proj.explanations, proj.summary()
    _stage(job, "composing", 0.45)
    sc = compose(cue)
    s.runs += 1
    run = s.folder / f"run{s.runs}"
    run.mkdir()
    _stage(job, "rendering the music", 0.55)
    info, soundtrack, sound = _soundtrack(s, run, p, tl, sc)
    _stage(job, "writing the video", 0.85)
    video = _mux(s, soundtrack or run / "music.flac", info.sample_rate, run, cue.duration_s)
    sc.save(run / "score.mid")
    cue.save(run / "cue.json")
    files = [video.name, "music.flac", "music.wav", "score.mid", "cue.json"]
    if soundtrack is not None:
        files.append(soundtrack.name)
    if (run / "stems").is_dir():
        with zipfile.ZipFile(run / "stems.zip", "w") as z:
            for f in sorted((run / "stems").iterdir()):
                z.write(f, f.name)
        files.append("stems.zip")
    cuts = [
        {"time_s": round(c.time_s, 3), "kind": c.kind, "score": round(c.score, 1)} for c in tl.cuts
    ]
    result = {
        "run": run.name,
        "files": {f: f"/files/{s.id}/{run.name}/{f}" for f in files},
        "video": f"/files/{s.id}/{run.name}/{video.name}",
        "plot": f"/files/{s.id}/analysis.png",
        "cuts": cuts,
        "explanations": explanations,
        "summary": summary,
        "cue": cue.to_dict(),
        "audio": {
            "loudness_lufs": round(info.loudness_lufs, 2),
            "true_peak_dbtp": round(info.true_peak_dbtp, 2),
            "soundfont": info.soundfont,
        },
        "sound": sound,
    }
    (run / "report.json").write_text(json.dumps(json_safe(result), indent=1))
    s.last_cue, s.last_result = cue.to_dict(), result
    _prune_runs(s)
    return result


def _soundtrack(s: Session, run: Path, p: dict, tl, sc):
    """The music and, when kept, the video's own sound mixed dialogue-first, by the
    pipeline's one route (:func:`v2m.pipeline.make_soundtrack`, as ``v2m score``); the
    music delivered as 24-bit FLAC and WAV. Returns the render's info, the soundtrack's path
    (None when the original sound is left out) and what was done and why."""
    from ..backends import get_backend
    from ..pipeline import keep_decision, make_soundtrack
    from ..rendering import copy_audio

    mode = p.get("keep_audio") or "auto"
    has_audio = s.kind != "image" and tl.source.has_audio
    keep, why = keep_decision(mode, has_audio=has_audio, audio=tl.audio, dialogue=sc.cue.dialogue)
    work = run / ".work"
    work.mkdir()
    made = make_soundtrack(
        sc,
        folder=work,
        video=s.input,
        keep_audio=keep,
        backend=get_backend(p.get("backend") or "rules", model_dir=p.get("model_dir")),
        timeline=tl,
        stems_dir=run / "stems" if p.get("stems") else None,
    )
    copy_audio(made.music, run / "music.flac")
    copy_audio(made.music, run / "music.wav")
    soundtrack, sound = None, {"kept": False, "why": why}
    if keep:
        soundtrack = run / "soundtrack.wav"
        made.path.replace(soundtrack)
        sound = {"kept": True, "why": why, "mix": made.dialogue_mix.report()}
    shutil.rmtree(work, ignore_errors=True)
    return made.rendered, soundtrack, sound


def _mux(s: Session, music: Path, sr: int, run: Path, duration_s: float) -> Path:
    """The picture with its music: MP4 (what browsers play) when the input's video stream
    fits in one as a copy, else Matroska (download only)."""
    from ..errors import ParameterError
    from ..muxing import check_mux, mux, still_video

    out = run / "video.mp4"
    if s.kind == "image":
        still_video(s.input, music, sr, out, duration_s=duration_s)
        return out
    try:
        check_mux(s.input, out)
    except ParameterError:
        out = run / "video.mkv"
    mux(s.input, music, sr, out, keep_audio=False)
    return out


def _prune_runs(s: Session) -> None:
    runs = sorted((d for d in s.folder.glob("run*") if d.is_dir()), key=lambda d: int(d.name[3:]))
    for d in runs[:-KEEP_RUNS]:
        shutil.rmtree(d, ignore_errors=True)


def controls_of(p: dict):
    """The :class:`~v2m.projection.Controls` of a request's checked parameters."""
    from ..projection import Controls

    energy = p.get("energy")
    return Controls(
        style=p.get("style") or None,
        tempo_bpm=p.get("tempo_bpm") or None,
        key=p.get("key") or None,
        energy=1.0 if energy in (None, "") else energy,
        seed=None if p.get("seed") in (None, "") else p["seed"],
        hits_s=tuple(p.get("hits_s") or ()),
        mode=p.get("mode") or "auto",
    )
