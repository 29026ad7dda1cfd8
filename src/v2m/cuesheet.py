"""The :class:`CueSheet`: the editable contract between what a video shows and the music.

A cue sheet is complete on its own: :func:`make_cue` writes one from a few numbers, with no
video, and :func:`v2m.composition.compose` turns any valid cue sheet into a score.

The time grid is explicit: ``beats_s`` lists the time of every beat (so tempo may drift or
change anywhere) and ``downbeats`` the indices of the beats that start bars. A beat is a
quarter note in 4/4 and 3/4 and a dotted quarter in 6/8.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ._io import write_text_atomic
from .errors import CueSheetError, InputError, ParameterError
from .styles import MODES, get_style

SCHEMA_VERSION = "1.3"  # 1.1: section instruments; 1.2: prompt; 1.3: dialogue (1.x loads)

log = logging.getLogger("v2m")

__all__ = [
    "SCHEMA_VERSION",
    "Key",
    "Section",
    "Hit",
    "Dialogue",
    "CueSheet",
    "make_cue",
    "parse_key",
    "beats_from_tempo",
    "ritardando",
    "time_to_beat",
    "bpm_to_period_s",
    "key_lift",
    "transpose_key",
    "fit_cue",
]

METERS = {"4/4": 4, "3/4": 3, "6/8": 2}
#: How far a section's energy may lie from the mean of its bars' before the section is
#: taken as edited (the two are written rounded to 3 decimals).
SECTION_ENERGY_TOLERANCE = 0.01
#: The longest music v2m makes (and the longest video or still it scores), in seconds.
MAX_DURATION_S = 6 * 3600.0
#: Seeds are 0..SEED_MAX (numpy's generators take unsigned 32-bit and larger; we keep 32).
SEED_MAX = 2**32 - 1
ENDINGS = ("cadence", "fade", "stop")
HIT_KINDS = ("cut", "impact", "user", "stop", "stab", "cymbal")
_PITCH = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


@dataclass
class Key:
    """A key: ``tonic`` pitch class 0..11 (C = 0) and a ``mode`` from :data:`MODES`."""

    tonic: int
    mode: str

    @property
    def name(self) -> str:
        names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
        return f"{names[self.tonic % 12]} {self.mode}"


def parse_key(text: str | Key | dict) -> Key:
    """Parse ``"A minor"``, ``"F# dorian"``, ``"Bb"`` (major) or ``"c#m"`` into a :class:`Key`."""
    if isinstance(text, Key):
        return text
    if isinstance(text, dict):
        return (
            parse_key(f"{text.get('tonic')} {text.get('mode', 'major')}")
            if isinstance(text.get("tonic"), str)
            else _checked_key(text.get("tonic"), text.get("mode"))
        )
    m = re.fullmatch(
        r"\s*([A-Ga-g])([#b♯♭]?)\s*(m|min|minor|maj|major|dorian|mixolydian|"
        r"lydian|phrygian|aeolian|ionian)?\s*",
        str(text),
    )
    if not m:
        raise CueSheetError(f"key: cannot parse {text!r} (try 'A minor' or 'Eb major')")
    pc = _PITCH[m.group(1).lower()] + {"#": 1, "♯": 1, "b": -1, "♭": -1, "": 0}[m.group(2)]
    mode = (m.group(3) or "major").lower()
    mode = {
        "m": "minor",
        "min": "minor",
        "maj": "major",
        "aeolian": "minor",
        "ionian": "major",
    }.get(mode, mode)
    return Key(tonic=pc % 12, mode=mode)


def _checked_key(tonic, mode) -> Key:
    if not isinstance(tonic, int) or not 0 <= tonic < 12:
        raise CueSheetError(f"key.tonic: {tonic!r} is not a pitch class 0..11")
    if mode not in MODES:
        raise CueSheetError(f"key.mode: unknown mode {mode!r} (known: {', '.join(MODES)})")
    return Key(tonic=tonic, mode=mode)


@dataclass
class Section:
    """A musical section from ``start_s`` to ``end_s`` (both on downbeats, except the end of
    the last section which is ``duration_s``). ``energy`` in 0..1; ``key`` overrides the
    cue sheet's key inside the section; ``instruments`` (General MIDI program per role)
    overrides the cue sheet's instruments inside the section (a new colour for a
    contrasting section: the program changes at its start and back at its end)."""

    start_s: float
    end_s: float
    label: str
    energy: float
    key: str | None = None
    instruments: dict[str, int] | None = None


@dataclass
class Hit:
    """A moment the music must accent. ``kind``: cut, impact, user, stop, stab or cymbal."""

    time_s: float
    strength: float = 1.0
    kind: str = "cut"


@dataclass
class Dialogue:
    """A span of speech the music is written around (seconds): under it the tune rests,
    the band thins and plays softer, and no fill or crash starts; the mix keeps the
    music bed under the voice (see :mod:`v2m.composition.dialogue`)."""

    start_s: float
    end_s: float


@dataclass
class CueSheet:
    """Everything the composer needs. See the module docstring for the time grid."""

    duration_s: float
    beats_s: list[float]
    downbeats: list[int]
    meter: str = "4/4"
    key: str = "C major"
    style: str = "cinematic"
    sections: list[Section] = field(default_factory=list)
    energy: list[float] = field(default_factory=list)  # one value per bar (downbeat)
    hits: list[Hit] = field(default_factory=list)
    ending: str = "cadence"
    seed: int = 0
    instruments: dict[str, int] = field(default_factory=dict)
    tempo_bpm: float | None = None
    notes: list[str] = field(default_factory=list)
    #: Speech in the video: spans the music is written around (in order, not overlapping).
    dialogue: list[Dialogue] = field(default_factory=list)
    #: Text prompt for the neural backends (:mod:`v2m.backends`); None: written from the
    #: cue sheet and the analysis (see :func:`v2m.backends.prompt.prompt_for`).
    prompt: str | None = None
    schema_version: str = SCHEMA_VERSION

    # ------------------------------------------------------------------ derived
    @property
    def beats_per_bar(self) -> int:
        return METERS[self.meter]

    @property
    def key_obj(self) -> Key:
        return parse_key(self.key)

    def bar_times(self) -> np.ndarray:
        return np.asarray(self.beats_s)[self.downbeats]

    def bar_energy(self) -> list[float]:
        """The energy of every bar that starts before ``duration_s`` (0..1).

        The per-bar ``energy`` list gives each bar's level and a section's ``energy`` is
        the mean of its bars. When the two disagree (a section's energy edited, its bars
        not), the section wins: its bars are scaled to that mean, keeping their shape, with
        a warning that names the section and its bars. Without the per-bar list every bar
        takes its section's energy. Cue sheets older than schema 1.3 keep their per-bar
        list as written (``v2m cue`` wrote sections that were not the mean of their bars).
        """
        bar_t = self.bar_times()
        bar_t = bar_t[bar_t < self.duration_s - 1e-6]
        if not self.energy:
            return energy_per_bar(self.sections, bar_t) if self.sections else [0.6] * len(bar_t)
        out = np.asarray(self.energy, float)
        if _version(self.schema_version) < (1, 3):
            return out.tolist()
        for i, sec in enumerate(self.sections):
            inside = np.flatnonzero((bar_t >= sec.start_s - 1e-3) & (bar_t < sec.end_s - 1e-6))
            if not inside.size:
                continue
            mean = float(out[inside].mean())
            if abs(mean - sec.energy) <= SECTION_ENERGY_TOLERANCE:
                continue
            log.warning(
                "cue sheet: sections[%d].energy is %.3g but its bars %d-%d in 'energy' average "
                "%.3g: the bars are scaled to the section's energy (edit one or the other)",
                i, sec.energy, inside[0], inside[-1], mean,
            )  # fmt: skip
            scaled = out[inside] * (sec.energy / mean) if mean > 1e-6 else sec.energy
            out[inside] = np.clip(scaled, 0.0, 1.0)
        return out.tolist()

    # ------------------------------------------------------------------ checks
    def validate(self) -> CueSheet:
        """Check every field; raise :class:`CueSheetError` naming the first bad one."""
        if self.prompt is not None and not isinstance(self.prompt, str):
            raise CueSheetError(f"prompt: must be text or null, got {self.prompt!r}")
        if (
            not isinstance(self.duration_s, (int, float))
            or not math.isfinite(self.duration_s)
            or self.duration_s <= 0
        ):
            raise CueSheetError(f"duration_s: must be a positive number, got {self.duration_s!r}")
        if self.duration_s > MAX_DURATION_S:
            raise CueSheetError(
                f"duration_s: {self.duration_s} s is longer than {MAX_DURATION_S / 3600:g} hours"
            )
        if self.tempo_bpm is not None:
            check_number(self.tempo_bpm, "tempo_bpm", 20.0, 400.0)
        if not isinstance(self.style, str):
            raise CueSheetError(f"style: must be a style's name, got {self.style!r}")
        if not isinstance(self.notes, list) or not all(isinstance(n, str) for n in self.notes):
            raise CueSheetError("notes: must be a list of text lines")
        if self.meter not in METERS:
            raise CueSheetError(f"meter: {self.meter!r} is not one of {', '.join(METERS)}")
        b = np.asarray(self.beats_s, dtype=float)
        if b.ndim != 1 or len(b) < 2:
            raise CueSheetError("beats_s: needs at least two beat times")
        if not np.all(np.isfinite(b)) or b[0] < 0:
            raise CueSheetError("beats_s: beat times must be finite and >= 0")
        d = np.diff(b)
        if np.any(d <= 0):
            i = int(np.argmax(d <= 0))
            raise CueSheetError(
                f"beats_s: beats out of order at index {i + 1} ({b[i]:.3f} s then {b[i + 1]:.3f} s)"
            )
        if d.min() < 60 / 400 or d.max() > 60 / 20:
            raise CueSheetError("beats_s: beat period outside 20..400 BPM")
        if b[0] > self.duration_s:
            raise CueSheetError("beats_s: first beat after duration_s")
        if (
            not self.downbeats
            or any(not (0 <= i < len(b)) for i in self.downbeats)
            or any(j <= i for i, j in zip(self.downbeats, self.downbeats[1:], strict=False))
        ):
            raise CueSheetError("downbeats: must be increasing indices into beats_s")
        parse_key(self.key)
        if self.key_obj.mode not in MODES:
            raise CueSheetError(f"key: unknown mode {self.key_obj.mode!r}")
        get_style(self.style)
        if self.ending not in ENDINGS:
            raise CueSheetError(f"ending: {self.ending!r} is not one of {', '.join(ENDINGS)}")
        prev_end = 0.0
        for i, s in enumerate(self.sections):
            check_number(s.start_s, f"sections[{i}].start_s", 0.0, MAX_DURATION_S)
            check_number(s.end_s, f"sections[{i}].end_s", 0.0, MAX_DURATION_S)
            check_number(s.energy, f"sections[{i}].energy", 0.0, 1.0)
            if not isinstance(s.label, str) or not s.label:
                raise CueSheetError(
                    f"sections[{i}].label: must be a name such as 'A', got {s.label!r}"
                )
            if s.start_s < prev_end - 1e-6:
                raise CueSheetError(
                    f"sections[{i}]: starts at {s.start_s} s, before sections[{i - 1}] ends "
                    f"({prev_end} s): sections must be in order and not overlap"
                )
            prev_end = s.end_s
            if not (0 <= s.start_s < s.end_s <= self.duration_s + 1e-6):
                raise CueSheetError(
                    f"sections[{i}]: start_s/end_s {s.start_s}..{s.end_s} outside 0..duration_s"
                )
            if not 0 <= s.energy <= 1:
                raise CueSheetError(f"sections[{i}].energy: {s.energy} not in 0..1")
            if s.key is not None:
                parse_key(s.key)
            _check_instruments(s.instruments or {}, f"sections[{i}].instruments")
        if any(not (0 <= e <= 1) for e in self.energy):
            raise CueSheetError("energy: every value must be in 0..1")
        n_bars = int(np.sum(b[self.downbeats] < self.duration_s - 1e-6))
        if self.energy and len(self.energy) != n_bars:
            raise CueSheetError(
                f"energy: {len(self.energy)} values for {n_bars} bars (give one per bar that "
                "starts before duration_s, or none to use the sections' energy)"
            )
        self._check_dialogue()
        for i, h in enumerate(self.hits):
            check_number(h.time_s, f"hits[{i}].time_s", 0.0, MAX_DURATION_S)
            check_number(h.strength, f"hits[{i}].strength", 0.0, 1.0)
            if not 0 <= h.time_s <= self.duration_s:
                raise CueSheetError(f"hits[{i}].time_s: {h.time_s} outside 0..duration_s")
            if h.kind not in HIT_KINDS:
                raise CueSheetError(f"hits[{i}].kind: {h.kind!r} not one of {HIT_KINDS}")
        _check_instruments(self.instruments, "instruments")
        if self.seed is None:
            raise CueSheetError(f"seed: must be a whole number 0..{SEED_MAX}, got null")
        try:
            check_seed(self.seed)
        except ParameterError as exc:
            raise CueSheetError(str(exc)) from None
        return self

    def _check_dialogue(self) -> None:
        prev_end = -1.0
        for i, d in enumerate(self.dialogue):
            a, b = d.start_s, d.end_s
            if not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in (a, b)
            ):
                raise CueSheetError(
                    f"dialogue[{i}]: start_s/end_s must be numbers, got {a!r}, {b!r}"
                )
            if not (0 <= a < b <= self.duration_s + 1e-6):
                raise CueSheetError(
                    f"dialogue[{i}]: {a}..{b} s is not a span inside 0..duration_s "
                    f"({self.duration_s} s)"
                )
            if a < prev_end:
                raise CueSheetError(
                    f"dialogue[{i}]: starts at {a} s, before dialogue[{i - 1}] ends "
                    f"({prev_end} s): spans must be in order and not overlap"
                )
            prev_end = b

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        d = asdict(self)
        return {"schema_version": d.pop("schema_version"), **d}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def save(self, path: str | Path) -> None:
        write_text_atomic(path, self.to_json())

    @classmethod
    def from_dict(cls, d: dict) -> CueSheet:
        if not isinstance(d, dict):
            raise CueSheetError("cue sheet: top level must be an object")
        version = str(d.get("schema_version", SCHEMA_VERSION))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise CueSheetError(f"schema_version: {version!r} is not supported")
        for req in ("duration_s", "beats_s", "downbeats"):
            if req not in d:
                raise CueSheetError(f"{req}: missing")
        unknown = sorted(set(d) - _CUE_FIELDS)
        if unknown:
            log.warning(
                "cue sheet: ignoring unknown key(s) %s (known: %s)",
                ", ".join(repr(k) for k in unknown),
                ", ".join(sorted(_CUE_FIELDS)),
            )
        try:
            cue = cls(
                duration_s=d["duration_s"],
                beats_s=[float(x) for x in _list(d, "beats_s")],
                downbeats=[_index(x) for x in _list(d, "downbeats")],
                meter=d.get("meter", "4/4"),
                key=d.get("key", "C major")
                if isinstance(d.get("key", ""), str)
                else parse_key(d["key"]).name,
                style=d.get("style", "cinematic"),
                sections=[
                    _record(Section, s, f"sections[{i}]")
                    for i, s in enumerate(_list(d, "sections"))
                ],
                energy=[
                    check_number(e, f"energy[{i}]", 0.0, 1.0)
                    for i, e in enumerate(_list(d, "energy"))
                ],
                hits=[_record(Hit, h, f"hits[{i}]") for i, h in enumerate(_list(d, "hits"))],
                dialogue=[
                    _record(Dialogue, s, f"dialogue[{i}]")
                    for i, s in enumerate(_list(d, "dialogue"))
                ],
                ending=d.get("ending", "cadence"),
                seed=d.get("seed", 0),
                instruments=_dict(d, "instruments"),
                tempo_bpm=d.get("tempo_bpm"),
                notes=list(_list(d, "notes")),
                prompt=d.get("prompt"),
                schema_version=version,
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, CueSheetError):
                raise
            raise CueSheetError(f"cue sheet: malformed field ({exc})") from None
        return cue.validate()

    @classmethod
    def load(cls, path: str | Path) -> CueSheet:
        p = Path(path)
        if not p.exists():
            raise InputError(f"{p}: no such file")
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{p}: not JSON ({exc})") from None
        try:
            return cls.from_dict(d)
        except CueSheetError as exc:
            raise CueSheetError(f"{p}: {exc}") from None


_CUE_FIELDS = {f.name for f in fields(CueSheet)}

# ---------------------------------------------------------------------- helpers


def _version(text: str) -> tuple[int, int]:
    try:
        major, minor = str(text).split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return (1, 0)


def _list(d: dict, key: str) -> list:
    v = d.get(key, [])
    if not isinstance(v, list):
        raise CueSheetError(f"{key}: must be a list, got {type(v).__name__}")
    return v


def _dict(d: dict, key: str) -> dict:
    v = d.get(key, {})
    if not isinstance(v, dict):
        raise CueSheetError(f"{key}: must be an object, got {type(v).__name__}")
    return dict(v)


def _index(x) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise CueSheetError(f"downbeats: beat indices must be whole numbers, got {x!r}")
    return x


def _check_instruments(instruments: dict, where: str) -> None:
    if not isinstance(instruments, dict):
        raise CueSheetError(f"{where}: must be an object of role: GM program")
    for role, prog in instruments.items():
        ok = isinstance(prog, int) and not isinstance(prog, bool) and 0 <= prog <= 127
        if role not in ("harmony", "bass", "melody", "arp", "pad") or not ok:
            raise CueSheetError(
                f"{where}.{role}: {prog!r}: needs a role (harmony, bass, melody, arp, pad) "
                "and a GM program 0..127"
            )


def _record(cls, item, where: str):
    """``cls(**item)`` with errors that name the field instead of Python's internals."""
    if not isinstance(item, dict):
        raise CueSheetError(f"{where}: must be an object, got {type(item).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(item) - names)
    if unknown:
        raise CueSheetError(
            f"{where}: unknown key(s) {', '.join(repr(k) for k in unknown)} "
            f"(known: {', '.join(sorted(names))})"
        )
    missing = [
        f.name
        for f in fields(cls)
        if f.name not in item and f.default is MISSING and f.default_factory is MISSING
    ]
    if missing:
        raise CueSheetError(f"{where}: missing {', '.join(missing)}")
    return cls(**item)


def check_number(v, where: str, lo: float, hi: float, *, error=CueSheetError) -> float:
    """``v`` as a float in ``lo..hi``, or ``error`` (a V2MError class) naming ``where``."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise error(f"{where}: must be a number, got {v!r}")
    if not math.isfinite(float(v)) or not lo <= float(v) <= hi:
        raise error(f"{where}: {v!r} is not in {lo:g}..{hi:g}")
    return float(v)


def check_seed(seed) -> None:
    """Raise :class:`~v2m.errors.ParameterError` unless ``seed`` is None or an integer in
    0..:data:`SEED_MAX`."""
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ParameterError(f"seed={seed!r}: must be a whole number 0..{SEED_MAX}")
    if not 0 <= int(seed) <= SEED_MAX:
        raise ParameterError(f"seed={seed}: must be in 0..{SEED_MAX}")


def bpm_to_period_s(tempo_bpm: float) -> float:
    return 60.0 / tempo_bpm


def beats_from_tempo(*, tempo_bpm: float, duration_s: float, start_s: float = 0.0) -> list[float]:
    """Beat times at a constant tempo from ``start_s`` to at least ``duration_s``."""
    period = bpm_to_period_s(tempo_bpm)
    n = int(math.ceil((duration_s - start_s) / period)) + 1
    return [round(start_s + i * period, 6) for i in range(max(n, 2))]


#: The last seconds of a piece may slow down (after the last cut or hit, never across one).
RIT_S = 6.0
#: Each beat of the ritardando at most this much longer than the one before (the tempo
#: map's limit is 4 %), the whole slow-down at most ``RIT_MAX``.
RIT_STEP = 0.03
RIT_MAX = 0.15
#: ... and in at most this share of a short piece (a 5 s sting does not slow throughout).
RIT_MAX_SHARE = 0.25


def ritardando(beats_s, *, after_s: float, duration_s: float) -> tuple[list[float], int]:
    """Slow the beats of the last ``RIT_S`` seconds down, as a band ends a piece.

    Beats after ``after_s`` (the last cut or hit: those stay where they are) and in the last
    ``RIT_S`` seconds (at most ``RIT_MAX_SHARE`` of the piece) get periods growing by
    ``RIT_STEP`` a beat, up to ``RIT_MAX`` in all; later beats keep the final period.
    Downbeat indices do not change.

    Returns
    -------
    beats_s : list of float
    n : int
        How many beats inside the piece were slowed.
    """
    b = np.asarray(beats_s, float)
    start = max(after_s, duration_s - min(RIT_S, RIT_MAX_SHARE * duration_s))
    i0 = int(np.searchsorted(b, start + 1e-6))
    if i0 >= len(b) - 1 or b[i0] >= duration_s - 1.0:
        return list(beats_s), 0
    p = np.diff(b)
    out = b.copy()
    grow, n = 1.0, 0
    for k in range(i0, len(b) - 1):
        grow = min(grow * (1.0 + RIT_STEP), 1.0 + RIT_MAX)
        out[k + 1] = out[k] + p[k] * grow
        n += int(out[k + 1] < duration_s)
    return [round(float(x), 6) for x in out], n


def beat_period_s(beats_s, beat: float) -> float:
    """The length in seconds of the grid's beat that holds ``beat`` (a fractional beat
    index; before the first or after the last beat, the nearest beat's)."""
    i = min(max(int(beat), 0), len(beats_s) - 2)
    return float(beats_s[i + 1] - beats_s[i])


def time_to_beat(time_s, beats_s) -> np.ndarray:
    """Fractional beat index of ``time_s`` on the grid ``beats_s`` (linear inside a beat,
    extrapolated with the first/last beat period outside)."""
    b = np.asarray(beats_s, dtype=float)
    t = np.asarray(time_s, dtype=float)
    idx = np.interp(t, b, np.arange(len(b)))
    before = t < b[0]
    after = t > b[-1]
    idx = np.where(before, (t - b[0]) / (b[1] - b[0]), idx)
    idx = np.where(after, len(b) - 1 + (t - b[-1]) / (b[-1] - b[-2]), idx)
    return idx


def song_form(blocks: int) -> list[str]:
    """Theme labels for ``blocks`` sections: A and B taking turns; from 4 blocks on, a
    quieter bridge comes second to last and the piece ends on B (the climax after it);
    from 8 blocks on, a third theme C takes the middle block."""
    labels = (["A", "B"] * blocks)[:blocks]
    if blocks >= 8:
        labels[blocks // 2] = "C"
    if blocks >= 4:
        labels[-2:] = ["bridge", "B"]
    return labels


def default_sections(
    n_bars: int, bar_times: np.ndarray, duration_s: float, energy: float
) -> list[Section]:
    """Intro / A / B / A / outro shaped to the length, with an energy arc."""
    if n_bars <= 4:
        plan = [("A", n_bars, 1.0)]
    elif n_bars <= 8:
        plan = [("intro", 2, 0.55), ("A", n_bars - 2, 1.0)]
    else:
        intro = 2 if n_bars < 24 else 4
        outro = 2 if n_bars < 24 else 4
        body = n_bars - intro - outro
        blocks = max(2, round(body / 8))
        labels = song_form(blocks)
        sizes = [body // blocks] * blocks
        for i in range(body - sum(sizes)):
            sizes[i % blocks] += 1
        gains = {"A": 0.85, "B": 1.0, "C": 0.75, "bridge": 0.55}
        plan = [("intro", intro, 0.5)] + [
            (lab, s, gains[lab]) for lab, s in zip(labels, sizes, strict=True)
        ]
        plan += [("outro", outro, 0.55)]
    sections, bar = [], 0
    for label, size, gain in plan:
        start = float(bar_times[bar])
        end = float(bar_times[bar + size]) if bar + size < len(bar_times) else duration_s
        sections.append(
            Section(
                start_s=round(start, 6),
                end_s=round(min(end, duration_s), 6),
                label=label,
                energy=round(float(np.clip(energy * gain, 0, 1)), 3),
            )
        )
        bar += size
    return sections


#: Pieces at least this long may lift the key for their last return of a theme.
KEY_LIFT_MIN_S = 90.0


def transpose_key(key: str | Key, semitones: int) -> str:
    """The name of ``key`` moved by ``semitones`` (same mode)."""
    k = parse_key(key)
    return Key(tonic=(k.tonic + semitones) % 12, mode=k.mode).name


def key_lift(
    sections: list[Section], *, key: str | Key, duration_s: float, semitones: int = 2
) -> str | None:
    """Lift the key a whole step for the last strong return of a theme (in place).

    The pop and film "truck driver's" modulation: on pieces of at least
    :data:`KEY_LIFT_MIN_S`, the loudest section in the second half that restates an
    earlier label (not an intro, bridge or outro) and every section after it move up
    ``semitones``; the piece ends in the new key. Sections that already have a key are
    left alone, and nothing changes when no section qualifies.

    Returns
    -------
    str or None
        What was done, for the cue sheet's notes.
    """
    if duration_s < KEY_LIFT_MIN_S or len(sections) < 4:
        return None
    if any(s.key for s in sections):
        return None
    cands = [
        i
        for i, s in enumerate(sections)
        if i >= 2
        and s.start_s >= 0.5 * duration_s
        and s.label not in ("intro", "bridge", "outro")
        and any(p.label == s.label for p in sections[:i])
    ]
    if not cands:
        return None
    i = max(cands, key=lambda k: (sections[k].energy, k))
    lifted = transpose_key(key, semitones)
    for s in sections[i:]:
        s.key = lifted
    at = sections[i]
    return f"key lift to {lifted} at {at.start_s:.1f} s (the last return of {at.label})"


def energy_arc(x: np.ndarray) -> np.ndarray:
    """The large-scale shape of a piece, at relative positions ``x`` in 0..1 (0..1 level):
    a quiet opening, a first rise, a lower passage at about 60 %, the climax at about 80 %
    and a settling close, as in most film cues and songs."""
    xp = [0.0, 0.12, 0.4, 0.55, 0.64, 0.8, 0.9, 1.0]
    fp = [0.3, 0.45, 0.65, 0.55, 0.45, 1.0, 0.85, 0.55]
    return np.interp(x, xp, fp)


def energy_per_bar(sections: list[Section], bar_times: np.ndarray) -> list[float]:
    out = []
    for t in bar_times:
        e = next(
            (s.energy for s in sections if s.start_s - 1e-6 <= t < s.end_s), sections[-1].energy
        )
        out.append(round(float(e), 3))
    return out


def make_cue(
    *,
    duration_s: float,
    tempo_bpm: float | None = None,
    key: str = "C major",
    style: str = "cinematic",
    meter: str = "4/4",
    energy: float = 0.6,
    seed: int = 0,
    ending: str = "cadence",
    hits: list[Hit] | None = None,
) -> CueSheet:
    """A complete cue sheet at a constant tempo, without any video.

    Parameters
    ----------
    duration_s : float
        Length of the music in seconds.
    tempo_bpm : float, optional
        Tempo; default the middle of the style's range. With a ``cadence`` ending the
        last seconds slow down (:func:`ritardando`, after the last hit).
    energy : float
        Overall energy 0..1; sections follow an intro-build-outro arc around it.
    """
    st = get_style(style)
    if tempo_bpm is None:
        tempo_bpm = round(sum(st.tempo_bpm) / 2)
    if meter not in METERS:
        raise CueSheetError(f"meter: {meter!r} is not one of {', '.join(METERS)}")
    if not (20 <= tempo_bpm <= 400):
        raise CueSheetError(f"tempo_bpm: {tempo_bpm} outside 20..400")
    if not (0 < duration_s <= MAX_DURATION_S):
        raise CueSheetError(
            f"duration_s: must be above 0 and at most {MAX_DURATION_S / 3600:g} hours, "
            f"got {duration_s!r}"
        )
    check_seed(seed)
    if not 0 <= energy <= 1:
        raise CueSheetError(f"energy: {energy} not in 0..1")
    beats = beats_from_tempo(tempo_bpm=tempo_bpm, duration_s=duration_s)
    notes = []
    if ending == "cadence":
        # a cadence ends as a band ends a piece: slower, after the last hit
        last = max([h.time_s for h in hits or []], default=0.0)
        beats, n_rit = ritardando(beats, after_s=last, duration_s=duration_s)
        if n_rit:
            notes.append(f"ritardando over the last {n_rit} beats")
    bpb = METERS[meter]
    downbeats = list(range(0, len(beats), bpb))
    bar_times = np.asarray(beats)[downbeats]
    bar_times = bar_times[bar_times < duration_s - 1e-6]
    downbeats = downbeats[: len(bar_times)]
    sections = default_sections(len(bar_times), bar_times, duration_s, energy)
    key = parse_key(key).name
    lift = key_lift(sections, key=key, duration_s=duration_s)
    # per bar: the sections' levels shaped by the arc (climax in the last third)
    x = (bar_times + 0.5 * np.r_[np.diff(bar_times), duration_s - bar_times[-1]]) / duration_s
    bar_energy = np.clip(
        np.asarray(energy_per_bar(sections, bar_times)) * (0.45 + 0.75 * energy_arc(x)), 0, 1
    )
    bar_energy = np.round(bar_energy, 3)
    # a section's energy is the mean of its bars' (see CueSheet.bar_energy): edit either
    for sec in sections:
        inside = (bar_times >= sec.start_s - 1e-6) & (bar_times < sec.end_s - 1e-6)
        if inside.any():
            sec.energy = round(float(bar_energy[inside].mean()), 3)
    cue = CueSheet(
        duration_s=float(duration_s),
        beats_s=beats,
        downbeats=downbeats,
        meter=meter,
        key=key,
        style=st.name,
        sections=sections,
        energy=[round(float(e), 3) for e in bar_energy],
        hits=list(hits or []),
        ending=ending,
        seed=int(seed),
        tempo_bpm=float(tempo_bpm),
        notes=[lift, *notes] if lift else notes,
    )
    return cue.validate()


def fit_cue(cue: CueSheet, duration_s: float) -> CueSheet:
    """``cue`` fitted to another length: the beat grid cut, or continued at its last
    period; sections, the per-bar energy, hits and dialogue cut at the new end, or the
    last section and bar level held to it. Returns a new, valid cue sheet.

    Raises
    ------
    CueSheetError
        If the new length is not in 0..:data:`MAX_DURATION_S`, or leaves under two beats.
    """
    from dataclasses import replace

    if not (0 < duration_s <= MAX_DURATION_S):
        raise CueSheetError(f"duration_s: {duration_s!r} is not in 0..{MAX_DURATION_S:g}")
    beats = [float(b) for b in cue.beats_s]
    period = beats[-1] - beats[-2]
    while beats[-1] < duration_s + period:
        beats.append(round(beats[-1] + period, 6))
    beats = [b for b in beats if b <= duration_s + period + 1e-9]
    if len(beats) < 2 or beats[0] > duration_s:
        raise CueSheetError(f"duration_s: {duration_s} s leaves fewer than two beats")
    bpb = cue.beats_per_bar
    down = [d for d in cue.downbeats if d < len(beats)]
    while down[-1] + bpb < len(beats):
        down.append(down[-1] + bpb)
    bar_t = np.asarray(beats)[down]
    n_bars = int(np.sum(bar_t < duration_s - 1e-6))
    energy = list(cue.energy[:n_bars])
    if cue.energy:
        energy += [energy[-1] if energy else 0.6] * (n_bars - len(energy))
    sections = [replace(sec) for sec in cue.sections if sec.start_s < duration_s - 1e-6]
    if sections:
        sections[-1].end_s = round(duration_s, 6)
    dialogue = [
        replace(d, end_s=round(min(d.end_s, duration_s), 6))
        for d in cue.dialogue
        if d.start_s < duration_s - 0.05
    ]
    out = replace(
        cue,
        duration_s=float(duration_s),
        beats_s=beats,
        downbeats=down,
        sections=sections,
        energy=energy,
        hits=[h for h in cue.hits if h.time_s <= duration_s],
        dialogue=dialogue,
        notes=[*cue.notes, f"fitted from {cue.duration_s:.2f} s to {duration_s:.2f} s"],
    )
    return out.validate()
