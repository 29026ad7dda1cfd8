"""The ``v2m`` command line: a thin layer over the library API, one module per command group."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .. import __version__
from ..errors import V2MError
from . import analyze, data, evaluate, make, score
from ._common import Terminated, loud_anywhere, on_sigterm

__all__ = ["main", "build_parser"]

log = logging.getLogger("v2m")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="v2m", description="Vision-to-music: soundtracks for video.")
    p.add_argument("--version", action="version", version=f"v2m {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log more on stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="log only errors on stderr")
    sub = p.add_subparsers(dest="command", required=True)
    loud_anywhere(sub)
    for group in (analyze, make, score, evaluate, data):  # the order of --help
        group.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format="v2m: %(message)s")
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        return args.func(args)
    except V2MError as exc:
        print(f"v2m: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("v2m: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Terminated:
        print("v2m: terminated; nothing was written", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
