"""Benchmark v2m analyze against the floor: a PyAV decode-only pass of the same file.

Prints, for a 1-minute and a 3-minute 1080p30 H.264 video: decode time, analysis time
(each the best of two runs), their ratio (target <= 1.5) and the analysis's peak RSS
(target <= 400 MB, and the 3-minute figure no more than 10 % above the 1-minute one).
Each measurement runs in a fresh process; library imports are outside the timings on both
sides.

    python bench/analyze.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _media import decode_only_s, long_video  # noqa: E402

CHILD = r"""
import json, resource, sys, time
import v2m
from v2m.analysis import analyze  # imports stay outside the timing, as for the baseline
import scenedetect
t = time.perf_counter()
tl = analyze(sys.argv[1])
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": dt, "rss_mb": rss, "cuts": len(tl.cuts)}))
"""

BASE = r"""
import json, resource, sys
import v2m, v2m.analysis, cv2, scenedetect, av  # same imports as the analysis
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    base = run(BASE)["rss_mb"]
    rows = []
    for seconds in (60, 180):
        path = long_video(seconds)
        dec = min(decode_only_s(path) for _ in range(2))
        runs = [run(CHILD, str(path)) for _ in range(2)]  # best of two, like the baseline
        best = min(r["s"] for r in runs)
        rss = max(r["rss_mb"] for r in runs)
        rows.append((seconds, dec, best, best / dec, rss, runs[0]["cuts"]))
    print(f"import-only RSS: {base:.0f} MB")
    print("| video | decode-only (s) | analyze (s) | ratio | peak RSS (MB) | cuts |")
    print("|---|---|---|---|---|---|")
    for seconds, dec, an, ratio, rss, cuts in rows:
        print(f"| {seconds} s 1080p30 | {dec:.1f} | {an:.1f} | {ratio:.2f} | {rss:.0f} | {cuts} |")
    growth = rows[1][4] / rows[0][4] - 1
    print(f"RSS growth 3 min vs 1 min: {100 * growth:+.1f} %")


if __name__ == "__main__":
    main()
