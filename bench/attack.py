"""How late each General MIDI preset of the default font sounds after its note-on.

    python bench/attack.py [--velocity 80]

For every melodic program (bank 0), and every note 35-59 of the standard and orchestra
kits, six notes (two pitches in the instrument's range, at 0.7 s spacing, velocity 80)
are rendered alone with the default font and run through librosa's onset-strength
envelope (hop 128 at 22050 Hz, 5.8 ms); the peak after each
note-on, minus the same figure for a click track, is the preset's onset lag: the time its
attack takes to be heard as an onset. Prints the lags and the table of leads that
``v2m.rendering.attack`` keeps for MuseScore General (lags of 10 ms and more, capped at
50 ms; shorter ones are left alone). The kits' lags are printed for reference only: the
renderer does not move drums (tried: leading cymbals and the orchestra kit by their lags
took the onset at hits against ordinary downbeats from 2.25x to 1.74x in lofi and from
2.52x to 2.22x in pop, with no more cuts heard); the composer leads the orchestra kit's hit
drums by 10 ms itself.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np

SR, HOP = 22050, 128
TIMES = [1.0 + 0.7 * k for k in range(6)]
#: The kits v2m's styles select (standard, orchestra) and the notes its drum parts play.
KITS = (0, 48)
KIT_NOTES = tuple(range(35, 60))


def _lag(y: np.ndarray) -> float:
    import librosa

    env = librosa.onset.onset_strength(y=y, sr=SR, hop_length=HOP)
    ft = librosa.frames_to_time(np.arange(len(env)), sr=SR, hop_length=HOP)
    out = []
    for t0 in TIMES:
        m = (ft > t0 - 0.05) & (ft < t0 + 0.2)
        out.append(ft[m][np.argmax(env[m])] - t0)
    return float(np.median(out))


def _pitches(program: int) -> tuple[int, int]:
    if 32 <= program <= 39 or program in (42, 43, 58, 70):  # basses, cello, contrabass ...
        return 36, 43
    if program in (72, 73, 74, 75, 79, 80, 81, 84, 8, 9, 10, 11, 12, 13, 14, 98):
        return 72, 76  # high instruments and leads
    return 60, 67


def preset_lag(program: int, velocity: int, *, kit_note: int | None = None) -> float:
    """Onset lag (s) of a melodic program, or of one note of drum kit ``program`` when
    ``kit_note`` is given (channel 10)."""
    import librosa
    import mido

    from v2m.rendering import render

    ch = 9 if kit_note is not None else 0
    mf = mido.MidiFile(type=1, ticks_per_beat=480)
    tr = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0)])
    tr.append(mido.Message("program_change", channel=ch, program=program, time=0))
    now = 0
    for k, t in enumerate(TIMES):
        tick = int(round(t * 960))
        p = kit_note if kit_note is not None else _pitches(program)[k % 2]
        tr.append(mido.Message("note_on", channel=ch, note=p, velocity=velocity, time=tick - now))
        tr.append(mido.Message("note_off", channel=ch, note=p, velocity=0, time=300))
        now = tick + 300
    mf.tracks.append(tr)
    with tempfile.NamedTemporaryFile(suffix=".mid") as f:
        mf.save(f.name)
        r = render(f.name, attack_leads=False)
    y = librosa.resample(r.mix.mean(axis=1), orig_sr=r.sample_rate, target_sr=SR)
    return _lag(y)


def main() -> int:
    import librosa

    ap = argparse.ArgumentParser()
    ap.add_argument("--velocity", type=int, default=80)
    args = ap.parse_args()
    click = _lag(librosa.clicks(times=TIMES, sr=SR, length=int(6 * SR)))
    leads = {}
    for program in range(128):
        lag_ms = 1000 * (preset_lag(program, args.velocity) - click)
        print(f"program {program:3d}: onset {lag_ms:+6.1f} ms after a click's", flush=True)
        if lag_ms >= 10:
            leads[program] = int(round(min(lag_ms, 50)))
    kit_leads = {}
    for kit in KITS:
        for note in KIT_NOTES:
            lag_ms = 1000 * (preset_lag(kit, args.velocity, kit_note=note) - click)
            print(f"kit {kit:3d} note {note}: onset {lag_ms:+6.1f} ms after a click's", flush=True)
            if lag_ms >= 10:
                kit_leads[(kit, note)] = int(round(min(lag_ms, 50)))
    print("\nleads (ms):", leads)
    print("kit lags of 10 ms and more (not applied; see above):", kit_leads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
