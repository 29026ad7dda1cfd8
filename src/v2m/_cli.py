"""The ``v2m`` command line: a thin layer over the library API."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from . import __version__
from ._io import OutputSet, check_suffix, write_text_atomic
from .errors import ParameterError, V2MError

log = logging.getLogger("v2m")


def _cmd_analyze(args: argparse.Namespace) -> int:
    from .analysis import analyze
    from .projection import check_controls

    check_controls(duration_s=args.duration_s)
    check_suffix(args.plot, {".png", ".svg", ".pdf"}, "--plot")
    with OutputSet(
        {"--output": args.output, "--plot": args.plot}, force=args.force, inputs=(args.input,)
    ):
        tl = analyze(
            args.input,
            duration_s=args.duration_s,
            progress=True,
            keep_thumbnails=bool(args.plot),
            pose=args.pose,
            pose_model=args.pose_model,
            audio=args.sound,
        )
        text = tl.to_json()
        if args.output:
            write_text_atomic(args.output, text)
        if args.plot:
            from .plotting import plot_timeline

            plot_timeline(tl, args.plot)
    if not args.output:
        sys.stdout.write(text + "\n")
    tempo = (
        f"visual tempo {tl.visual_tempo_bpm:g} BPM" if tl.visual_tempo_bpm else "no visual tempo"
    )
    body = ""
    if tl.kinematics:
        k = tl.kinematics
        kt = f"{k['tempo_bpm']:g} BPM" if k.get("tempo_bpm") else "no tempo"
        body = (
            f"; a body in {100 * tl.pose['coverage']:.0f} % of the frames, "
            f"{len(k['beats'])} kinematic beats, {kt} "
            f"(confidence {k.get('tempo_confidence', 0):.2f}), {len(k['accents'])} accents; "
            f"pose model {tl.pose.get('model_time_s', 0):.1f} s at {tl.pose['rate_hz']:g} Hz"
        )
    print(
        f"{args.input}: {len(tl.cuts)} cuts, {len(tl.shots)} shots, "
        f"{len(tl.visual_beats)} visual beats, {tempo}{body}{_sound_summary(tl.audio)}",
        file=sys.stderr,
    )
    return 0


def _sound_summary(a: dict | None) -> str:
    """The analysis' one line about the video's own sound."""
    if not a:
        return ""
    if a.get("silent"):
        return "; sound: silent"
    what = "dialogue" if a.get("dialogue") else "a song" if a.get("song") else "no dialogue"
    lufs = a.get("loudness_lufs")
    return (
        f"; sound: {what}, {len(a.get('speech', []))} speech span(s) ({a.get('speech_s', 0):.1f} "
        f"s, {a.get('vad')} VAD), music in {100 * a.get('music_share', 0):.0f} %"
        + (f", {lufs:.1f} LUFS" if lufs is not None else "")
    )


def _cmd_cue(args: argparse.Namespace) -> int:
    from .cuesheet import Hit, make_cue

    hits = [Hit(time_s=t, strength=1.0, kind="user") for t in (args.hit or [])]
    cue = make_cue(
        duration_s=args.duration_s,
        tempo_bpm=args.tempo_bpm,
        key=args.key,
        style=args.style,
        meter=args.meter,
        energy=args.energy,
        seed=args.seed,
        ending=args.ending,
        hits=hits,
    )
    with OutputSet({"--output": args.output}, force=args.force):
        cue.save(args.output)
    print(
        f"{args.output}: {cue.style}, {cue.key}, {cue.tempo_bpm:g} BPM, {cue.meter}, "
        f"{len(cue.downbeats)} bars, {len(cue.sections)} sections",
        file=sys.stderr,
    )
    return 0


def _cmd_compose(args: argparse.Namespace) -> int:
    from .composition import compose
    from .cuesheet import CueSheet, check_seed

    check_seed(args.seed)
    check_suffix(args.output, {".mid", ".midi"}, "--output")
    check_suffix(args.plot, {".png"}, "--plot")
    outs = OutputSet(
        {"--output": args.output, "--plot": args.plot}, force=args.force, inputs=(args.cue,)
    )
    cue = CueSheet.load(args.cue)
    if args.seed is not None:
        cue.seed = args.seed
    with outs:
        score = compose(cue)
        score.save(args.output)
        if args.plot:
            from .plotting import plot_score

            plot_score(score, args.plot)
    n = sum(len(v) for v in score.parts.values())
    print(
        f"{args.output}: {n} notes in {len(score.roles)} tracks ({', '.join(score.roles)})",
        file=sys.stderr,
    )
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    from .composition import ROLES
    from .rendering import find_soundfont, render_to_file

    check_suffix(args.output, {".wav", ".flac"}, "--output")
    check_suffix(args.plot, {".png"}, "--plot")
    outs = {"--output": args.output, "--plot": args.plot}
    if args.stems:
        if args.stems.exists() and not args.stems.is_dir():
            raise ParameterError(f"{args.stems}: --stems needs a folder, and this is a file")
        outs.update({f"--stems ({role})": args.stems / f"{role}.wav" for role in ROLES})
    oset = OutputSet(outs, force=args.force, inputs=(args.input,))
    find_soundfont(args.soundfont)
    with oset:
        info = render_to_file(
            args.input,
            args.output,
            stems_dir=args.stems,
            soundfont=args.soundfont,
            sample_rate=args.sample_rate,
            levels=args.plot is not None,
            attack_leads=not args.no_attack_leads,
        )
        if args.plot:
            from .plotting import plot_render

            plot_render(info, args.plot)
    print(f"{args.output}: {info.summary}", file=sys.stderr)
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from .pipeline import score

    res = score(
        args.input,
        output=args.output,
        style=args.style,
        tempo_bpm=args.tempo_bpm,
        key=args.key,
        energy=args.energy_scale,
        seed=args.seed,
        hits_s=args.hit,
        duration_s=args.duration_s,
        keep_audio=args.keep_audio,
        loudness_lufs=args.loudness,
        pose_model=args.pose_model,
        stems=args.stems,
        plot=args.plot,
        midi=args.midi,
        wav=args.wav,
        cue=args.cue,
        timeline=args.timeline,
        report=args.report,
        soundfont=args.soundfont,
        force=args.force,
        progress=True,
        mode=args.mode,
        **_backend_args(args),
    )
    s = res.projection.summary()
    cuts = (
        f"{s['cuts_on_beat_35ms']} of {s['n_cuts']} cuts on beats, "
        f"{s['cuts_on_downbeat']} on downbeats; "
        if s["n_cuts"]
        else ""
    )
    print(f"{args.output}: {cuts}done in {res.timings_s['total']:.1f} s", file=sys.stderr)
    return 0


def _backend_args(args: argparse.Namespace) -> dict:
    opts = {"device": args.device, "sync": not args.no_sync}
    if args.window_s:
        opts["window_s"] = args.window_s
    out = {"backend": args.backend, "model_dir": args.model_dir, "backend_options": opts}
    if getattr(args, "clip_dir", None) is not None:
        out["clip_dir"] = args.clip_dir
    return out


def _add_sound_args(p: argparse.ArgumentParser) -> None:
    """The video's own sound and the delivery loudness (score and render-cue)."""
    p.add_argument(
        "--keep-audio", nargs="?", const="on", default="auto", choices=["auto", "on", "off"],
        help="the video's own sound: auto (default) keeps it when it holds dialogue, at its "
        "level, with the music written and ducked around the speech (a song or sound "
        "without speech is left out); on keeps it always; off never. --keep-audio alone "
        "means on",
    )  # fmt: skip
    p.add_argument(
        "--loudness", type=float, default=-14.0, metavar="LUFS",
        help="delivery loudness of the soundtrack, -40..-5 LUFS (default -14, the web; "
        "-23 or -24 for broadcast); true peak at most -1 dBTP",
    )  # fmt: skip


def _add_backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend",
        default="rules",
        help="what makes the audio: rules (composer + SoundFont, default), musicgen "
        "(MusicGen / MusicGen-Melody) or stable-audio (Stable Audio Open), the neural ones "
        "from --model-dir (the 'neural' extra)",
    )
    p.add_argument(
        "--model-dir", type=Path, default=None,
        help="local model folder for a neural backend (v2m never downloads models)",
    )  # fmt: skip
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    p.add_argument(
        "--window-s", type=_positive, default=None,
        help="neural backends: seconds generated at a time (default: the model's maximum)",
    )  # fmt: skip
    p.add_argument(
        "--no-sync", action="store_true",
        help="neural backends: do not warp the generated audio onto the cue's beats",
    )  # fmt: skip


def _cmd_app(args: argparse.Namespace) -> int:
    from .app import serve

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"v2m app: listening on {args.host}: anyone who can reach it can upload files",
              file=sys.stderr)  # fmt: skip
    serve(host=args.host, port=args.port, work_dir=args.work_dir,
          max_upload_mb=args.max_upload_mb, open_browser=args.open)  # fmt: skip
    return 0


def _one_input(args: argparse.Namespace, name: str, what: str) -> Path:
    """An input given positionally or as ``--name`` (both accepted, once)."""
    pos, opt = getattr(args, f"{name}_pos"), getattr(args, name)
    if pos is not None and opt is not None and pos != opt:
        raise ParameterError(f"{what} given twice ({pos} and --{name} {opt}); give it once")
    if pos is None and opt is None:
        raise ParameterError(f"give the {what} (as an argument or --{name})")
    return pos if pos is not None else opt


def _cmd_render_cue(args: argparse.Namespace) -> int:
    from .pipeline import render_cue

    args.video = _one_input(args, "video", "video")
    res = render_cue(
        args.cue,
        video=args.video,
        output=args.output,
        soundfont=args.soundfont,
        keep_audio=args.keep_audio,
        loudness_lufs=args.loudness,
        fit=args.fit,
        force=args.force,
        **_backend_args(args),
    )
    print(f"{args.output}: {res.rendered.duration_s:.2f} s of music", file=sys.stderr)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_files

    args.generated = _one_input(args, "generated", "generated music")
    out = Path(args.output)
    outs = {"-o": out, "-o (csv)": out.with_suffix(".csv"), "-o (md)": out.with_suffix(".md")}
    oset = OutputSet(outs, force=args.force, inputs=(args.generated, args.reference, args.videos))
    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
    captions = None
    if args.captions:
        if args.embedder != "clap":
            raise ParameterError("--captions needs a text-audio embedder: --embedder clap")
        captions = _read_captions(args.captions)
    embedder = None
    if args.embedder:
        from .metrics.embedders import load_embedder

        embedder = load_embedder(
            args.embedder, args.embedder_weights, sample_rate=args.embedder_sample_rate
        )
    rep = evaluate_files(
        args.generated,
        reference=args.reference,
        videos=args.videos,
        metrics=metrics,
        embedder=embedder,
        captions=captions,
        progress=True,
        jobs=args.jobs,
    )
    for f, err in rep.errors.items():
        print(f"v2m: skipped {f}: {err}", file=sys.stderr)
    if not rep.files:
        print(
            f"v2m: error: no file under {args.generated} could be evaluated "
            f"({len(rep.errors)} failed); nothing written",
            file=sys.stderr,
        )
        return 2
    with oset:
        rep.save(out)
    sys.stdout.write(rep.to_markdown())
    return 0


def _read_captions(path: Path) -> dict[str, str]:
    """``{file stem: caption}`` from a JSON object."""
    import json

    from .errors import InputError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read captions ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise InputError(f"{path}: captions must be a JSON object of file stem -> text")
    return data


def _positive(x: str) -> float:
    v = float(x)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{x}: must be > 0")
    return v


SEED_HELP = "0..4294967295: the same cue and seed always give the same music"


def _loud_anywhere(sub) -> None:
    """``-v``/``-q`` after the subcommand too (and on nested ones): every parser made from
    ``sub`` gets them, defaulting to what was given before the subcommand."""
    add = sub.add_parser

    def add_parser(*a, **k):
        sp = add(*a, **k)
        sp.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log more on stderr")  # fmt: skip
        sp.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="log only errors on stderr")  # fmt: skip
        orig = sp.add_subparsers

        def add_subparsers(**kw):
            nested = orig(**kw)
            _loud_anywhere(nested)
            return nested

        sp.add_subparsers = add_subparsers
        return sp

    sub.add_parser = add_parser


SOUNDFONT_HELP = (
    "a .sf2/.sf3 SoundFont (default: MuseScore General from Debian, else the small General "
    "MIDI font that ships with pip)"
)


def build_parser() -> argparse.ArgumentParser:
    from .evaluation import METRIC_NAMES

    p = argparse.ArgumentParser(prog="v2m", description="Vision-to-music: soundtracks for video.")
    p.add_argument("--version", action="version", version=f"v2m {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log more on stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="log only errors on stderr")
    sub = p.add_subparsers(dest="command", required=True)
    _loud_anywhere(sub)

    a = sub.add_parser("analyze", help="video or image -> timeline JSON")
    a.add_argument("input", type=Path, help="a video (any FFmpeg container) or a still image")
    a.add_argument("-o", "--output", type=Path, help="timeline JSON (default: stdout)")
    a.add_argument("--plot", type=Path, help="write a PNG of what v2m saw")
    a.add_argument(
        "--duration-s",
        type=_positive,
        default=None,
        help="timeline length for still images (default 30)",
    )
    a.add_argument(
        "--pose",
        default="auto",
        choices=["auto", "on", "off"],
        help="track the body pose (auto: when one person fills the picture; needs the "
        "'pose' extra)",
    )
    _pose_model_option(a)
    a.add_argument(
        "--sound", default="auto", choices=["auto", "silero", "energy", "off"],
        help="the video's own sound: speech with Silero VAD when the 'speech' extra is "
        "installed (auto), insist on it (silero), the energy detector (energy), or skip (off)",
    )  # fmt: skip
    a.add_argument("--force", action="store_true", help="overwrite existing outputs")
    a.set_defaults(func=_cmd_analyze)

    from .projection.controls import MODES
    from .styles import STYLE_NAMES

    c = sub.add_parser("cue", help="write a cue sheet without a video")
    c.add_argument(
        "--duration-s",
        type=_positive,
        required=True,
        help="length of the music, seconds (up to 6 hours)",
    )
    c.add_argument(
        "--tempo-bpm",
        type=_positive,
        default=None,
        help="20..400 (default: style's); a cadence ending slows down over the last 6 s",
    )
    c.add_argument("--key", default="C major", help='e.g. "A minor", "D dorian"')
    c.add_argument("--style", default="cinematic", help=", ".join(STYLE_NAMES))
    c.add_argument(
        "--meter", default="4/4", choices=["4/4", "3/4", "6/8"], help="time signature (default 4/4)"
    )
    c.add_argument(
        "--energy", type=float, default=0.6, help="overall energy level 0..1 (default 0.6)"
    )
    c.add_argument(
        "--ending",
        default="cadence",
        choices=["cadence", "fade", "stop"],
        help="how the music ends: a held final chord (default), a fade-out, or a stop",
    )
    c.add_argument("--hit", type=float, action="append", help="accent at TIME s (repeatable)")
    c.add_argument("--seed", type=int, default=0, help=SEED_HELP)
    c.add_argument("-o", "--output", type=Path, required=True, help="the cue sheet JSON to write")
    c.add_argument(
        "--force", action="store_true", help="overwrite outputs that exist (never an input)"
    )
    c.set_defaults(func=_cmd_cue)

    m = sub.add_parser("compose", help="cue sheet -> multi-track MIDI")
    m.add_argument(
        "cue", type=Path, help="a cue sheet JSON (from v2m cue, v2m score --cue, or edited)"
    )
    m.add_argument("-o", "--output", type=Path, required=True, help="the MIDI file to write (.mid)")
    m.add_argument("--plot", type=Path, help="piano-roll PNG")
    m.add_argument(
        "--seed", type=int, default=None, help="override the cue sheet's seed (0..4294967295)"
    )
    m.add_argument(
        "--force", action="store_true", help="overwrite outputs that exist (never an input)"
    )
    m.set_defaults(func=_cmd_compose)

    r = sub.add_parser("render", help="MIDI or cue sheet -> mastered WAV/FLAC")
    r.add_argument("input", type=Path, help="score.mid or cue.json")
    r.add_argument("-o", "--output", type=Path, required=True, help=".wav or .flac")
    r.add_argument("--stems", type=Path, help="folder for one WAV per role")
    r.add_argument("--plot", type=Path, help="PNG: spectrogram and the level of every stem")
    r.add_argument("--soundfont", type=Path, help=SOUNDFONT_HELP)
    r.add_argument(
        "--sample-rate", type=int, default=48000, choices=[44100, 48000], help="Hz (default 48000)"
    )
    r.add_argument(
        "--no-attack-leads",
        action="store_true",
        help="play every event where the MIDI file puts it (by default, with MuseScore "
        "General, slow-speaking presets start early so their attack is heard on time)",
    )
    r.add_argument(
        "--force", action="store_true", help="overwrite outputs that exist (never an input)"
    )
    r.set_defaults(func=_cmd_render)

    s = sub.add_parser("score", help="video or image -> video (or audio/MIDI) with a soundtrack")
    s.add_argument("input", type=Path, help="a video (any FFmpeg container) or a still image")
    s.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help=".mp4/.mov/.mkv (video with music), .wav/.flac or .mid",
    )
    s.add_argument("--style", default=None, help=", ".join(STYLE_NAMES) + " (default: auto)")
    s.add_argument(
        "--tempo-bpm",
        type=_positive,
        default=None,
        help="30..240; the beat grid stays within +-12 %% of it (default: from the picture)",
    )
    s.add_argument("--key", default=None, help='e.g. "A minor" (default: from the colours)')
    s.add_argument(
        "--energy-scale",
        dest="energy_scale",
        type=float,
        default=1.0,
        help="factor on the energy curve the picture gives, 0.25..2 (default 1)",
    )
    s.add_argument(
        "--seed",
        type=int,
        default=None,
        help="0..4294967295 (default: derived from the input, so the same input always gets "
        "the same music and different inputs different music)",
    )
    s.add_argument("--hit", type=float, action="append", help="accent at TIME s (repeatable)")
    s.add_argument(
        "--duration-s", type=_positive, default=None,
        help="length of the music for a still image, seconds (default 30; a video sets its "
        "own length)",
    )  # fmt: skip
    s.add_argument(
        "--mode",
        default="auto",
        choices=list(MODES),
        help="what the beats follow: the cuts, a dancer's movement, or a performer's hands and "
        "head (auto: dance when one person fills the picture and cuts are rare, performance "
        "when the legs are out of the picture or seated; pose needs the 'pose' extra)",
    )
    _pose_model_option(s)
    _add_sound_args(s)
    s.add_argument(
        "--stems", type=Path, default=None,
        help="folder for one WAV per part of the music (and, with the original sound kept, "
        "original.wav and music.wav as mixed)",
    )  # fmt: skip
    s.add_argument(
        "--plot", type=Path, default=None,
        help="also write a PNG: the picture's cuts and hits against the music's sections, "
        "bars and beats, and the speech the music makes room for",
    )  # fmt: skip
    s.add_argument("--midi", type=Path, help="also write the score as MIDI (.mid)")
    s.add_argument("--wav", type=Path, help="also write the soundtrack as .wav or .flac")
    s.add_argument(
        "--cue", type=Path, help="also write the cue sheet JSON (edit it, then v2m render-cue)"
    )
    s.add_argument(
        "--timeline", type=Path, help="also write what v2m saw and heard (timeline JSON)"
    )
    s.add_argument(
        "--report", type=Path, help="also write the report JSON: every choice and why, cuts, sound"
    )
    s.add_argument("--soundfont", type=Path, help=SOUNDFONT_HELP)
    _add_backend_args(s)
    s.add_argument(
        "--clip-dir", type=Path, default=None,
        help="local CLIP model folder: mood/scene tags per shot pick the style and feed the "
        "neural backends' prompt (never downloaded)",
    )  # fmt: skip
    s.add_argument(
        "--force", action="store_true", help="overwrite outputs that exist (never an input)"
    )
    s.set_defaults(func=_cmd_score)

    rc = sub.add_parser("render-cue", help="edited cue sheet + video -> video with music")
    rc.add_argument("cue", type=Path, help="the (edited) cue sheet JSON")
    rc.add_argument(
        "video_pos", type=Path, nargs="?", metavar="VIDEO",
        help="the video (or image) to put the music under (or --video)",
    )  # fmt: skip
    rc.add_argument("--video", type=Path, default=None, help="the same as VIDEO")
    rc.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help=".mp4/.mov/.mkv (video with music) or .wav/.flac",
    )
    rc.add_argument("--soundfont", type=Path, help=SOUNDFONT_HELP)
    _add_sound_args(rc)
    rc.add_argument(
        "--fit", action="store_true",
        help="fit a cue sheet of another length to the video: beats, sections, per-bar "
        "energy, hits and dialogue cut at the video's end, or the music continued to it",
    )  # fmt: skip
    _add_backend_args(rc)
    rc.add_argument(
        "--force", action="store_true", help="overwrite outputs that exist (never an input)"
    )
    rc.set_defaults(func=_cmd_render_cue)

    ap = sub.add_parser("app", help="the local web page: upload, score, tweak, download")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=7860, help="TCP port (default 7860)")
    ap.add_argument("--work-dir", type=Path, default=None,
                    help="where uploads and results go (default: a temporary folder, removed "
                    "on exit)")  # fmt: skip
    ap.add_argument(
        "--max-upload-mb", type=_positive, default=500.0, help="largest upload, MB (default 500)"
    )
    ap.add_argument("--open", action="store_true", help="open the page in a browser")
    ap.set_defaults(func=_cmd_app)

    e = sub.add_parser(
        "eval", help="objective metrics for generated music (files or folders)",
        description="Objective metrics for generated music. Cut-to-beat figures come in two "
        "kinds: heard_* use the beats librosa's tracker hears in the audio; written_* use "
        "the beats of a cue sheet (<name>.cue.json or <name>.json) or MIDI file (<name>.mid) "
        "beside it, as v2m's own report does ('4 of 5 cuts on beats'). The table says which "
        "way each figure is better; docs/metrics.md describes every metric.",
    )  # fmt: skip
    e.add_argument(
        "generated_pos", type=Path, nargs="?", metavar="GENERATED",
        help="the generated music: a file (.wav/.flac/.mid/video) or a folder of them "
        "(or --generated)",
    )  # fmt: skip
    e.add_argument("--generated", type=Path, default=None, help="the same as GENERATED")
    e.add_argument(
        "--reference",
        type=Path,
        help="reference music (file or folder; same names) for the paired and distribution metrics",
    )
    e.add_argument(
        "--videos",
        type=Path,
        help="the input videos (file or folder; same names) for the rhythm metrics against "
        "cuts and motion",
    )
    e.add_argument(
        "--metrics",
        help="comma-separated metric names (default: all that apply except the opt-in "
        "structure indicator si_short, si_mid, si_long, which renders every MIDI file): "
        + ", ".join(METRIC_NAMES),
    )
    e.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes for the per-file metrics (default 1; e.g. the number of cores "
        "for long audio or videos)",
    )
    e.add_argument(
        "--embedder",
        choices=["vggish", "panns", "clap", "imagebind", "torchscript"],
        help="FAD between --generated and --reference with this embedder; clap adds the "
        "CLAP score (with --captions), imagebind the ImageBind score (music vs video)",
    )
    e.add_argument(
        "--embedder-weights",
        type=Path,
        help="local weights file (a model folder for clap); never downloaded",
    )
    e.add_argument(
        "--captions", type=Path, help="JSON {file stem: text} for the CLAP score (--embedder clap)"
    )
    e.add_argument("--embedder-sample-rate", type=int, default=48000, help="TorchScript input rate")
    e.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="report .json (a .csv and a .md are written beside it)",
    )
    e.add_argument(
        "--force", action="store_true", help="overwrite outputs that exist (never an input)"
    )
    e.set_defaults(func=_cmd_eval)

    b = sub.add_parser(
        "bench",
        help="run a system over a dataset and score it with a paper's protocol",
        description="Generate music for every item of a dataset split with v2m (or take "
        "another system's outputs from a folder, paired by item id), score each item with a "
        "protocol, and write per-item results (an interrupted run resumes), results.json/.csv "
        "and a table with mean and 95 %% CI. Protocols: symbolic, diffbgm, d2mgan, loris, "
        "vidmuse.",
    )
    b.add_argument("--dataset", required=True, help="dataset name (v2m datasets list)")
    b.add_argument("--root", type=Path, required=True, help="the folder of a local copy")
    b.add_argument("--split", help="one split (default: all)")
    b.add_argument("--protocol", required=True, help="symbolic, diffbgm, d2mgan, loris, vidmuse")
    b.add_argument(
        "--system", default="v2m", help="v2m (generate), or a label for --outputs (default v2m)"
    )
    b.add_argument("--outputs", type=Path, help="another system's outputs, named by item id")
    b.add_argument("--style", help="v2m: a style for every item (default: auto)")
    b.add_argument("--seed", type=int, help="v2m: seed (default: derived from each input)")
    b.add_argument("--mode", choices=list(MODES), help="v2m: what beats follow")
    b.add_argument("--soundfont", type=Path, help="v2m: SoundFont for rendering")
    b.add_argument("--backend", default="rules", help="v2m: rules, musicgen or stable-audio")
    b.add_argument("--model-dir", type=Path, help="v2m: the neural backend's local model folder")
    b.add_argument(
        "--weights",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="local model weights a protocol needs (vidmuse: vggish=..., imagebind=...)",
    )
    b.add_argument("--jobs", type=int, help="worker processes (default: all cores)")
    b.add_argument("--ray", metavar="ADDRESS", help="run on Ray: 'local' or a cluster address")
    b.add_argument("--limit", type=int, help="only the first N items")
    b.add_argument("-o", "--output", type=Path, required=True, help="the run's folder")
    b.add_argument("--force", action="store_true", help="start over in a used folder")
    b.set_defaults(func=_cmd_bench)

    d = sub.add_parser("datasets", help="the survey's datasets: list, check a copy, export")
    dsub = d.add_subparsers(dest="datasets_command", required=True, metavar="ACTION")
    dl = dsub.add_parser("list", help="the datasets v2m reads")
    dl.set_defaults(func=_cmd_datasets_list)
    for action, helptext in (
        ("check", "count items and present files per split; list the first missing ones"),
        ("export", "one JSON object per item (JSON Lines)"),
    ):
        x = dsub.add_parser(action, help=helptext)
        x.add_argument("name", help="dataset name (v2m datasets list)")
        x.add_argument("root", type=Path, help="the folder of a local copy")
        x.add_argument("--split", help="one split (default: all)")
        x.add_argument(
            "--force", action="store_true", help="overwrite outputs that exist (never an input)"
        )
        if action == "check":
            x.add_argument("--json", type=Path, help="also write the coverage as JSON")
            x.set_defaults(func=_cmd_datasets_check)
        else:
            x.add_argument("-o", "--output", type=Path, required=True, help="items .jsonl")
            x.set_defaults(func=_cmd_datasets_export)

    mo = sub.add_parser("models", help="local model files: list them, install the pose models")
    msub = mo.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    ml = msub.add_parser("list", help="which pose models v2m finds, and where")
    ml.set_defaults(func=_cmd_models_list)
    mp = msub.add_parser(
        "pose",
        help="install the BlazePose lite/full/heavy models from the npm package (the .tgz "
        "'npm pack @mediapipe/pose@0.5.1675469404' writes) or a folder; checked by SHA-256",
    )
    mp.add_argument("source", type=Path, help="mediapipe-pose-*.tgz or a folder of .tflite files")
    mp.add_argument("--dest", type=Path, help="the folder to fill (default: v2m's model folder)")
    mp.set_defaults(func=_cmd_models_pose)

    st = sub.add_parser("study", help="blind listening studies: create, serve, report")
    ssub = st.add_subparsers(dest="study_command", required=True, metavar="ACTION")
    sc = ssub.add_parser("create", help="a blind study from several systems' outputs")
    sc.add_argument("--system", action="append", required=True, metavar="NAME=DIR",
                    help="outputs of one system, a file per item id (repeatable)")  # fmt: skip
    sc.add_argument("--videos", type=Path, help="the input videos (same ids): audio outputs "
                    "are put under them")  # fmt: skip
    sc.add_argument("--pairwise", action="store_true", help="also A/B preference trials")
    sc.add_argument("--attention", type=int, default=2, help="attention checks (default 2)")
    sc.add_argument(
        "--title", default="Music for video: a listening study", help="the title the listeners see"
    )
    sc.add_argument("-o", "--output", type=Path, required=True, help="the study folder")
    sc.add_argument(
        "--force", action="store_true", help="overwrite outputs that exist (never an input)"
    )
    sc.set_defaults(func=_cmd_study_create)
    ss = ssub.add_parser("serve", help="serve a study; answers go to its SQLite file")
    ss.add_argument("study", type=Path, help="the study folder (from v2m study create)")
    ss.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ss.add_argument("--port", type=int, default=7861, help="TCP port (default 7861)")
    ss.set_defaults(func=_cmd_study_serve)
    sr = ssub.add_parser("report", help="MOS with 95 %% CI, tests, agreement, exclusions")
    sr.add_argument("study", type=Path, help="the study folder with its answers")
    sr.set_defaults(func=_cmd_study_report)
    return p


def _pairs(specs, flag: str, form: str, *, unique: bool = True) -> dict[str, str]:
    """``NAME=VALUE`` options as a dict; a malformed (or, with ``unique``, repeated) one is a
    ParameterError naming the flag."""
    out: dict[str, str] = {}
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        if not sep or not name or not value:
            raise ParameterError(f"{flag} {spec!r}: use {form}")
        if unique and name in out:
            raise ParameterError(f"{flag} {name}: given twice")
        out[name] = value
    return out


def _cmd_study_create(args: argparse.Namespace) -> int:
    from .study import create_study

    systems = {k: Path(v) for k, v in _pairs(args.system, "--system", "NAME=DIR").items()}
    study = create_study(systems, out_dir=args.output, videos=args.videos,
                         pairwise=args.pairwise, attention=args.attention, title=args.title,
                         force=args.force)  # fmt: skip
    kinds = {}
    for t in study["trials"]:
        kinds[t["kind"]] = kinds.get(t["kind"], 0) + 1
    print(f"{args.output}: {len(study['items'])} items x {len(study['systems'])} systems; "
          + ", ".join(f"{n} {k} trials" for k, n in kinds.items()), file=sys.stderr)  # fmt: skip
    return 0


def _cmd_study_serve(args: argparse.Namespace) -> int:
    from .study import serve_study

    serve_study(args.study, host=args.host, port=args.port)
    return 0


def _cmd_study_report(args: argparse.Namespace) -> int:
    from .study import report_study
    from .study.report import to_markdown

    rep = report_study(args.study)
    print(to_markdown(rep))
    print(f"written: {args.study / 'report.json'}, report.csv, report.md", file=sys.stderr)
    return 0


def _pose_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pose-model", default="full", choices=["lite", "full", "heavy"],
        help="the pose landmark model (full: the default, in the mediapipe wheel; lite is "
        "faster but finds fewer of the body's stops; lite and heavy: 'v2m models pose')",
    )  # fmt: skip


def _cmd_models_list(args: argparse.Namespace) -> int:  # noqa: ARG001
    from ._models import models_home
    from .analysis.pose import installed_models

    print(f"v2m's model folder: {models_home()}")
    for variant, path in installed_models().items():
        print(f"pose {variant:6s} {path if path else 'not installed'}")
    return 0


def _cmd_models_pose(args: argparse.Namespace) -> int:
    from .analysis.pose import install_models

    for f in install_models(args.source, dest=args.dest):
        print(f"installed {f}")
    return 0


def _cmd_datasets_list(args: argparse.Namespace) -> int:  # noqa: ARG001
    from . import datasets

    for name in datasets.names():
        ad = datasets.get(name)
        print(f"{name:12s} {ad.title} ({', '.join(ad.splits)}) {ad.url}")
    return 0


def _cmd_datasets_check(args: argparse.Namespace) -> int:
    import json

    from . import datasets

    with OutputSet(
        {"--json": args.json}, force=args.force, inputs=(args.root,), input_folders=(args.root,)
    ):
        cov = datasets.check(args.name, args.root, split=args.split)
        if args.json:
            write_text_atomic(args.json, json.dumps(cov.to_dict(), indent=1))
    print(cov.to_text())
    return 0


def _cmd_datasets_export(args: argparse.Namespace) -> int:
    from . import datasets

    check_suffix(args.output, {".jsonl"}, "-o")
    with OutputSet(
        {"-o": args.output}, force=args.force, inputs=(args.root,), input_folders=(args.root,)
    ):
        lines = [it.to_json() for it in datasets.items(args.name, args.root, split=args.split)]
        write_text_atomic(args.output, "".join(line + "\n" for line in lines))
    print(f"{args.output}: {len(lines)} items", file=sys.stderr)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from . import benchmark

    weights = _pairs(args.weights, "--weights", "NAME=PATH", unique=False)
    if args.outputs is not None:
        system = {"kind": "outputs", "folder": str(args.outputs), "label": args.system}
    elif args.system != "v2m":
        raise ParameterError(f"--system {args.system!r}: v2m, or give --outputs DIR")
    else:
        opts = {"style": args.style, "seed": args.seed, "mode": args.mode}
        if args.soundfont:
            opts["soundfont"] = str(args.soundfont)
        if args.backend != "rules":
            if args.model_dir is None:
                raise ParameterError(f"--backend {args.backend} needs --model-dir (a local model)")
            opts["backend"], opts["model_dir"] = args.backend, str(args.model_dir)
        system = {"kind": "v2m", **{k: v for k, v in opts.items() if v is not None}}
    try:
        res = benchmark.run(
            dataset=args.dataset,
            root=args.root,
            split=args.split,
            protocol=args.protocol,
            system=system,
            weights=weights,
            jobs=args.jobs,
            ray_address=args.ray,
            limit=args.limit,
            out_dir=args.output,
            force=args.force,
            progress=True,
        )
    except (KeyboardInterrupt, _Terminated) as exc:
        how = "interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated"
        print(
            f"v2m: {how}; finished items are kept in {args.output}/items: run the same "
            "command again to resume",
            file=sys.stderr,
        )
        return 130 if how == "interrupted" else 143
    print(res.to_markdown())
    if res.errors:
        first = next(iter(res.errors.items()))
        print(
            f"v2m: {len(res.errors)} of {len(res.items)} item(s) failed (first: {first[0]}: "
            f"{first[1]}); see {args.output}/results.json",
            file=sys.stderr,
        )
        if len(res.errors) == len(res.items):
            print("v2m: error: every item failed", file=sys.stderr)
            return 2
    return 0


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so that every clean-up runs as on Ctrl-C; like
    KeyboardInterrupt not an Exception, so that no ``except Exception`` (a probe frame that
    does not decode, a worker's error) swallows it."""


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format="v2m: %(message)s")
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return args.func(args)
    except V2MError as exc:
        print(f"v2m: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("v2m: interrupted; nothing was written", file=sys.stderr)
        return 130
    except _Terminated:
        print("v2m: terminated; nothing was written", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
