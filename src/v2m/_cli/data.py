"""Local data: ``datasets`` (read the survey's datasets), ``models`` (install the pose
models), ``study`` (listening studies)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._io import OutputSet, check_suffix, write_text_atomic
from ._common import add_force, pairs


def _cmd_datasets_list(args: argparse.Namespace) -> int:  # noqa: ARG001
    from .. import datasets

    for name in datasets.names():
        ad = datasets.get(name)
        print(f"{name:12s} {ad.title} ({', '.join(ad.splits)}) {ad.url}")
    return 0


def _cmd_datasets_check(args: argparse.Namespace) -> int:
    import json

    from .. import datasets

    with OutputSet(
        {"--json": args.json}, force=args.force, inputs=(args.root,), input_folders=(args.root,)
    ):
        cov = datasets.check(args.name, args.root, split=args.split)
        if args.json:
            write_text_atomic(args.json, json.dumps(cov.to_dict(), indent=1))
    print(cov.to_text())
    return 0


def _cmd_datasets_export(args: argparse.Namespace) -> int:
    from .. import datasets

    check_suffix(args.output, {".jsonl"}, "-o")
    with OutputSet(
        {"-o": args.output}, force=args.force, inputs=(args.root,), input_folders=(args.root,)
    ):
        lines = [it.to_json() for it in datasets.items(args.name, args.root, split=args.split)]
        write_text_atomic(args.output, "".join(line + "\n" for line in lines))
    print(f"{args.output}: {len(lines)} items", file=sys.stderr)
    return 0


def _cmd_models_list(args: argparse.Namespace) -> int:  # noqa: ARG001
    from .._models import models_home
    from ..analysis.pose import installed_models

    print(f"v2m's model folder: {models_home()}")
    for variant, path in installed_models().items():
        print(f"pose {variant:6s} {path if path else 'not installed'}")
    return 0


def _cmd_models_pose(args: argparse.Namespace) -> int:
    from ..analysis.pose import install_models

    for f in install_models(args.source, dest=args.dest):
        print(f"installed {f}")
    return 0


def _cmd_study_create(args: argparse.Namespace) -> int:
    from ..study import create_study

    systems = {k: Path(v) for k, v in pairs(args.system, "--system", "NAME=DIR").items()}
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
    from ..study import serve_study

    serve_study(args.study, host=args.host, port=args.port)
    return 0


def _cmd_study_report(args: argparse.Namespace) -> int:
    from ..study import report_study
    from ..study.report import to_markdown

    rep = report_study(args.study)
    print(to_markdown(rep))
    print(f"written: {args.study / 'report.json'}, report.csv, report.md", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add this module's commands to ``sub``."""
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
        add_force(x)
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
    add_force(sc)
    sc.set_defaults(func=_cmd_study_create)
    ss = ssub.add_parser("serve", help="serve a study; answers go to its SQLite file")
    ss.add_argument("study", type=Path, help="the study folder (from v2m study create)")
    ss.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ss.add_argument("--port", type=int, default=7861, help="TCP port (default 7861)")
    ss.set_defaults(func=_cmd_study_serve)
    sr = ssub.add_parser("report", help="MOS with 95 %% CI, tests, agreement, exclusions")
    sr.add_argument("study", type=Path, help="the study folder with its answers")
    sr.set_defaults(func=_cmd_study_report)
