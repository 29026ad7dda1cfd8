"""Stage 1: video or image -> :class:`~v2m.timeline.Timeline`.

:func:`analyze` decodes the input once (:mod:`._decode`) and feeds every frame to the
analysers: shot cuts (:mod:`.cuts`), motion, visual impact and beats (:mod:`.motion`),
colour and affect (:mod:`.colour`), and, where one person fills the picture, body pose and
kinematics (:mod:`.pose`, :mod:`.kinematics`). The video's own sound is analysed in a
second, cheap pass over the audio stream alone (:mod:`.audio`): speech, loudness, music,
sound events. :mod:`.core` assembles the timeline.
"""

from __future__ import annotations

from .colour import colour_stats, motion_level, valence_arousal
from .core import analyze
from .cuts import CUT_THRESHOLD
from .motion import remove_key_frame_pulse, visual_beats, visual_tempo

__all__ = [
    "analyze",
    "colour_stats",
    "motion_level",
    "valence_arousal",
    "remove_key_frame_pulse",
    "visual_beats",
    "visual_tempo",
    "CUT_THRESHOLD",
]
