"""The ``v2m`` command line: a thin layer over the library API."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__
from ._io import check_output, write_text_atomic
from .errors import V2MError

log = logging.getLogger("v2m")


def _cmd_analyze(args: argparse.Namespace) -> int:
    from .analysis import analyze

    outs = [o for o in (args.output, args.plot) if o]
    for o in outs:
        check_output(o, force=args.force, inputs=(args.input,))
    tl = analyze(
        args.input, duration_s=args.duration_s, progress=True, keep_thumbnails=bool(args.plot)
    )
    text = tl.to_json()
    if args.output:
        write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text + "\n")
    if args.plot:
        from .plotting import plot_timeline

        plot_timeline(tl, args.plot)
    print(
        f"{args.input}: {len(tl.cuts)} cuts, {len(tl.shots)} shots, "
        f"{len(tl.visual_beats)} visual beats, visual tempo {tl.visual_tempo_bpm} BPM",
        file=sys.stderr,
    )
    return 0


def _positive(x: str) -> float:
    v = float(x)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{x}: must be > 0")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="v2m", description="Vision-to-music: soundtracks for video.")
    p.add_argument("--version", action="version", version=f"v2m {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log more on stderr")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="video or image -> timeline JSON")
    a.add_argument("input", type=Path)
    a.add_argument("-o", "--output", type=Path, help="timeline JSON (default: stdout)")
    a.add_argument("--plot", type=Path, help="write a PNG of what v2m saw")
    a.add_argument(
        "--duration-s",
        type=_positive,
        default=None,
        help="timeline length for still images (default 30)",
    )
    a.add_argument("--force", action="store_true", help="overwrite existing outputs")
    a.set_defaults(func=_cmd_analyze)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="v2m: %(message)s"
    )
    try:
        return args.func(args)
    except V2MError as exc:
        print(f"v2m: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("v2m: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
