"""Benchmark a V2M system on a dataset with a paper's protocol: ``v2m bench``.

:func:`run` takes the items of a dataset (:mod:`v2m.datasets`), has a system produce its
music for each (:mod:`~v2m.benchmark.systems`: v2m itself, or another system's outputs in
a folder, paired by item id), scores every item with a protocol
(:mod:`~v2m.benchmark.protocols`), then the set-level metrics, and writes::

    OUT/bench.json        what was run: dataset, split, system, protocol and its parameters
    OUT/items/{id}.json   one result per item, written as soon as the item is done
    OUT/outputs/          what v2m generated (system v2m)
    OUT/results.json      per-item values, means with 95 % confidence intervals, set metrics
    OUT/results.csv       one row per item
    OUT/table.md          the survey-style table (mean +- 95 % CI per metric)

An interrupted run picks up where it stopped: items with a result are not run again
(``force=True`` starts over). Items run in worker processes (``jobs``, both cores by
default) or on a Ray cluster (``ray_address``: ``"local"`` starts a local Ray instance,
anything else is passed to :func:`ray.init`); the values do not depend on how they ran.

    >>> from v2m import benchmark
    >>> res = benchmark.run(dataset="d2mgan-aist", root="/data/aistplus", split="test",
    ...                     system={"kind": "outputs", "folder": "gen/", "label": "mine"},
    ...                     protocol="d2mgan", out_dir="runs/mine-d2mgan")
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from .._io import json_safe, write_text_atomic
from ..errors import InputError, OutputExistsError, ParameterError, V2MError
from .protocols import PROTOCOLS, Outputs, Protocol
from .systems import SYSTEMS, build, safe_name

__all__ = ["run", "BenchResult", "PROTOCOLS", "SYSTEMS"]

log = logging.getLogger(__name__)
SCHEMA_VERSION = "1.0"


@dataclass
class BenchResult:
    """The outcome of :func:`run`."""

    manifest: dict
    items: dict[str, dict] = field(default_factory=dict)  # id -> {"values", "error", ...}
    set_metrics: dict[str, float] = field(default_factory=dict)
    ran: int = 0  # items computed in this call (the rest came from an earlier run)

    @property
    def errors(self) -> dict[str, str]:
        return {k: v["error"] for k, v in self.items.items() if v.get("error")}

    def summary(self) -> dict[str, dict[str, float]]:
        from ..evaluation import confidence_interval

        proto = PROTOCOLS.get_class(self.manifest["protocol"]["name"])
        out = {}
        for m in proto.metrics:
            vals = [v["values"][m.name] for v in self.items.values() if m.name in v["values"]]
            mean, half = confidence_interval(np.asarray(vals, float))
            out[m.name] = {"mean": mean, "ci95": half, "n": len(vals)}
        return out

    def to_json(self) -> str:
        return json.dumps(
            json_safe(
                {
                    "schema_version": SCHEMA_VERSION,
                    "manifest": self.manifest,
                    "summary": self.summary(),
                    "set_metrics": self.set_metrics,
                    "items": self.items,
                }
            ),
            indent=1,
        )

    def to_csv(self) -> str:
        proto = PROTOCOLS.get_class(self.manifest["protocol"]["name"])
        names = [m.name for m in proto.metrics]
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["id", *names, "error"])
        for k, v in self.items.items():
            vals = v["values"]
            w.writerow(
                [k, *[f"{vals[n]:.6g}" if n in vals else "" for n in names], v.get("error") or ""]
            )
        return buf.getvalue()

    def to_markdown(self) -> str:
        """The survey's table: one row per system, mean +- 95 % CI per metric."""
        proto = PROTOCOLS.get_class(self.manifest["protocol"]["name"])
        summ = self.summary()
        arrow = {True: " ↑", False: " ↓", None: ""}
        cols = [(m, "item") for m in proto.metrics] + [(m, "set") for m in proto.set_metrics]
        head = ["System", *[m.label + arrow[m.higher_is_better] for m, _ in cols], "n"]
        row = [self.manifest["system"].get("label") or self.manifest["system"]["kind"]]
        for m, kind in cols:
            if kind == "set":
                v = self.set_metrics.get(m.name)
                row.append("–" if v is None else f"{v:.4f}")
                continue
            s = summ[m.name]
            if not s["n"]:
                row.append("–")
            elif math.isfinite(s["ci95"]):
                row.append(f"{s['mean']:.4f} ± {s['ci95']:.4f}")
            else:
                row.append(f"{s['mean']:.4f}")
        ok = len(self.items) - len(self.errors)
        row.append(str(ok))
        lines = [
            f"**{proto.title}** on {self.manifest['dataset']} ({self.manifest['split']}), "
            f"mean ± 95 % CI over items",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
            "| " + " | ".join(row) + " |",
            "",
            "Parameters: "
            + "; ".join(f"{k}: {v}" for k, v in self.manifest["protocol"]["params"].items()),
        ]
        lines += [f"\nNote: {n}" for n in self.manifest["protocol"]["notes"]]
        if self.errors:
            first = next(iter(self.errors.items()))
            lines.append(
                f"\n{len(self.errors)} item(s) failed and are left out (first: {first[0]}: "
                f"{first[1]})"
            )
        return "\n".join(lines) + "\n"

    def save(self, out_dir: str | Path) -> list[Path]:
        out = Path(out_dir)
        paths = [out / "results.json", out / "results.csv", out / "table.md"]
        for p, text in zip(paths, (self.to_json(), self.to_csv(), self.to_markdown()), strict=True):
            write_text_atomic(p, text)
        return paths


_PROTOCOL_CACHE: dict[tuple, Protocol] = {}


def _protocol(name: str, weights: dict) -> Protocol:
    """One protocol object per process and settings (its models load once)."""
    key = (name, tuple(sorted(weights.items())))
    if key not in _PROTOCOL_CACHE:
        _PROTOCOL_CACHE[key] = PROTOCOLS.get_class(name)(weights)
    return _PROTOCOL_CACHE[key]


def _task(args: tuple) -> dict:
    """One item: the system's outputs, then the protocol's values. Runs in a worker."""
    item, system_spec, proto_name, weights, out_dir = args
    t0 = time.perf_counter()
    res: dict = {"id": item["id"], "values": {}, "error": None, "outputs": {}}
    try:
        system = build(system_spec)
        out = system.outputs(item, Path(out_dir))
        res["outputs"] = {k: v for k, v in vars(out).items() if v}
        res["values"] = _protocol(proto_name, weights).item(item, out)
    except (V2MError, OSError, ValueError, EOFError) as exc:
        res["error"] = str(exc) or exc.__class__.__name__
    res["seconds"] = round(time.perf_counter() - t0, 3)
    return res


#: Imported once by the worker server (see :mod:`v2m._parallel`).
PRELOAD = ("v2m.benchmark", "v2m.pipeline", "v2m.evaluation", "librosa.onset", "librosa.beat")


def _run_local(tasks: list[tuple], jobs: int, done) -> None:
    from .._parallel import imap_unordered

    for r in imap_unordered(_task, tasks, jobs=jobs, preload=PRELOAD, key=lambda t: t[0]["id"]):
        done(r)


def check_reachable(address: str, *, timeout_s: float = 5.0) -> None:
    """A Ray address ``host:port`` (or ``ray://host:port``) must answer a TCP connection
    within ``timeout_s``: ``ray.init`` itself waits for minutes on a dead address."""
    import socket

    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ParameterError(f"--ray {address!r}: give local, auto or HOST:PORT")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise ParameterError(
            f"--ray {address}: no Ray cluster answers there ({exc.strerror or exc}); start "
            "one (ray start --head) or use --ray local"
        ) from None


def _run_ray(tasks: list[tuple], address: str, jobs: int, done) -> None:
    from .._deps import require

    ray = require("ray", purpose="running items on a Ray cluster (--ray)")
    started = False
    if not ray.is_initialized():
        kw = {"include_dashboard": False, "log_to_driver": False}
        if address == "local":
            ray.init(num_cpus=jobs, **kw)
        else:
            check_reachable(address)
            ray.init(address=address, **kw)
        started = True
    try:
        remote = ray.remote(_task)
        pending = [remote.remote(t) for t in tasks]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            done(ray.get(ready[0]))
    finally:
        if started:
            ray.shutdown()


def _manifest(dataset, root, split, system, protocol: Protocol) -> dict:
    return {
        "dataset": dataset,
        "root": str(root),
        "split": split or "all",
        "system": system.spec() | {"label": system.options.get("label") or system.name},
        "protocol": protocol.describe(),
        "v2m_version": __version__,
    }


def _same_run(a: dict, b: dict) -> bool:
    keys = ("dataset", "root", "split", "system", "protocol")
    return all(a.get(k) == b.get(k) for k in keys)


def _stored(path: Path) -> dict | None:
    """An item's stored result, or None (none, or unreadable: then it runs again)."""
    if not path.exists():
        return None
    try:
        got = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("%s: unreadable (%s); the item runs again", path, exc)
        return None
    if not isinstance(got, dict) or "id" not in got:
        log.warning("%s: not an item's result; the item runs again", path)
        return None
    return got


def _unique_ids(items: list[dict]) -> list[dict]:
    """Items whose id appears in more than one split get ``split/id``, so none is lost."""
    from collections import Counter

    count = Counter(it["id"] for it in items)
    for it in items:
        if count[it["id"]] > 1:
            it["id"] = f"{it.get('split') or 'nosplit'}/{it['id']}"
    seen = Counter(it["id"] for it in items)
    dup = [k for k, n in seen.items() if n > 1]
    if dup:
        raise InputError(f"the dataset lists item {dup[0]!r} more than once in one split")
    return items


def run(
    *,
    dataset: str,
    root: str | Path,
    protocol: str,
    out_dir: str | Path,
    system: dict | None = None,
    split: str | None = None,
    weights: dict[str, str] | None = None,
    jobs: int | None = None,
    ray_address: str | None = None,
    limit: int | None = None,
    force: bool = False,
    progress: bool = False,
) -> BenchResult:
    """Generate (or collect) and score every item of a dataset split.

    Parameters
    ----------
    dataset, root, split
        A registered dataset (:func:`v2m.datasets.names`), the root of the local copy, and
        a split (all splits when None).
    protocol : str
        A registered protocol (:data:`PROTOCOLS`): ``symbolic``, ``diffbgm``, ``d2mgan``,
        ``loris``, ``vidmuse``.
    system : dict
        ``{"kind": "v2m", "style": ..., "seed": ..., "mode": ...}`` (the default) or
        ``{"kind": "outputs", "folder": DIR, "label": NAME}``.
    weights : dict, optional
        Local model weights a protocol needs (``{"vggish": path, "imagebind": path}``).
    jobs : int, optional
        Worker processes (default: the machine's cores); 1 runs in this process.
    ray_address : str, optional
        Run the items on Ray instead: ``"local"`` or a cluster address.
    limit : int, optional
        Only the first ``limit`` items (a quick trial).
    force : bool
        Start over in an ``out_dir`` that holds another or the same run.

    Returns
    -------
    BenchResult
    """
    from .. import datasets

    if jobs is not None and jobs < 1:
        raise ParameterError(f"jobs={jobs}: must be at least 1")
    if limit is not None and limit < 1:
        raise ParameterError(f"limit={limit}: must be at least 1")
    proto = _protocol(PROTOCOLS.get_class(protocol).name, dict(weights or {}))
    sysobj = build(system or {"kind": "v2m"})
    everything = _unique_ids([it.to_dict() for it in datasets.items(dataset, root, split=split)])
    items = everything[:limit] if limit is not None else everything
    if not items:
        raise InputError(f"{root}: no items of {dataset} (split {split or 'all'})")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{out}: -o needs a folder for the run, and this is a file")
    manifest = _manifest(datasets.get(dataset).name, Path(root), split, sysobj, proto)
    mpath = out / "bench.json"
    if mpath.exists() and not force:
        old = json.loads(mpath.read_text(encoding="utf-8"))
        if not _same_run(old, manifest):
            raise OutputExistsError(
                f"{out}: holds a run with other settings (see {mpath}); give another folder "
                f"or --force to start over"
            )
    (out / "items").mkdir(parents=True, exist_ok=True)
    write_text_atomic(mpath, json.dumps(manifest, indent=1))

    result = BenchResult(manifest=manifest)
    todo = []
    ran = {it["id"] for it in items}
    for it in everything:
        stored = None if force else _stored(out / "items" / f"{safe_name(it['id'])}.json")
        if stored is not None and not stored.get("error"):
            result.items[it["id"]] = stored  # done before (a --limit run keeps the rest)
        elif it["id"] in ran:  # not run yet, failed before (retried), or unreadable
            todo.append((it, sysobj.spec(), proto.name, proto.weights, str(out)))

    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="bench", unit="item", file=sys.stderr, disable=None)

    def done(r: dict) -> None:
        write_text_atomic(out / "items" / f"{safe_name(r['id'])}.json", json.dumps(r, indent=1))
        result.items[r["id"]] = r
        result.ran += 1
        if bar is not None:
            bar.update()

    n_jobs = jobs or os.cpu_count() or 1
    if ray_address:
        _run_ray(todo, ray_address, n_jobs, done)
    else:
        _run_local(todo, n_jobs, done)
    if bar is not None:
        bar.close()
    # the dataset's order, whatever order the items finished in
    result.items = {
        it["id"]: result.items[it["id"]] for it in everything if it["id"] in result.items
    }
    items = [it for it in everything if it["id"] in result.items]
    ok = {k: v["values"] for k, v in result.items.items() if not v.get("error")}
    outs = {k: Outputs(**v.get("outputs", {})) for k, v in result.items.items()}
    result.set_metrics = proto.finish(items, outs, ok)
    result.save(out)
    return result
