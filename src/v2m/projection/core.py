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

The steps live in submodules: :mod:`.tempo_map` (the beat grid), :mod:`.dance` (the mode
and a grid on a dancer), :mod:`.cuts` (each cut on a beat, caught or let go; the hits) and
:mod:`.form` (energy per bar, sections and their labels), :mod:`.dialogue` (speech spans),
:mod:`.choices` (style, key and tempo) and :mod:`.core`, which puts the cue sheet together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..cuesheet import (
    METERS,
    SEED_MAX,
    CueSheet,
    key_lift,
)
from ..errors import ParameterError
from ..timeline import Timeline
from .choices import (
    choose_key,
    pick_style,
    slow_ending,
    target_tempo,
    tempo_map_note,
)
from .controls import Controls
from .cuts import (
    cut_decisions,
    cut_hits,
    cuts_note,
    hits_note,
    strong_cuts,
    with_cut_hits,
    with_user_hits,
)
from .dance import choose_mode, dance_hits, dance_tempo, follow_dancer, performer_view
from .dialogue import dialogue_spans, soften_hits
from .form import bar_energy, contrast_colours, sections_from_picture
from .tempo_map import solve_beat_grid

__all__ = ["project", "Projection", "content_seed", "check_controls"]


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
) -> Controls:
    """The :class:`Controls` for these values; a :class:`~v2m.errors.V2MError` names the
    first user choice that is invalid (ranges: see :class:`Controls`)."""
    return Controls(style=style, tempo_bpm=tempo_bpm, key=key, energy=energy, meter=meter,
                    seed=seed, duration_s=duration_s, hits_s=tuple(hits_s or ()))  # fmt: skip


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
    controls: Controls | None = None,
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
    mode : {"auto", "cuts", "dance", "performance"}
        What the beat grid follows: the cuts, a dancer's movement (kinematic beats from
        the timeline's pose; optical-flow visual beats when there is no pose), or a
        performer's (the head and arms, hands weighted). "auto" chooses dance or
        performance when one body fills the picture and cuts are rare, performance when
        the legs are out of the picture or seated (see :func:`choose_mode`).
    controls : Controls, optional
        All of the above, already checked (the pipeline makes one); given, it replaces
        the separate arguments.

    Returns
    -------
    Projection
    """
    if controls is None:  # the separate arguments, checked here
        controls = Controls(style=style, tempo_bpm=tempo_bpm, key=key, energy=energy,
                            seed=seed, hits_s=tuple(hits_s or ()), meter=meter, ending=ending,
                            mode=mode)  # fmt: skip
    c = controls
    style, tempo_bpm, key, energy, seed = c.style, c.tempo_bpm, c.key, c.energy, c.seed
    hits_s, meter, ending, mode = list(c.hits_s) or None, c.meter, c.ending, c.mode
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
    kind, why_mode = choose_mode(timeline, mode=mode)
    why.append(why_mode)
    dance = kind != "cuts"
    kin = timeline.kinematics if dance else None
    if kind == "performance" and kin is not None:
        kin = performer_view(kin)

    st = pick_style(
        style, dance=kind == "dance", means=means, cut_rate_per_min=60.0 * len(hard) / dur, why=why
    )
    style = st.name
    key = choose_key(key, valence=means["valence"], warmth=means["warmth"], why=why)
    target, why_t, rng = target_tempo(timeline, st, arousal=arousal, tempo_bpm=tempo_bpm)
    if dance and tempo_bpm is None:
        target, why_t = dance_tempo(timeline, target, why_t, tempo_range_bpm=rng, kin=kin)

    # beat grid
    bpb = METERS[meter]
    cut_list = [c for c in hard if 0.2 < c.time_s < dur - 0.05]
    anchors = np.array([c.time_s for c in cut_list])
    cut_w = np.array([c.score for c in cut_list], float)
    if cut_w.size:
        cut_w = 0.5 + cut_w / max(cut_w.max(), 1e-9)
    strong = strong_cuts(cut_w)
    vb = [b for b in timeline.visual_beats]
    if dance:
        grid = follow_dancer(timeline, target=target, dur=dur, bpb=bpb, why=why, kin=kin)
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
        beats = slow_ending(beats, cuts_s=anchors.tolist(), hits_s=hits_s or [], dur=dur, why=why)
    mean_bpm = 60 / float(np.median(np.diff(beats)))
    why.append(
        tempo_map_note(
            beats,
            n_irregular=len(grid.irregular_bars),
            n_bars=len(downbeats),
            target_bpm=target,
            follows={
                "dance": "the dancer's movement",
                "performance": "the performer's hands and head",
            }.get(kind, "the cuts"),
        )
    )

    # every cut: on a beat, caught by an accent at its exact time, or let go
    b_arr = np.asarray(beats)
    offsets, caught = cut_decisions(hard, b_arr, set(downbeats), anchors, cut_w, strong)
    why.append(cuts_note(offsets, n_caught=len(caught)))

    bar_t = b_arr[downbeats]
    bar_t = bar_t[bar_t < dur - 1e-6]
    downbeats = downbeats[: len(bar_t)]
    bar_e = bar_energy(timeline, bar_t, kin=kin, arousal=arousal, energy=energy, why=why)

    # sections (a meter change always starts one)
    required = [] if dance else [i + 1 for i in grid.irregular_bars if i + 1 < len(bar_t)]
    sections = sections_from_picture(
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
        contrast_colours(sections, st, scene_t, dur, why)

    # hits
    if kin is not None:
        # the dancer's accents, and the cuts marked as in a cut-driven piece (a light
        # accent on the beat, or caught at the cut's own time, as the report says)
        hits = with_cut_hits(
            dance_hits(kin, b_arr, bar_t, dur, user_hits_s=[]),
            cut_hits(b_arr, bar_t, anchors, cut_w, [], dur, caught=caught, user_hits_s=[]),
        )
        hits = with_user_hits(hits, hits_s or [], dur)
    else:
        hits = cut_hits(
            b_arr, bar_t, anchors, cut_w, vb, dur, caught=caught, user_hits_s=hits_s or []
        )
    dialogue, said = dialogue_spans(timeline, dur)
    hits = soften_hits(hits, dialogue)
    why.append(hits_note(hits))
    if said:
        why.append(said)
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
        dialogue=dialogue,
        ending=ending,
        seed=int(seed),
        tempo_bpm=round(mean_bpm, 2),
        notes=list(why),
    )
    cue.validate()
    return Projection(cue=cue, explanations=why, cut_offsets=offsets)
