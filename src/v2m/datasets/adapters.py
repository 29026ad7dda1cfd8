"""The built-in adapters, one per published layout (see each class for its files)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError, ParameterError
from ._base import Adapter, Item, present, read_text, register, require_file

VIDEO_EXT = (".mp4", ".mkv", ".webm", ".avi", ".mov")
AUDIO_EXT = (".wav", ".flac", ".mp3", ".ogg", ".m4a")


def _first(folder: Path, stem: str, exts: tuple[str, ...]) -> Path | None:
    for e in exts:
        p = folder / f"{stem}{e}"
        if p.exists():
            return p
    return None


def _media(item: Item, kind: str, folder: Path, stem: str, exts: tuple[str, ...]) -> None:
    """Set ``item.<kind>`` to the first existing ``folder/stem.ext``; note it missing if none."""
    p = _first(folder, stem, exts)
    if p is not None:
        setattr(item, kind, str(p))
    else:
        item.missing.append(str(folder / f"{stem}{exts[0]}"))


def _lines(path: Path) -> list[str]:
    return [x.strip() for x in read_text(path).splitlines() if x.strip()]


def _rows(path: Path, *, delimiter: str = ",", need: tuple[str, ...] = ()):
    """(line number, row dict) of a CSV/TSV file with a header; InputError naming the file
    when it is not text, lacks a column of ``need``, or uses another separator."""
    import io

    reader = csv.DictReader(io.StringIO(read_text(path), newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    missing = [c for c in need if c not in header]
    if missing:
        other = "," if delimiter == "\t" else "\t"
        hint = (
            f" (the header is separated by {other!r}, not {delimiter!r})"
            if header and other in header[0]
            else f" (its header: {', '.join(header[:8])})"
        )
        raise InputError(f"{path}: line 1: missing column(s) {', '.join(missing)}{hint}")
    for n, row in enumerate(reader, 2):
        if None in row or any(v is None for k, v in row.items() if k in need):
            raise InputError(f"{path}: line {n}: {len(header)} columns expected, the row has "
                             f"{sum(v is not None for v in row.values())}")  # fmt: skip
        yield n, row


_URL = re.compile(r"^https?://[\w.-]+\.[a-z]{2,}/\S+$", re.I)
_YT_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


@register
class SymMV(Adapter):
    """SymMV (Zhuo et al., ICCV 2023; Diff-BGM). ``SymMV.csv`` (tab-separated, header
    ``index, youtube_url, tonality, shazam_id``; ``shazam_id`` may be empty),
    ``chord/{index}.txt`` (``start_tick end_tick chord``, 220 ticks a beat at 120 BPM),
    ``midi/{index}.mid`` and ``midi/texture/{index}_new.mid``. The videos come from
    YouTube; v2m looks for them as ``video/{index}.mp4`` (and audio as ``audio/{index}.wav``).
    No official split: every item is in ``all``."""

    name = "symmv"
    title = "SymMV (Diff-BGM)"
    url = "https://github.com/zhuole1025/SymMV"

    def items(self, root: Path, *, split: str | None = None) -> Iterator[Item]:
        self._check_split(split)
        table = require_file(root / "SymMV.csv", "SymMV's index of videos")
        need = ("index", "youtube_url", "tonality")
        for n, row in _rows(table, delimiter="\t", need=need):
            idx = (row.get("index") or "").strip()
            if not idx:
                continue
            url = (row.get("youtube_url") or "").strip()
            if not _URL.match(url):
                raise InputError(f"{table}: line {n}: youtube_url {url!r} is not a URL")
            it = Item(id=idx, split="all", source_url=url)
            it.labels = {"tonality": (row.get("tonality") or "").strip()}
            if (row.get("shazam_id") or "").strip():
                it.labels["shazam_id"] = row["shazam_id"].strip()
            it.midi = present(root / "midi" / f"{idx}.mid", it)
            for name, p in (
                ("chord", root / "chord" / f"{idx}.txt"),
                ("texture_midi", root / "midi" / "texture" / f"{idx}_new.mid"),
            ):
                if present(p, it):
                    it.annotations[name] = str(p)
            _media(it, "video", root / "video", idx, VIDEO_EXT)
            a = _first(root / "audio", idx, AUDIO_EXT)
            it.audio = str(a) if a else None
            yield it


def symmv_chords(path: str | Path) -> list[tuple[float, float, str]]:
    """A SymMV chord file as (start_s, end_s, chord): ticks at 220 a beat and 120 BPM."""
    out = []
    for line in _lines(Path(path)):
        a, b, chord = line.split()[:3]
        out.append((int(a) / 220 * 0.5, int(b) / 220 * 0.5, chord))
    return out


@register(aliases=("video2music", "muvisync"))
class MuViSync(Adapter):
    """MuVi-Sync (Video2Music, Kang et al. 2024). ``vevo_meta/idlist.txt``
    (``NNN-title<TAB>youtube_id``), ``vevo_meta/split/v1/{train,val,test}.txt`` (one id a
    line), per id the ``.lab`` files of ``vevo_chord/lab_v2_norm/all`` (a ``key`` line, then
    ``second chord``), ``vevo_emotion/6c_l14p/all`` (or ``5c_l14p``), ``vevo_motion/all``,
    ``vevo_scene_offset/all``, ``vevo_loudness/all``, ``vevo_note_density/all``, CLIP
    features ``vevo_semantic/all/2d/clip_l14p/{id}.npy``, videos ``vevo/{id}.mp4`` and
    audio ``vevo_audio/wav/{id}.wav``."""

    name = "muvi-sync"
    title = "MuVi-Sync (Video2Music)"
    url = "https://github.com/AMAAI-Lab/Video2Music"
    splits = ("train", "val", "test")
    LABS = {
        "chord": ("vevo_chord", "lab_v2_norm", "all"),
        "motion": ("vevo_motion", "all"),
        "scene_offset": ("vevo_scene_offset", "all"),
        "loudness": ("vevo_loudness", "all"),
        "note_density": ("vevo_note_density", "all"),
    }

    def _emotion_dir(self, root: Path) -> Path:
        for model in ("6c_l14p", "5c_l14p"):
            d = root / "vevo_emotion" / model / "all"
            if d.is_dir():
                return d
        return root / "vevo_emotion" / "6c_l14p" / "all"

    def items(self, root: Path, *, split: str | None = None) -> Iterator[Item]:
        splits = self._check_split(split)
        meta = root / "vevo_meta"
        titles: dict[str, tuple[str, str]] = {}
        idlist = require_file(meta / "idlist.txt", "MuVi-Sync's list of ids and YouTube ids")
        for n, line in enumerate(_lines(idlist), 1):
            name, _, yt = line.partition("\t")
            num, _, title = name.partition("-")
            yt = yt.strip()
            if not num.strip().isdigit() or (yt and not _YT_ID.match(yt)):
                raise InputError(
                    f"{idlist}: line {n}: {line[:60]!r} is not 'NUMBER-title<TAB>YouTube id'"
                )
            titles[num] = (title, yt)
        emo = self._emotion_dir(root)
        for sp in splits:
            path = require_file(meta / "split" / "v1" / f"{sp}.txt", f"the {sp} split")
            for vid in _lines(path):
                title, yt = titles.get(vid, ("", ""))
                it = Item(id=vid, split=sp, labels={"title": title} if title else {})
                if yt:
                    it.source_url = f"https://www.youtube.com/watch?v={yt}"
                chord = root.joinpath(*self.LABS["chord"], f"{vid}.lab")
                if present(chord, it):
                    it.annotations["chord"] = str(chord)
                    lab = _lines(chord)
                    key = lab[0].split() if lab else []
                    if key and key[0] == "key":
                        it.labels["key"] = " ".join(key[1:3])
                for name, parts in self.LABS.items():
                    if name != "chord" and present(root.joinpath(*parts, f"{vid}.lab"), it):
                        it.annotations[name] = str(root.joinpath(*parts, f"{vid}.lab"))
                if present(emo / f"{vid}.lab", it):
                    it.annotations["emotion"] = str(emo / f"{vid}.lab")
                clip = root / "vevo_semantic" / "all" / "2d" / "clip_l14p" / f"{vid}.npy"
                if present(clip, it):
                    it.annotations["clip_l14p"] = str(clip)
                it.video = present(root / "vevo" / f"{vid}.mp4", it)
                it.audio = present(root / "vevo_audio" / "wav" / f"{vid}.wav", it)
                yield it

    def problems(self, root: Path) -> list[str]:
        out = []
        meta = root / "vevo_meta" / "split" / "v1"
        seen: dict[str, str] = {}
        for sp in self.splits:
            p = meta / f"{sp}.txt"
            if not p.exists():
                continue
            for vid in _lines(p):
                if vid in seen:
                    out.append(f"id {vid} is in both {seen[vid]} and {sp}")
                seen[vid] = sp
        return out


#: AIST++ sequence names: genre, situation, camera, dancer, music, choreography.
AIST_NAME = re.compile(
    r"^(?P<genre>g[A-Z]{2})_(?P<situation>s[A-Z]{2})_(?P<camera>c(?:All|\d{2}))_"
    r"(?P<dancer>d\d{2})_(?P<music>m[A-Z]{2}\d)_(?P<choreography>ch\d{2})$"
)


def parse_aist_name(name: str) -> dict[str, str]:
    """The fields of an AIST++ sequence name such as ``gBR_sBM_cAll_d04_mBR0_ch01``."""
    m = AIST_NAME.match(name)
    if m is None:
        raise ParameterError(
            f"{name!r}: not an AIST++ sequence name (e.g. gBR_sBM_cAll_d04_mBR0_ch01)"
        )
    return m.groupdict()


@register(aliases=("aist++", "aist"))
class AISTpp(Adapter):
    """AIST++ (Li et al., ICCV 2021). The annotation folder (``aist_plusplus_final``) holds
    ``splits/crossmodal_{train,val,test}.txt``, ``ignore_list.txt`` (at the top or under
    ``splits/``; listed sequences are skipped), ``motions/``, ``keypoints2d/``,
    ``keypoints3d/`` (``{sequence}.pkl``). Videos from the AIST Dance Video Database are
    per camera (``video/{name with c01}.mp4``), music per piece (``music/{music id}.wav``;
    ``wav/`` also accepted)."""

    name = "aistpp"
    title = "AIST++"
    url = "https://google.github.io/aistplusplus_dataset/"
    splits = ("train", "val", "test")

    def _ignore(self, root: Path) -> set[str]:
        for p in (root / "ignore_list.txt", root / "splits" / "ignore_list.txt"):
            if p.exists():
                return set(_lines(p))
        return set()

    def items(self, root: Path, *, split: str | None = None) -> Iterator[Item]:
        splits = self._check_split(split)
        ignore = self._ignore(root)
        music_dir = next(
            (root / d for d in ("music", "wav") if (root / d).is_dir()), root / "music"
        )
        for sp in splits:
            path = require_file(root / "splits" / f"crossmodal_{sp}.txt", f"AIST++'s {sp} split")
            for n, seq in enumerate(_lines(path), 1):
                if seq in ignore:
                    continue
                try:
                    labels = parse_aist_name(seq)
                except ParameterError as exc:
                    raise InputError(f"{path}: line {n}: {exc}") from None
                it = Item(id=seq, split=sp, labels=labels)
                for kind in ("motions", "keypoints2d", "keypoints3d"):
                    p = root / kind / f"{seq}.pkl"
                    if present(p, it):
                        it.annotations[kind] = str(p)
                cam = seq.replace("_cAll_", "_c01_")
                _media(it, "video", root / "video", cam, VIDEO_EXT)
                _media(it, "audio", music_dir, it.labels["music"], AUDIO_EXT)
                yield it


@register
class MusicCaps(Adapter):
    """MusicCaps (Agostinelli et al. 2023). ``musiccaps-public.csv`` with the columns
    ``ytid, start_s, end_s, audioset_positive_labels, aspect_list, caption, author_id,
    is_balanced_subset, is_audioset_eval``; split ``eval`` where ``is_audioset_eval`` is
    True, else ``train``. Clips are 10 s spans of YouTube videos; v2m looks for downloaded
    clips as ``audio/{ytid}.wav`` (any audio extension)."""

    name = "musiccaps"
    title = "MusicCaps"
    url = "https://www.kaggle.com/datasets/googleai/musiccaps"
    splits = ("train", "eval")

    def items(self, root: Path, *, split: str | None = None) -> Iterator[Item]:
        splits = self._check_split(split)
        table = require_file(root / "musiccaps-public.csv", "MusicCaps' captions")
        need = ("ytid", "start_s", "end_s", "caption", "is_audioset_eval")
        for n, row in _rows(table, need=need):
            sp = "eval" if row.get("is_audioset_eval", "").strip() == "True" else "train"
            if sp not in splits:
                continue
            yt = row["ytid"].strip()
            if not _YT_ID.match(yt):
                raise InputError(f"{table}: line {n}: ytid {yt!r} is not a YouTube id")
            try:
                start, end = float(row["start_s"]), float(row["end_s"])
            except ValueError:
                raise InputError(
                    f"{table}: line {n}: start_s/end_s must be seconds, got "
                    f"{row['start_s']!r}, {row['end_s']!r}"
                ) from None
            it = Item(
                id=yt,
                split=sp,
                source_url=f"https://www.youtube.com/watch?v={yt}",
                start_s=start,
                end_s=end,
                labels={
                    "caption": row.get("caption", ""),
                    "aspect_list": row.get("aspect_list", ""),
                    "audioset_positive_labels": row.get("audioset_positive_labels", ""),
                    "author_id": row.get("author_id", ""),
                    "is_balanced_subset": row.get("is_balanced_subset", "") == "True",
                },
            )
            _media(it, "audio", root / "audio", yt, AUDIO_EXT)
            yield it


#: The text fields of AudioCraft's ``MusicInfo`` sidecar (``{audio stem}.json`` beside the
#: audio), which V2M-style datasets built on AudioCraft (VidMuse, GVMGen) carry.
MUSIC_INFO_FIELDS = (
    "title",
    "artist",
    "key",
    "bpm",
    "genre",
    "moods",
    "keywords",
    "description",
    "name",
    "instrument",
)


@register(aliases=("v2m-bench", "vidmuse", "gvmgen"))
class V2MJsonl(Adapter):
    """V2M / V2M-bench (VidMuse, Tian et al., CVPR 2025) and other AudioCraft-style video-music
    sets (GVMGen): one ``data.jsonl`` per split, each line ``{"path": audio, "video_path":
    video, "duration", "sample_rate", "amplitude", "weight", "info_path"}``, as VidMuse's
    ``egs/V2M/build_data_jsonl.py`` writes it. The splits are the folders holding a
    ``data.jsonl`` under the root (``train/``, ``valid/``, ``test/``, ``evaluate/``,
    ``generate/``) or ``all`` for a ``data.jsonl`` at the root. Paths are taken as
    written, or relative to the root when they do not exist there (an absolute path from
    another machine is re-rooted at the file name's folder: ``.../audio/x.wav`` ->
    ``root/audio/x.wav``). The id is the video's stem (the YouTube id), else the audio's
    (``_no_vocals`` dropped). AudioCraft's ``MusicInfo`` sidecar ``{audio stem}.json``
    (title, artist, key, bpm, genre, moods, keywords, description, name, instrument), when
    present, becomes labels. Without any ``data.jsonl``, the published lists of YouTube
    ids are read instead (``V2M.txt``, ``V2M-20k.txt``, ``V2M-bench.txt``: splits ``v2m``,
    ``v2m-20k``, ``bench``)."""

    name = "v2m"
    title = "V2M / V2M-bench (VidMuse)"
    url = "https://github.com/ZeyueT/VidMuse"
    splits = ("train", "valid", "test", "evaluate", "generate", "all", "v2m", "v2m-20k", "bench")
    #: The published lists of YouTube ids (one per line), read when there is no data.jsonl:
    #: file -> split. Media are looked for as ``video/{id}.*`` and ``audio/{id}.*``.
    ID_LISTS = {"V2M.txt": "v2m", "V2M-20k.txt": "v2m-20k", "V2M-bench.txt": "bench"}

    def _files(self, root: Path) -> dict[str, Path]:
        out = {}
        for sp in self.splits:
            folder = root if sp == "all" else root / sp
            for name in ("data.jsonl", "data.jsonl.gz"):  # AudioCraft reads both
                if (folder / name).is_file():
                    out[sp] = folder / name
                    break
        return out

    @staticmethod
    def _resolve(root: Path, raw: str | None) -> Path | None:
        if not raw:
            return None
        p = Path(raw)
        if p.exists():
            return p
        if not p.is_absolute():
            return root / p
        parts = p.parts
        return root.joinpath(*parts[-2:]) if len(parts) >= 2 else root / p.name

    @staticmethod
    def _id_lists(root: Path, lists: dict[str, Path], wanted) -> Iterator[Item]:
        """Items of the published YouTube id lists (V2M.txt, V2M-20k.txt, V2M-bench.txt)."""
        for sp, path in lists.items():
            if sp not in wanted:
                continue
            for n, line in enumerate(_lines(path), 1):
                yt = line.split()[0]
                if not _YT_ID.match(yt):
                    raise InputError(f"{path}: line {n}: {yt[:40]!r} is not a YouTube id")
                it = Item(id=yt, split=sp, source_url=f"https://www.youtube.com/watch?v={yt}")
                _media(it, "video", root / "video", yt, VIDEO_EXT)
                _media(it, "audio", root / "audio", yt, AUDIO_EXT)
                yield it

    @staticmethod
    def _check_record(rec, path: Path, n: int) -> None:
        if not isinstance(rec, dict):
            raise InputError(f"{path}: line {n}: must be a JSON object, got {type(rec).__name__}")
        for key in ("path", "video_path", "info_path"):
            if rec.get(key) is not None and not isinstance(rec[key], str):
                raise InputError(f"{path}: line {n}: {key} must be a path, got {rec[key]!r}")
        if not rec.get("path") and not rec.get("video_path"):
            raise InputError(f"{path}: line {n}: neither path nor video_path")
        d = rec.get("duration")
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, float)) or d < 0):
            raise InputError(f"{path}: line {n}: duration must be seconds, got {d!r}")

    def items(self, root: Path, *, split: str | None = None) -> Iterator[Item]:
        import json

        wanted = self._check_split(split)
        files = self._files(root)
        if not files:
            lists = {sp: root / f for f, sp in self.ID_LISTS.items() if (root / f).is_file()}
            if lists:
                yield from self._id_lists(root, lists, wanted)
                return
            require_file(root / "data.jsonl", "the V2M list of audio and video (or train/...)")
        for sp, path in files.items():
            if sp not in wanted:
                continue
            for n, line in enumerate(_lines(path), 1):
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}: line {n} is not JSON ({exc.msg})") from None
                self._check_record(rec, path, n)
                audio = self._resolve(root, rec.get("path"))
                video = self._resolve(root, rec.get("video_path"))
                stem = video.stem if video else (audio.stem if audio else f"line{n}")
                it = Item(id=stem.removesuffix("_no_vocals"), split=sp)
                if audio is not None:
                    it.audio = present(audio, it)
                if video is not None:
                    it.video = present(video, it)
                if rec.get("duration") is not None:
                    it.labels["duration_s"] = float(rec["duration"])
                if audio is not None and audio.with_suffix(".json").is_file():
                    side_path = audio.with_suffix(".json")
                    try:
                        side = json.loads(read_text(side_path))
                    except json.JSONDecodeError as exc:
                        raise InputError(
                            f"{side_path}: line {exc.lineno}: not JSON ({exc.msg})"
                        ) from None
                    if not isinstance(side, dict):
                        raise InputError(f"{side_path}: a MusicInfo sidecar must be an object")
                    it.labels.update({k: side[k] for k in MUSIC_INFO_FIELDS if k in side})
                    it.annotations["music_info"] = str(audio.with_suffix(".json"))
                if len(it.id) == 11:
                    it.source_url = f"https://www.youtube.com/watch?v={it.id}"
                yield it


@register(aliases=("music21", "sound-of-pixels"))
class MUSIC(Adapter):
    """MUSIC / MUSIC-21 (Zhao et al., "The Sound of Pixels", ECCV 2018): JSON files
    ``MUSIC_solo_videos.json``, ``MUSIC21_solo_videos.json`` and ``MUSIC_duet_videos.json``,
    each ``{"videos": {category: [YouTube id, ...]}}`` (a duet's category names its two
    instruments separated by a space). No official split: every item is in ``all``; an id
    listed in several files is one item. v2m looks for downloaded media as
    ``video/{category}/{id}.mp4`` and ``audio/{category}/{id}.wav`` (the common download
    scripts' layout; ``{id}.*`` directly under ``video/`` or ``audio/`` is accepted)."""

    name = "music"
    title = "MUSIC (Sound of Pixels)"
    url = "https://github.com/roudimit/MUSIC_dataset"
    FILES = ("MUSIC_solo_videos.json", "MUSIC21_solo_videos.json", "MUSIC_duet_videos.json")

    def items(self, root: Path, *, split: str | None = None) -> Iterator[Item]:
        import json

        self._check_split(split)
        found = [root / f for f in self.FILES if (root / f).is_file()]
        if not found:
            require_file(root / self.FILES[0], "MUSIC's lists of YouTube ids per instrument")
        seen: set[str] = set()
        for path in found:
            try:
                table = json.loads(read_text(path))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from None
            if not isinstance(table, dict) or not isinstance(table.get("videos"), dict):
                raise InputError(
                    f"{path}: must be an object with a 'videos' object of category: [ids]"
                )
            for category, ids in table["videos"].items():
                if not isinstance(ids, list) or not all(
                    isinstance(y, str) and _YT_ID.match(y) for y in ids
                ):
                    raise InputError(
                        f"{path}: videos[{category!r}] must be a list of YouTube ids, got "
                        f"{str(ids)[:60]}"
                    )
                for yt in ids:
                    if yt in seen:
                        continue
                    seen.add(yt)
                    it = Item(
                        id=yt,
                        split="all",
                        source_url=f"https://www.youtube.com/watch?v={yt}",
                        labels={
                            "category": category,
                            "instruments": category.split(),
                            "list": path.name,
                        },
                    )
                    for kind, exts in (("video", VIDEO_EXT), ("audio", AUDIO_EXT)):
                        p = _first(root / kind / category, yt, exts) or _first(
                            root / kind, yt, exts
                        )
                        if p is not None:
                            setattr(it, kind, str(p))
                        else:
                            it.missing.append(str(root / kind / category / f"{yt}{exts[0]}"))
                    yield it


#: URMP piece folders: ``01_Jupiter_vn_vc`` (number, title, instrument abbreviations).
URMP_PIECE = re.compile(r"^(?P<number>\d{2})_(?P<title>[^_]+)_(?P<instruments>.+)$")


@register
class URMP(Adapter):
    """URMP (Li et al., IEEE TMM 2019): one folder per piece, ``NN_Title_inst1_inst2...``,
    holding ``AuMix_{piece}.wav`` (the mix), ``AuSep_{k}_{inst}_{NN}_{Title}.wav`` (stems),
    ``Notes_{k}_{inst}_{NN}_{Title}.txt`` and ``F0s_...txt`` (per-track note and pitch
    annotations), ``Sco_{piece}.mid`` (the score) and ``Vid_{piece}.mp4`` (the video).
    No official split: every piece is in ``all``."""

    name = "urmp"
    title = "URMP"
    url = "https://labsites.rochester.edu/air/projects/URMP.html"

    def items(self, root: Path, *, split: str | None = None) -> Iterator[Item]:
        self._check_split(split)
        pieces = sorted(p for p in root.iterdir() if p.is_dir() and URMP_PIECE.match(p.name))
        for d in pieces:
            m = URMP_PIECE.match(d.name)
            piece = d.name
            it = Item(
                id=piece,
                split="all",
                labels={
                    "number": int(m["number"]),
                    "title": m["title"],
                    "instruments": m["instruments"].split("_"),
                },
            )
            it.audio = present(d / f"AuMix_{piece}.wav", it)
            it.video = present(d / f"Vid_{piece}.mp4", it)
            it.midi = present(d / f"Sco_{piece}.mid", it)
            for prefix in ("AuSep", "Notes", "F0s"):
                for f in sorted(d.glob(f"{prefix}_*")):
                    it.annotations[f.stem] = str(f)
            n_parts = len(it.labels["instruments"])
            stems = sum(1 for k in it.annotations if k.startswith("AuSep_"))
            if stems < n_parts:
                it.missing.append(f"{d}: {n_parts - stems} of {n_parts} AuSep stems")
            yield it


#: EmoMV's emotion classes by the ids its annotation files use (columns 6 and 7).
EMOMV_CLASSES = ("exciting", "fear", "tense", "sad", "relax")
#: The three sets of EmoMV: folder, file prefix and name.
EMOMV_SETS = (("DS1_EmoMV_A", "DS1", "A"), ("DS2_EmoMV_B", "DS2", "B"), ("DS3_EmoMV_C", "DS3", "C"))
#: EmoMV-C segment names: a YouTube id and the segment number (``yA9WhYnsD_4_06``).
_YT_SEGMENT = re.compile(r"^(?P<yt>[A-Za-z0-9_-]{11})_(?P<seg>\d{2,})$")
_YT_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


@register
class EmoMV(Adapter):
    """EmoMV (Thao, Herremans, Roig, Information Fusion 2023): pairs of a music-video
    segment's picture and a music segment, labelled matched or mismatched by emotion, in
    three sets: EmoMV-A (``DS1_EmoMV_A``, MVED segments, human labels; train, val, test),
    EmoMV-B (``DS2_EmoMV_B``, YouTube ids) and EmoMV-C (``DS3_EmoMV_C``, YouTube id and
    segment number; B and C labelled by a network; train and val).

    Each set's ``annotation/DS{n}_{TRAIN,VAL,TEST}_MATCH_MISMATCH_labels.csv`` is headerless,
    seven columns: the segment folder (``Dataset1/DS1_TEST_MATCH/``), the segment name (a
    mismatched pair is ``{video segment}_PAIR_{music segment}``), matched (1) or not (0), the
    video's emotion, the music's emotion, and their class ids (0 exciting, 1 fear, 2 tense,
    3 sad, 4 relax), as the authors' loaders read them (``row[2]``, ``row[5]``, ``row[6]``).
    Row *i* is row *i* of ``extracted_features/{SlowFast,VGGish}_DS{n}_{SPLIT}_MATCH_MISMATCH.h5``
    (``labels["row"]``). The root is the folder holding the sets (the authors' repository or
    the Zenodo archive), or one set's folder; ``emomv-a`` (``-b``, ``-c``) reads one set only.
    v2m looks for the segments as ``{root}/{folder}/{name}.mp4`` (the archive's layout).
    Ids are ``{set}/{name}`` (``A/exciting_EXT_S1(0)``): names repeat across sets."""

    name = "emomv"
    title = "EmoMV (A, B, C)"
    url = "https://github.com/ivyha010/EmoMV"
    splits = ("train", "val", "test")

    def _sets(self, root: Path, only: str | None) -> list[tuple[Path, str, str]]:
        here = [(root / d, pre, letter) for d, pre, letter in EMOMV_SETS if (root / d).is_dir()]
        here += [(root, pre, letter) for d, pre, letter in EMOMV_SETS if root.name == d]
        if only:
            here = [s for s in here if s[2] == only]
        if not here:
            want = [d for d, _, letter in EMOMV_SETS if not only or letter == only]
            require_file(root / want[0] / "annotation", f"EmoMV's folders {', '.join(want)}")
        return here

    #: One set only (``emomv-a``, ``-b``, ``-c``), else every set found.
    only: str | None = None

    def items(self, root: Path, *, split: str | None = None) -> Iterator[Item]:
        splits = self._check_split(split)
        for folder, pre, letter in self._sets(root, self.only):
            for sp in splits:
                table = folder / "annotation" / f"{pre}_{sp.upper()}_MATCH_MISMATCH_labels.csv"
                if not table.is_file():
                    continue  # B and C have no test split
                import io

                rows = csv.reader(io.StringIO(read_text(table), newline=""))
                for n, row in enumerate(rows):
                    if not any(c.strip() for c in row):
                        continue
                    yield self._item(root, folder, pre, letter, sp, table, n, row)

    def _item(self, root, folder, pre, letter, sp, table, n, row) -> Item:
        if len(row) != 7:
            raise InputError(f"{table}: line {n + 1} has {len(row)} columns, EmoMV's have 7")
        seg_dir, name, match, v_emo, m_emo, v_id, m_id = (c.strip() for c in row)
        try:
            matched, v_k, m_k = int(match), int(v_id), int(m_id)
        except ValueError:
            raise InputError(
                f"{table}: line {n + 1}: matched flag and class ids must be integers, got "
                f"{match!r}, {v_id!r}, {m_id!r}"
            ) from None
        video_seg, _, music_seg = name.partition("_PAIR_")
        it = Item(id=f"{letter}/{name}", split=sp)
        it.labels = {
            "set": f"EmoMV-{letter}",
            "matched": bool(matched),
            "video_emotion": v_emo,
            "music_emotion": m_emo,
            "video_emotion_id": v_k,
            "music_emotion_id": m_k,
            "video_segment": video_seg,
            "music_segment": music_seg or video_seg,
            "row": n,
        }
        yt = _YT_SEGMENT.match(video_seg)
        if letter == "C" and yt:
            it.source_url = f"https://www.youtube.com/watch?v={yt['yt']}"
            it.labels["segment"] = int(yt["seg"])
        elif letter == "B" and _YT_ID.match(video_seg):
            it.source_url = f"https://www.youtube.com/watch?v={video_seg}"
        it.annotations["labels"] = str(table)
        for model in ("SlowFast", "VGGish"):
            h5 = folder / "extracted_features" / f"{model}_{pre}_{sp.upper()}_MATCH_MISMATCH.h5"
            if present(h5, it):
                it.annotations[model.lower()] = str(h5)
        it.video = present(root / seg_dir / f"{name}.mp4", it)
        return it

    def problems(self, root: Path) -> list[str]:
        out = []
        for it in self.items(root):
            lab = it.labels
            same = lab["video_emotion_id"] == lab["music_emotion_id"]
            if lab["matched"] != same:
                out.append(
                    f"{it.id}: marked {'matched' if lab['matched'] else 'mismatched'} but the "
                    f"emotions are {lab['video_emotion']} and {lab['music_emotion']}"
                )
            for k, key in ((lab["video_emotion_id"], "video"), (lab["music_emotion_id"], "music")):
                if not 0 <= k < len(EMOMV_CLASSES):
                    out.append(f"{it.id}: {key} class id {k} is not one of 0-4")
            if not lab["matched"] and lab["music_segment"] == lab["video_segment"]:
                out.append(f"{it.id}: mismatched but not named video_PAIR_music")
        return out


@register
class EmoMVA(EmoMV):
    """EmoMV-A only (``DS1_EmoMV_A``; see :class:`EmoMV`)."""

    name, title, only = "emomv-a", "EmoMV-A", "A"


@register
class EmoMVB(EmoMV):
    """EmoMV-B only (``DS2_EmoMV_B``; see :class:`EmoMV`)."""

    name, title, only, splits = "emomv-b", "EmoMV-B", "B", ("train", "val")


@register
class EmoMVC(EmoMV):
    """EmoMV-C only (``DS3_EmoMV_C``; see :class:`EmoMV`)."""

    name, title, only, splits = "emomv-c", "EmoMV-C", "C", ("train", "val")
