"""Text prompts for text-to-music models, written from the cue sheet and the analysis.

The prompt states what the cue sheet decided, in the words MusicCaps-style captions use
(the data MusicGen and Stable Audio were trained on): genre and instruments of the style,
mood words from the pictures' valence and arousal (and CLIP's mood and scene tags when a
CLIP model was given, see :mod:`v2m.analysis.semantics`), the tempo in BPM, the key, and
the energy of the piece's sections ("builds from a quiet intro to an intense climax"). A cue
sheet with a ``prompt`` set (edited by hand) uses it as written.
"""

from __future__ import annotations

import numpy as np

from ..cuesheet import CueSheet

__all__ = ["STYLE_WORDS", "mood_words", "prompt_for", "section_prompts"]

#: Genre and instrumentation per v2m style, as a caption would name them.
STYLE_WORDS: dict[str, str] = {
    "cinematic": "cinematic orchestral film score, string ensemble, french horns, timpani",
    "ambient": "ambient soundscape, warm synth pads, soft piano, reverb",
    "piano": "solo piano piece, expressive grand piano",
    "pop": "pop instrumental, electric piano, bass guitar, drum kit, bright synth lead",
    "electronic": "electronic dance music, synth bass, arpeggiated synths, punchy drums",
    "folk": "acoustic folk instrumental, acoustic guitar, fiddle, light percussion",
    "lofi": "lo-fi hip hop beat, mellow electric piano, vinyl crackle, laid-back drums",
}


def mood_words(valence: float, arousal: float) -> list[str]:
    """Two mood words for a point of Russell's circumplex (both in -1..1)."""
    v = "happy" if valence > 0.25 else "sad" if valence < -0.25 else None
    a = "energetic" if arousal > 0.3 else "calm" if arousal < -0.3 else None
    quadrant = {
        (True, True): "uplifting",
        (True, False): "peaceful",
        (False, True): "tense",
        (False, False): "melancholic",
    }[(valence >= 0, arousal >= 0)]
    return [w for w in (quadrant, v, a) if w][:2]


def _affect(timeline) -> tuple[float, float] | None:
    shots = list(getattr(timeline, "shots", []) or [])
    if not shots:
        return None
    w = np.array([max(s.end_s - s.start_s, 1e-3) for s in shots])
    v = float(np.average([s.valence for s in shots], weights=w))
    a = float(np.average([s.arousal for s in shots], weights=w))
    return v, a


def _energy_words(level: float) -> str:
    return "quiet" if level < 0.35 else "gentle" if level < 0.55 else (
        "driving" if level < 0.8 else "intense"
    )  # fmt: skip


def _shape(cue: CueSheet) -> str:
    secs = cue.sections
    if len(secs) < 2:
        return ""
    lo = min(secs, key=lambda s: s.energy)
    hi = max(secs, key=lambda s: s.energy)
    if hi.energy - lo.energy < 0.15:
        return f"{_energy_words(hi.energy)} throughout"
    start, peak = secs[0], hi
    return (
        f"builds from a {_energy_words(start.energy)} {start.label} to a "
        f"{_energy_words(peak.energy)} climax at {peak.start_s:.0f} s"
    )


def _tempo(cue: CueSheet) -> float:
    if cue.tempo_bpm:
        return float(cue.tempo_bpm)
    b = np.diff(np.asarray(cue.beats_s, float))
    return float(60.0 / np.median(b)) if b.size else 120.0


def prompt_for(cue: CueSheet, timeline=None) -> str:
    """The text prompt for a whole cue (or the cue's own ``prompt`` when it has one)."""
    own = getattr(cue, "prompt", None)
    if own:
        return own
    parts = [STYLE_WORDS.get(cue.style, f"{cue.style} instrumental")]
    aff = _affect(timeline) if timeline is not None else None
    words = mood_words(*aff) if aff is not None else []
    tags = getattr(timeline, "semantics", None) if timeline is not None else None
    if tags:  # CLIP's mood first, then the colours' words; and the scene
        from ..analysis.semantics import tag_words

        mood, scene = tag_words(tags)
        words = [mood] + [w for w in words if w != mood][:1]
        parts.append(", ".join(words))
        parts.append(f"evoking {scene}")
    elif words:
        parts.append(", ".join(words))
    parts.append(f"{_tempo(cue):.0f} BPM")
    parts.append(f"in {cue.key}")
    parts.append(f"{cue.meter} time")
    shape = _shape(cue)
    if shape:
        parts.append(shape)
    parts.append("instrumental, no vocals")
    return ", ".join(parts)


def section_prompts(cue: CueSheet, base: str) -> list[tuple[float, str]]:
    """(start_s, prompt) per section: the base prompt with the section's energy (and key,
    where the section changes it), for backends that prompt window by window."""
    out = []
    for s in cue.sections or []:
        extra = f"{_energy_words(s.energy)} {s.label} section"
        if s.key and s.key != cue.key:
            extra += f" in {s.key}"
        out.append((float(s.start_s), f"{base}, {extra}"))
    return out or [(0.0, base)]
