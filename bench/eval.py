"""Benchmark v2m.metrics against muspy on real pieces, and the audio metrics' speed.

Symbolic: the five metrics muspy has (pitch entropy, pitch-class entropy, scale
consistency, empty beat rate, groove consistency) on >= 200 Bach chorales from music21's
corpus, computed by muspy (on muspy.Music) and by v2m (on v2m Notes made from the same
Music), timed in the same run; the values are checked equal (1e-9). Audio: BCS/BHS (both
variants) and beat F-measure on a rendered 60 s piece, as a real-time factor. Structure:
the fitness scape plot against libfmp's on 30 s and 60 s renders (same SSM, values
checked), and the time of the structure indicator of a 3-minute piece.

    python bench/eval.py [--pieces 200] [--eval-files 300] [--si-files 30]

Also: ``v2m.evaluation.evaluate_files`` with its default metrics on ``--eval-files`` short
MIDI files (composed here, 12-20 s each), serial against two worker processes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import muspy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import corpus_midi_files  # noqa: E402

from v2m.metrics import rhythm  # noqa: E402
from v2m.metrics import symbolic as S  # noqa: E402


def muspy_all(m):
    r = m.resolution
    return (
        muspy.pitch_entropy(m),
        muspy.pitch_class_entropy(m),
        muspy.scale_consistency(m),
        muspy.empty_beat_rate(m),
        muspy.groove_consistency(m, 4 * r),
    )


def v2m_all(n):
    r = n.resolution
    return (
        S.pitch_entropy(n),
        S.pitch_class_entropy(n),
        S.scale_consistency(n),
        S.empty_beat_rate(n),
        S.groove_consistency(n, measure_resolution=4 * r),
    )


def eval_speed(n: int, si_files: int = 30) -> None:
    import tempfile

    from v2m.composition import compose
    from v2m.cuesheet import make_cue
    from v2m.evaluation import evaluate_files
    from v2m.styles import STYLE_NAMES

    with tempfile.TemporaryDirectory() as d:
        for i in range(n):
            cue = make_cue(duration_s=12 + i % 9, style=STYLE_NAMES[i % 7], seed=i)
            compose(cue).save(Path(d) / f"f{i:03d}.mid")
        times = {}
        for jobs in (1, 2):
            t = time.perf_counter()
            rep = evaluate_files(d, jobs=jobs)
            times[jobs] = time.perf_counter() - t
            assert len(rep.files) == n
        print(
            f"v2m eval, default metrics, {n} short MIDI files: serial {times[1]:.1f} s, "
            f"2 workers {times[2]:.1f} s ({times[1] / times[2]:.2f}x)"
        )
        si_speed(sorted(Path(d).glob("*.mid"))[:si_files])


def si_speed(files: list[Path]) -> None:
    """The opt-in structure indicator renders every file: cold cache vs warm cache."""
    import os
    import shutil
    import tempfile

    from v2m.evaluation import SI_NAMES, evaluate_files

    with tempfile.TemporaryDirectory() as d:
        for f in files:
            shutil.copy(f, d)
        # main() pointed V2M_CACHE_DIR at an empty folder before any worker started (the
        # forkserver keeps the environment it started with)
        assert not list(Path(os.environ["V2M_CACHE_DIR"]).glob("renders/*.npy"))
        times = []
        for _ in ("cold", "warm"):
            t = time.perf_counter()
            evaluate_files(d, metrics=list(SI_NAMES), jobs=2)
            times.append(time.perf_counter() - t)
        print(
            f"v2m eval --metrics si_short,si_mid,si_long, {len(files)} MIDI files, 2 workers: "
            f"renders not cached {times[0]:.1f} s, cached {times[1]:.1f} s "
            f"({times[0] / times[1]:.1f}x)"
        )


def main() -> None:
    import os
    import tempfile

    os.environ["V2M_CACHE_DIR"] = tempfile.mkdtemp(prefix="v2m-bench-cache-")
    ap = argparse.ArgumentParser()
    ap.add_argument("--pieces", type=int, default=200)
    ap.add_argument("--eval-files", type=int, default=300)
    ap.add_argument("--si-files", type=int, default=30)
    args = ap.parse_args()
    eval_speed(args.eval_files, args.si_files)
    files = corpus_midi_files(args.pieces)
    musics = [muspy.read_midi(str(f)) for f in files]
    notes = [S.notes_from_muspy(m) for m in musics]
    reps = 3
    t = time.perf_counter()
    for _ in range(reps):
        ref = [muspy_all(m) for m in musics]
    t_muspy = (time.perf_counter() - t) / reps
    t = time.perf_counter()
    for _ in range(reps):
        ours = [v2m_all(n) for n in notes]
    t_v2m = (time.perf_counter() - t) / reps
    worst = float(np.max(np.abs(np.array(ref) - np.array(ours))))
    n_notes = sum(len(n.onset) for n in notes)
    print(f"{len(files)} pieces, {n_notes} notes; 5 symbolic metrics each")
    print(
        f"muspy: {t_muspy * 1000:.0f} ms; v2m: {t_v2m * 1000:.0f} ms; "
        f"v2m is {t_muspy / t_v2m:.1f}x faster; largest difference {worst:.1e}"
    )

    from v2m.composition import compose
    from v2m.cuesheet import make_cue
    from v2m.rendering import render

    y = render(compose(make_cue(duration_s=60, style="pop", seed=0)), sample_rate=44100).mix.mean(
        axis=1
    )
    import librosa

    y22 = librosa.resample(y, orig_sr=44100, target_sr=22050)
    t = time.perf_counter()
    for variant in ("d2mgan", "loris"):
        on = rhythm.detect_onsets(y22, 22050, variant=variant)
        rhythm.beats_coverage_score(on, on, ref_duration_s=60, gen_duration_s=60)
        rhythm.beats_hit_score(on, on, ref_duration_s=60, gen_duration_s=60)
    _, beats = librosa.beat.beat_track(y=y22, sr=22050, units="time")
    rhythm.beat_f_measure(beats, beats)
    dt = time.perf_counter() - t
    print(
        f"audio metrics (BCS/BHS x2 variants + beat F) on 60 s: {dt:.2f} s = "
        f"{60 / dt:.0f}x real time"
    )
    _ = compose

    # structure indicator: our scape plot against libfmp's (the code MusDr's script uses)
    import libfmp.c4

    from v2m.metrics import structure as ST

    for secs in (30, 60):
        yy = render(compose(make_cue(duration_s=secs, style="piano", seed=1)), sample_rate=44100)
        ssm = ST.self_similarity(ST.chroma_features(yy.mix, 44100))
        t_ours = t_ref = np.inf
        for _ in range(2):  # best of two: the first run also compiles (both use numba)
            t = time.perf_counter()
            ours_sp = ST.fitness_scape(ssm)
            t_ours = min(t_ours, time.perf_counter() - t)
            t = time.perf_counter()
            ref_sp = libfmp.c4.compute_fitness_scape_plot(ssm)[0]
            t_ref = min(t_ref, time.perf_counter() - t)
        print(
            f"scape plot of {secs} s ({ssm.shape[0]} frames): libfmp {t_ref:.2f} s, v2m "
            f"{t_ours:.3f} s = {t_ref / t_ours:.1f}x faster; largest difference "
            f"{np.abs(ours_sp - ref_sp).max():.1e}"
        )
    yy = render(compose(make_cue(duration_s=180, style="piano", seed=1)), sample_rate=44100)
    t = time.perf_counter()
    si = ST.structure_indicator(yy.mix, 44100)
    print(
        f"structure indicator of 180 s (SI lengths 3-128 s): {time.perf_counter() - t:.1f} s "
        f"({', '.join(f'{k} {v:.3f}' for k, v in si.items())})"
    )


if __name__ == "__main__":
    main()
