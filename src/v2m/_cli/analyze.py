"""The ``analyze`` command: video or image -> timeline JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._io import OutputSet, check_suffix, write_text_atomic
from ._common import add_pose_model, positive


def _cmd_analyze(args: argparse.Namespace) -> int:
    from ..analysis import analyze
    from ..projection import check_controls

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
            from ..plotting import plot_timeline

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


def register(sub) -> None:
    """Add this module's commands to ``sub``."""
    a = sub.add_parser("analyze", help="video or image -> timeline JSON")
    a.add_argument("input", type=Path, help="a video (any FFmpeg container) or a still image")
    a.add_argument("-o", "--output", type=Path, help="timeline JSON (default: stdout)")
    a.add_argument("--plot", type=Path, help="write a PNG of what v2m saw")
    a.add_argument(
        "--duration-s",
        type=positive,
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
    add_pose_model(a)
    a.add_argument(
        "--sound", default="auto", choices=["auto", "silero", "energy", "off"],
        help="the video's own sound: speech with Silero VAD when the 'speech' extra is "
        "installed (auto), insist on it (silero), the energy detector (energy), or skip (off)",
    )  # fmt: skip
    a.add_argument("--force", action="store_true", help="overwrite existing outputs")
    a.set_defaults(func=_cmd_analyze)
