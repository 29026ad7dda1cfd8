"""The user's controls, checked once: :class:`Controls` travels from the command line, the
web app or the library's caller through :func:`v2m.pipeline.score` to :func:`project`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..cuesheet import MAX_DURATION_S, METERS, check_seed, parse_key
from ..errors import ParameterError
from ..styles import get_style

__all__ = ["Controls", "MODES", "ENDINGS"]

#: What the beat grid may follow (see :func:`v2m.projection.choose_mode`).
MODES = ("auto", "cuts", "dance", "performance")
ENDINGS = (None, "cadence", "fade", "stop")


def _number(name: str, v, *, lo: float, hi: float, allow_none: bool = True):
    """``v`` checked as a command-line value: messages read ``name=value: ...``."""
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ParameterError(f"{name}={v!r}: must be a number")
    if not math.isfinite(v) or not lo <= v <= hi:
        raise ParameterError(f"{name}={v}: must be in {lo:g}..{hi:g}")
    return float(v)


@dataclass(frozen=True)
class Controls:
    """What the user chose; every field is optional and checked when the object is made
    (a :class:`~v2m.errors.ParameterError` names the first bad one).

    Attributes
    ----------
    style, key : str, optional
        A style's name; a key such as "A minor" (default: from the picture).
    tempo_bpm : float, optional
        30..240 BPM; the beat grid stays within +-12 % of it to reach the cuts.
    energy : float
        A factor on the energy curve the picture gives, 0.25..2.
    seed : int, optional
        0..2**32-1 (default: derived from the input).
    hits_s : tuple of float
        Accents at these times (s), at or after 0.
    meter : str
        "4/4", "3/4" or "6/8".
    ending : str, optional
        "cadence", "fade" or "stop" (default: cadence).
    mode : str
        What the beat grid follows: "auto", "cuts", "dance" or "performance".
    duration_s : float, optional
        The length of a still image's music (s), above 0 and at most 6 hours.
    """

    style: str | None = None
    tempo_bpm: float | None = None
    key: str | None = None
    energy: float = 1.0
    seed: int | None = None
    hits_s: tuple[float, ...] = field(default_factory=tuple)
    meter: str = "4/4"
    ending: str | None = None
    mode: str = "auto"
    duration_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("style", "key"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, str):
                raise ParameterError(f"{name}={v!r}: must be text")
        _number("energy", self.energy, lo=0.25, hi=2.0, allow_none=False)
        _number("tempo_bpm", self.tempo_bpm, lo=30.0, hi=240.0)
        if self.duration_s is not None and not (
            isinstance(self.duration_s, (int, float))
            and not isinstance(self.duration_s, bool)
            and 0 < self.duration_s <= MAX_DURATION_S
        ):
            raise ParameterError(
                f"duration_s={self.duration_s}: must be above 0 and at most "
                f"{MAX_DURATION_S / 3600:g} hours"
            )
        if self.meter not in METERS:
            raise ParameterError(f"meter={self.meter!r}: must be one of {', '.join(METERS)}")
        if self.mode not in MODES:
            raise ParameterError(f"mode={self.mode!r}: must be one of {', '.join(MODES)}")
        if self.ending not in ENDINGS:
            raise ParameterError(f"ending={self.ending!r}: must be cadence, fade or stop")
        check_seed(self.seed)
        hits = tuple(self.hits_s or ())
        for t in hits:
            if (
                isinstance(t, bool)
                or not isinstance(t, (int, float))
                or not (math.isfinite(t) and t >= 0)
            ):
                raise ParameterError(f"hit at {t!r} s: must be a time at or after 0 s")
        object.__setattr__(self, "hits_s", tuple(float(t) for t in hits))
        if self.key is not None:
            parse_key(self.key)
        if self.style is not None:
            get_style(self.style)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hits_s"] = list(self.hits_s)
        return d
