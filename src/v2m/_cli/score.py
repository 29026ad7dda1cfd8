"""The commands that give a video its soundtrack: ``score``, ``render-cue`` and the ``app``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import (
    SOUNDFONT_HELP,
    add_backend_args,
    add_force,
    add_pose_model,
    add_sound_args,
    backend_args,
    one_input,
    positive,
)


def _cmd_score(args: argparse.Namespace) -> int:
    from ..pipeline import score

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
        **backend_args(args),
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


def _cmd_render_cue(args: argparse.Namespace) -> int:
    from ..pipeline import render_cue

    args.video = one_input(args, "video", "video")
    res = render_cue(
        args.cue,
        video=args.video,
        output=args.output,
        soundfont=args.soundfont,
        keep_audio=args.keep_audio,
        loudness_lufs=args.loudness,
        fit=args.fit,
        force=args.force,
        **backend_args(args),
    )
    print(f"{args.output}: {res.rendered.duration_s:.2f} s of music", file=sys.stderr)
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    from ..app import serve

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"v2m app: listening on {args.host}: anyone who can reach it can upload files",
              file=sys.stderr)  # fmt: skip
    serve(host=args.host, port=args.port, work_dir=args.work_dir,
          max_upload_mb=args.max_upload_mb, open_browser=args.open)  # fmt: skip
    return 0


def register(sub) -> None:
    """Add this module's commands to ``sub``."""
    from ..projection.controls import MODES
    from ..styles import STYLE_NAMES

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
        type=positive,
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
        "--duration-s", type=positive, default=None,
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
    add_pose_model(s)
    add_sound_args(s)
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
    add_backend_args(s)
    s.add_argument(
        "--clip-dir", type=Path, default=None,
        help="local CLIP model folder: mood/scene tags per shot pick the style and feed the "
        "neural backends' prompt (never downloaded)",
    )  # fmt: skip
    add_force(s)
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
    add_sound_args(rc)
    rc.add_argument(
        "--fit", action="store_true",
        help="fit a cue sheet of another length to the video: beats, sections, per-bar "
        "energy, hits and dialogue cut at the video's end, or the music continued to it",
    )  # fmt: skip
    add_backend_args(rc)
    add_force(rc)
    rc.set_defaults(func=_cmd_render_cue)

    ap = sub.add_parser("app", help="the local web page: upload, score, tweak, download")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=7860, help="TCP port (default 7860)")
    ap.add_argument("--work-dir", type=Path, default=None,
                    help="where uploads and results go (default: a temporary folder, removed "
                    "on exit)")  # fmt: skip
    ap.add_argument(
        "--max-upload-mb", type=positive, default=500.0, help="largest upload, MB (default 500)"
    )
    ap.add_argument("--open", action="store_true", help="open the page in a browser")
    ap.set_defaults(func=_cmd_app)
