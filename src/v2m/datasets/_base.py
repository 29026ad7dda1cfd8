"""The adapter interface, the item record, the registry and the coverage check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .._registry import Registry
from ..errors import InputError, ParameterError, V2MError

#: Media kinds an item may carry, in the order of the export's keys.
MEDIA = ("video", "image", "audio", "midi")


@dataclass
class Item:
    """One item of a dataset.

    Attributes
    ----------
    id : str
        The dataset's own identifier (a file stem, an index, a sequence name).
    split : str
        ``train``, ``val``, ``test``, ``eval`` or ``all`` (datasets without splits).
    video, image, audio, midi : str or None
        Paths of the media files that exist under the root (None when absent).
    source_url : str or None
        Where the media come from when the user must obtain them (a YouTube URL).
    start_s, end_s : float or None
        The span in seconds inside the source, when the item is a segment of it.
    labels : dict
        Labels in the dataset's own vocabulary (tonality, genre, caption, ...).
    annotations : dict
        Annotation and feature files by name (chords, emotion, keypoints, ...): paths
        that exist under the root.
    missing : list of str
        Paths the layout names for this item that are not there.
    """

    id: str
    split: str
    video: str | None = None
    image: str | None = None
    audio: str | None = None
    midi: str | None = None
    source_url: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    labels: dict = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The export record (``missing`` is left out: it describes the copy, not the item)."""
        d = asdict(self)
        d.pop("missing")
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass
class Coverage:
    """What a local copy holds, per split: items and items with each kind of file."""

    dataset: str
    root: str
    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    missing_examples: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_text(self) -> str:
        cols = ("items", *MEDIA, "annotations")
        lines = [f"{self.dataset} at {self.root}"]
        lines.append("split".ljust(8) + "".join(c.rjust(12) for c in cols))
        for split, counts in self.splits.items():
            lines.append(split.ljust(8) + "".join(str(counts.get(c, 0)).rjust(12) for c in cols))
        if self.missing_examples:
            lines.append("first missing files:")
            lines += [f"  {m}" for m in self.missing_examples]
        for p in self.problems:
            lines.append(f"problem: {p}")
        return "\n".join(lines)


class Adapter:
    """A dataset's published layout. Subclasses set ``name``, ``title``, ``url``,
    ``splits`` and implement :meth:`items`; :meth:`problems` may report oddities."""

    name: str = ""
    title: str = ""
    url: str = ""
    splits: tuple[str, ...] = ("all",)

    def items(self, root: Path, *, split: str | None = None) -> Iterator[Item]:
        raise NotImplementedError

    def problems(self, root: Path) -> list[str]:
        """Oddities in the copy that are not missing files (override where useful)."""
        return []

    # helpers for subclasses
    def _check_split(self, split: str | None) -> list[str]:
        if split is None:
            return list(self.splits)
        if split not in self.splits:
            raise ParameterError(
                f"split={split!r}: {self.name} has the splits {', '.join(self.splits)}"
            )
        return [split]


def require_file(path: Path, what: str) -> Path:
    """``path`` or an :class:`InputError` that names it and what it should hold."""
    if not path.is_file():
        raise InputError(f"{path}: not found ({what})")
    return path


def present(path: Path, item: Item) -> str | None:
    """``str(path)`` when it exists, else None and the path noted as missing."""
    if path.exists():
        return str(path)
    item.missing.append(str(path))
    return None


_REGISTRY: Registry[Adapter] = Registry("dataset")
#: Class decorator: make an adapter available by its ``name`` (and ``aliases=...``).
register = _REGISTRY.register
#: The registered dataset names, sorted.
names = _REGISTRY.names
#: The adapter registered as a name (or one of its aliases).
get = _REGISTRY.get


def read_text(path: Path) -> str:
    """A dataset file's text (UTF-8, a BOM allowed, ``.gz`` read through gzip), or
    InputError naming the file and where it stops being text."""
    import gzip

    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}: line {line}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None


def _guarded(ad: Adapter, root: Path, split: str | None) -> Iterator[Item]:
    """The adapter's items; a file it cannot make sense of is an InputError naming the
    dataset (the adapters name the file and line where they can), and no item at all from
    a root that has the dataset's files is an error too."""
    import csv
    import json

    n = 0
    try:
        for it in ad.items(root, split=split):
            n += 1
            yield it
    except V2MError:  # the adapters' own errors, and bad splits, name what is wrong
        raise
    except (csv.Error, json.JSONDecodeError, KeyError, TypeError, ValueError,
            AttributeError, IndexError) as exc:  # fmt: skip
        raise InputError(
            f"{root}: {ad.title}: a file is not in the published layout ({type(exc).__name__}: "
            f"{exc})"
        ) from None
    if n == 0 and split is None:
        raise InputError(
            f"{root}: no items of {ad.title} found: its list is empty, or its header or "
            "layout is not the published one"
        )


def _root(root: str | Path) -> Path:
    p = Path(root)
    if not p.is_dir():
        raise InputError(f"{p}: not a folder (the root of a local copy of the dataset)")
    return p


def items(name: str, root: str | Path, *, split: str | None = None) -> Iterator[Item]:
    """The items of dataset ``name`` under ``root`` (all splits, or one)."""
    return _guarded(get(name), _root(root), split)


def check(name: str, root: str | Path, *, split: str | None = None, examples: int = 10):
    """Count the items and the present files per split; list the first missing files.

    Returns
    -------
    Coverage
    """
    ad = get(name)
    r = _root(root)
    cov = Coverage(dataset=ad.name, root=str(r))
    for it in _guarded(ad, r, split):
        c = cov.splits.setdefault(it.split, {"items": 0, **{m: 0 for m in MEDIA}})
        c["items"] += 1
        for m in MEDIA:
            c[m] += getattr(it, m) is not None
        c["annotations"] = c.get("annotations", 0) + bool(it.annotations)
        for miss in it.missing:
            if len(cov.missing_examples) < examples:
                cov.missing_examples.append(miss)
    cov.problems = ad.problems(r)
    return cov
