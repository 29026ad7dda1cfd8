"""Outputs before and after a refactor: hashes of every stage's file on the shared clips.

Runs analyze -> project -> compose -> render on the shared sample clips, a still image and a
60 s bench montage, and prints one SHA-256 per stage and input (the timeline and cue sheet
as JSON, the MIDI file, the rendered mix as 32-bit float samples). ``--save F`` writes them
to a JSON file; ``--check F`` compares with a saved run and exits 1 on any difference.

    python bench/identity.py --save /tmp/before.json      # on the old code
    python bench/identity.py --check /tmp/before.json     # on the new code

The timeline of a video that has sound also carries the audio analysis, and the cue sheet
its dialogue spans: ``--no-audio`` hashes them without the sound's analysis, the
timeline's notes and empty dialogue, under the schema versions before them (timeline 1.1,
cue sheet 1.2), to compare with code that had no audio pass.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _inputs() -> list[Path]:
    sys.path.insert(0, str(HERE))
    from _media import long_video

    names = ["video/bikes.mp4", "video/carphone.mp4", "video/bigbuckbunny.mp4",
             "video/dancer.avi", "images/chelsea.png"]  # fmt: skip
    return [SHARED / n for n in names if (SHARED / n).exists()] + [
        long_video(60, width=640, height=360, fps=25)
    ]


#: Wall-clock figures in the timeline, left out of its hash.
TIMINGS = ("model_time_s", "probe_time_s")


def hashes(*, audio: bool = True) -> dict[str, dict[str, str]]:
    """Per input, the hash of its timeline, cue sheet, MIDI file and rendered mix."""
    import numpy as np

    from v2m.analysis import analyze
    from v2m.composition import compose
    from v2m.projection import project
    from v2m.rendering import render

    out: dict[str, dict[str, str]] = {}
    for path in _inputs():
        tl = analyze(path, duration_s=20.0)
        d = tl.to_dict()
        for k in TIMINGS:  # how long the pose model took: not an output
            (d.get("pose") or {}).pop(k, None)
        if not audio:
            d.pop("audio", None)
            d.pop("notes", None)
            d["schema_version"] = "1.1"
        proj = project(tl)
        cue = proj.cue.to_dict()
        if not audio and not cue["dialogue"]:
            cue.pop("dialogue")
            cue["schema_version"] = "1.2"
        sc = compose(proj.cue)
        with tempfile.TemporaryDirectory() as tmp:
            mid = Path(tmp) / "s.mid"
            sc.save(mid)
            midi_hash = _sha(mid.read_bytes())
        r = render(sc)
        out[path.name] = {
            "timeline": _sha(json.dumps(d, sort_keys=True).encode()),
            "cue": _sha(json.dumps(cue, indent=1).encode()),
            "midi": midi_hash,
            "audio": _sha(np.ascontiguousarray(r.mix, dtype=np.float32).tobytes()),
        }
        print(path.name, out[path.name], flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--save", type=Path, help="write the hashes to this JSON file")
    ap.add_argument("--check", type=Path, help="compare with hashes saved by --save")
    ap.add_argument("--no-audio", action="store_true", help="leave the audio analysis out")
    a = ap.parse_args()
    h = hashes(audio=not a.no_audio)
    if a.save:
        a.save.write_text(json.dumps(h, indent=1))
    if a.check:
        ref = json.loads(a.check.read_text())
        diff = [
            f"{name} {stage}: {ref.get(name, {}).get(stage)} -> {v}"
            for name, st in h.items()
            for stage, v in st.items()
            if ref.get(name, {}).get(stage) != v
        ]
        print("\n".join(diff) if diff else f"identical: {len(h)} inputs x 4 stages")
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
