"""The picture's choices of style, key and tempo, and the sentences that explain them."""

from __future__ import annotations

import math

import numpy as np

from ..cuesheet import (
    RIT_MAX,
    RIT_STEP,
    parse_key,
    ritardando,
)
from ..styles import get_style
from ..timeline import Timeline

_SHARP_TONICS = [2, 9, 4, 7]  # D A E G
_FLAT_TONICS = [5, 10, 3, 0]  # F Bb Eb C


def choose_style(
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


def pick_style(
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
    style, reason = choose_style(
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


def slow_ending(beats, *, cuts_s: list[float], hits_s: list[float], dur: float, why: list[str]):
    """The beats with a ritardando after the last cut or hit (:func:`ritardando`); the
    report says how much and after what."""
    marks_s = [*cuts_s, *hits_s]
    before = np.asarray(beats, float)
    beats, n_rit = ritardando(beats, after_s=max([*marks_s, 0.0]), duration_s=dur)
    if n_rit:
        after = max(marks_s, default=None)
        last = "" if after is None else "cut" if after in cuts_s else "hit"
        # the slowing reached: the largest stretch of a beat heard (one starting in the piece)
        b = np.asarray(beats, float)
        heard = b[:-1] < dur
        reached = float(np.max(np.diff(b)[heard] / np.diff(before)[heard])) - 1.0
        why.append(
            (
                "ritardando: the last beat slows"
                if n_rit == 1
                else f"ritardando: the last {n_rit} beats slow"
            )
            + f" down by {100 * reached:.0f} % "
            f"({100 * RIT_STEP:.0f} % a beat, at most {100 * RIT_MAX:.0f} %)"
            + (f", after the last {last}" if last else "")
        )
    return beats


def choose_key(key: str | None, *, valence: float, warmth: float, why: list[str]) -> str:
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


def target_tempo(
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


def tempo_map_note(
    beats, *, n_irregular: int, n_bars: int, target_bpm: float | None = None, follows: str = ""
) -> str:
    """The report's line on the tempo map: mean and local tempo, largest beat-to-beat
    change, irregular bars; and why it is not the tempo aimed at, when it is not."""
    periods = np.diff(beats)
    bpm_lo, bpm_hi = 60 / periods.max(), 60 / periods.min()
    mean_bpm = 60 / float(np.median(periods))
    change = np.abs(np.diff(np.log(periods))) if len(periods) > 1 else np.zeros(1)
    moved = ""
    if target_bpm and abs(mean_bpm / target_bpm - 1) > 0.03 and follows:
        moved = f" (not the {target_bpm:.0f} BPM aimed at: the beat grid follows {follows})"
    return (
        f"tempo map: {mean_bpm:.0f} BPM{moved} (local {bpm_lo:.0f}-{bpm_hi:.0f}), largest "
        f"beat-to-beat change {100 * (math.exp(change.max()) - 1):.1f} %, "
        f"{n_irregular} irregular bar(s) of {n_bars}"
    )
