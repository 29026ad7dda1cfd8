"""Real pieces for benchmarks: the Bach chorales shipped inside music21, as MIDI files.

music21 parses the MusicXML; its MIDI writer turns each piece into a MIDI file, cached in
``bench/_media/corpus`` so later runs skip the slow parse. (muspy's own music21 reader does
not work with music21 >= 9, hence the detour through MIDI.)
"""

from __future__ import annotations

from pathlib import Path

CACHE = Path(__file__).resolve().parent / "_media" / "corpus"


def corpus_midi_files(n: int) -> list[Path]:
    from music21 import corpus

    CACHE.mkdir(parents=True, exist_ok=True)
    paths = sorted(p for p in corpus.getComposer("bach") if str(p).endswith((".mxl", ".xml")))
    out = []
    for p in paths:
        if len(out) >= n:
            break
        dest = CACHE / (Path(p).name.rsplit(".", 1)[0] + ".mid")
        if not dest.exists():
            try:
                corpus.parse(p).write("midi", fp=str(dest))
            except Exception:  # a piece music21 cannot write as MIDI is skipped
                continue
        out.append(dest)
    return out
