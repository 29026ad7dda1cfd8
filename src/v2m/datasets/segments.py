"""Segment-list datasets: D2M-GAN and CDCD (AIST++, TikTok) and LORIS (dance, floor exercise,
figure skating).

These papers publish no folder layout of their own but text files of segment paths, one
list per modality and split, which their loaders read line by line and pair *by line
number*::

    ./aistplus/audio_s2/test/gPO_sBM_c01_d11_mPO1_ch02_seg1.wav       (D2M-GAN)
    /data/zhuye/aistplus/video_s6/val/gJS_sBM_c01_d03_mJS3_ch01_seg2.npy  (CDCD, 6 s)
    yourpath/dataset/LORIS/fe/audio_s50/xHBUIt-airA_003193_003315_seg0.wav  (LORIS)
    yourpath/dataset/LORIS/fe/pose2d_s50/xHBUIt-airA_003193_003315.npy

The prefixes are the authors' machines; v2m keeps the part from the modality folder
(``audio_s2/test/...``; for LORIS from the category folder, ``fe/audio_s50/...``) and
resolves it under the root the user gives. Pairing is by file stem, not by line: a
feature file pairs with the audio segment of the same stem, or, when its stem has no
``_segK`` suffix (LORIS's ``fe_pose2d_s50`` lists drop it), with every segment of that
recording. Lines whose stems disagree with the audio list's line of the same number are
reported by :meth:`~SegmentLists.problems`, since the papers' own loaders would pair them
wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ..errors import V2MError
from ._base import Adapter, Item, present, read_text, register, require_file
from .adapters import parse_aist_name

#: A modality folder inside a segment path: ``audio_s2``, ``motion_s6``, ``pose2d_s50``.
_MODALITY_DIR = re.compile(r"^(?P<kind>[a-z0-9]+)_s(?P<seconds>\d+)$")
_SEG = re.compile(r"^(?P<source>.+)_seg(?P<k>\d+)$")
#: FineGym-style LORIS floor-exercise names: an 11-character YouTube id and two numbers.
_YOUTUBE_SPAN = re.compile(r"^(?P<ytid>[A-Za-z0-9_-]{11})_(?P<a>\d+)_(?P<b>\d+)$")


def split_segment(stem: str) -> tuple[str, int | None]:
    """``("gBR_sBM_c01_d04_mBR0_ch02", 3)`` for ``gBR_sBM_c01_d04_mBR0_ch02_seg3``; the
    stem and None when it has no ``_segK`` suffix."""
    m = _SEG.match(stem)
    return (m["source"], int(m["k"])) if m else (stem, None)


def _check_suffixes(path: Path, lines: list[str]) -> None:
    """Every line of a list names a file of one kind (``.wav``, ``.npy``, ...): a line that
    does not (a list cut short in its last line) is an error naming it."""
    from collections import Counter

    from ..errors import InputError

    kinds = Counter(PurePosixPath(x.strip()).suffix for x in lines)
    if len(kinds) <= 1:
        return
    usual = kinds.most_common(1)[0][0]
    for n, x in enumerate(lines, 1):
        if PurePosixPath(x.strip()).suffix != usual:
            raise InputError(
                f"{path}: line {n}: {x.strip()[-60:]!r} does not end in {usual} as the other "
                "lines do (a line cut short?)"
            )


class SegmentLists(Adapter):
    """Base of the segment-list adapters (see the module docstring). Subclasses set the
    list file names and what each modality is."""

    #: ``{split: {modality: list file name}}``; ``audio`` is required.
    lists: dict[str, dict[str, str]] = {}
    #: Where the list files may sit, relative to the root.
    list_dirs: tuple[str, ...] = (".", "dataset", "data")
    #: Path components kept before the modality folder (1 for LORIS's category folder).
    keep_above: int = 0
    segment_s: float = 0.0
    #: modality -> annotation name in the items (the audio is the item's ``audio``).
    annotation_names: dict[str, str] = {}

    def _list_file(self, root: Path, name: str) -> Path | None:
        for d in self.list_dirs:
            p = root / d / name
            if p.is_file():
                return p
        return None

    def _relative(self, line: str) -> Path:
        parts = PurePosixPath(line.strip().replace("\\", "/")).parts
        for i, part in enumerate(parts):
            if _MODALITY_DIR.match(part):
                return Path(*parts[max(0, i - self.keep_above) :])
        return Path(*parts[-1:])  # no modality folder: the file name alone

    def _read(self, root: Path, split: str) -> dict[str, list[Path]]:
        out: dict[str, list[Path]] = {}
        for modality, name in self.lists[split].items():
            p = self._list_file(root, name)
            if p is None:
                if modality == "audio":
                    require_file(root / name, f"{self.title}'s {split} list of audio segments")
                continue
            lines = [x for x in read_text(p).splitlines() if x.strip()]
            _check_suffixes(p, lines)
            out[modality] = [self._resolve(root, x) for x in lines]
        return out

    def _resolve(self, root: Path, line: str) -> Path:
        """Where a list line's file is: under ``root`` from its modality folder (v2m's
        layout), or as the authors' loaders read it, ``<root>/<line>`` or
        ``<root>/dataset/<line>`` (their checkout or its ``dataset/`` folder), with the
        folder above the modality folder kept (``aistplus/``, ``tiktok/``)."""
        rel = self._relative(line)
        clean = PurePosixPath(line.strip().replace("\\", "/"))
        parts = [x for x in clean.parts if x not in (".", "/")]
        cands = [root / rel]
        if not clean.is_absolute() and parts:
            cands += [root.joinpath(*parts), root.joinpath("dataset", *parts)]
        for i, part in enumerate(parts):
            if _MODALITY_DIR.match(part) and i > 0:
                cands += [root.joinpath(*parts[i - 1 :]), root.joinpath("dataset", *parts[i - 1 :])]
        return next((c for c in cands if c.exists()), cands[0])

    def labels(self, source: str) -> dict:
        """Labels parsed from a recording's name (override per dataset)."""
        return {}

    def items(self, root: Path, *, split: str | None = None) -> Iterator[Item]:
        for sp in self._check_split(split):
            paths = self._read(root, sp)
            by_stem: dict[str, dict[str, Path]] = {}
            for modality, files in paths.items():
                if modality == "audio":
                    continue
                for f in files:
                    by_stem.setdefault(f.stem, {})[modality] = f
            for audio in paths["audio"]:
                source, k = split_segment(audio.stem)
                it = Item(id=audio.stem, split=sp)
                it.audio = present(audio, it)
                it.labels = {"source": source, "segment_length_s": self.segment_s}
                if k is not None:
                    it.labels["segment"] = k
                it.labels.update(self.labels(source))
                if "youtube_id" in it.labels:
                    it.source_url = f"https://www.youtube.com/watch?v={it.labels['youtube_id']}"
                for modality in paths:
                    if modality == "audio":
                        continue
                    f = by_stem.get(audio.stem, {}).get(modality) or by_stem.get(source, {}).get(
                        modality
                    )
                    if f is None:
                        it.missing.append(f"{modality} features for {audio.stem}")
                        continue
                    name = self.annotation_names.get(modality, modality)
                    if present(f, it):
                        it.annotations[name] = str(f)
                yield it

    def problems(self, root: Path) -> list[str]:
        out = []
        for sp in self.splits:
            try:
                paths = self._read(root, sp)
            except (V2MError, OSError):  # a missing list is reported by items()
                continue
            audio = paths.get("audio", [])
            for modality, files in paths.items():
                if modality == "audio":
                    continue
                if len(files) != len(audio):
                    out.append(f"{sp}: {len(files)} {modality} lines but {len(audio)} audio lines")
                bad = [
                    (i + 1, a.stem, f.stem)
                    for i, (a, f) in enumerate(zip(audio, files, strict=False))
                    if f.stem not in (a.stem, split_segment(a.stem)[0])
                ]
                if bad:
                    line, a, f = bad[0]
                    out.append(
                        f"{sp}: {len(bad)} {modality} line(s) name another recording than "
                        f"the audio line of the same number (first: line {line}, "
                        f"{a} vs {f}); v2m pairs them by name"
                    )
        return out


def _aist_labels(source: str) -> dict:
    try:
        return parse_aist_name(source)
    except V2MError:
        return {}


@register(aliases=("d2m-gan-aist", "d2mgan-aistpp"))
class D2MGANAist(SegmentLists):
    """D2M-GAN's AIST++ segments (Zhu et al., ECCV 2022): ``aist_{audio,motion,video}_
    {train,test}_segment.txt`` (from the repository's ``dataset/`` folder, at the root or
    under ``dataset/``), 2 s segments ``audio_s2/{split}/{sequence}_segK.wav`` with motion
    and visual features ``motion_s2/``, ``video_s2/`` (``.npy``). The root is the folder
    that holds ``audio_s2`` (the papers' ``aistplus``)."""

    name = "d2mgan-aist"
    title = "D2M-GAN AIST++ segments"
    url = "https://github.com/L-YeZhu/D2M-GAN"
    splits = ("train", "test")
    segment_s = 2.0
    lists = {
        sp: {m: f"aist_{m}_{sp}_segment.txt" for m in ("audio", "motion", "video")}
        for sp in ("train", "test")
    }
    annotation_names = {"video": "video_features"}

    def labels(self, source: str) -> dict:
        return _aist_labels(source)


@register(aliases=("d2m-gan-tiktok",))
class D2MGANTikTok(D2MGANAist):
    """D2M-GAN's TikTok dance segments: ``tiktok_{audio,motion,video}_{train,test}_
    segment.txt``, 2 s segments under ``audio_s2/``, ``motion_s2/``, ``video_s2/`` (the
    root is the papers' ``tiktok`` folder)."""

    name = "d2mgan-tiktok"
    title = "D2M-GAN TikTok segments"
    lists = {
        sp: {m: f"tiktok_{m}_{sp}_segment.txt" for m in ("audio", "motion", "video")}
        for sp in ("train", "test")
    }

    def labels(self, source: str) -> dict:
        return {}


@register
class CDCDAist(D2MGANAist):
    """CDCD's AIST++ segments (Zhu et al., ICLR 2023): the repository's ``data/aist_
    {audio,motion,video}_{train,val,test}_segment.txt`` (2 s, ``audio_s2/``)."""

    name = "cdcd-aist"
    title = "CDCD AIST++ segments (2 s)"
    url = "https://github.com/L-YeZhu/CDCD"
    splits = ("train", "val", "test")
    lists = {
        sp: {m: f"aist_{m}_{sp}_segment.txt" for m in ("audio", "motion", "video")}
        for sp in ("train", "val", "test")
    }


@register
class CDCDAist6(CDCDAist):
    """CDCD's 6 s AIST++ segments: ``data/aist_{audio,motion,video}_{split}_segment_s6.txt``
    (``audio_s6/``, ``motion_s6/``, ``video_s6/``)."""

    name = "cdcd-aist-s6"
    title = "CDCD AIST++ segments (6 s)"
    segment_s = 6.0
    lists = {
        sp: {m: f"aist_{m}_{sp}_segment_s6.txt" for m in ("audio", "motion", "video")}
        for sp in ("train", "val", "test")
    }


class _Loris(SegmentLists):
    """LORIS (Yu et al., ICML 2023) segment lists ``data/{cat}/{cat}_{audio,i3d,pose2d}_
    s{N}_{train,test}_segment.txt``; files ``{cat}/audio_s{N}/``, ``{cat}/i3d_s{N}/`` (I3D
    visual features), ``{cat}/pose2d_s{N}/`` (2-D pose), resolved under the root that
    holds the category folders (the papers' ``dataset/LORIS``)."""

    url = "https://github.com/OpenGVLab/LORIS"
    splits = ("train", "test")
    keep_above = 1
    category = ""
    annotation_names = {"i3d": "i3d_features", "pose2d": "pose2d"}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.category:
            n = int(cls.segment_s)
            cls.lists = {
                sp: {
                    m: f"{cls.category}_{m}_s{n}_{sp}_segment.txt"
                    for m in ("audio", "i3d", "pose2d")
                }
                for sp in cls.splits
            }
            cls.list_dirs = (".", "data", f"data/{cls.category}", cls.category)

    def labels(self, source: str) -> dict:
        if self.category == "dance":
            return _aist_labels(source)
        m = _YOUTUBE_SPAN.match(source)
        if m and self.category == "fe":
            return {"youtube_id": m["ytid"]}
        return {}


def _loris(category: str, seconds: int, title: str) -> type[_Loris]:
    cls = type(
        f"Loris_{category}_s{seconds}",
        (_Loris,),
        {
            "name": f"loris-{category}-s{seconds}",
            "title": f"LORIS {title}, {seconds} s segments",
            "category": category,
            "segment_s": float(seconds),
            "__doc__": _Loris.__doc__,
        },
    )
    return register(cls)


for _cat, _s, _title in (
    ("dance", 25, "dance (AIST++)"),
    ("fe", 25, "floor exercise"),
    ("fe", 50, "floor exercise"),
    ("fs", 25, "figure skating"),
    ("fs", 50, "figure skating"),
):
    _loris(_cat, _s, _title)
