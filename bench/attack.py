"""How late each General MIDI preset of the default font sounds after its note-on.

    python bench/attack.py [--velocity 80]

For every melodic program (bank 0), six notes (two pitches in the instrument's range, at
0.7 s spacing, velocity 80) are rendered alone with the default font and run through
librosa's onset-strength envelope (hop 128 at 22050 Hz, 5.8 ms); the peak after each
note-on, minus the same figure for a click track, is the preset's onset lag: the time its
attack takes to be heard as an onset. Prints the lags and the table of leads that
``v2m.rendering.attack`` keeps for MuseScore General (lags of 10 ms and more, capped at
50 ms; shorter ones are left alone).
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np

SR, HOP = 22050, 128
TIMES = [1.0 + 0.7 * k for k in range(6)]


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


def preset_lag(program: int, velocity: int) -> float:
    import librosa
    import mido

    from v2m.rendering import render

    mf = mido.MidiFile(type=1, ticks_per_beat=480)
    tr = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0)])
    tr.append(mido.Message("program_change", program=program, time=0))
    now = 0
    for k, t in enumerate(TIMES):
        tick = int(round(t * 960))
        p = _pitches(program)[k % 2]
        tr.append(mido.Message("note_on", note=p, velocity=velocity, time=tick - now))
        tr.append(mido.Message("note_off", note=p, velocity=0, time=300))
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
    print("\nleads (ms):", leads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
