"""Benchmark the composer's output against real music, and its speed.

For every style, 10 seeds in a major and a minor key (60 s each), prints muspy's
scale_consistency, pitch_class_entropy, groove_consistency (one bar) and empty_beat_rate,
next to the same figures for real pieces from the corpus shipped inside music21; then the
time to compose 10 minutes of music and the render speed (x real time, mix only and with
stems).

    python bench/compose.py [--pieces 40] [--markdown docs/benchmarks-compose.md]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import muspy
import numpy as np
import pretty_midi

from v2m.composition import compose
from v2m.cuesheet import make_cue
from v2m.rendering import render
from v2m.styles import STYLE_NAMES

sys.path.insert(0, str(Path(__file__).resolve().parent))

KEYS = {"major": "D major", "minor": "A minor"}


def metrics(music: muspy.Music) -> dict:
    res = music.resolution
    return {
        "scale_consistency": muspy.scale_consistency(music),
        "pitch_class_entropy": muspy.pitch_class_entropy(music),
        "groove_consistency": muspy.groove_consistency(music, measure_resolution=4 * res),
        "empty_beat_rate": muspy.empty_beat_rate(music),
    }


def ours(style: str, mode: str, seeds=range(10)) -> list[dict]:
    out = []
    for seed in seeds:
        cue = make_cue(duration_s=60, style=style, key=KEYS[mode], seed=seed)
        pm = pretty_midi.PrettyMIDI(io.BytesIO(compose(cue).to_bytes()))
        # drums have no pitch classes; muspy's pitch metrics are about pitched notes
        pm.instruments = [i for i in pm.instruments if not i.is_drum]
        out.append(metrics(muspy.from_pretty_midi(pm)))
    return out


def corpus(n: int) -> list[dict]:
    from _corpus import corpus_midi_files

    out = []
    for p in corpus_midi_files(n):
        music = muspy.from_pretty_midi(pretty_midi.PrettyMIDI(str(p)))
        if music.get_end_time() > 0:
            out.append(metrics(music))
    return out


def summarise(rows: list[dict]) -> dict:
    return {
        k: (
            float(np.mean([r[k] for r in rows])),
            float(np.min([r[k] for r in rows])),
            float(np.max([r[k] for r in rows])),
        )
        for k in rows[0]
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pieces", type=int, default=40)
    ap.add_argument("--markdown", type=Path, default=None)
    args = ap.parse_args()
    lines = [
        "| source | key | scale consistency (mean, min) | pitch-class entropy (mean, "
        "range) | groove consistency | empty beat rate |",
        "|---|---|---|---|---|---|",
    ]
    real = summarise(corpus(args.pieces))
    lo_e, hi_e = real["pitch_class_entropy"][1], real["pitch_class_entropy"][2]
    for style in STYLE_NAMES:
        for mode in KEYS:
            s = summarise(ours(style, mode))
            sc, pe, gc, eb = (
                s[k]
                for k in (
                    "scale_consistency",
                    "pitch_class_entropy",
                    "groove_consistency",
                    "empty_beat_rate",
                )
            )
            inside = "in" if lo_e <= pe[0] <= hi_e else "OUT of"
            lines.append(
                f"| v2m {style} | {mode} | {sc[0]:.3f}, {sc[1]:.3f} | {pe[0]:.2f} "
                f"({pe[1]:.2f}-{pe[2]:.2f}; {inside} corpus range) | {gc[0]:.3f} | "
                f"{eb[0]:.3f} |"
            )
    sc, pe, gc, eb = (
        real[k]
        for k in (
            "scale_consistency",
            "pitch_class_entropy",
            "groove_consistency",
            "empty_beat_rate",
        )
    )
    lines.append(
        f"| music21 corpus (Bach, {args.pieces} pieces) | mixed | {sc[0]:.3f}, "
        f"{sc[1]:.3f} | {pe[0]:.2f} ({pe[1]:.2f}-{pe[2]:.2f}) | {gc[0]:.3f} | "
        f"{eb[0]:.3f} |"
    )
    cue = make_cue(duration_s=600, style="pop", key="A minor", seed=0)
    t = time.perf_counter()
    sc_ = compose(cue)
    t_comp = time.perf_counter() - t
    t = time.perf_counter()
    render(sc_)
    t_mix = time.perf_counter() - t
    t = time.perf_counter()
    render(sc_, stems=True)
    t_stems = time.perf_counter() - t
    lines += [
        "",
        f"10 minutes of music (pop, 5 tracks): composed in {t_comp:.2f} s; rendered "
        f"and mastered at {600 / t_mix:.0f}x real time (mix), {600 / t_stems:.0f}x with "
        "stems (each role synthesised on its own).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(
            "# Composer benchmark\n\nMade by `python bench/compose.py`.\n\n" + text + "\n"
        )


if __name__ == "__main__":
    main()
