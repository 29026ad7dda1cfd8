"""A beat grid that follows a dancer: tempo and phase fitted to the kinematic beats.

:func:`dance_grid` works in three steps:

1. **Beat tracking** by dynamic programming (Ellis, "Beat tracking by dynamic programming",
   2007) on a movement envelope: Gaussian pulses (sigma 50 ms) at the kinematic beats,
   weighted by their strength, sampled every 10 ms. Each beat scores the envelope at its
   time plus the best previous beat's score minus ``tightness * ln(gap / period)^2``, with
   the period from the target tempo; the best path is traced back.
2. **Smoothing**, as a band would play it: the beat times against their index are smoothed
   by a Whittaker smoother (second differences penalised), the penalty raised until no
   beat-to-beat tempo change exceeds ``max_change`` (2 %).
3. **Bars**: the grid is extended with the edge tempi to cover the whole video; the bar
   phase is the one that puts the most accent and strong-beat weight on downbeats.
"""

from __future__ import annotations

import numpy as np

from ..cuesheet import Hit
from ..timeline import Timeline
from .cuts import with_user_hits
from .tempo_map import BeatGrid

__all__ = [
    "dance_grid",
    "track_beats",
    "smooth_beats",
    "choose_mode",
    "body_kind",
    "performer_view",
    "dance_tempo",
    "follow_dancer",
    "dance_hits",
]

HOP_S = 0.01
PULSE_SIGMA_S = 0.05


def _envelope(times_s: np.ndarray, strength: np.ndarray, n: int) -> np.ndarray:
    env = np.zeros(n)
    idx = np.clip(np.round(np.asarray(times_s) / HOP_S).astype(int), 0, n - 1)
    np.add.at(env, idx, np.asarray(strength, float))
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(env, PULSE_SIGMA_S / HOP_S)


def track_beats(envelope: np.ndarray, *, period_s: float, tightness: float = 400.0) -> np.ndarray:
    """Ellis's dynamic-programming beat tracker on an envelope sampled every 10 ms.

    Parameters
    ----------
    envelope : np.ndarray, shape (n,)
        Non-negative movement (or onset) strength.
    period_s : float
        Target beat period.
    tightness : float
        Weight of the squared log-deviation of each gap from the period.

    Returns
    -------
    np.ndarray
        Beat times in seconds.
    """
    n = len(envelope)
    p = period_s / HOP_S
    env = envelope / max(float(envelope.std()), 1e-9)
    lo, hi = max(1, int(round(p / 2))), int(round(2 * p))
    gaps = np.arange(lo, hi + 1)
    penalty = -tightness * np.log(gaps / p) ** 2
    score = env.copy()
    back = np.full(n, -1)
    for i in range(lo, n):
        j = i - gaps
        ok = j >= 0
        if not ok.any():
            continue
        cand = score[j[ok]] + penalty[ok]
        k = int(np.argmax(cand))
        if cand[k] > 0:
            score[i] = env[i] + cand[k]
            back[i] = j[ok][k]
    # end on the best-scoring point within the last period
    tail = max(0, n - int(round(p)))
    i = tail + int(np.argmax(score[tail:]))
    path = []
    while i >= 0:
        path.append(i)
        i = back[i]
    return np.asarray(path[::-1], float) * HOP_S


def smooth_beats(beats_s: np.ndarray, *, max_change: float = 0.02) -> np.ndarray:
    """Whittaker-smoothed beat times whose period changes by at most ``max_change`` per beat."""
    from scipy.sparse import diags, eye
    from scipy.sparse.linalg import spsolve

    b = np.asarray(beats_s, float)
    k = len(b)
    if k < 4:
        return b
    d2 = diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(k - 2, k))
    lam = 1.0
    out = b
    for _ in range(40):
        out = spsolve((eye(k) + lam * (d2.T @ d2)).tocsc(), b)
        per = np.diff(out)
        if per.min() > 0 and np.abs(np.diff(np.log(per))).max() <= max_change:
            return out
        lam *= 3.0
    # fall back to the straight line through the beats (constant tempo)
    coef = np.polyfit(np.arange(k), b, 1)
    return np.polyval(coef, np.arange(k))


def dance_grid(
    *,
    beats_s: np.ndarray,
    strength: np.ndarray,
    duration_s: float,
    tempo_bpm: float,
    beats_per_bar: int,
    accents_s: np.ndarray | None = None,
    accent_strength: np.ndarray | None = None,
    max_change: float = 0.02,
) -> tuple[BeatGrid, dict]:
    """A beat grid on a dancer's movement (see the module docstring).

    Parameters
    ----------
    beats_s, strength : np.ndarray, shape (k,)
        Kinematic beats and their strengths (0..1).
    duration_s : float
    tempo_bpm : float
        Target tempo (the kinematic tempo, or the style's when that is unsure).
    beats_per_bar : int
    accents_s, accent_strength : np.ndarray, optional
        Strong movement accents, pulled onto downbeats when possible.
    max_change : float
        Largest beat-to-beat relative change of the period.

    Returns
    -------
    grid : BeatGrid
    info : dict
        ``tracked`` (beats found by the tracker), ``tempo_bpm`` (median of the grid).
    """
    period = 60.0 / tempo_bpm
    n = int(np.ceil(duration_s / HOP_S)) + 1
    b = np.asarray(beats_s, float)
    s = np.asarray(strength, float)
    tracked = np.zeros(0)
    if b.size >= 4:
        tracked = track_beats(_envelope(b, s, n), period_s=period)
    if tracked.size >= 4:
        grid = smooth_beats(tracked, max_change=max_change)
    else:
        start = float(b[np.argmax(s)] % period) if b.size else 0.0
        grid = np.arange(start, duration_s + period, period)
    # extend with the edge tempi to cover 0 .. duration (one beat past the end)
    p0, p1 = grid[1] - grid[0], grid[-1] - grid[-2]
    head = grid[0] - p0 * np.arange(1, int(grid[0] / p0) + 1)
    tail_n = max(0, int(np.ceil((duration_s - grid[-1]) / p1)) + 1)
    tail = grid[-1] + p1 * np.arange(1, tail_n + 1)
    full = np.r_[head[::-1], grid, tail]
    full = full[full >= 0]
    cut = np.searchsorted(full, duration_s) + 1
    full = full[: max(cut, 2)]
    # bar phase: accents (and strong kinematic beats) on downbeats
    weight = np.zeros(beats_per_bar)
    ev_t = np.r_[b[s >= 0.3], np.asarray(accents_s if accents_s is not None else [], float)]
    ev_w = np.r_[
        s[s >= 0.3], 2.0 * np.asarray(accent_strength if accent_strength is not None else [], float)
    ]
    for t, w in zip(ev_t, ev_w, strict=True):
        i = int(np.argmin(np.abs(full - t)))
        if abs(full[i] - t) <= 0.1:
            weight[i % beats_per_bar] += w
    phase = int(np.argmax(weight))
    downbeats = list(range(phase, len(full), beats_per_bar))
    irregular = []
    if phase > 0:
        downbeats = [0] + downbeats  # a shorter first bar (a pickup) from the first beat
        irregular = [0]
    out = BeatGrid(
        beats_s=[round(float(x), 6) for x in full],
        downbeats=downbeats,
        kept=[],
        irregular_bars=irregular,
    )
    return out, {
        "tracked": int(tracked.size),
        "tempo_bpm": round(60.0 / float(np.median(np.diff(full))), 2),
    }


# ------------------------------------------------------------------ the dance projection

#: "auto" picks dance mode when a body is seen in this share of the pose frames, at this
#: median height over the picture, with fewer cuts per minute than this.
DANCE_MIN_COVERAGE = 0.6


DANCE_MIN_BODY_HEIGHT = 0.35


DANCE_MAX_CUTS_PER_MIN = 6.0


#: A body whose legs are seen less than this (median visibility of knees, ankles and feet)
#: is a performer seen from the waist up (a pianist behind the piano, a singer, a drummer),
#: or seated with the thighs level (knees within this share of the torso of the hips'
#: height): hands and head carry the beat.
PERFORMER_MAX_LEG_VISIBILITY = 0.5
SEATED_MAX_THIGH_DROP = 0.45
#: Knees this far above the hips (torso lengths, the median frame) is no person's posture.
NOT_A_PERSON_THIGH_DROP = -0.2


#: Below this kinematic tempo confidence the style's tempo is used (phase still follows),
#: moved by the dancer's pace: scaled by the rate of her speed's minima (``pace_per_s``)
#: over this typical rate (dancer.avi's, 1.54 a second at 12.5 Hz pose) and kept in the
#: style's range. (On dancer.avi, whose movement has no tempo, the grid at the style's
#: 125 BPM aligns with her kinematic beats at 0.732 against 0.575 by chance:
#: ``python bench/dance.py``.)
DANCE_MIN_TEMPO_CONFIDENCE = 0.15
TYPICAL_PACE_PER_S = 1.54


def _why_no_body(timeline: Timeline) -> str:
    """Why the timeline has no kinematics: the analysis' own note, or what the pose saw."""
    for n in timeline.notes:
        if n.startswith("pose: "):
            return n[len("pose: ") :]
    if timeline.pose is not None:
        share = 100 * timeline.pose.get("coverage", 0)
        return f"the pose model found a body in {share:.0f} % of frames"
    return "no pose analysis in this timeline"


def body_kind(timeline: Timeline) -> tuple[str, str]:
    """ "dance" or "performance" for the tracked body, and the reason: a performer's legs are
    out of the picture (or hidden) or level with the hips (seated). "cuts" when what the
    pose model tracks has its knees above its hips in most frames: not a person standing
    or seated (Big Buck Bunny's cartoon rabbit is such a "body")."""
    parts = (timeline.kinematics or {}).get("parts") or {}
    vis = parts.get("lower_visibility")
    if vis is not None and vis < PERFORMER_MAX_LEG_VISIBILITY:
        return "performance", (
            f"the legs are out of the picture or hidden (visibility {vis:.2f}): a performer, "
            "whose hands and head carry the beat"
        )
    drop = parts.get("thigh_drop")  # hips to knees over the torso (analysis.kinematics)
    if drop is not None and drop <= NOT_A_PERSON_THIGH_DROP:
        return "cuts", (
            f"the tracked body's knees sit above its hips in most frames ({-drop:.2f} torso "
            "lengths): not a person standing or seated, so the grid follows the cuts"
        )
    if drop is not None and drop < SEATED_MAX_THIGH_DROP:
        return "performance", (
            f"the knees are level with the hips ({drop:.2f} torso lengths below them): a "
            "seated performer, whose hands and head carry the beat"
        )
    return "dance", "the whole body is seen standing"


def choose_mode(timeline: Timeline, *, mode: str = "auto") -> tuple[str, str]:
    """What the beat grid follows -- "cuts", "dance" (the body's kinematic beats) or
    "performance" (those of the head and arms, hands weighted) -- and why (one sentence for
    the report)."""
    pose = timeline.pose or {}
    kin = timeline.kinematics
    dur = max(float(timeline.duration_s), 1e-9)
    cut_rate = 60.0 * len(timeline.cuts) / dur
    cov, height = float(pose.get("coverage", 0.0)), float(pose.get("body_height", 0.0))
    if mode == "cuts":
        return "cuts", "mode cuts (chosen by the user): the beat grid follows the cuts"
    if mode in ("dance", "performance"):
        if kin is None:
            return mode, (
                f"mode {mode} (chosen by the user) without a tracked body "
                f"({_why_no_body(timeline)}): the grid follows the optical-flow visual beats"
            )
        who = "the dancer" if mode == "dance" else "the performer's hands and head"
        return mode, f"mode {mode} (chosen by the user): the beat grid follows {who}"
    if timeline.source.kind != "video":
        return "cuts", "mode cuts: a still picture (no movement to follow)"
    if kin is None:
        return "cuts", f"mode cuts: no body was tracked ({_why_no_body(timeline)})"
    if cov < DANCE_MIN_COVERAGE or height < DANCE_MIN_BODY_HEIGHT:
        return "cuts", (
            f"mode cuts: the body is seen in {100 * cov:.0f} % of the frames at "
            f"{100 * height:.0f} % of the height (dance needs >= "
            f"{100 * DANCE_MIN_COVERAGE:.0f} % and >= {100 * DANCE_MIN_BODY_HEIGHT:.0f} %)"
        )
    if cut_rate >= DANCE_MAX_CUTS_PER_MIN:
        return "cuts", f"mode cuts: {cut_rate:.1f} cuts/min is too many for a dance"
    kind, why_kind = body_kind(timeline)
    if kind == "cuts":
        return kind, f"mode cuts: {why_kind}"
    return kind, (
        f"mode {kind}: a body fills the picture ({100 * cov:.0f} % of the frames, "
        f"{100 * height:.0f} % of the height), cuts are rare ({cut_rate:.1f}/min), and "
        f"{why_kind}"
    )


def performer_view(kin: dict) -> dict:
    """The kinematics with the beats and tempo of the head and arms (hands weighted) in
    place of the whole body's; accents and intensity kept."""
    up = kin.get("upper")
    if not up:
        return kin
    out = dict(kin)
    keys = ("beats", "beats_per_s", "pace_per_s", "tempo_bpm", "tempo_confidence", "tempo_octave")
    for k in keys:
        out[k] = up.get(k)
    return out


def _kin_events(timeline: Timeline, kin: dict | None) -> tuple[np.ndarray, np.ndarray]:
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


def dance_tempo(
    timeline: Timeline,
    target: float,
    why_t: str,
    *,
    tempo_range_bpm: tuple[float, float],
    kin: dict | None = None,
) -> tuple[float, str]:
    """The tempo of a dance: the dancer's when she has a confident one; else the style's
    ``target`` moved by her pace (see :data:`TYPICAL_PACE_PER_S`); else the
    visual tempo of the movement; and the sentence that says which. ``kin``: the
    kinematics to read (default the timeline's; :func:`performer_view` for a performer)."""
    kin = timeline.kinematics if kin is None else kin
    if kin is not None:
        kt, conf = kin.get("tempo_bpm"), float(kin.get("tempo_confidence") or 0.0)
        if kt and conf >= DANCE_MIN_TEMPO_CONFIDENCE:
            kt = _fold_tempo(kt)
            octave = float(kin.get("tempo_octave", 1.0))
            rule = (
                f", {'twice' if octave > 1 else 'half'} her movement's period: stops and "
                "turns are beats"
                if octave != 1.0
                else ""
            )
            return kt, (
                f"tempo {kt:.0f} BPM: the dancer's (kinematic tempo, confidence {conf:.2f}{rule})"
            )
        # timelines before pace_per_s counted every dip as a beat: the same figure
        rate = float(kin.get("pace_per_s", kin.get("beats_per_s")) or 0.0)
        unsure = (
            f"the dancer's tempo ({kt:.0f} BPM) is unsure (confidence {conf:.2f})"
            if kt
            else "the dancer has no periodic tempo"
        )
        if rate > 0:
            lo, hi = tempo_range_bpm
            moved = float(np.clip(target * rate / TYPICAL_PACE_PER_S, lo, hi))
            return round(moved, 2), (
                f"tempo {moved:.0f} BPM: the style's {target:.0f} moved by the dancer's pace "
                f"({rate:.2f} dips of her speed a second against a typical "
                f"{TYPICAL_PACE_PER_S:.2f}; kept in {lo:.0f}-{hi:.0f}), as "
                f"{unsure}; the phase follows her"
            )
        why_t += f"; {unsure}, so only the phase follows her"
    elif timeline.visual_tempo_bpm and timeline.visual_tempo_confidence >= 0.3:
        vt = _fold_tempo(float(timeline.visual_tempo_bpm))
        return vt, f"tempo {vt:.0f} BPM: the visual tempo of the movement (no pose)"
    return target, why_t


def follow_dancer(
    timeline: Timeline,
    *,
    target: float,
    dur: float,
    bpb: int,
    why: list[str],
    kin: dict | None = None,
):
    """A beat grid on the body's kinematic beats (``kin``, default the timeline's), or on
    the optical-flow visual beats without a body."""
    kin = timeline.kinematics if kin is None else kin
    bt, bs = _kin_events(timeline, kin)
    acc = (kin or {}).get("accents", [])
    grid, info = dance_grid(
        beats_s=bt,
        strength=bs,
        duration_s=dur,
        tempo_bpm=target,
        beats_per_bar=bpb,
        accents_s=np.array([a["time_s"] for a in acc]),
        accent_strength=np.array([a["strength"] for a in acc]),
    )
    src = "kinematic" if kin is not None else "visual (optical-flow)"
    if kin is not None and kin is not timeline.kinematics:
        src = "kinematic (head and arms, hands weighted)"
    why.append(
        f"beat grid on the dancer: {info['tracked']} beats tracked on {len(bt)} {src} beats, "
        f"smoothed to at most 2 % tempo change per beat ({info['tempo_bpm']:.0f} BPM)"
    )
    return grid


def dance_hits(kin: dict, b_arr, bar_t, dur: float, *, user_hits_s) -> list[Hit]:
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
    return with_user_hits(hits, user_hits_s, dur)
