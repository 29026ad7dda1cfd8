"""Drum patterns: the style's groove per energy level, varied so that no stretch repeats.

Variants (a new one every 8 bars of a section, cycling, and a different start per
section): the groove as written; with ghost snares and an open hi-hat before the
backbeat; with a pushed kick (and the ride instead of the hi-hat at high energy).
The fourth bar of each phrase adds a pickup (kick or open hi-hat on the last eighth).

Soft hits on a beat (the cinematic timpani on 2 and 4) grow to full strength as the tempo
rises through :data:`BEAT_PULSE_BPM`: at fast tempi a soft beat between two loud ones is
heard as the off-beat of a half-time pulse (madmom's tracker heard cinematic at 128 and
140 BPM at half tempo), while at slow tempi the soft pulse keeps the texture light.

Fills (the last beat, or the last two at high energy, before a new section and at the end
of every 8-bar phrase), four kinds chosen per position and seed: a snare roll that grows,
a tom run down the kit, kick and snare trading eighths, and a drop (silence, then one
snare pickup). Orchestral styles use their toms as timpani.
"""

from __future__ import annotations

import numpy as np

__all__ = ["groove_bar", "fill", "FILL_KINDS", "beat_pulse"]

FILL_KINDS = ("roll", "toms", "trade", "drop")
GHOST, OPEN_HAT, RIDE, HAT = 38, 46, 51, 42
#: Soft hits on the beat are soft up to the first tempo and loud from the second (BPM).
BEAT_PULSE_BPM = (100.0, 120.0)


def beat_pulse(tempo_bpm: float) -> float:
    """How far a soft hit on a beat moves toward a loud one at ``tempo_bpm`` (0..1)."""
    lo, hi = BEAT_PULSE_BPM
    return float(np.clip((tempo_bpm - lo) / (hi - lo), 0.0, 1.0))


def _step(pat: str, k: int, steps_per_beat: int) -> str:
    if steps_per_beat == 4:
        return pat[k % 16]
    # compound (6/8): map onto steps 0,2,4 (beat 1) and 8,10,12 (beat 2) of a 4/4 pattern
    return pat[(0, 2, 4, 8, 10, 12)[k % 6]]


def groove_bar(
    groove: dict[int, str], *, nsteps: int, steps_per_beat: int, variant: int, pickup: bool,
    level: int,
) -> list[tuple[int, int, bool]]:  # fmt: skip
    """Hits of one bar as ``(step, drum, loud)``; ``variant`` 0..2 (module docstring)."""
    out: list[tuple[int, int, bool]] = []
    for drum, pat in groove.items():
        d = RIDE if (variant == 2 and level == 2 and drum == HAT) else drum
        for k in range(nsteps):
            c = _step(pat, k, steps_per_beat)
            if c != ".":
                out.append((k, d, c == "x"))
    if steps_per_beat == 4 and groove:
        has = {(k, d) for k, d, _ in out}
        if variant == 1 and level >= 1:
            for k in (7, 15):
                if k < nsteps and (k, GHOST) not in has:
                    out.append((k, GHOST, False))
            if 14 < nsteps and level == 2:
                out.append((14, OPEN_HAT, False))
        if variant == 2 and level >= 1 and 36 in groove:
            for k in (3, 10):
                if k < nsteps and (k, 36) not in has:
                    out.append((k, 36, False))
                    break
        if pickup and nsteps >= 16:
            out.append((nsteps - 2, 36 if level >= 1 else OPEN_HAT, False))
    return out


def fill(
    kind: str, *, n_steps: int, steps_per_beat: int, orchestral: bool
) -> list[tuple[int, int, float]]:
    """A fill of ``n_steps`` steps as ``(step, drum, level 0..1)``, louder toward its end."""
    toms = (47, 45, 43, 41, 43, 41) if orchestral else (50, 48, 47, 45, 43, 41)
    out: list[tuple[int, int, float]] = []
    for k in range(n_steps):
        grow = (k + 1) / n_steps
        if kind == "roll":
            out.append((k, 38, 0.4 + 0.6 * grow))
        elif kind == "toms":
            if k % 2 == 0 or steps_per_beat == 3:
                out.append((k, toms[(k * len(toms)) // n_steps], 0.5 + 0.5 * grow))
        elif kind == "trade":
            if k % 2 == 0:
                out.append((k, 36 if (k // 2) % 2 == 0 else 38, 0.5 + 0.5 * grow))
        elif kind == "drop":
            if k == n_steps - 1:
                out.append((k, 38, 0.9))
    return out


def fill_kind(seed: int, bar: int, orchestral: bool) -> str:
    g = np.random.default_rng([int(seed) & 0xFFFFFFFF, bar, 404])
    kinds = ("toms", "roll", "drop") if orchestral else FILL_KINDS
    return kinds[int(g.integers(len(kinds)))]
