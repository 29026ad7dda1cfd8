"""Real-time factors of the music backends and the cost of the beat warp.

    python bench/backends.py [--seconds 30]

The neural backends run on the tiny random models the tests build (tests/_tiny_models.py):
no real weights are reachable here, so their figures measure v2m's own work around the
model (windows, prompts, joins, warp) plus a very small network, not MusicGen's or Stable
Audio's real cost. ``rules`` is the default backend (composer + SoundFont) in the same run.
The warp is timed on its own (beat tracking twice + the phase vocoder) on stereo audio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import _tiny_models as tm

    from v2m.backends import get_backend, warp
    from v2m.cuesheet import Hit, make_cue

    dur = args.seconds
    cue = make_cue(duration_s=dur, tempo_bpm=120, style="pop", key="A minor", seed=1)
    cue.hits = [Hit(time_s=t, kind="cut") for t in np.arange(4.0, dur, 4.0)]
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        runs = {
            "rules": get_backend("rules"),
            "musicgen (tiny)": get_backend(
                "musicgen", model_dir=tm.save_musicgen(root / "mg"), window_s=10, context_s=3
            ),
            "musicgen-melody (tiny)": get_backend(
                "musicgen",
                model_dir=tm.save_musicgen(root / "mm", melody=True),
                window_s=10,
                context_s=3,
            ),  # fmt: skip
            "stable-audio (tiny, 4 steps)": get_backend(
                "stable-audio",
                model_dir=tm.save_stable_audio(root / "sa"),
                steps=4,
                context_s=0.8,
                crossfade_s=0.4,
            ),  # fmt: skip
        }
        print(f"{dur:.0f} s cue, 2 cores, CPU")
        for name, b in runs.items():
            b.load()  # outside the timing: the models load once per run
            if name == "rules":
                b.generate(cue)  # warm the decoded-font cache
            t = _time(lambda b=b: b.generate(cue))
            print(f"  {name:30s} {t:6.2f} s = {dur / t:6.1f}x real time")
    sr = 32000
    y = np.random.default_rng(0).standard_normal((int(dur * sr), 2)).astype(np.float32) * 0.1
    tr = _time(lambda: warp.track_beats(y, sr, tempo_bpm=120))
    grid = np.arange(0, dur, 0.5)
    tw = _time(lambda: warp.warp(y, sr, src_s=grid * 1.02, dst_s=grid, n_out=y.shape[0]))
    print(
        f"  warp of {dur:.0f} s stereo at 32 kHz: beat tracking {tr:.2f} s (x2 in sync_to_grid), "
        f"phase vocoder {tw:.2f} s; sync_to_grid = {dur / (2 * tr + tw):.1f}x real time"
    )


if __name__ == "__main__":
    main()
