"""Dance videos: pose analysis speed against decode-only, and the alignment figures.

    python bench/dance.py [--video ../shared/data/video/dancer.avi] [--skip-720p]

Prints, for the dance clip (and the same clip scaled to 1280x720, made here once):
- decode-only time (every frame decoded, as in bench/analyze.py), the analysis
  without pose and with pose, as ratios against decode-only;
- the kinematic tempo and its confidence against the tempo librosa tracks in the clip's own
  soundtrack (a miss when off by more than 4 %, octaves included);
- the beat align score (AIST++: over the kinematic beats, against librosa's beats of the
  music; 25 fps, sigma 3 frames) of the clip's own music and of v2m's music for it, each
  next to its chance level (the same music beats at unrelated phases);
- known answers (``--known``; clips built from the dancer's real frames by tests/dancing.py):
  a stretch played forward and backward every 0.4-0.72 s at 25 and 30 fps, lossless and
  re-encoded (H.264 CRF 18): tempo heard against 60 / period, reversals found (F, 80 ms),
  beats kept by the re-encode (F, 80 ms), the music's tempo; the dancer re-encoded and
  retimed (0.8x, 1.25x, mapped back): beats kept (F within 80 and 40 ms), tempo, the
  music's tempo; a cut to the same stretch 1.3x closer (accents at the cut, reversals
  found); and the mode chosen for a performer seen from the waist up, three dancers
  side by side, and a cut-heavy clip;
- the pose models (``--models``; lite, full, heavy, those installed): time on the 720p clip,
  kinematic beats against full's, reversals found.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _media import decode_only_s  # noqa: E402

DANCER = HERE.parent.parent / "shared" / "data" / "video" / "dancer.avi"


def scaled_720p(src: Path, dst: Path) -> Path:
    import av

    if dst.exists():
        return dst
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream("libx264", rate=vin.average_rate)
        vout.width, vout.height, vout.pix_fmt = 1280, 720, "yuv420p"
        for f in inp.decode(vin):
            img = f.reformat(width=1280, height=720, format="yuv420p")
            img.pts = None
            for p in vout.encode(img):
                out.mux(p)
        for p in vout.encode():
            out.mux(p)
    return dst


def timed_analysis(path: Path, pose: str, model: str = "full"):
    from v2m.analysis import analyze

    t = time.perf_counter()
    tl = analyze(path, pose=pose, pose_model=model)
    return time.perf_counter() - t, tl


def variants(path: Path, tmp: Path) -> None:
    """Each installed landmark model on the 720p clip: time against decode-only and against
    decode + its own model time; its kinematic beats against full's (F within 40 ms) on the
    dancer, and the reversals it finds on two reversing clips."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from dancing import ping_pong

    from v2m.analysis.pose import installed_models

    found = [v for v, p in installed_models().items() if p is not None]
    print(f"\npose models (installed: {', '.join(found)}; see v2m models pose)")
    d = min(decode_only_s(path) for _ in range(2))
    clips = [
        ping_pong(tmp / f"v_{p}_{f}.mp4", period_s=p, fps=f) for p, f in ((0.48, 25.0), (0.4, 30.0))
    ]
    ref = None
    for v in ("full", "lite", "heavy"):
        if v not in found:
            continue
        t, tl = timed_analysis(path, "on", v)
        b = _beats(tl)
        ref = b if v == "full" else ref
        rev = [_f(turns, _beats(timed_analysis(c, "on", v)[1]), 0.08) for c, turns in clips]
        vs = f"; beats vs full F {_f(ref, b, 0.04):.2f} (40 ms)" if v != "full" else ""
        print(
            f"{v}: {t:.2f} s = {t / d:.1f}x decode-only (target with lite <= 5x), "
            f"{t / (d + tl.pose['model_time_s']):.2f}x decode + model{vs}; reversals found "
            f"F {rev[0]:.2f} (0.48 s, 25 fps), {rev[1]:.2f} (0.4 s, 30 fps)"
        )


def speed(path: Path, label: str) -> None:
    d = min(decode_only_s(path) for _ in range(2))
    t_off, _ = timed_analysis(path, "off")
    t_on, tl = timed_analysis(path, "on")
    rate = tl.pose["rate_hz"] if tl.pose else 0
    model = tl.pose["model_time_s"] if tl.pose else 0.0
    print(
        f"{label}: decode-only {d:.2f} s; analysis without pose {t_off:.2f} s "
        f"({t_off / d:.1f}x decode); with pose at {rate:g} Hz {t_on:.2f} s "
        f"({t_on / d:.1f}x decode), of which the pose model {model:.2f} s: "
        f"{t_on / (d + model):.2f}x (decode + model)"
    )


def alignment(path: Path) -> None:
    import librosa

    from v2m.metrics.rhythm import beat_align_score_chance, beat_align_score_motion
    from v2m.muxing import read_audio
    from v2m.pipeline import score

    sr = 22050
    _, tl = timed_analysis(path, "auto")
    kin = tl.kinematics
    if kin is None:
        print("no body tracked: nothing to align")
        return
    kb = np.array([b["time_s"] for b in kin["beats"]])
    y = read_audio(path, sample_rate=sr, duration_s=tl.duration_s).mean(axis=1)
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    music_bpm = float(np.atleast_1d(tempo)[0])
    kt = kin["tempo_bpm"] or float("nan")
    ok = abs(kt - music_bpm) / music_bpm <= 0.04
    print(
        f"kinematic tempo {kt:.1f} BPM (confidence {kin['tempo_confidence']:.2f}, drift "
        f"{kin['tempo_drift_pct']} %) vs her music {music_bpm:.1f} BPM: "
        f"{'match' if ok else 'MISS'}"
    )
    # how well defined is her music's tempo? librosa's own estimators, side by side
    slow = float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=sr, start_bpm=70)[0])[0])
    glob = float(np.atleast_1d(librosa.feature.tempo(y=y, sr=sr))[0])
    local = librosa.feature.tempo(y=y, sr=sr, aggregate=None)
    print(
        f"  her music's tempo by librosa: beat_track {music_bpm:.1f} (prior 120), "
        f"{slow:.1f} (prior 70); feature.tempo {glob:.1f}; local tempo p10-p90 "
        f"{np.percentile(local, 10):.0f}-{np.percentile(local, 90):.0f} BPM"
    )
    bas_orig = beat_align_score_motion(kb, beats, fps=25.0)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scored.mp4"
        res = score(path, output=out, mode="auto")
        yg = read_audio(out, sample_rate=sr, duration_s=tl.duration_s).mean(axis=1)
    _, gb = librosa.beat.beat_track(y=yg, sr=sr, units="time")
    bas_v2m = beat_align_score_motion(kb, gb, fps=25.0)
    grid = np.asarray(res.projection.cue.beats_s)

    def chance(beats) -> float:
        return beat_align_score_chance(kb, beats, fps=25.0)

    print(
        f"mode chosen: {res.projection.explanations[1]}\n"
        f"beat align score (motion -> music, sigma 3 frames at 25 fps): her music "
        f"{bas_orig:.3f}, v2m's music {bas_v2m:.3f} (v2m's beat grid itself "
        f"{beat_align_score_motion(kb, grid, fps=25.0):.3f}); target: v2m >= hers\n"
        f"  at chance (the same beats at unrelated phases; the score grows with the beats' "
        f"density): her music {chance(beats):.3f}, v2m's music {chance(gb):.3f}, v2m's grid "
        f"{chance(grid):.3f}"
    )


def _f(ref, est, window: float) -> float:
    import mir_eval

    return float(mir_eval.onset.f_measure(np.sort(ref), np.sort(est), window=window)[0])


def _beats(tl) -> np.ndarray:
    return np.array([b["time_s"] for b in tl.kinematics["beats"]])


def known(tmp: Path) -> None:
    sys.path.insert(0, str(HERE.parent / "tests"))
    from dancing import cut_to_closer, performer, ping_pong, reencoded, retimed, troupe

    from v2m.analysis import analyze
    from v2m.projection import choose_mode, project

    def music_bpm(tl) -> float:
        cue = project(tl, mode="dance", style="electronic").cue
        return 60.0 / float(np.median(np.diff(cue.beats_s)))

    print("\nreversing clips (a stretch of the dance forward and backward)")
    print(
        "fps  period  truth   lossless: tempo  F(rev)  music | CRF 18: tempo  F(rev)  "
        "F(vs lossless)"
    )
    for fps, periods in ((25.0, (0.4, 0.48, 0.6, 0.72)), (30.0, (0.4, 0.5, 0.6, 0.7))):
        for p in periods:
            a_path, turns = ping_pong(tmp / f"pp_{fps}_{p}.mp4", period_s=p, fps=fps)
            b_path, _ = ping_pong(tmp / f"pp_{fps}_{p}_crf.mp4", period_s=p, fps=fps, crf=18)
            a, b = analyze(a_path, pose="on"), analyze(b_path, pose="on")
            ka, kb = a.kinematics, b.kinematics
            print(
                f"{fps:3.0f}  {p:5.2f}  {60 / p:6.1f}   {ka['tempo_bpm']:14.1f}  "
                f"{_f(turns, _beats(a), 0.08):6.2f}  {music_bpm(a):5.1f} | "
                f"{kb['tempo_bpm']:12.1f}  {_f(turns, _beats(b), 0.08):6.2f}  "
                f"{_f(_beats(a), _beats(b), 0.08):6.2f}"
            )
    print("\ndancer.avi, copies (the lossless copy is the reference)")
    base = analyze(reencoded(tmp / "d_ll.mp4", crf=None), pose="on")
    kb0 = base.kinematics
    print(
        f"lossless: {len(_beats(base))} beats ({kb0['beats_per_s']:.2f}/s), tempo "
        f"{kb0['tempo_bpm']} (confidence {kb0['tempo_confidence']:.2f}), music "
        f"{music_bpm(base):.1f} BPM"
    )
    for label, path, factor in (
        ("H.264 CRF 18", reencoded(tmp / "d_crf.mp4", crf=18), 1.0),
        ("played 1.25x", retimed(tmp / "d_125.mp4", factor=1.25), 1.25),
        ("played 0.8x", retimed(tmp / "d_08.mp4", factor=0.8), 0.8),
    ):
        tl = analyze(path, pose="on")
        k, b = tl.kinematics, _beats(tl) * factor
        print(
            f"{label}: F {_f(_beats(base), b, 0.08):.2f} (80 ms), {_f(_beats(base), b, 0.04):.2f} "
            f"(40 ms); beats/s x{k['beats_per_s'] / kb0['beats_per_s']:.3f}, pace "
            f"x{k['pace_per_s'] / kb0['pace_per_s']:.3f}; tempo "
            f"{k['tempo_bpm']} (conf {k['tempo_confidence']:.2f}); music "
            f"{music_bpm(tl):.1f} BPM (x{music_bpm(tl) / music_bpm(base):.3f}, speed x{factor})"
        )
    print("\ncut to a closer shot (the dancer's frames, a hard cut on a frame pose skips)")
    path, cut_s, turns = cut_to_closer(tmp / "cut_closer.mp4")
    tl = analyze(path, pose="on")
    near = [a for a in tl.kinematics["accents"] if abs(a["time_s"] - cut_s) < 0.3]
    far = turns[np.abs(turns - cut_s) > 0.2]
    print(
        f"cuts found {[round(c.time_s, 2) for c in tl.cuts]} (at {cut_s:.2f} s); accents within "
        f"0.3 s of the cut: {len(near)}; reversals found F {_f(far, _beats(tl), 0.08):.2f} (80 ms)"
    )
    print("\nmode chosen (auto)")
    for label, path in (
        ("performer, waist up", performer(tmp / "perf.mp4")),
        ("three dancers", troupe(tmp / "troupe.mp4")),
        ("bikes (cuts)", HERE.parent.parent / "shared" / "data" / "video" / "bikes.mp4"),
    ):
        tl = analyze(path, pose="auto")
        print(f"{label}: {choose_mode(tl)[1]}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", type=Path, default=DANCER)
    ap.add_argument("--skip-720p", action="store_true")
    ap.add_argument("--known", action="store_true", help="only the known-answer clips")
    ap.add_argument("--models", action="store_true", help="only the pose models' figures")
    args = ap.parse_args()
    if args.models:
        big = scaled_720p(args.video, HERE / "_media" / "dancer_720p.mp4")
        with tempfile.TemporaryDirectory() as tmp:
            variants(big, Path(tmp))
        return 0
    if args.known:
        with tempfile.TemporaryDirectory() as tmp:
            known(Path(tmp))
        return 0
    if not args.video.exists():
        print(f"{args.video}: missing", file=sys.stderr)
        return 1
    speed(args.video, args.video.name)
    if not args.skip_720p:
        big = scaled_720p(args.video, HERE / "_media" / "dancer_720p.mp4")
        speed(big, "the same clip at 1280x720 (H.264)")
        with tempfile.TemporaryDirectory() as tmp:
            variants(big, Path(tmp))
    alignment(args.video)
    with tempfile.TemporaryDirectory() as tmp:
        known(Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
