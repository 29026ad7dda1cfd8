"""Speech in the video -> the cue sheet's dialogue spans, and cuts under speech made light."""

from __future__ import annotations

from ..cuesheet import Dialogue, Hit
from ..timeline import Timeline

__all__ = ["dialogue_spans", "soften_hits", "LIGHT_UNDER_SPEECH"]

#: The strength a cut's hit keeps under speech: a light accent (no breath, no crash).
LIGHT_UNDER_SPEECH = 0.3
#: A hit this long before speech is light too: a crash would still ring when the voice
#: starts.
CLEAR_BEFORE_S = 1.0


def dialogue_spans(timeline: Timeline, duration_s: float) -> tuple[list[Dialogue], str | None]:
    """The timeline's dialogue (speech that is not a song's vocals) as cue-sheet spans
    inside ``0..duration_s``, and a sentence for the report (None without a sound)."""
    a = timeline.audio
    if not a:
        return [], None
    spans = [
        Dialogue(start_s=round(max(0.0, s), 3), end_s=round(min(duration_s, e), 3))
        for s, e in timeline.speech_s
        if s < duration_s and min(duration_s, e) > s
    ]
    if spans:
        total = sum(d.end_s - d.start_s for d in spans)
        why = (
            f"speech: {len(spans)} span(s), {total:.1f} s of {duration_s:.1f} s "
            f"({a.get('vad')} VAD): the tune rests and the band thins under it, and answers "
            "in the pauses"
        )
    elif a.get("song"):
        why = (
            "the video's sound is music with a voice (a song): not treated as dialogue, "
            "and not kept under the new music unless asked (--keep-audio on)"
        )
    elif a.get("holds_music"):
        why = "the video's sound holds music and no speech"
    elif a.get("silent"):
        why = "the video's sound is silent"
    else:
        why = "no speech in the video's sound"
    return spans, why


def soften_hits(hits: list[Hit], spans: list[Dialogue]) -> list[Hit]:
    """Cuts and impacts under speech (or ``CLEAR_BEFORE_S`` before it) are marked lightly
    (strength at most ``LIGHT_UNDER_SPEECH``); the user's own hits stay as given."""
    from bisect import bisect_right

    ends = [d.end_s for d in spans]
    out = []
    for h in hits:
        i = bisect_right(ends, h.time_s)  # the first span that ends after the hit
        under = i < len(spans) and spans[i].start_s - CLEAR_BEFORE_S <= h.time_s
        if under and h.kind not in ("user", "cymbal"):
            h = Hit(time_s=h.time_s, strength=min(h.strength, LIGHT_UNDER_SPEECH), kind=h.kind)
        out.append(h)
    return out
