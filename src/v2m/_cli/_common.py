"""What the commands share: argument types, option blocks, help texts, the SIGTERM exception."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError, ParameterError


def add_force(p: argparse.ArgumentParser) -> None:
    """``--force``: the same words on every command that writes files."""
    p.add_argument(
        "--force", action="store_true", help="overwrite outputs that exist (never an input)"
    )


def positive(x: str) -> float:
    v = float(x)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{x}: must be > 0")
    return v


SEED_HELP = "0..4294967295: the same cue and seed always give the same music"


def loud_anywhere(sub) -> None:
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
            loud_anywhere(nested)
            return nested

        sp.add_subparsers = add_subparsers
        return sp

    sub.add_parser = add_parser


SOUNDFONT_HELP = (
    "a .sf2/.sf3 SoundFont (default: MuseScore General from Debian, else the small General "
    "MIDI font that ships with pip)"
)


def backend_args(args: argparse.Namespace) -> dict:
    opts = {"device": args.device, "sync": not args.no_sync}
    if args.window_s:
        opts["window_s"] = args.window_s
    out = {"backend": args.backend, "model_dir": args.model_dir, "backend_options": opts}
    if getattr(args, "clip_dir", None) is not None:
        out["clip_dir"] = args.clip_dir
    return out


def add_sound_args(p: argparse.ArgumentParser) -> None:
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


def add_backend_args(p: argparse.ArgumentParser) -> None:
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
        "--window-s", type=positive, default=None,
        help="neural backends: seconds generated at a time (default: the model's maximum)",
    )  # fmt: skip
    p.add_argument(
        "--no-sync", action="store_true",
        help="neural backends: do not warp the generated audio onto the cue's beats",
    )  # fmt: skip


def one_input(args: argparse.Namespace, name: str, what: str) -> Path:
    """An input given positionally or as ``--name`` (both accepted, once)."""
    pos, opt = getattr(args, f"{name}_pos"), getattr(args, name)
    if pos is not None and opt is not None and pos != opt:
        raise ParameterError(f"{what} given twice ({pos} and --{name} {opt}); give it once")
    if pos is None and opt is None:
        raise ParameterError(f"give the {what} (as an argument or --{name})")
    return pos if pos is not None else opt


def read_captions(path: Path) -> dict[str, str]:
    """``{file stem: caption}`` from a JSON object."""
    import json

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


def pairs(specs, flag: str, form: str, *, unique: bool = True) -> dict[str, str]:
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


def add_pose_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pose-model", default="full", choices=["lite", "full", "heavy"],
        help="the pose landmark model (full: the default, in the mediapipe wheel; lite is "
        "faster but finds fewer of the body's stops; lite and heavy: 'v2m models pose')",
    )  # fmt: skip


class Terminated(BaseException):
    """SIGTERM, turned into an exception so that every clean-up runs as on Ctrl-C; like
    KeyboardInterrupt not an Exception, so that no ``except Exception`` (a probe frame that
    does not decode, a worker's error) swallows it."""


def on_sigterm(signum, frame):  # noqa: ARG001
    raise Terminated()
