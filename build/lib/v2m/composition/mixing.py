"""The mix, written into the score as MIDI controller changes.

Per role (from the style's :class:`~v2m.styles.RoleMix`): channel volume (CC7), pan
(CC10), reverb and chorus sends (CC91, CC93) and a filter offset (a SoundFont 2 NRPN)
at the start; an expression curve (CC11) that
follows the energy per bar (the role's swell plus dynamics shared by the band) and swells
into louder bars; the sustain pedal (CC64) for piano parts, lifted and pressed again at
every chord change. SoundFont synthesisers (FluidSynth, midirenderer) apply all of them,
and they survive in the MIDI file a user opens in a DAW.
"""

from __future__ import annotations

import math

import numpy as np

from ..styles import RoleMix, Style
from .score import Note

__all__ = ["mix_controls", "db_to_cc", "cc_to_db", "role_mix", "filter_offset_nrpn"]

CC_VOLUME, CC_PAN, CC_EXPRESSION, CC_PEDAL, CC_REVERB, CC_CHORUS = 7, 10, 11, 64, 91, 93
CC_DATA_MSB, CC_DATA_LSB, CC_NRPN_LSB, CC_NRPN_MSB = 6, 38, 98, 99
#: SoundFont 2 NRPNs: parameter MSB 120 selects "generator", the LSB its number (< 100);
#: the 14-bit data is centred on 8192, in the generator's NRPN unit (2 cents for the cutoff).
SF2_NRPN_MSB, GEN_FILTER_FC, FILTER_FC_NRPN_CENTS = 120, 8, 2.0

#: Defaults for roles a style does not list.
_DEFAULT = {
    "drums": RoleMix(level_db=-4.0, pan=0.0, reverb=0.2, swell_db=0.0),
    "bass": RoleMix(level_db=-4.0, pan=0.0, reverb=0.1, swell_db=3.0),
    "melody": RoleMix(level_db=0.0, pan=0.05, reverb=0.35, swell_db=4.0),
    "harmony": RoleMix(level_db=-8.0, pan=-0.25, reverb=0.35, swell_db=6.0),
    "pad": RoleMix(level_db=-10.0, pan=0.25, reverb=0.5, swell_db=8.0),
    "arp": RoleMix(level_db=-10.0, pan=0.4, reverb=0.35, swell_db=4.0),
}


def db_to_cc(db: float) -> int:
    """CC7/CC11 value for a level in dB (the SoundFont 2 curve: 40 log10(v / 127))."""
    return int(min(127, max(1, round(127 * 10 ** (min(db, 0.0) / 40)))))


def cc_to_db(value: int) -> float:
    """Level in dB of a CC7/CC11 value (the SoundFont 2 curve)."""
    return 40 * math.log10(max(value, 1) / 127)


def filter_offset_nrpn(cents: float) -> list[tuple[None, int, int]]:
    """The controller sequence that offsets a channel's filter cutoff by ``cents``.

    A SoundFont 2 NRPN (parameter 120/8, data LSB before MSB, as FluidSynth applies the
    value on the MSB), then the null parameter (127/127) so a later data entry changes
    nothing. The events must stay in this order.
    """
    units = int(round(cents / FILTER_FC_NRPN_CENTS))
    data = min(16383, max(0, 8192 + units))
    return [
        (None, CC_NRPN_MSB, SF2_NRPN_MSB),
        (None, CC_NRPN_LSB, GEN_FILTER_FC),
        (None, CC_DATA_LSB, data & 0x7F),
        (None, CC_DATA_MSB, data >> 7),
        (None, CC_NRPN_MSB, 127),
        (None, CC_NRPN_LSB, 127),
    ]


def role_mix(style: Style, role: str) -> RoleMix:
    """The style's mix for ``role``, or the default."""
    return style.mix.get(role, _DEFAULT.get(role, RoleMix()))


#: Dynamics shared by every role (drums too) on top of the role's own swell: the whole
#: band plays this much softer in the piece's quietest bars than in its loudest (the
#: piece's own energy range, so a cue with a narrow energy range still has a shape).
DYNAMICS_DB = 5.0


def _energy_range(bar_energy: list[float]) -> tuple[float, float]:
    """The piece's own energy range (5th and 95th percentile of the bars): (top, span)."""
    lo, hi = np.percentile(bar_energy, [5, 95]) if bar_energy else (0.0, 1.0)
    return float(hi), max(float(hi - lo), 0.1)


def _expression(
    m: RoleMix,
    bars: list[tuple[float, float]],
    bar_energy: list[float],
    hits: list[tuple[float, float]],
    energy_range: tuple[float, float],
) -> list[tuple[float, int, int]]:
    """CC11 per bar from the energy; a rise into the next bar is a swell over the bar's
    second half (a build-up), a fall happens at the bar line; strong hits are played at
    full expression for a beat."""
    if not bars:
        return []
    hi, span = energy_range

    def level(e: float) -> float:
        e = min(1.0, max(0.0, e))
        shared = min(1.0, max(0.0, (hi - e) / span))
        return -m.swell_db * (1.0 - e) - DYNAMICS_DB * shared

    out: list[tuple[float, int, int]] = []
    last = None

    def put(beat: float, db: float) -> None:
        nonlocal last
        v = db_to_cc(db)
        if v != last:
            out.append((round(beat, 4), CC_EXPRESSION, v))
            last = v

    for i, (a, b) in enumerate(bars):
        here = level(bar_energy[i])
        put(a, here)
        if i + 1 < len(bars):
            nxt = level(bar_energy[i + 1])
            if nxt > here + 0.5:
                mid = a + (b - a) / 2
                steps = max(2, int((b - mid) * 4))
                for k in range(1, steps + 1):
                    put(mid + (b - mid) * k / (steps + 1), here + (nxt - here) * k / (steps + 1))
    for beat, strength in hits:
        if strength < 0.5:
            continue
        i = max((k for k, (a, _) in enumerate(bars) if a <= beat + 1e-6), default=0)
        out.append((round(beat, 4), CC_EXPRESSION, 127))
        out.append((round(beat + 1.0, 4), CC_EXPRESSION, db_to_cc(level(bar_energy[i]))))
    out.sort(key=lambda e: e[0])
    return out


def _pedal(
    chord_starts: list[float], notes: list[Note], accents: list[tuple[float, float]] = ()
) -> list[tuple[float, int, int]]:
    """Legato pedalling: up at each chord change, down again a moment later; up for good
    when the part's last note ends. At an accent, (breath start, hit), the pedal is up
    from the breath to just after the hit, so the breath is heard (a held pedal would ring
    through it)."""
    if not notes:
        return []
    end = max(n.end for n in notes)
    lifts = [(c, c) for c in chord_starts] + [tuple(a) for a in accents]
    out = [(0.0, CC_PEDAL, 127)]
    for up, hit in sorted(lifts):
        if 0 < up and hit < end - 0.25:
            out.append((round(up, 4), CC_PEDAL, 0))
            out.append((round(hit + 0.06, 4), CC_PEDAL, 127))
    out.append((round(end, 4), CC_PEDAL, 0))
    out.sort(key=lambda e: e[0])
    return out


def mix_controls(
    style: Style,
    parts: dict[str, list[Note]],
    *,
    bars: list[tuple[float, float]],
    bar_energy: list[float],
    chord_starts: list[float],
    hits: list[tuple[float, float]],
    accents: list[tuple[float, float]] = (),
) -> dict[str, list[tuple[float | None, int, int]]]:
    """Controller changes per role with notes: (beat or None for tick 0, controller, value).

    Parameters
    ----------
    bars : list of (start_beat, end_beat)
    bar_energy : list of float
        Energy 0..1 per bar.
    chord_starts : list of float
        Beats where the chord changes.
    hits : list of (beat, strength)
    accents : list of (breath start beat, hit beat)
        The strong hits, where a pedalled part lifts the pedal.
    """
    out: dict[str, list[tuple[float | None, int, int]]] = {}
    energy_range = _energy_range(bar_energy)
    for role, notes in parts.items():
        if not notes:
            continue
        m = role_mix(style, role)
        ev: list[tuple[float | None, int, int]] = [
            (None, CC_VOLUME, db_to_cc(m.level_db)),
            (None, CC_PAN, int(round(64 + 63 * max(-1.0, min(1.0, m.pan))))),
            (None, CC_REVERB, int(round(127 * m.reverb))),
            (None, CC_CHORUS, int(round(127 * m.chorus))),
            (None, CC_EXPRESSION, 127),
        ]
        if m.brightness_cents:
            ev += filter_offset_nrpn(m.brightness_cents)
        ev += _expression(m, bars, bar_energy, hits, energy_range)
        if m.pedal:
            ev += _pedal(chord_starts, notes, accents)
        out[role] = ev
    return out
