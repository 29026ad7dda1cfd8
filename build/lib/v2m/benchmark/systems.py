"""Systems under test: v2m itself, or another system's outputs in a folder.

A system turns one dataset item into :class:`~v2m.benchmark.protocols.Outputs` (the MIDI,
audio and video to evaluate). Systems are registered in :data:`SYSTEMS` and rebuilt in
worker processes from :meth:`System.spec`, so they hold only plain settings.
"""

from __future__ import annotations

from pathlib import Path

from .._registry import Registry
from ..errors import InputError, ParameterError
from .protocols import Outputs

SYSTEMS: Registry[System] = Registry("system")

MIDI_EXT = (".mid", ".midi")
AUDIO_EXT = (".wav", ".flac", ".mp3", ".ogg", ".m4a")
VIDEO_EXT = (".mp4", ".mov", ".mkv", ".webm", ".avi")


def safe_name(item_id: str) -> str:
    """An item id as a file name (path separators replaced)."""
    return item_id.replace("/", "_").replace("\\", "_")


class System:
    name = ""

    def __init__(self, **options):
        self.options = options

    def spec(self) -> dict:
        """Everything needed to rebuild this system in another process."""
        return {"kind": self.name, **self.options}

    def outputs(self, item: dict, out_dir: Path) -> Outputs:
        raise NotImplementedError


@SYSTEMS.register
class V2M(System):
    """v2m's own pipeline (:func:`v2m.score`) on the item's video or image, writing
    ``outputs/{id}.wav`` and ``outputs/{id}.mid`` under the run folder (kept between runs:
    an interrupted run reuses what it generated). Options: ``style``, ``seed``, ``mode``,
    ``energy``, ``soundfont``, and ``backend`` with ``model_dir`` (a neural backend from a
    local folder, :mod:`v2m.backends`). An image gets the length of the item's span or
    reference music (else 10 s)."""

    name = "v2m"
    OPTIONS = ("style", "seed", "mode", "energy", "soundfont", "backend", "model_dir")

    def __init__(self, **options):
        unknown = set(options) - set(self.OPTIONS)
        if unknown:
            raise ParameterError(f"system v2m: unknown option(s) {', '.join(sorted(unknown))}")
        super().__init__(**{k: v for k, v in options.items() if v is not None})

    @staticmethod
    def _image_duration_s(item: dict) -> float:
        if item.get("start_s") is not None and item.get("end_s") is not None:
            return float(item["end_s"]) - float(item["start_s"])
        if item.get("labels", {}).get("duration_s"):
            return float(item["labels"]["duration_s"])
        if item.get("audio"):
            from .. import _media

            try:
                with _media.open_media(item["audio"]) as c:
                    if c.duration:
                        return float(c.duration / 1e6)
            except (OSError, ValueError, InputError):
                pass
        return 10.0

    def outputs(self, item: dict, out_dir: Path) -> Outputs:
        from ..pipeline import score

        src = item.get("video") or item.get("image")
        if not src:
            raise InputError(f"item {item['id']}: no video or image for v2m to score")
        folder = out_dir / "outputs"
        folder.mkdir(parents=True, exist_ok=True)
        wav = folder / f"{safe_name(item['id'])}.wav"
        mid = wav.with_suffix(".mid")
        if not (wav.exists() and mid.exists()):
            kw = dict(self.options)
            if not item.get("video"):
                kw["duration_s"] = self._image_duration_s(item)
            score(src, output=wav, midi=mid, force=True, **kw)
        return Outputs(midi=str(mid), audio=str(wav), video=item.get("video"))


@SYSTEMS.register(aliases=("folder",))
class Folder(System):
    """Another system's outputs in a folder (searched recursively), paired by item id: the
    files named ``{id}.mid``, ``{id}.wav`` (or another audio type) and ``{id}.mp4`` (a video
    with the system's music; its sound is the audio when there is no audio file)."""

    name = "outputs"

    def __init__(self, *, folder: str, label: str = "outputs"):
        if not Path(folder).is_dir():
            raise InputError(f"{folder}: not a folder of system outputs")
        super().__init__(folder=str(folder), label=label)
        self._index: dict[str, dict[str, str]] | None = None

    def _files(self) -> dict[str, dict[str, str]]:
        if self._index is None:
            idx: dict[str, dict[str, str]] = {}
            for p in sorted(Path(self.options["folder"]).rglob("*")):
                ext = p.suffix.lower()
                kind = (
                    "midi"
                    if ext in MIDI_EXT
                    else "audio"
                    if ext in AUDIO_EXT
                    else "video"
                    if ext in VIDEO_EXT
                    else None
                )
                if kind:
                    idx.setdefault(p.stem, {}).setdefault(kind, str(p))
            self._index = idx
        return self._index

    def outputs(self, item: dict, out_dir: Path) -> Outputs:
        found = self._files().get(safe_name(item["id"]), {})
        if not found:
            raise InputError(
                f"item {item['id']}: no output named {safe_name(item['id'])}.* in "
                f"{self.options['folder']}"
            )
        video = found.get("video")
        return Outputs(
            midi=found.get("midi"),
            audio=found.get("audio") or video,
            video=item.get("video") or video,
        )


def build(spec: dict) -> System:
    """A system from :meth:`System.spec`."""
    spec = dict(spec)
    return SYSTEMS.get_class(spec.pop("kind"))(**spec)
