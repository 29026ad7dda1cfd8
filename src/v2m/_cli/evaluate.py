"""The researchers' commands: ``eval`` (objective metrics) and ``bench`` (a system over
a dataset)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._io import OutputSet
from ..errors import ParameterError
from ._common import Terminated, add_force, one_input, pairs, read_captions


def _cmd_eval(args: argparse.Namespace) -> int:
    from ..evaluation import evaluate_files

    args.generated = one_input(args, "generated", "generated music")
    out = Path(args.output)
    outs = {"-o": out, "-o (csv)": out.with_suffix(".csv"), "-o (md)": out.with_suffix(".md")}
    oset = OutputSet(outs, force=args.force, inputs=(args.generated, args.reference, args.videos))
    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
    captions = None
    if args.captions:
        if args.embedder != "clap":
            raise ParameterError("--captions needs a text-audio embedder: --embedder clap")
        captions = read_captions(args.captions)
    embedder = None
    if args.embedder:
        from ..metrics.embedders import load_embedder

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


def _cmd_bench(args: argparse.Namespace) -> int:
    from .. import benchmark

    weights = pairs(args.weights, "--weights", "NAME=PATH", unique=False)
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
    except (KeyboardInterrupt, Terminated) as exc:
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


def register(sub) -> None:
    """Add this module's commands to ``sub``."""
    from ..evaluation import METRIC_NAMES
    from ..projection.controls import MODES

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
    add_force(e)
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
