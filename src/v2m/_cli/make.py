"""The making commands without a video: ``cue``, ``compose`` (MIDI) and ``render`` (audio)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._io import OutputSet, check_suffix
from ..errors import ParameterError
from ._common import SEED_HELP, SOUNDFONT_HELP, add_force, positive


def _cmd_cue(args: argparse.Namespace) -> int:
    from ..cuesheet import Hit, make_cue

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
    from ..composition import compose
    from ..cuesheet import CueSheet, check_seed

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
            from ..plotting import plot_score

            plot_score(score, args.plot)
    n = sum(len(v) for v in score.parts.values())
    print(
        f"{args.output}: {n} notes in {len(score.roles)} tracks ({', '.join(score.roles)})",
        file=sys.stderr,
    )
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    from ..composition import ROLES
    from ..rendering import find_soundfont, render_to_file

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
        score = args.input
        if Path(args.input).suffix.lower() == ".json":  # a cue sheet: composed here
            from ..composition import compose
            from ..cuesheet import CueSheet

            score = compose(CueSheet.load(args.input))
        info = render_to_file(
            score,
            args.output,
            stems_dir=args.stems,
            soundfont=args.soundfont,
            sample_rate=args.sample_rate,
            levels=args.plot is not None,
            attack_leads=not args.no_attack_leads,
        )
        if args.plot:
            from ..plotting import plot_render

            plot_render(info, args.plot)
    print(f"{args.output}: {info.summary}", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add this module's commands to ``sub``."""
    from ..styles import STYLE_NAMES

    c = sub.add_parser("cue", help="write a cue sheet without a video")
    c.add_argument(
        "--duration-s",
        type=positive,
        required=True,
        help="length of the music, seconds (up to 6 hours)",
    )
    c.add_argument(
        "--tempo-bpm",
        type=positive,
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
    add_force(c)
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
    add_force(m)
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
    add_force(r)
    r.set_defaults(func=_cmd_render)
