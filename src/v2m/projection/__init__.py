"""Stage 2: :class:`~v2m.timeline.Timeline` -> :class:`~v2m.cuesheet.CueSheet`.

:func:`project` decides everything the music needs from what the video shows, and explains
each decision in ``cue.notes`` (and in the returned :class:`Projection`).

Beat grid (dynamic programming)
    Hard cuts (and the middles of gradual transitions) are *anchors*. The grid is built
    segment by segment between kept anchors; a segment of ``g`` seconds gets ``n`` beats of
    period ``g / n``, so a kept anchor falls exactly on a beat, and it starts a bar. The
    dynamic programme chooses which anchors to keep and ``n`` for each segment to minimise::

        sum_segments  w_t (ln p - ln p*)^2          # stay near the target tempo
                    + w_s (ln p - ln p_prev)^2      # change tempo gently
                    + w_m [n mod beats_per_bar != 0] # prefer whole bars between cuts
                    - w_v sum strength * exp(-d^2 / 2 s^2)  # visual beats near beats
        + sum_skipped_cuts  score (w_c (1 - exp(-d^2 / 2 s^2)) + w_d [not on a bar start])

    with ``p`` constrained to the musical range and ``s`` = 35 ms. A segment whose beat
    count is not a whole number of bars ends with one shorter (or longer) bar, as film
    composers change meter to hit a cut.
Sections
    Section boundaries are kept anchors chosen greedily by strength (cut score plus change
    of affect across it), at least four bars apart; sections whose affect is close reuse a
    label (so the music returns), and on longer videos the first and last become intro and
    outro.
Energy, key, tempo and style
    Energy per bar is ``0.6 motion + 0.4 (arousal + 1) / 2`` (per-video normalised motion),
    smoothed over three bars and scaled by the user's ``energy`` factor. Mode follows mean
    valence (> 0.15 major, < -0.15 minor, else mixolydian or dorian); the tonic follows
    warmth (warm pictures get sharp keys, cool ones flat keys). Without a user style: high
    arousal with fast cutting gives electronic, high arousal (or much movement in long
    shots) pop, low arousal and dark or grey pictures ambient, low arousal and bright ones
    piano, warm and calm folk, negative valence cinematic, otherwise lo-fi. Very dark
    valence (< -0.4) overrides arousal: ambient when calm, cinematic otherwise. Pieces of
    90 s or more lift the key a whole step for the last strong return of a theme. The
    target tempo runs across the style's range with
    arousal and is pulled toward the visual tempo when that is confident.
Hits
    The strongest cuts (score in the top third, at most one per bar) and strong visual
    beats that sit on a beat become hits; user hits are kept as given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..cuesheet import (
    MAX_DURATION_S,
    METERS,
    RIT_MAX,
    RIT_STEP,
    SEED_MAX,
    CueSheet,
    Hit,
    Section,
    check_seed,
    default_sections,
    energy_arc,
    key_lift,
    parse_key,
    ritardando,
    song_form,
)
from ..errors import ParameterError
from ..styles import get_style
from ..timeline import Timeline
from .tempo_map import SIGMA_S, BeatGrid, solve_beat_grid

__all__ = [
    "project",
    "choose_mode",
    "MODES",
    "Projection",
    "solve_beat_grid",
    "BeatGrid",
    "content_seed",
    "check_controls",
]


@dataclass
class Projection:
    """A cue sheet and the reasons behind it.

    ``cut_offsets`` lists, per hard or gradual cut, the signed offset from the cut to the
    nearest beat (seconds), whether that beat is a downbeat, and what the music does at
    the cut (``status``: ``on_beat``, ``caught`` by an accent at the cut, or ``let_go``)
    with the reason (``why``).
    """

    cue: CueSheet
    explanations: list[str] = field(default_factory=list)
    cut_offsets: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        off = (
            np.array([abs(c["offset_s"]) for c in self.cut_offsets])
            if self.cut_offsets
            else np.zeros(0)
        )
        return {
            "n_cuts": len(self.cut_offsets),
            "cuts_on_beat_35ms": int((off <= 0.035).sum()),
            "cuts_on_downbeat": int(
                sum(c["downbeat"] and abs(c["offset_s"]) <= 0.035 for c in self.cut_offsets)
            ),
            "max_abs_offset_ms": round(float(off.max()) * 1000, 2) if off.size else 0.0,
            "cuts_caught": sum(c.get("status") == "caught" for c in self.cut_offsets),
            "cuts_let_go": sum(c.get("status") == "let_go" for c in self.cut_offsets),
        }

    def report(self) -> dict:
        return {
            "schema_version": "1.0",
            "summary": self.summary(),
            "explanations": self.explanations,
            "cuts": self.cut_offsets,
            "cue": self.cue.to_dict(),
        }


# ------------------------------------------------------------------ projection


_SHARP_TONICS = [2, 9, 4, 7]  # D A E G
_FLAT_TONICS = [5, 10, 3, 0]  # F Bb Eb C


def _choose_style(
    *,
    arousal: float,
    valence: float,
    cut_rate_per_min: float,
    brightness: float,
    saturation: float,
    warmth: float,
    motion: float = 0.0,
) -> tuple[str, str]:
    if arousal > 0.25 and cut_rate_per_min >= 20:
        return "electronic", f"arousal {arousal:+.2f} and {cut_rate_per_min:.0f} cuts/min"
    if valence < -0.4:
        if arousal < -0.3:
            return "ambient", f"valence {valence:+.2f} is dark and arousal {arousal:+.2f} low"
        return "cinematic", f"valence {valence:+.2f} is dark"
    if arousal > 0.2:
        return "pop", f"arousal {arousal:+.2f} is high"
    if motion >= 0.4 and cut_rate_per_min < 6 and arousal > -0.3:
        # long shots full of movement (a performance, sport, a dance): a steady groove
        return "pop", f"much movement (motion {motion:.2f}) in long shots"
    if arousal < -0.3 and (brightness < 0.35 or saturation < 0.15):
        return "ambient", f"arousal {arousal:+.2f} is low and the picture is dark or grey"
    if arousal < -0.3:
        return "piano", f"arousal {arousal:+.2f} is low and the picture is bright"
    if warmth > 0.5 and valence >= -0.1:
        return "folk", f"warm colours (warmth {warmth:+.2f}) and calm"
    if valence < -0.1:
        return "cinematic", f"valence {valence:+.2f} is negative"
    return "lofi", f"moderate arousal {arousal:+.2f} and valence {valence:+.2f}"


def content_seed(timeline: Timeline) -> int:
    """A seed derived from what the timeline saw (size, length, cuts, colours, motion).

    The same input always gets the same seed; two inputs that differ in any of these get
    different seeds (up to hash collisions, 1 in 2**32), so they never share their music.
    """
    import hashlib
    import json

    src = timeline.source
    e = np.asarray(timeline.motion.get("energy", []), float)
    summary = {
        "size": [src.width, src.height],
        "duration_s": round(float(timeline.duration_s), 3),
        "cuts": [round(c.time_s, 3) for c in timeline.cuts],
        "shots": [
            [
                round(float(getattr(sh, a)), 3)
                for a in (
                    "brightness",
                    "saturation",
                    "colorfulness",
                    "warmth",
                    "contrast",
                    "motion",
                )
            ]
            for sh in timeline.shots
        ],
        "motion": [round(float(x), 2) for x in e[:: max(1, len(e) // 256)]],
        "image": {k: round(float(v), 4) for k, v in (timeline.image or {}).items()},
    }
    digest = hashlib.blake2b(json.dumps(summary, sort_keys=True).encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") % (SEED_MAX + 1)


def check_controls(
    *,
    style: str | None = None,
    tempo_bpm: float | None = None,
    key: str | None = None,
    energy: float = 1.0,
    meter: str = "4/4",
    seed: int | None = None,
    duration_s: float | None = None,
    hits_s: list[float] | None = None,
) -> None:
    """Raise a :class:`~v2m.errors.V2MError` naming the first user choice that is invalid.

    Ranges: ``energy`` (a factor on the energy curve) 0.25..2, ``tempo_bpm`` 30..240,
    ``seed`` 0..2**32-1, ``duration_s`` (still images) above 0 and at most 6 hours, hits at
    or after 0 s.
    """
    if not 0.25 <= energy <= 2.0:
        raise ParameterError(f"energy={energy}: must be in 0.25..2")
    if meter not in METERS:
        raise ParameterError(f"meter={meter!r}: must be one of {', '.join(METERS)}")
    if tempo_bpm is not None and not 30 <= tempo_bpm <= 240:
        raise ParameterError(f"tempo_bpm={tempo_bpm}: must be in 30..240")
    check_seed(seed)
    if duration_s is not None and not (0 < duration_s <= MAX_DURATION_S):
        raise ParameterError(
            f"duration_s={duration_s}: must be above 0 and at most {MAX_DURATION_S / 3600:g} hours"
        )
    for t in hits_s or []:
        if not (math.isfinite(t) and t >= 0):
            raise ParameterError(f"hit at {t} s: must be a time at or after 0 s")
    if key is not None:
        parse_key(key)
    if style is not None:
        get_style(style)


def project(
    timeline: Timeline,
    *,
    style: str | None = None,
    tempo_bpm: float | None = None,
    key: str | None = None,
    energy: float = 1.0,
    seed: int | None = None,
    hits_s: list[float] | None = None,
    meter: str = "4/4",
    ending: str | None = None,
    mode: str = "auto",
) -> Projection:
    """Turn a timeline into a cue sheet whose beats land on the cuts (or on a dancer).

    Parameters
    ----------
    timeline : Timeline
    style, tempo_bpm, key : optional
        User choices; each overrides the automatic one.
    energy : float
        Factor on the energy curve (0.25..2).
    seed : int, optional
        0..2**32-1; default :func:`content_seed` of the timeline.
    hits_s : list of float
        Extra moments to accent (seconds).
    meter : str
        "4/4", "3/4" or "6/8".
    ending : str, optional
        "cadence", "fade" or "stop" (default: cadence).
    mode : {"auto", "cuts", "dance"}
        What the beat grid follows: the cuts, or a dancer's movement (kinematic beats from
        the timeline's pose; optical-flow visual beats when there is no pose). "auto"
        chooses dance when one body fills the picture and cuts are rare (see
        :func:`choose_mode`).

    Returns
    -------
    Projection
    """
    check_controls(style=style, tempo_bpm=tempo_bpm, key=key, energy=energy, meter=meter, seed=seed)
    if mode not in MODES:
        raise ParameterError(f"mode={mode!r}: must be one of {', '.join(MODES)}")
    dur = float(timeline.duration_s)
    if dur <= 0:
        raise ParameterError(f"{timeline.source.path}: zero duration")
    why: list[str] = []
    if seed is None:
        seed = content_seed(timeline)
        why.append(f"seed {seed}, derived from the picture (the same input gives the same music)")
    shots = timeline.shots
    lens = np.array([max(s.end_s - s.start_s, 1e-6) for s in shots])
    means = {
        a: float(np.average([getattr(s, a) for s in shots], weights=lens))
        for a in ("valence", "arousal", "warmth", "brightness", "saturation", "motion")
    }
    arousal = means["arousal"]
    hard = [c for c in timeline.cuts]
    dance, why_mode = choose_mode(timeline, mode=mode)
    why.append(why_mode)
    kin = timeline.kinematics if dance else None

    st = _pick_style(
        style, dance=dance, means=means, cut_rate_per_min=60.0 * len(hard) / dur, why=why
    )
    style = st.name
    key = _choose_key(key, valence=means["valence"], warmth=means["warmth"], why=why)
    target, why_t, rng = _target_tempo(timeline, st, arousal=arousal, tempo_bpm=tempo_bpm)
    if dance and tempo_bpm is None:
        target, why_t = _dance_tempo(timeline, target, why_t)

    # beat grid
    bpb = METERS[meter]
    cut_list = [c for c in hard if 0.2 < c.time_s < dur - 0.05]
    anchors = np.array([c.time_s for c in cut_list])
    cut_w = np.array([c.score for c in cut_list], float)
    if cut_w.size:
        cut_w = 0.5 + cut_w / max(cut_w.max(), 1e-9)
    strong = _strong_cuts(cut_w)
    vb = [b for b in timeline.visual_beats]
    if dance:
        grid = _dance_grid(timeline, target=target, dur=dur, bpb=bpb, why=why)
    else:
        grid = solve_beat_grid(
            anchors_s=anchors,
            weights=cut_w,
            duration_s=dur,
            tempo_bpm=target,
            tempo_range_bpm=rng,
            beats_per_bar=bpb,
            strong=strong,
            visual_beats_s=np.array([b.time_s for b in vb]),
            visual_strength=np.array([b.strength for b in vb]),
        )
    beats, downbeats, kept = grid.beats_s, grid.downbeats, grid.kept
    why.append(why_t)
    if not dance:
        beats = _slow_ending(beats, cuts_s=anchors.tolist(), hits_s=hits_s or [], dur=dur, why=why)
    mean_bpm = 60 / float(np.median(np.diff(beats)))
    why.append(_tempo_map_note(beats, n_irregular=len(grid.irregular_bars), n_bars=len(downbeats)))

    # every cut: on a beat, caught by an accent at its exact time, or let go
    b_arr = np.asarray(beats)
    offsets, caught = _cut_decisions(hard, b_arr, set(downbeats), anchors, cut_w, strong)
    why.append(_cuts_note(offsets, n_caught=len(caught)))

    bar_t = b_arr[downbeats]
    bar_t = bar_t[bar_t < dur - 1e-6]
    downbeats = downbeats[: len(bar_t)]
    bar_e = _bar_energy(timeline, bar_t, kin=kin, arousal=arousal, energy=energy, why=why)

    # sections (a meter change always starts one)
    required = [] if dance else [i + 1 for i in grid.irregular_bars if i + 1 < len(bar_t)]
    sections = _sections(
        timeline,
        bar_t,
        bar_e,
        dur,
        kept_times=anchors[kept] if len(kept) else np.zeros(0),
        required_bars=required,
        why=why,
    )

    lift = key_lift(sections, key=key, duration_s=dur)
    if lift:
        why.append(lift)
    if not dance and len(kept):
        scene_t = np.array([anchors[k] for k in kept if strong[k]])
        _contrast_colours(sections, st, scene_t, dur, why)

    # hits
    if kin is not None:
        hits = _dance_hits(kin, b_arr, bar_t, dur, user_hits_s=hits_s or [])
    else:
        hits = _hits(b_arr, bar_t, anchors, cut_w, vb, dur, caught=caught, user_hits_s=hits_s or [])
    why.append(_hits_note(hits))
    ending = ending or "cadence"
    why.append(f"ending: {ending} at {dur:.2f} s, with the video")

    cue = CueSheet(
        duration_s=round(dur, 6),
        beats_s=beats,
        downbeats=list(downbeats),
        meter=meter,
        key=key,
        style=style,
        sections=sections,
        energy=[round(float(e), 3) for e in bar_e],
        hits=hits,
        ending=ending,
        seed=int(seed),
        tempo_bpm=round(mean_bpm, 2),
        notes=list(why),
    )
    cue.validate()
    return Projection(cue=cue, explanations=why, cut_offsets=offsets)


def _pick_style(
    style: str | None, *, dance: bool, means: dict, cut_rate_per_min: float, why: list[str]
):
    """The user's style, a danceable one for a dance, or one from the picture's means
    (valence, arousal, warmth, brightness, saturation, motion) and cutting rate."""
    if style is not None:
        st = get_style(style)
        why.append(f"style {st.name}: chosen by the user")
        return st
    arousal = means["arousal"]
    if dance:
        style = "electronic" if arousal > 0.25 else "pop"
        why.append(f"style {style}: a dance (danceable by default; arousal {arousal:+.2f})")
        return get_style(style)
    style, reason = _choose_style(
        arousal=arousal,
        valence=means["valence"],
        cut_rate_per_min=cut_rate_per_min,
        brightness=means["brightness"],
        saturation=means["saturation"],
        warmth=means["warmth"],
        motion=means["motion"],
    )
    why.append(f"style {style} because {reason}")
    return get_style(style)


def _slow_ending(beats, *, cuts_s: list[float], hits_s: list[float], dur: float, why: list[str]):
    """The beats with a ritardando after the last cut or hit (:func:`ritardando`); the
    report says how much and after what."""
    marks_s = [*cuts_s, *hits_s]
    beats, n_rit = ritardando(beats, after_s=max([*marks_s, 0.0]), duration_s=dur)
    if n_rit:
        after = max(marks_s, default=None)
        last = "" if after is None else "cut" if after in cuts_s else "hit"
        why.append(
            f"ritardando: the last {n_rit} beats slow down by up to "
            f"{100 * RIT_MAX:.0f} % ({100 * RIT_STEP:.0f} % a beat)"
            + (f", after the last {last}" if last else "")
        )
    return beats


def _cuts_note(offsets: list[dict], *, n_caught: int) -> str:
    """The report's line on the cuts: on beats, caught by an accent, let go."""
    if not offsets:
        return "no cuts to align"
    n_on = sum(o["status"] == "on_beat" for o in offsets)
    return (
        f"{n_on} of {len(offsets)} cuts on beats (within 35 ms), "
        f"{n_caught} caught by an accent at the cut, "
        f"{len(offsets) - n_on - n_caught} let go"
    )


def _hits_note(hits) -> str:
    """The report's line on the hits (the first eight by time)."""
    if not hits:
        return "no hits: nothing in the picture to mark"
    return (
        f"{len(hits)} hits: "
        + ", ".join(f"{h.kind} at {h.time_s:.2f} s" for h in hits[:8])
        + (" ..." if len(hits) > 8 else "")
    )


def _choose_key(key: str | None, *, valence: float, warmth: float, why: list[str]) -> str:
    """The user's key, or one from the picture: the mode from valence (major, mixolydian,
    dorian, minor), the tonic from warmth (sharp keys warm, flat keys cool)."""
    if key is not None:
        key = parse_key(key).name
        why.append(f"key {key}: chosen by the user")
        return key
    if valence > 0.15:
        mode = "major"
    elif valence < -0.15:
        mode = "minor"
    else:
        mode = "mixolydian" if valence >= 0 else "dorian"
    table = _SHARP_TONICS if warmth >= 0 else _FLAT_TONICS
    tonic = table[min(3, int(abs(warmth) * 4))]
    key_obj = parse_key(f"{'C C# D Eb E F F# G Ab A Bb B'.split()[tonic]} {mode}")
    why.append(
        f"{mode} because mean valence is {valence:+.2f}; tonic "
        f"{key_obj.name.split()[0]} because warmth is {warmth:+.2f}"
    )
    return key_obj.name


def _target_tempo(
    timeline: Timeline, st, *, arousal: float, tempo_bpm: float | None
) -> tuple[float, str, tuple[float, float]]:
    """The tempo the grid aims at (BPM), why, and the range it may move in: the user's
    tempo (+-12 %), or arousal's place in the style's range, pulled toward a confident
    visual tempo."""
    if tempo_bpm is not None:
        target = float(tempo_bpm)
        return target, f"tempo {target:g} BPM chosen by the user", (target * 0.88, target * 1.12)
    lo, hi = st.tempo_bpm
    target = lo + (hi - lo) * float(np.clip((arousal + 1) / 2, 0, 1))
    why_t = f"arousal {arousal:+.2f} puts it at {target:.0f} BPM in {st.name}'s {lo:g}-{hi:g}"
    vt = timeline.visual_tempo_bpm
    if vt and timeline.visual_tempo_confidence >= 0.3:
        while vt < lo:
            vt *= 2
        while vt > hi:
            vt /= 2
        if lo <= vt <= hi:
            target = 0.5 * (target + vt)
            why_t += f", pulled toward the visual tempo {timeline.visual_tempo_bpm:.0f} BPM"
    return target, why_t, (max(40.0, lo * 0.8), min(200.0, hi * 1.2))


def _tempo_map_note(beats, *, n_irregular: int, n_bars: int) -> str:
    """The report's line on the tempo map: mean and local tempo, largest beat-to-beat
    change, irregular bars."""
    periods = np.diff(beats)
    bpm_lo, bpm_hi = 60 / periods.max(), 60 / periods.min()
    mean_bpm = 60 / float(np.median(periods))
    change = np.abs(np.diff(np.log(periods))) if len(periods) > 1 else np.zeros(1)
    return (
        f"tempo map: {mean_bpm:.0f} BPM (local {bpm_lo:.0f}-{bpm_hi:.0f}), largest "
        f"beat-to-beat change {100 * (math.exp(change.max()) - 1):.1f} %, "
        f"{n_irregular} irregular bar(s) of {n_bars}"
    )


def _bar_energy(
    timeline: Timeline,
    bar_t: np.ndarray,
    *,
    kin: dict | None,
    arousal: float,
    energy: float,
    why: list[str],
) -> np.ndarray:
    """Energy 0..1 per bar (bars starting at ``bar_t``, seconds): 0.6 motion (a dancer's
    movement intensity) and 0.4 arousal, smoothed over three bars (a still: its arousal),
    shaped into an arc (:func:`_shape_energy`) and scaled by ``energy``."""
    dur = float(timeline.duration_s)
    m = timeline.motion
    e_grid = np.asarray(m.get("energy", [0.0]), float)
    hop = float(m.get("hop_s", 0.04))
    if kin is not None:  # a dancer: energy from movement intensity
        e_grid, hop = np.asarray(kin["intensity"], float), float(kin["hop_s"])
    tg = np.arange(len(e_grid)) * hop
    col = timeline.colour
    if col.get("arousal"):
        ar_t = np.arange(len(col["arousal"])) * col["hop_s"]
        ar_v = np.asarray(col["arousal"], float)
    else:
        ar_t = np.array([s.start_s for s in timeline.shots])
        ar_v = np.array([s.arousal for s in timeline.shots])
    bar_e = []
    ends = np.r_[bar_t[1:], dur]
    for a, b in zip(bar_t, ends, strict=True):
        sel = (tg >= a) & (tg < b)
        mo = float(e_grid[sel].mean()) if sel.any() else 0.0
        ar = float(np.interp(0.5 * (a + b), ar_t, ar_v)) if len(ar_t) else 0.0
        bar_e.append(0.6 * mo + 0.4 * (ar + 1) / 2)
    bar_e = np.convolve(np.pad(bar_e, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    if timeline.source.kind == "image":
        bar_e = np.full(len(bar_t), 0.35 + 0.3 * (arousal + 1) / 2)
    bar_e = _shape_energy(np.asarray(bar_e, float), bar_t, dur)
    bar_e = np.clip(bar_e * energy, 0.05, 1.0)
    source = (
        "the picture's arousal"
        if timeline.source.kind == "image"
        else ("the dancer's movement intensity" if kin is not None else "motion") + " and arousal"
    )
    peak_s = bar_t[int(np.argmax(bar_e))]
    shape = (
        f"shaped into an arc (climax at {peak_s:.0f} s of {dur:.0f} s)"
        if dur >= ARC_MIN_S
        else f"mostly as the picture goes in a piece this short (loudest at {peak_s:.0f} s)"
    )
    why.append(
        f"energy per bar from {source}, {shape}: mean {bar_e.mean():.2f}, range "
        f"{bar_e.min():.2f}-{bar_e.max():.2f}" + (f" (scaled x{energy:g})" if energy != 1 else "")
    )
    return bar_e


#: Intro and outro at most this long (and at most 30 % of the piece).
FRAME_MAX_S = 20.0
MODES = ("auto", "cuts", "dance")
#: "auto" picks dance mode when a body is seen in this share of the pose frames, at this
#: median height over the picture, with fewer cuts per minute than this.
DANCE_MIN_COVERAGE = 0.6
DANCE_MIN_BODY_HEIGHT = 0.35
DANCE_MAX_CUTS_PER_MIN = 6.0
#: Below this kinematic tempo confidence the style's tempo is used (phase still follows).
DANCE_MIN_TEMPO_CONFIDENCE = 0.15


def choose_mode(timeline: Timeline, *, mode: str = "auto") -> tuple[bool, str]:
    """Whether the beat grid follows a dancer, and why (one sentence for the report)."""
    pose = timeline.pose or {}
    kin = timeline.kinematics
    dur = max(float(timeline.duration_s), 1e-9)
    cut_rate = 60.0 * len(timeline.cuts) / dur
    cov, height = float(pose.get("coverage", 0.0)), float(pose.get("body_height", 0.0))
    if mode == "cuts":
        return False, "mode cuts (chosen by the user): the beat grid follows the cuts"
    if mode == "dance":
        if kin is None:
            return True, (
                "mode dance (chosen by the user) without a tracked body (no pose: install "
                "the 'pose' extra): the grid follows the optical-flow visual beats"
            )
        return True, "mode dance (chosen by the user): the beat grid follows the dancer"
    if timeline.source.kind != "video":
        return False, "mode cuts: a still picture (no movement to follow)"
    if kin is None:
        return False, "mode cuts: no body was tracked (pose off, not installed, or none seen)"
    if cov < DANCE_MIN_COVERAGE or height < DANCE_MIN_BODY_HEIGHT:
        return False, (
            f"mode cuts: the body is seen in {100 * cov:.0f} % of the frames at "
            f"{100 * height:.0f} % of the height (dance needs >= "
            f"{100 * DANCE_MIN_COVERAGE:.0f} % and >= {100 * DANCE_MIN_BODY_HEIGHT:.0f} %)"
        )
    if cut_rate >= DANCE_MAX_CUTS_PER_MIN:
        return False, f"mode cuts: {cut_rate:.1f} cuts/min is too many for a dance"
    return True, (
        f"mode dance: one body fills the picture ({100 * cov:.0f} % of the frames, "
        f"{100 * height:.0f} % of the height) and cuts are rare ({cut_rate:.1f}/min)"
    )


def _kin_events(timeline: Timeline) -> tuple[np.ndarray, np.ndarray]:
    kin = timeline.kinematics
    if kin is not None:
        b = kin.get("beats", [])
        return np.array([x["time_s"] for x in b]), np.array([x["strength"] for x in b])
    vb = timeline.visual_beats
    return np.array([b.time_s for b in vb]), np.array([b.strength for b in vb])


def _fold_tempo(bpm: float, lo: float = 60.0, hi: float = 180.0) -> float:
    """``bpm`` moved by octaves into lo..hi."""
    while bpm > hi:
        bpm /= 2
    while bpm < lo:
        bpm *= 2
    return bpm


def _dance_tempo(timeline: Timeline, target: float, why_t: str) -> tuple[float, str]:
    kin = timeline.kinematics
    if kin is not None:
        kt, conf = kin.get("tempo_bpm"), float(kin.get("tempo_confidence") or 0.0)
        if kt and conf >= DANCE_MIN_TEMPO_CONFIDENCE:
            kt = _fold_tempo(kt)
            return kt, f"tempo {kt:.0f} BPM: the dancer's (kinematic tempo, confidence {conf:.2f})"
        if kt:
            why_t += (
                f"; the dancer's tempo ({kt:.0f} BPM) is unsure (confidence {conf:.2f}), "
                "so only the phase follows her"
            )
    elif timeline.visual_tempo_bpm and timeline.visual_tempo_confidence >= 0.3:
        vt = _fold_tempo(float(timeline.visual_tempo_bpm))
        return vt, f"tempo {vt:.0f} BPM: the visual tempo of the movement (no pose)"
    return target, why_t


def _dance_grid(timeline: Timeline, *, target: float, dur: float, bpb: int, why: list[str]):
    from .dance import dance_grid

    bt, bs = _kin_events(timeline)
    acc = (timeline.kinematics or {}).get("accents", [])
    grid, info = dance_grid(
        beats_s=bt,
        strength=bs,
        duration_s=dur,
        tempo_bpm=target,
        beats_per_bar=bpb,
        accents_s=np.array([a["time_s"] for a in acc]),
        accent_strength=np.array([a["strength"] for a in acc]),
    )
    src = "kinematic" if timeline.kinematics is not None else "visual (optical-flow)"
    why.append(
        f"beat grid on the dancer: {info['tracked']} beats tracked on {len(bt)} {src} beats, "
        f"smoothed to at most 2 % tempo change per beat ({info['tempo_bpm']:.0f} BPM)"
    )
    return grid


def _dance_hits(kin: dict, b_arr, bar_t, dur: float, *, user_hits_s) -> list[Hit]:
    """The strongest movement accents (at most one a bar): on the nearest beat when it is
    within 70 ms, else at the accent's own time."""
    hits: list[Hit] = []
    used: set[int] = set()
    for a in sorted(kin.get("accents", []), key=lambda a: -a["strength"]):
        if a["strength"] < 0.6 or not 0.5 <= a["time_s"] <= dur - 0.5:
            continue
        i = int(np.argmin(np.abs(b_arr - a["time_s"])))
        t = float(b_arr[i]) if abs(b_arr[i] - a["time_s"]) <= 0.07 else float(a["time_s"])
        bi = int(np.searchsorted(bar_t, t + 1e-6)) - 1
        if bi in used:
            continue
        used.add(bi)
        hits.append(Hit(time_s=round(t, 6), strength=round(0.8 * a["strength"], 3), kind="impact"))
    for t in user_hits_s:
        if not 0 <= t <= dur:
            raise ParameterError(f"hit at {t} s is outside the video (0..{dur:.2f} s)")
        hits.append(Hit(time_s=float(t), strength=1.0, kind="user"))
    hits.sort(key=lambda h: h.time_s)
    return hits


def _break_runs(labels: list[str], names, why: list[str]) -> list[str]:
    """Three or more sections in a row that look alike would play one theme over and over:
    every second one of such a run takes a contrasting theme (one new letter per theme,
    from ``names``), so the run alternates as a song does (A A A A -> A C A C)."""
    out = list(labels)
    contrast: dict[str, str] = {}
    i = 0
    while i < len(out):
        j = i
        while j + 1 < len(out) and labels[j + 1] == labels[i]:
            j += 1
        if j - i >= 2:
            if labels[i] not in contrast:
                new = next(names, None)
                if new is None:
                    break
                contrast[labels[i]] = new
            for k in range(i + 1, j + 1, 2):
                out[k] = contrast[labels[i]]
        i = j + 1
    if contrast:
        why.append(
            "sections that look alike in a row alternate with a contrasting theme: "
            + ", ".join(f"{a} with {b}" for a, b in contrast.items())
        )
    return out


#: Shorter pieces follow the picture more than the energy arc.
ARC_MIN_S = 20.0


def _shape_energy(bar_e: np.ndarray, bar_t: np.ndarray, dur: float) -> np.ndarray:
    """Blend the picture's energy per bar with :func:`energy_arc`. From 60 s on the climax
    is kept in the last third: nothing before it is allowed as loud as its peak. Short
    pieces (< 20 s) follow the picture more closely."""
    if bar_e.size < 4:
        return bar_e
    x = (bar_t + 0.5 * np.r_[np.diff(bar_t), dur - bar_t[-1]]) / dur
    w_arc = 0.3 if dur < ARC_MIN_S else 0.5
    picture = (bar_e - bar_e.min()) / max(np.ptp(bar_e), 1e-6) if np.ptp(bar_e) > 0.05 else bar_e
    shaped = (1 - w_arc) * (0.25 + 0.6 * picture) + w_arc * energy_arc(x)
    if dur >= 60:
        last = x >= 2 / 3
        peak = shaped[last].max()
        shaped[~last] = np.minimum(shaped[~last], 0.85 * peak)
    return shaped


#: Pieces at least this long may recolour contrasting sections at scene changes.
CONTRAST_MIN_S = 90.0


def _contrast_colours(sections, st, scene_t, dur: float, why: list[str]) -> None:
    """On a long piece, the first contrasting theme (not the first theme, intro or outro)
    that starts at a strong scene change passes the tune to the style's contrast
    instrument, in every section of that theme (same label, same material, same colour)."""
    if dur < CONTRAST_MIN_S or not st.contrast_programs or not scene_t.size or not sections:
        return
    themes = [s.label for s in sections if s.label not in ("intro", "outro")]
    if len(set(themes)) < 2:
        return
    label = next(
        (
            s.label
            for s in sections[1:]
            if s.label not in ("intro", "outro", themes[0])
            and np.min(np.abs(scene_t - s.start_s)) <= 0.05
        ),
        None,
    )
    if label is None:
        return
    done = []
    for sec in sections:
        if sec.label == label:
            sec.instruments = dict(st.contrast_programs)
            done.append(f"{sec.start_s:.1f} s")
    progs = ", ".join(f"{r} on GM program {p}" for r, p in st.contrast_programs.items())
    why.append(
        f"section {label} (at {', '.join(done)}) starts at a scene change and contrasts with "
        f"the first theme: a new colour, {progs}"
    )


def _strong_cuts(cut_w: np.ndarray) -> np.ndarray:
    """The cuts that must land on beats and downbeats: the strongest third by score (every
    cut when there are fewer than three)."""
    if cut_w.size < 3:
        return np.ones(cut_w.size, bool)
    q = np.quantile(cut_w, 2 / 3)
    strong = cut_w >= q
    above = cut_w > q
    if strong.mean() > 0.5 and above.any():
        # ties at the threshold (e.g. many cuts of one score below a few scene changes):
        # only the cuts that stand out are strong, else every cut would be
        strong = above
    return strong


def _cut_decisions(hard, b_arr, db_set, anchors, cut_w, strong):
    """Per cut: ``on_beat`` (within 35 ms of a beat), ``caught`` (an accent at the cut's
    exact time) or ``let_go``, with the reason. Returns (decisions, caught hits)."""
    offsets: list[dict] = []
    caught: list[Hit] = []
    median_w = float(np.median(cut_w)) if cut_w.size else 0.0  # weaker cuts: softer accents
    for c in hard:
        i = int(np.argmin(np.abs(b_arr - c.time_s)))
        off = float(b_arr[i] - c.time_s)
        rec = {
            "time_s": c.time_s,
            "kind": c.kind,
            "beat": i,
            "offset_s": round(off, 6),
            "downbeat": i in db_set,
        }
        k = int(np.argmin(np.abs(anchors - c.time_s))) if anchors.size else -1
        w = float(cut_w[k]) if k >= 0 and abs(anchors[k] - c.time_s) < 1e-9 else 0.0
        if abs(off) <= SIGMA_S:
            rec["status"], rec["why"] = "on_beat", "on the beat grid"
        elif k < 0 or w == 0.0:
            rec["status"], rec["why"] = "let_go", "at the very start or end of the video"
        elif any(abs(h.time_s - c.time_s) < 0.35 for h in caught):
            rec["status"], rec["why"] = "let_go", "another accent less than 0.35 s away"
        else:
            rec["status"] = "caught"
            rec["why"] = (
                f"{abs(off) * 1000:.0f} ms from the nearest beat: reaching it would change "
                "the tempo by more than 4 % per beat, so an accent marks the cut itself"
            )
            strength = min(1.0, w / 1.5) * (1.0 if strong[k] or w >= median_w else 0.7)
            caught.append(Hit(time_s=round(c.time_s, 6), strength=round(strength, 3), kind="cut"))
        offsets.append(rec)
    return offsets, caught


def _hits(b_arr, bar_t, anchors, cut_w, vb, dur, *, caught, user_hits_s) -> list[Hit]:
    """Hits: every cut on the grid (the strongest third, at most one per bar, in full; the
    others lightly), the cuts caught off the grid, strong visual beats on beats, and the
    user's."""
    hits: list[Hit] = list(caught)
    used_bars: set[int] = {int(np.searchsorted(bar_t, h.time_s + 1e-6)) - 1 for h in caught}
    if anchors.size:
        # every cut on the grid is articulated: the strongest (top third, one a bar) with a
        # full hit, the others with a light accent (no cymbal) unless one is near
        thr = np.quantile(cut_w, 2 / 3) if anchors.size >= 3 else 0.0
        for i in np.argsort(-cut_w, kind="stable"):
            j = int(np.argmin(np.abs(b_arr - anchors[i])))
            if abs(b_arr[j] - anchors[i]) > SIGMA_S:
                continue  # caught or let go: decided already
            t = float(b_arr[j])
            bi = int(np.searchsorted(bar_t, t + 1e-6)) - 1
            if any(abs(h.time_s - t) < 0.35 for h in hits):
                continue
            if cut_w[i] >= thr and bi not in used_bars:
                used_bars.add(bi)
                strength = min(1.0, cut_w[i] / 1.5)
            else:
                strength = 0.35
            hits.append(Hit(time_s=round(t, 6), strength=round(strength, 3), kind="cut"))
    for b in vb:
        if b.strength >= 0.7:
            i = int(np.argmin(np.abs(b_arr - b.time_s)))
            bi = int(np.searchsorted(bar_t, b_arr[i] + 1e-6)) - 1
            if abs(b_arr[i] - b.time_s) <= 0.06 and bi not in used_bars and b_arr[i] < dur - 0.5:
                used_bars.add(bi)
                hits.append(
                    Hit(time_s=float(b_arr[i]), strength=round(0.7 * b.strength, 3), kind="impact")
                )
    for t in user_hits_s:
        if not 0 <= t <= dur:
            raise ParameterError(f"hit at {t} s is outside the video (0..{dur:.2f} s)")
        hits.append(Hit(time_s=float(t), strength=1.0, kind="user"))
    hits.sort(key=lambda h: h.time_s)
    return hits


def _sections(
    timeline: Timeline,
    bar_t: np.ndarray,
    bar_e: np.ndarray,
    dur: float,
    *,
    kept_times: np.ndarray,
    required_bars: list[int] = (),
    why: list[str],
) -> list[Section]:
    n_bars = len(bar_t)
    min_bars = 4
    target_bars = 8
    # candidate boundaries: kept cuts that are downbeats, scored by cut strength + affect change
    shots = timeline.shots

    def affect_at(t: float) -> np.ndarray:
        for s in shots:
            if s.start_s - 1e-6 <= t < s.end_s:
                return np.array([s.valence, s.arousal, s.motion])
        return np.array([shots[-1].valence, shots[-1].arousal, shots[-1].motion])

    cands = []
    for t in kept_times:
        bi = int(np.argmin(np.abs(bar_t - t)))
        if abs(bar_t[bi] - t) > 0.05 or bi < min_bars or n_bars - bi < min_bars // 2:
            continue
        change = float(np.abs(affect_at(t + 0.05) - affect_at(t - 0.05)).sum())
        cands.append((1.0 + change, bi))
    n_max = max(0, n_bars // target_bars - 1)
    chosen: list[int] = [b for b in required_bars if 0 < b < n_bars]
    for _score, bi in sorted(cands, reverse=True):
        if len(chosen) >= n_max:
            break
        if all(abs(bi - c) >= min_bars for c in chosen):
            chosen.append(bi)
    if not chosen and not timeline.cuts and n_bars > 8:
        # one picture throughout (a still, a single take, a dance): nothing in it to cut
        # the music at, so the music takes its own song form
        form = default_sections(n_bars, bar_t, dur, 1.0)
        out = []
        for sec in form:
            inside = (bar_t >= sec.start_s - 1e-6) & (bar_t < sec.end_s - 1e-6)
            e = float(np.mean(bar_e[inside])) if inside.any() else float(np.mean(bar_e))
            out.append(replace(sec, energy=round(float(np.clip(e, 0, 1)), 3)))
        why.append(
            "one picture throughout: the sections take a song form: "
            + ", ".join(f"{s.label} {s.start_s:.1f}-{s.end_s:.1f} s" for s in out)
        )
        return out
    # long stretches without cuts: split every 16 bars so the music still develops
    bounds = sorted(set([0] + chosen))
    filled = []
    for a, b in zip(bounds, bounds[1:] + [n_bars], strict=True):
        filled.append(a)
        k = a + 16
        while b - k >= min_bars:
            filled.append(k)
            k += 16
    bounds = sorted(set(filled))
    secs = []
    feats = []
    for a, b in zip(bounds, bounds[1:] + [n_bars], strict=True):
        t0 = float(bar_t[a])
        t1 = float(bar_t[b]) if b < n_bars else dur
        sel = [s for s in shots if s.end_s > t0 and s.start_s < t1] or shots[-1:]
        f = np.array(
            [
                np.mean([s.valence for s in sel]),
                np.mean([s.arousal for s in sel]),
                float(np.mean(bar_e[a:b])),
            ]
        )
        feats.append(f)
        secs.append([t0, t1, float(np.mean(bar_e[a:b]))])
    labels: list[str] = []
    protos: list[tuple[str, np.ndarray]] = []
    names = iter(["A", "B", "C", "D", "E", "F", "G", "H"])
    for f in feats:
        match = next((lab for lab, p in protos if float(np.abs(f - p).sum()) < 0.35), None)
        if match is None:
            match = next(names, "A")
            protos.append((match, f))
        labels.append(match)
    if len(labels) >= 2 and len(set(labels)) == 1:
        # one picture throughout (a single shot, a dance): it gives the music no contrast,
        # so the music brings its own form
        labels = song_form(len(labels))
        why.append("one picture throughout: the sections take a song form")
    if len(secs) >= 3:
        # an intro or outro is a short frame around the piece (the melody rests in it); a
        # long first or last section is a theme, or a long piece would have no tune in its
        # climax
        frame = min(0.3 * dur, FRAME_MAX_S)
        if secs[0][1] - secs[0][0] <= frame:
            labels[0] = "intro"
        if secs[-1][1] - secs[-1][0] <= frame:
            labels[-1] = "outro"
    labels = _break_runs(labels, names, why)
    out = [
        Section(
            start_s=round(a, 6),
            end_s=round(min(b, dur), 6),
            label=lab,
            energy=round(float(np.clip(e, 0, 1)), 3),
        )
        for (a, b, e), lab in zip(secs, labels, strict=True)
    ]
    why.append("sections: " + ", ".join(f"{s.label} {s.start_s:.1f}-{s.end_s:.1f} s" for s in out))
    return out
