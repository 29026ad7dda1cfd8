"""Stage 2: :class:`~v2m.timeline.Timeline` -> :class:`~v2m.cuesheet.CueSheet`.

:func:`project` (in :mod:`.core`, which documents every decision) decides everything the
music needs from what the video shows and explains each decision. The steps:
:mod:`.tempo_map` (the beat grid), :mod:`.dance` (the mode, a grid on a dancer),
:mod:`.cuts` (each cut on a beat, caught or let go; the hits), :mod:`.form` (energy per
bar, sections), :mod:`.dialogue` (speech spans), :mod:`.choices` (style, key, tempo).
"""

from __future__ import annotations

from .controls import MODES, Controls
from .core import Projection, check_controls, content_seed, project
from .dance import choose_mode
from .tempo_map import BeatGrid, solve_beat_grid

__all__ = [
    "project",
    "choose_mode",
    "MODES",
    "Projection",
    "solve_beat_grid",
    "BeatGrid",
    "content_seed",
    "check_controls",
    "Controls",
]
