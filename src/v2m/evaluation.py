"""Evaluate files or folders of generated music (MIDI, audio, video with music).

:func:`evaluate_files` finds the files, computes every metric that applies to each, and
aggregates them (mean and a 95 % confidence interval from Student's t). A file that cannot
be read is reported in ``errors`` and skipped.

What applies to what:

- MIDI (``.mid``): all of :mod:`v2m.metrics.symbolic`; opt-in (named in ``metrics``:
  ``si_short``, ``si_mid``, ``si_long``, see :data:`OPT_IN`), MusDr's structure indicator
  (:mod:`v2m.metrics.structure`) on the file rendered with v2m's renderer.
- Audio and video: opt-in, the structure indicator of their sound.
- Audio (``.wav``, ``.flac``, ``.mp3``, ``.ogg``, ``.m4a``) with a reference file of the same
  name: BCS and BHS in both papers' variants (``bcs_d2mgan``: D2M-GAN's onsets and formula,
  generated/reference onset bins; ``bcs_loris``: LORIS's onsets and formula, hits/generated
  onset bins; ``beats_f1_loris``: LORIS's F1 of the two), beat F-measure (librosa beats of
  the reference as ground truth).
- Video with a music track, or audio paired with a video of the same name (``--videos``):
  cut-to-beat hit rates and mean absolute offset (cuts from :func:`v2m.analyze`, beats
  from librosa's beat tracker), beat align scores (visual beats vs music beats, 25 fps,
  sigma 3 frames), AV-Align; when a body is tracked in the video (the ``pose`` extra, see
  :mod:`v2m.analysis.pose`), the dance family's beat align scores against its kinematic
  beats (``kinematic_beat_align_score``: AIST++/FACT, over the body's beats;
  ``..._music``: Bailando, over the music's beats; 25 fps, sigma 3 frames) and the first
  one's chance level (``kinematic_beat_align_score_chance``: the same music beats at
  unrelated phases; the score grows with the music's beat density, so compare the two).
- Without a reference file, a video of the same name under ``--videos`` that has its own
  soundtrack (a dance filmed with its music) is the reference for BCS, BHS and beat
  F-measure.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._deps import require
from ._io import json_safe, write_text_atomic
from .errors import InputError, ParameterError, V2MError

__all__ = ["evaluate_files", "EvalReport", "confidence_interval", "METRIC_NAMES"]

MIDI = {".mid", ".midi"}
AUDIO = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".aac"}
VIDEO = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
AUDIO_SR = 22050

log = logging.getLogger(__name__)


def confidence_interval(values: np.ndarray, *, level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the ``level`` confidence interval (Student's t)."""
    from scipy import stats

    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], float)
    if v.size == 0:
        return math.nan, math.nan
    if v.size == 1:
        return float(v[0]), math.nan
    half = stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return float(v.mean()), float(half)


@dataclass
class EvalReport:
    """Per-file values, aggregates and errors."""

    files: dict[str, dict[str, float]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    set_metrics: dict[str, float] = field(default_factory=dict)  # e.g. FAD: one per set
    notes: dict[str, str] = field(default_factory=dict)  # metrics left out of a file, and why

    def summary(self) -> dict[str, dict[str, float]]:
        names = sorted({k for d in self.files.values() for k in d})
        out = {}
        for name in names:
            vals = [d[name] for d in self.files.values() if name in d]
            mean, half = confidence_interval(np.asarray(vals, float))
            n = int(np.sum(np.isfinite(np.asarray(vals, float))))
            out[name] = {"mean": mean, "ci95": half, "n": n}
        return out

    def to_json(self) -> str:
        return json.dumps(
            json_safe(
                {
                    "schema_version": "1.1",
                    "summary": self.summary(),
                    "set_metrics": self.set_metrics,
                    "files": self.files,
                    "errors": self.errors,
                    "notes": self.notes,
                }
            ),
            indent=1,
        )

    def to_csv(self) -> str:
        names = sorted({k for d in self.files.values() for k in d})
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["file", *names])
        for f, d in self.files.items():
            w.writerow(
                [
                    f,
                    *[
                        ("" if not np.isfinite(d.get(n, math.nan)) else f"{d[n]:.6g}")
                        for n in names
                    ],
                ]
            )
        return buf.getvalue()

    def to_markdown(self) -> str:
        arrows = {"+": "↑", "-": "↓", "=": "≈ ref"}
        lines = ["| metric | mean | 95% CI | n | better | what it measures |",
                 "|---|---|---|---|---|---|"]  # fmt: skip
        for name, s in self.summary().items():
            ci = "" if not np.isfinite(s["ci95"]) else f"± {s['ci95']:.4f}"
            way, what = METRIC_INFO.get(name, ("", ""))
            lines.append(
                f"| {name} | {s['mean']:.4f} | {ci} | {s['n']} | {arrows.get(way, '')} | {what} |"
            )
        for name, v in self.set_metrics.items():
            lines.append(f"| {name} (whole set) | {v:.4f} | | {len(self.files)} |")
        for f, note in self.notes.items():
            lines.append(f"\n{Path(f).name}: {note}")
        if self.errors:
            lines += [
                "",
                f"{len(self.errors)} file(s) skipped: "
                + ", ".join(f"{Path(k).name} ({v})" for k, v in self.errors.items()),
            ]
        return "\n".join(lines) + "\n"

    def save(self, path: str | Path) -> list[Path]:
        """Write ``path`` (JSON) and the CSV and Markdown beside it."""
        p = Path(path)
        outs = [p, p.with_suffix(".csv"), p.with_suffix(".md")]
        write_text_atomic(outs[0], self.to_json())
        write_text_atomic(outs[1], self.to_csv())
        write_text_atomic(outs[2], self.to_markdown())
        return outs


def _partner(folder: Path | None, f: Path, suffixes: set[str]) -> Path | None:
    """The file paired with ``f``: ``folder`` itself if it is a file, else the file of the
    same stem with one of ``suffixes`` in it (None if there is none)."""
    if folder is None:
        return None
    if folder.is_file():
        return folder
    for s in sorted(suffixes):
        cand = folder / (f.stem + s)
        if cand.exists():
            return cand
    return None


def _collect(path: Path) -> list[Path]:
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix.lower() in MIDI | AUDIO | VIDEO)


def load_audio(path: Path, *, sample_rate: int = AUDIO_SR) -> tuple[np.ndarray, float]:
    """Mono audio of ``path`` at ``sample_rate`` and its duration in seconds."""
    from . import _media
    from .muxing import read_audio

    with _media.open_media(path) as c:
        if not c.streams.audio:
            raise InputError(f"{path}: no audio stream")
        dur = float(c.duration / 1e6) if c.duration else 0.0
    from .cuesheet import MAX_DURATION_S

    if dur > MAX_DURATION_S:
        raise InputError(
            f"{path}: lasts {dur / 3600:.1f} hours; v2m evaluates at most "
            f"{MAX_DURATION_S / 3600:g} hours"
        )
    y = read_audio(path, sample_rate=sample_rate, duration_s=dur)
    if y is None or y.size == 0:
        raise InputError(f"{path}: no audio decoded")
    return y.mean(axis=1), dur


def _has_audio(path: Path) -> bool:
    from . import _media

    try:
        with _media.open_media(path) as c:
            return bool(c.streams.audio)
    except (V2MError, OSError):
        return False


def _load_audio_sr(path: Path) -> tuple[np.ndarray, int]:
    return load_audio(path)[0], AUDIO_SR


def _beats(y: np.ndarray) -> np.ndarray:
    librosa = require("librosa", purpose="beat tracking for the audio metrics")

    _, beats = librosa.beat.beat_track(y=y, sr=AUDIO_SR, units="time")
    return np.asarray(beats, float)


def onset_scores(gen, ref, *, variant: str) -> dict[str, float]:
    """BCS and BHS of ``gen`` against ``ref`` (and the LORIS F1), with the onset
    parameters of ``variant`` ("d2mgan" or "loris"; :mod:`v2m.metrics.rhythm`).

    ``gen`` and ``ref`` are paths, or ``(mono audio at AUDIO_SR, duration_s)`` pairs."""
    from .metrics import rhythm

    yg, dg = load_audio(gen) if isinstance(gen, (str, Path)) else gen
    yr, dr = load_audio(ref) if isinstance(ref, (str, Path)) else ref
    og = rhythm.detect_onsets(yg, AUDIO_SR, variant=variant)
    orf = rhythm.detect_onsets(yr, AUDIO_SR, variant=variant)
    kw = {"ref_duration_s": dr, "gen_duration_s": dg}
    out = {
        f"bcs_{variant}": rhythm.beats_coverage_score(orf, og, formula=variant, **kw),
        f"bhs_{variant}": rhythm.beats_hit_score(orf, og, **kw),
    }
    if variant == "loris":
        out["beats_f1_loris"] = rhythm.beats_f1(orf, og, **kw)
    return {k: float(v) for k, v in out.items()}


def _audio_vs_reference(gen: Path, ref: Path) -> dict[str, float]:
    from .metrics import rhythm

    g, r = load_audio(gen), load_audio(ref)
    out: dict[str, float] = {}
    for variant in ("d2mgan", "loris"):
        out.update(onset_scores(g, r, variant=variant))
    out["beat_f_measure"] = rhythm.beat_f_measure(_beats(r[0]), _beats(g[0]))
    return out


def _si_midi(key: str, f: Path, notes: dict[str, str]) -> dict[str, float]:
    """The structure indicator of a MIDI file's render; a file longer than the scape plot
    takes is noted before any rendering (memory follows the notes, not the time span)."""
    import mido

    from .metrics import structure
    from .metrics.symbolic import check_midi_length
    from .rendering.cache import render_mix

    length = check_midi_length(mido.MidiFile(str(f)), f)
    if length > structure.MAX_DURATION_S:
        notes[key] = (
            f"structure indicator left out: {length:.0f} s is longer than the "
            f"{structure.MAX_DURATION_S:.0f} s the fitness scape plot takes"
        )
        return {}
    return _si(key, *render_mix(f, sample_rate=44100), notes)


def _si(key: str, y: np.ndarray, sr: int, notes: dict[str, str]) -> dict[str, float]:
    """The structure indicator, or a note (not an error) when the audio is too long."""
    from .metrics import structure

    try:
        return structure.evaluate(y, sr)
    except ParameterError as exc:
        notes[key] = str(exc)
        return {}


def _written_beats(audio_src: Path) -> np.ndarray | None:
    """The beat times written in a cue sheet (``<stem>.json`` or ``<stem>.cue.json``) or a
    v2m MIDI file (``<stem>.mid``) beside ``audio_src``; None when there is none."""
    import json

    from .cuesheet import CueSheet

    for cand in (audio_src.with_suffix(".cue.json"), audio_src.with_suffix(".json")):
        if cand.is_file():
            try:
                d = json.loads(cand.read_text(encoding="utf-8"))
                if isinstance(d, dict) and "beats_s" in d:
                    return np.asarray(CueSheet.from_dict(d).beats_s, float)
            except (ValueError, V2MError):
                continue
    for cand in (audio_src.with_suffix(".mid"), audio_src.with_suffix(".midi")):
        if cand.is_file():
            return _midi_beats(cand)
    return None


def _midi_beats(path: Path) -> np.ndarray | None:
    """Beat times of a MIDI file through its tempo map (one beat per ``ticks_per_beat``)."""
    import mido

    from .metrics.symbolic import ticks_to_s

    try:
        mf = mido.MidiFile(str(path))
    except (OSError, ValueError, EOFError, KeyError, IndexError):
        return None
    end = max((sum(m.time for m in tr) for tr in mf.tracks), default=0)
    return ticks_to_s(mf, np.arange(0, end + 1, mf.ticks_per_beat))


def _music_vs_video(audio_src: Path, video: Path) -> dict[str, float]:
    from .analysis import analyze
    from .metrics import rhythm

    y, _ = load_audio(audio_src)
    beats = _beats(y)
    onsets = rhythm.detect_onsets(y, AUDIO_SR, variant="loris")
    tl = analyze(video)
    cuts = np.array([c.time_s for c in tl.cuts])
    out: dict[str, float] = {}
    if cuts.size:
        # heard: the beats a tracker finds in the audio (what a listener hears)
        out["heard_cut_beat_hit_rate_35ms"] = rhythm.cut_beat_hit_rate(
            cuts, beats, tolerance_s=0.035
        )
        out["heard_cut_beat_hit_rate_70ms"] = rhythm.cut_beat_hit_rate(
            cuts, beats, tolerance_s=0.07
        )
        off = rhythm.cut_beat_offsets(cuts, beats)
        out["heard_cut_beat_mean_abs_offset_ms"] = float(np.nanmean(np.abs(off)) * 1000)
        # written: the beats of the cue sheet or MIDI file v2m wrote beside the audio
        written = _written_beats(audio_src)
        if written is not None and written.size:
            out["written_cut_beat_hit_rate_35ms"] = rhythm.cut_beat_hit_rate(
                cuts, written, tolerance_s=0.035
            )
    vb = np.array([b.time_s for b in tl.visual_beats])
    if vb.size and beats.size:
        out["beat_align_score_motion"] = rhythm.beat_align_score_motion(vb, beats, fps=25.0)
        out["beat_align_score_music"] = rhythm.beat_align_score_music(beats, vb, fps=25.0)
    if tl.kinematics and tl.kinematics.get("beats") and beats.size:
        # the dance family's protocol (AIST++ / Bailando): kinematic beats of the body
        kb = np.array([b["time_s"] for b in tl.kinematics["beats"]])
        out["kinematic_beat_align_score"] = rhythm.beat_align_score_motion(kb, beats, fps=25.0)
        out["kinematic_beat_align_score_music"] = rhythm.beat_align_score_music(beats, kb, fps=25.0)
        out["kinematic_beat_align_score_chance"] = rhythm.beat_align_score_chance(
            kb, beats, fps=25.0
        )
    peaks = rhythm.motion_peaks(np.asarray(tl.motion["energy"]), hop_s=tl.motion["hop_s"])
    fps = tl.source.fps or 25.0
    out["av_align"] = rhythm.av_align(np.asarray(onsets), peaks, fps=fps)
    return out


def _evaluate_star(args):
    return _evaluate_one(*args)


def _evaluate_one(
    f: Path, ref_path: Path | None, vid_path: Path | None, metrics: tuple[str, ...]
) -> tuple[str, dict[str, float], dict[str, str], str | None]:
    """One file's metrics: (key, values, notes, error or None). Runs in a worker process."""
    from .metrics import symbolic

    key = str(f)
    notes: dict[str, str] = {}

    def want_si() -> bool:
        return any(n in metrics for n in SI_NAMES)

    try:
        suffix = f.suffix.lower()
        vals: dict[str, float] = {}
        if suffix in MIDI:
            vals.update(symbolic.evaluate(symbolic.notes_from_midi(f)))
            if want_si():
                vals.update(_si_midi(key, f, notes))
        elif suffix in AUDIO:
            if want_si():
                vals.update(_si(key, *_load_audio_sr(f), notes))
            ref = _partner(ref_path, f, AUDIO)
            if ref is not None:
                vals.update(_audio_vs_reference(f, ref))
            vid = _partner(vid_path, f, VIDEO)
            if vid is not None:
                vals.update(_music_vs_video(f, vid))
            if ref is None and vid is not None and _has_audio(vid):
                vals.update(_audio_vs_reference(f, vid))  # the video's own soundtrack
        elif suffix in VIDEO:
            vals.update(_music_vs_video(f, f))
            if want_si():
                vals.update(_si(key, *_load_audio_sr(f), notes))
            ref = _partner(ref_path, f, AUDIO | VIDEO)
            if ref is None:
                # the original video (same name under --videos) and its own soundtrack
                orig = _partner(vid_path, f, VIDEO)
                ref = orig if orig is not None and orig != f and _has_audio(orig) else None
            if ref is not None:
                vals.update(_audio_vs_reference(f, ref))
        if metrics:
            vals = {k: v for k, v in vals.items() if k in metrics}
        return key, {k: float(v) for k, v in vals.items()}, notes, None
    except (V2MError, OSError, ValueError, EOFError) as exc:
        return key, {}, notes, f"{exc}" or f"{exc.__class__.__name__} while reading the file"


def evaluate_files(
    generated: str | Path,
    *,
    reference: str | Path | None = None,
    videos: str | Path | None = None,
    metrics: list[str] | None = None,
    embedder=None,
    captions: dict[str, str] | None = None,
    progress: bool = False,
    jobs: int | None = None,
) -> EvalReport:
    """Evaluate every supported file under ``generated`` (see the module docstring).

    Parameters
    ----------
    generated : path
        A file or a folder (searched recursively).
    reference : path, optional
        Reference audio: a file, or a folder with files named like the generated ones.
    videos : path, optional
        Videos to pair with generated audio by file name (for the correspondence metrics).
    metrics : list of str, optional
        Keep only these metric names. Without it every metric that applies is computed
        except the opt-in ones (:data:`OPT_IN`: the structure indicator), which are
        computed only when named.
    jobs : int, optional
        Worker processes for the per-file metrics (default 1: in this process). The
        results do not depend on it.
    embedder : object with ``embed(y, sr) -> (n, dim)``, optional
        With a reference folder: the Frechet distance (and FAD-infinity) between the
        embeddings of all generated and all reference audio, reported in ``set_metrics``.
        A CLAP embedder (:class:`~v2m.metrics.embedders.ClapEmbedder`) with ``captions``
        adds ``clap_score`` per file; an ImageBind embedder
        (:class:`~v2m.metrics.imagebind.ImageBind`) adds ``imagebind_score`` per file that
        is a video or has a video of the same name under ``videos``.
    captions : dict, optional
        ``{file stem: text}`` for the CLAP score.
    """
    if metrics:
        unknown = set(metrics) - _ALL_NAMES
        if unknown:
            raise ParameterError(
                f"unknown metric(s): {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(_ALL_NAMES))})"
            )
    if jobs is not None and jobs < 1:
        raise ParameterError(f"jobs={jobs}: must be at least 1")
    gen_files = _collect(Path(generated))
    if not gen_files:
        raise InputError(f"{generated}: no MIDI, audio or video files found")
    ref_path = Path(reference) if reference else None
    vid_path = Path(videos) if videos else None
    if ref_path is not None and not ref_path.exists():
        raise InputError(f"{ref_path}: no such file or folder")
    if vid_path is not None and not vid_path.exists():
        raise InputError(f"{vid_path}: no such file or folder")

    report = EvalReport()
    n_jobs = min(jobs or 1, len(gen_files))
    work = [(f, ref_path, vid_path, tuple(metrics or ())) for f in gen_files]
    bar = None
    if progress and len(gen_files) > 1:
        from tqdm import tqdm

        bar = tqdm(
            total=len(gen_files), desc="evaluate", unit="file", file=sys.stderr, disable=None
        )
    results: dict[str, tuple] = {}
    from ._parallel import imap_unordered

    tasks = imap_unordered(
        _evaluate_star, work, jobs=n_jobs, preload=PRELOAD, key=lambda w: str(w[0])
    )
    for name, *res in tasks:
        results[name] = tuple(res)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    for f in gen_files:  # the files' order, whatever order the workers finished in
        key = str(f)
        vals, notes, error = results[key]
        if error is not None:
            report.errors[key] = error
        else:
            report.files[key] = vals
        report.notes.update(notes)
    if embedder is not None:
        ref_files = _collect(ref_path) if ref_path is not None else []
        report.set_metrics.update(_embedding_metrics(embedder, gen_files, ref_files, report))
        _cross_modal_scores(embedder, gen_files, vid_path, captions or {}, report, metrics)
    return report


def _cross_modal_scores(embedder, gen_files, vid_path, captions, report, metrics) -> None:
    """Per-file CLAP score (audio vs caption) and ImageBind score (audio vs video)."""
    has_text = hasattr(embedder, "embed_text")
    has_video = hasattr(embedder, "embed_video")
    if not (has_text and captions) and not has_video:
        return
    for f in gen_files:
        key = str(f)
        if key not in report.files or f.suffix.lower() not in AUDIO | VIDEO:
            continue
        want_clap = has_text and f.stem in captions and (not metrics or "clap_score" in metrics)
        video = f if f.suffix.lower() in VIDEO else _partner(vid_path, f, VIDEO)
        want_ib = has_video and video is not None and (not metrics or "imagebind_score" in metrics)
        if not (want_clap or want_ib):
            continue
        try:
            y, _ = load_audio(f)
            if want_clap:
                report.files[key]["clap_score"] = embedder.text_audio_score(
                    y, AUDIO_SR, captions[f.stem]
                )
            if want_ib:
                report.files[key]["imagebind_score"] = embedder.video_audio_score(
                    embedder.embed_video(video), embedder.embed(y, AUDIO_SR)
                )
        except (V2MError, OSError, ValueError) as exc:
            report.notes[key] = f"cross-modal score: {exc}"


def _embedding_metrics(embedder, gen_files, ref_files, report: EvalReport) -> dict:
    """FAD and FAD-infinity over the two sets; with a classifier (PANNs) also the inception
    score of the generated set and KL(P_reference || P_generated) over pairs of same-named
    files."""
    from .metrics import embedding

    classify = getattr(embedder, "classify", None)
    emb: dict[str, dict[str, np.ndarray]] = {"gen": {}, "ref": {}}
    probs: dict[str, dict[str, np.ndarray]] = {"gen": {}, "ref": {}}
    for side, files in (("gen", gen_files), ("ref", ref_files)):
        for f in files:
            if f.suffix.lower() not in AUDIO | VIDEO:
                continue
            try:
                y, _ = load_audio(f)
                emb[side][f.stem] = embedder.embed(y, AUDIO_SR)
                if classify is not None:
                    probs[side][f.stem] = classify(y, AUDIO_SR)
            except (V2MError, OSError, ValueError) as exc:
                report.errors[str(f)] = str(exc)
    out: dict[str, float] = {}
    g = np.concatenate(list(emb["gen"].values())) if emb["gen"] else np.zeros((0, 1))
    r = np.concatenate(list(emb["ref"].values())) if emb["ref"] else np.zeros((0, 1))
    if g.shape[0] >= 2 and r.shape[0] >= 2:
        for k, v in embedding.evaluate(generated=g, reference=r).items():
            out[k.replace("frechet_distance", "fad")] = v
    if probs["gen"]:
        pg = np.concatenate(list(probs["gen"].values()))
        out["inception_score"] = embedding.inception_score(pg)[0]
        pairs = sorted(set(probs["gen"]) & set(probs["ref"]))
        if pairs:
            out["kl_ref_gen"] = embedding.kl_divergence(
                np.concatenate([probs["ref"][k] for k in pairs]),
                np.concatenate([probs["gen"][k] for k in pairs]),
            )
    return out


#: Imported once by the worker server for ``jobs > 1`` (see :mod:`v2m._parallel`).
PRELOAD = ("v2m.evaluation", "v2m.metrics.symbolic", "librosa.onset", "librosa.beat")
SI_NAMES = ("si_short", "si_mid", "si_long")
#: Metrics computed only when named in ``metrics`` (they cost seconds per file: the
#: structure indicator renders every MIDI file and builds a fitness scape plot).
OPT_IN = SI_NAMES
_ALL_NAMES = {
    "pitch_entropy",
    "pitch_class_entropy",
    "pitch_class_entropy_1bar",
    "pitch_class_entropy_4bar",
    "scale_consistency",
    "empty_beat_rate",
    "groove_consistency",
    "grooving_pattern_similarity",
    "average_ioi_s",
    "bcs_d2mgan",
    "bhs_d2mgan",
    "bcs_loris",
    "bhs_loris",
    "beats_f1_loris",
    "beat_f_measure",
    "heard_cut_beat_hit_rate_35ms",
    "heard_cut_beat_hit_rate_70ms",
    "heard_cut_beat_mean_abs_offset_ms",
    "written_cut_beat_hit_rate_35ms",
    "beat_align_score_motion",
    "beat_align_score_music",
    "kinematic_beat_align_score",
    "kinematic_beat_align_score_music",
    "kinematic_beat_align_score_chance",
    "av_align",
    "si_short",
    "si_mid",
    "si_long",
    "clap_score",
    "imagebind_score",
}
#: Every per-file metric name :func:`evaluate_files` can report, sorted.
METRIC_NAMES = tuple(sorted(_ALL_NAMES))

#: What a metric measures and which way is better ("+" higher, "-" lower, "=" closer to
#: the reference), for the tables and ``v2m eval --help``; metrics not listed are the
#: survey's, described in docs/metrics.md.
METRIC_INFO = {
    "heard_cut_beat_hit_rate_35ms": (
        "+", "share of the video's cuts within 35 ms of a beat that librosa's tracker hears "
        "in the audio"),
    "heard_cut_beat_hit_rate_70ms": ("+", "the same within 70 ms"),
    "heard_cut_beat_mean_abs_offset_ms": ("-", "mean distance from a cut to the nearest heard "
                                          "beat (ms)"),
    "written_cut_beat_hit_rate_35ms": (
        "+", "share of cuts within 35 ms of a beat written in the cue sheet or MIDI file beside "
        "the audio (what v2m's report calls 'cuts on beats')"),
    "beat_f_measure": ("+", "beat F-measure of the generated against the reference beats"),
    "bcs_d2mgan": ("+", "beats coverage score (D2M-GAN)"),
    "bhs_d2mgan": ("+", "beats hit score (D2M-GAN)"),
    "bcs_loris": ("+", "beats coverage score (LORIS)"),
    "bhs_loris": ("+", "beats hit score (LORIS)"),
    "kinematic_beat_align_score": ("+", "AIST++ beat align score against the body's beats; "
                                   "compare with its _chance"),
    "pitch_class_entropy": ("=", "entropy of the pitch-class histogram (bits)"),
    "scale_consistency": ("+", "share of notes in the best-fitting scale"),
    "empty_beat_rate": ("-", "share of beats with no onset"),
}  # fmt: skip
