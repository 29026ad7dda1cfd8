"""The :class:`Timeline`: what v2m saw in a video or an image, as versioned JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ._io import write_text_atomic
from .errors import InputError

SCHEMA_VERSION = "1.2"  # 1.1: pose and kinematics; 1.2: the sound (older 1.x timelines load)

__all__ = ["SCHEMA_VERSION", "Source", "Cut", "Shot", "VisualBeat", "Timeline"]


@dataclass
class Source:
    """The analysed file. ``width``/``height`` are display pixels (rotation applied)."""

    path: str
    kind: str  # "video" or "image"
    width: int
    height: int
    fps: float
    duration_s: float
    rotation_deg: int = 0
    has_audio: bool = False


@dataclass
class Cut:
    """A shot boundary.

    ``time_s`` is the presentation time of the first frame of the new shot (hard cut) or the
    middle of the transition (gradual); ``frame`` is that frame's decode index. ``score`` is
    PySceneDetect's content score for hard cuts and the blend-fit change for gradual ones.
    """

    time_s: float
    frame: int
    score: float
    kind: str  # "hard" or "gradual"
    start_s: float | None = None
    end_s: float | None = None


@dataclass
class Shot:
    """Per-shot statistics. Colour values are means over the shot's analysed frames.

    ``brightness``, ``saturation``, ``contrast`` in 0..1; ``colorfulness`` is Hasler &
    Suesstrunk's M / 100 (about 0..1.5); ``warmth``, ``valence``, ``arousal`` in -1..1;
    ``motion`` is the shot's mean normalised motion energy in 0..1 (per-video quantiles).
    """

    start_s: float
    end_s: float
    brightness: float
    saturation: float
    colorfulness: float
    warmth: float
    contrast: float
    valence: float
    arousal: float
    motion: float
    motion_raw: float = 0.0
    motion_peak: float = 0.0
    thumbnail_frame: int = 0


@dataclass
class VisualBeat:
    time_s: float
    strength: float


@dataclass
class Timeline:
    """The analysis of one video or image.

    ``motion['energy']`` and ``impact['envelope']`` are sampled every ``hop_s`` seconds from
    t = 0. ``motion['energy']`` is normalised to 0..1 by per-video quantiles;
    ``motion['energy_raw']`` is mean optical-flow speed in frame widths per second.

    ``pose`` (when a body was tracked, see :mod:`v2m.analysis.pose`): ``model``,
    ``times_s`` (one per analysed frame), ``landmarks`` (per frame 33 [x, y] pairs in 0..1
    of the picture's width and height, or None without a body), ``visibility`` (per frame
    33 values, 0..1), ``coverage`` (share of frames with a body), ``body_height`` (median
    body height over the picture's height) and ``rate_hz``. ``kinematics`` holds what
    :func:`v2m.analysis.kinematics.kinematics` derives from it.

    ``audio`` (a video with an audio stream; see :func:`v2m.analysis.audio.analyze_audio`):
    the track's loudness, speech spans (``speech``, [start_s, end_s] pairs), whether it
    holds music (``holds_music``, ``song``), whether its speech is dialogue to keep clear
    (``dialogue``), and sound events. None for images, silent videos and timelines written
    before schema 1.2.
    """

    source: Source
    cuts: list[Cut] = field(default_factory=list)
    shots: list[Shot] = field(default_factory=list)
    motion: dict = field(default_factory=dict)
    impact: dict = field(default_factory=dict)
    visual_beats: list[VisualBeat] = field(default_factory=list)
    visual_tempo_bpm: float | None = None
    visual_tempo_confidence: float = 0.0
    colour: dict = field(default_factory=dict)
    image: dict | None = None
    pose: dict | None = None
    kinematics: dict | None = None
    audio: dict | None = None
    warnings: list[str] = field(default_factory=list)
    #: What the analysis decided and why (e.g. why no body was tracked).
    notes: list[str] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION

    @property
    def duration_s(self) -> float:
        return self.source.duration_s

    @property
    def speech_s(self) -> list[tuple[float, float]]:
        """The dialogue to keep clear: speech spans (s) when the track's speech is
        dialogue (not a song's vocals), else none."""
        if not self.audio or not self.audio.get("dialogue"):
            return []
        return [(float(a), float(b)) for a, b in self.audio.get("speech", [])]

    def to_dict(self) -> dict:
        d = asdict(self)
        d = {"schema_version": d.pop("schema_version"), **d}
        return d

    def to_json(self, *, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save(self, path: str | Path) -> None:
        """Write the timeline as JSON to ``path`` (atomically)."""
        write_text_atomic(path, self.to_json())

    @classmethod
    def from_dict(cls, d: dict) -> Timeline:
        version = str(d.get("schema_version", ""))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise InputError(f"timeline schema_version {version!r} is not supported")
        return cls(
            source=Source(**d["source"]),
            cuts=[Cut(**c) for c in d.get("cuts", [])],
            shots=[Shot(**s) for s in d.get("shots", [])],
            motion=d.get("motion", {}),
            impact=d.get("impact", {}),
            visual_beats=[VisualBeat(**b) for b in d.get("visual_beats", [])],
            visual_tempo_bpm=d.get("visual_tempo_bpm"),
            visual_tempo_confidence=d.get("visual_tempo_confidence", 0.0),
            colour=d.get("colour", {}),
            image=d.get("image"),
            pose=d.get("pose"),
            kinematics=d.get("kinematics"),
            audio=d.get("audio"),
            warnings=list(d.get("warnings", [])),
            notes=list(d.get("notes", [])),
            schema_version=version,
        )

    @classmethod
    def load(cls, path: str | Path) -> Timeline:
        p = Path(path)
        try:
            return cls.from_dict(json.loads(p.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise InputError(f"{p}: no such file") from None
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{p}: not a v2m timeline JSON ({exc})") from None
