"""Benchmark: is the music something a listener would keep? (the score issue's targets)

Prints, for each of the 7 styles x 180 s (a constant-tempo cue), for a 180 s montage
(a built timeline: 60 cuts at irregular times, every fourth a scene change) and for a 60 s
montage of the real clips (shots of 1.5-5 s cut from ../shared/data/video/, analysed by v2m)
projected in each style, then for the real clips themselves:

* tempo map: largest beat-to-beat change (<= 4 %), irregular bars per 8 (<= 1), shortest
  bar (>= 2 beats);
* cuts: share of hard cuts on a beat or caught by an accent at the cut, measured in the
  rendered audio (an onset within 35 ms; >= 90 %), and of scene-change cuts on beats
  (>= 95 %);
* ending: final chord (>= 2 s), peak of the last 50 ms (< -40 dBFS), largest sample jump
  in the last 200 ms (<= 0.01);
* melody: semitone clashes (<= 4 %), notes at/below the accompaniment (<= 5 %), repeated
  pitches (<= 15 %), parallel fifths/octaves with the bass (<= 5 % of chord changes);
* form: distinct melody bar rhythms per 64 bars (>= 12), longest all-part repeat
  (<= 8 bars), distinct drum bars (>= 8), short-term loudness spread p90 - p10 over 3 s
  windows (>= 5 LU) and where the loudest 10 s lie (last third);
* quietest 100 ms inside the piece, from the first note's first 100 ms on (> -45 dBFS);
  onset strength at hits against ordinary downbeats (>= 2x);
* two different images: shared melody notes (<= 50 %); composing 10 minutes (< 2 s).

    python bench/music.py [--seconds 180] [--only cues|montages|clips]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import librosa
import numpy as np

from v2m.analysis import analyze
from v2m.composition import compose
from v2m.composition.checks import final_chord_s, form_stats, melody_stats, tempo_stats
from v2m.cuesheet import make_cue
from v2m.projection import project
from v2m.rendering import render
from v2m.rendering.mastering import _k_weighting_sos
from v2m.styles import STYLE_NAMES

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import montage_timeline  # noqa: E402


def montage(seconds: float, *, seed: int = 0):
    """The montage timeline the projection tests use (tests/synth.py)."""
    return montage_timeline(seconds, seed=seed)


def audio_figures(x: np.ndarray, sr: int, cue, *, first_s: float = 0.0) -> dict:
    """Figures of the rendered mix; the quietest 100 ms is looked for from the first note's
    first 100 ms on (as bench/sound.py does: a slow attack is how a piece begins, not a
    hole inside it)."""
    from scipy.signal import sosfilt

    mono = x.mean(axis=1)
    n = len(mono)
    tail = mono[-int(0.05 * sr) :]
    last = x[-int(0.2 * sr) :]
    body = mono[int((first_s + 0.1) * sr) : n - int(1.0 * sr)]
    hop = sr // 10
    rms = np.sqrt(np.mean(body[: len(body) // hop * hop].reshape(-1, hop) ** 2, axis=1))
    k = sosfilt(_k_weighting_sos(sr), x.astype(np.float64), axis=0)
    w = 3 * sr
    e = (k[: n // w * w] ** 2).reshape(-1, w, 2).mean(axis=1).sum(axis=1)
    st = -0.691 + 10 * np.log10(np.maximum(e, 1e-12))
    loud10 = np.convolve(e, np.ones(3), "valid")  # 9 s windows of 3 s blocks
    pos = min(1.0, (np.argmax(loud10) + 1.5) * 3 / (n / sr)) if loud10.size else 0.5
    return {
        "tail_dbfs": 20 * np.log10(np.abs(tail).max() + 1e-12),
        "jump": float(np.abs(np.diff(last, axis=0)).max()),
        "quietest_dbfs": 20 * np.log10(rms.min() + 1e-12) if rms.size else 0.0,
        "spread_lu": float(np.percentile(st, 90) - np.percentile(st, 10)) if st.size > 2 else 0,
        "loudest_at": float(pos),
    }


def onset_figures(x: np.ndarray, sr: int, cue, cut_times, strong_times) -> dict:
    y = librosa.resample(x.mean(axis=1), orig_sr=sr, target_sr=22050)
    env = librosa.onset.onset_strength(y=y, sr=22050, hop_length=256)
    ons = librosa.onset.onset_detect(onset_envelope=env, sr=22050, hop_length=256, units="time")
    ft = librosa.frames_to_time(np.arange(len(env)), sr=22050, hop_length=256)

    def strength(t):
        m = np.abs(ft - t) <= 0.035
        return float(env[m].max()) if m.any() else 0.0

    cut_ok = [bool(ons.size and np.min(np.abs(ons - c)) <= 0.035) for c in cut_times]
    beats = np.asarray(cue.beats_s)
    strong_on = [float(np.min(np.abs(beats - c))) <= 0.035 for c in strong_times]
    hits = [h.time_s for h in cue.hits if h.strength >= 0.5]
    db = [beats[d] for d in cue.downbeats if beats[d] < cue.duration_s - 2]
    ordinary = [t for t in db if all(abs(t - h.time_s) > 0.5 for h in cue.hits)]
    ratio = float("nan")
    if hits and ordinary:
        h, o = np.median([strength(t) for t in hits]), np.median([strength(t) for t in ordinary])
        # no onset at all at the ordinary downbeats (sustained music): the hits stand out
        ratio = h / o if o > 1e-6 else (float("inf") if h > 0 else float("nan"))
    return {
        "cuts_heard": float(np.mean(cut_ok)) if cut_ok else float("nan"),
        "strong_on_beat": float(np.mean(strong_on)) if strong_on else float("nan"),
        "hit_ratio": float(ratio),
    }


def row(name: str, cue, sc, rendered, cut_times=(), strong_times=()) -> dict:
    t = tempo_stats(cue)
    m = melody_stats(sc)
    f = form_stats(sc)
    first = min((n.start for notes in sc.parts.values() for n in notes), default=0.0)
    first_s = float(np.interp(first, np.arange(len(cue.beats_s)), cue.beats_s))
    a = audio_figures(rendered.mix, rendered.sample_rate, cue, first_s=first_s)
    o = onset_figures(rendered.mix, rendered.sample_rate, cue, cut_times, strong_times)
    return {"name": name, **t, **m, **f, **a, **o, "final_s": final_chord_s(sc)}


COLS = [
    ("max_change", "tempo chg %", 100),
    ("irregular_per_8", "irr/8", 1),
    ("min_bar_beats", "min bar", 1),
    ("cuts_heard", "cuts heard %", 100),
    ("strong_on_beat", "scene on beat %", 100),
    ("final_s", "final s", 1),
    ("tail_dbfs", "tail dBFS", 1),
    ("jump", "jump", 1),
    ("clash_rate", "clash %", 100),
    ("below_rate", "below %", 100),
    ("repeat_rate", "repeat %", 100),
    ("parallel_rate", "par %", 100),
    ("rhythms_per_64", "rhythms/64", 1),
    ("longest_repeat", "repeat bars", 1),
    ("drum_bars", "drum bars", 1),
    ("spread_lu", "spread LU", 1),
    ("loudest_at", "loudest at", 1),
    ("quietest_dbfs", "quietest dBFS", 1),
    ("hit_ratio", "hit/downbeat", 1),
]


def print_table(rows: list[dict]) -> None:
    print("| piece | " + " | ".join(c[1] for c in COLS) + " |")
    print("|---" * (len(COLS) + 1) + "|")
    for r in rows:
        vals = []
        for key, _label, scale in COLS:
            v = r.get(key, float("nan"))
            if v is not None and np.isinf(v):
                vals.append("inf")
            else:
                vals.append("-" if v is None or not np.isfinite(v) else f"{v * scale:.2f}")
        print(f"| {r['name']} | " + " | ".join(vals) + " |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument(
        "--only",
        choices=("cues", "montages", "clips", "all"),
        default="all",
        help="measure only the constant-tempo cues, the montages or the real clips",
    )
    args = ap.parse_args()
    dur = args.seconds
    rows = []
    styles = STYLE_NAMES if args.only in ("cues", "all") else ()
    for style in styles:
        cue = make_cue(duration_s=dur, style=style, key="A minor", seed=7)
        sc = compose(cue)
        rows.append(row(f"{style} cue {dur:.0f} s", cue, sc, render(sc)))
    tl = montage(dur)
    cut_times = [c.time_s for c in tl.cuts]
    strong_times = [c.time_s for c in tl.cuts if c.score >= 80]
    for style in STYLE_NAMES if args.only in ("montages", "all") else ():
        pr = project(tl, style=style, seed=7)
        sc = compose(pr.cue)
        rows.append(row(f"{style} montage", pr.cue, sc, render(sc), cut_times, strong_times))
    if args.only in ("montages", "all"):
        from _media import real_montage

        tlr = analyze(real_montage(60, shared=SHARED))
        cut_times = [c.time_s for c in tlr.cuts if c.kind == "hard"]
        for style in STYLE_NAMES:
            pr = project(tlr, style=style, seed=7)
            sc = compose(pr.cue)
            rows.append(row(f"{style} real montage 60 s", pr.cue, sc, render(sc), cut_times))
    clips = sorted((SHARED / "video").glob("*")) if args.only in ("clips", "all") else []
    for clip in clips:
        tlc = analyze(clip)
        pr = project(tlc)
        sc = compose(pr.cue)
        hard = [c.time_s for c in tlc.cuts if c.kind == "hard"]
        strong = (
            [
                c.time_s
                for c in tlc.cuts
                if c.score >= np.quantile([x.score for x in tlc.cuts], 2 / 3)
            ]
            if tlc.cuts
            else []
        )
        rows.append(row(f"{clip.name} ({pr.cue.style})", pr.cue, sc, render(sc), hard, strong))
    print_table(rows)
    if args.only != "all":
        return
    imgs = [SHARED / "images" / n for n in ("astronaut.png", "chelsea.png")]
    if all(p.exists() for p in imgs):
        mel = []
        for p in imgs:
            notes = compose(project(analyze(p, duration_s=30)).cue).parts["melody"]
            mel.append({(round(n.start, 1), n.pitch) for n in notes})
        shared = len(mel[0] & mel[1]) / max(1, min(len(mel[0]), len(mel[1])))
        print(f"\ntwo images (astronaut, chelsea): {100 * shared:.1f} % of melody notes shared")
    t0 = time.perf_counter()
    for style in STYLE_NAMES:
        compose(make_cue(duration_s=600, style=style, seed=1))
    print(f"composing 10 minutes: {(time.perf_counter() - t0) / len(STYLE_NAMES):.2f} s per style")
    t0 = time.perf_counter()
    project(montage(600.0, seed=1), style="pop")
    print(f"projecting a 10-minute montage (200 cuts): {time.perf_counter() - t0:.2f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
