"""Benchmark the whole ``v2m score`` path on a 3-minute 1080p30 H.264 video.

Prints the total wall time of ``v2m score`` (analysis, projection, composition, render,
mux; run as the CLI in a fresh process) against a PyAV decode-only pass of the same file,
and the peak RSS. Targets on 2 cores: total <= 1.6 x decode + 5 s, peak RSS <= 600 MB.

    python bench/score.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _media import decode_only_s, long_video  # noqa: E402


def main() -> None:
    path = long_video(180)
    dec = min(decode_only_s(path) for _ in range(2))
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out.mp4"
        rep = Path(d) / "report.json"
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "v2m", "score", str(path), "-o", str(out), "--report", str(rep)],
            check=True,
            capture_output=True,
        )
        total = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        report = json.loads(rep.read_text())
    budget = 1.6 * dec + 5.0
    s = report["summary"]
    print(f"video: {path.name} (180 s, 1920x1080, 30 fps)")
    print(
        f"decode-only: {dec:.1f} s; v2m score: {total:.1f} s "
        f"(budget 1.6 x decode + 5 s = {budget:.1f} s; ratio to decode {total / dec:.2f})"
    )
    print("stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in report["timings_s"].items()))
    print(f"peak RSS: {rss:.0f} MB")
    print(
        f"cuts on beats: {s['cuts_on_beat_35ms']} of {s['n_cuts']}, on downbeats "
        f"{s['cuts_on_downbeat']}"
    )


if __name__ == "__main__":
    main()
