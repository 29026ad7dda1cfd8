"""Windows of a model's length for pieces of any length, joined on bar lines.

A neural model makes ``window_s`` seconds at a time. Window ``i + 1`` starts ``context_s``
before the bar line where it takes over (its *join*) and is generated as a continuation
of the last ``context_s`` seconds of window ``i`` (MusicGen's audio prompt; VidMuse's
long-short-term context plays the same part), so the music runs on; the two are
crossfaded with equal power over ``crossfade_s`` centred on the join, a bar line of the
cue's grid, where a change is least audible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError

__all__ = ["Window", "plan_windows", "join_windows"]


@dataclass(frozen=True)
class Window:
    """One generation window (seconds on the piece's clock).

    ``start_s``..``end_s``: what the window covers; ``context_s``: the seconds at its start
    that continue the previous window (0 for the first); ``join_s``: the bar line where it
    takes over from the previous window (None for the first); ``on_bar``: whether the
    join is on a bar line (False only when no bar line fits, e.g. bars longer than the
    window).
    """

    start_s: float
    end_s: float
    context_s: float = 0.0
    join_s: float | None = None
    on_bar: bool = True

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def plan_windows(
    *,
    duration_s: float,
    bar_times_s,
    window_s: float,
    context_s: float,
    crossfade_s: float,
) -> list[Window]:
    """Cover ``0..duration_s`` with windows of at most ``window_s``, joined on bar lines.

    Each join is the last bar line that leaves room for half the crossfade before the
    previous window ends and for the context after that window's start; new music per
    window is therefore at most ``window_s - context_s``.
    """
    if duration_s <= 0:
        raise ParameterError(f"duration_s={duration_s}: must be positive")
    if not 0 < crossfade_s / 2 <= context_s < window_s - crossfade_s / 2:
        raise ParameterError(
            f"window {window_s} s, context {context_s} s, crossfade {crossfade_s} s: need "
            "0 < crossfade/2 <= context < window - crossfade/2"
        )
    bars = np.asarray(bar_times_s, float)
    wins = [Window(0.0, min(duration_s, window_s))]
    while wins[-1].end_s < duration_s - 1e-9:
        prev = wins[-1]
        # the context must lie inside the previous window, the join after its join
        lo = max(prev.start_s + context_s, (prev.join_s or 0.0) + 1e-6)
        hi = prev.end_s - crossfade_s / 2
        fits = bars[(bars >= lo) & (bars <= hi)]
        on_bar = bool(fits.size)
        join = float(fits[-1]) if on_bar else hi
        start = join - context_s
        wins.append(Window(start, min(duration_s, start + window_s), context_s, join, on_bar))
    return wins


def join_windows(
    parts: list[np.ndarray], windows: list[Window], *, sr: int, crossfade_s: float, n_out: int
) -> np.ndarray:
    """Place the windows' audio on the piece's clock, crossfading at each join.

    Parameters
    ----------
    parts : list of np.ndarray, shape (n_i, channels)
        Audio of each window from its ``start_s`` (a continuation's first ``context_s``
        seconds re-state the previous window's end).

    Returns
    -------
    np.ndarray, shape (n_out, channels), float32
    """
    ch = parts[0].shape[1]
    out = np.zeros((n_out, ch), np.float32)
    half = int(round(crossfade_s * sr / 2))
    for i, (x, w) in enumerate(zip(parts, windows, strict=True)):
        a = int(round(w.start_s * sr))
        if w.join_s is None:
            take_from = a
        else:
            take_from = int(round(w.join_s * sr)) - half
        b = min(n_out, a + x.shape[0])
        if take_from >= b:
            continue
        seg = x[take_from - a : b - a].astype(np.float32)
        if i > 0:  # equal-power crossfade centred on the join
            k = min(2 * half, seg.shape[0])
            th = np.linspace(0, np.pi / 2, k, dtype=np.float32)[:, None]
            out[take_from : take_from + k] *= np.cos(th)
            seg = seg.copy()
            seg[:k] *= np.sin(th)
            out[take_from : take_from + k] += seg[:k]
            out[take_from + k : b] = seg[k:]
        else:
            out[take_from:b] = seg
    return out
