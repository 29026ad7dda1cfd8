"""The one decode pass over a video: every analyser is fed from it.

:func:`decode_pass` decodes the input once, scales every frame once to a small analysis
frame (:data:`v2m._media.ANALYSIS_WIDTH` pixels on its longer side) and feeds it to every
analyser (:mod:`.cuts`, :mod:`.motion`, :mod:`.colour`, the body tracker of :mod:`._body`).

Optical flow runs at most at 30 analysed frames per second (every n-th frame of faster
video; 30 Hz is finer than any musical beat), colour at about 10 Hz and on the first frame
after every cut (colour changes with shots, not within frames), cuts on every frame, so cut
times are frame-accurate. Cut detection and flow see the frame at ``FLOW_WIDTH`` pixels,
colour and the flash / dissolve tests a ``THUMB_WIDTH`` thumbnail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .. import _media
from . import _body
from .colour import colour_stats
from .cuts import CutTracker
from .motion import FLOW_WIDTH, MotionTracker

__all__ = ["Pass", "decode_pass", "MAX_ANALYSIS_FPS"]

THUMB_WIDTH = 64
MAX_ANALYSIS_FPS = 30.0
COLOUR_HZ = 10.0


@dataclass
class Pass:
    """What the one decode pass over a video collects (see :func:`decode_pass`)."""

    cuts: list
    motion: MotionTracker
    key_phase: list[int]  # frames since the last key frame, per analysed frame
    col_t: list[float]
    col: list[np.ndarray]
    thumbs: dict[float, np.ndarray]
    last_t: float
    stride: int


def decode_pass(
    p: Path, info, *, tracker, cut_threshold: float, progress: bool, keep_thumbnails: bool, warn
) -> Pass:
    """Decode the video once: cuts on every frame; motion, colour (``COLOUR_HZ``) and
    thumbnails on the analysed frames (at most ``MAX_ANALYSIS_FPS``, and at every cut);
    pose frames to ``tracker``."""
    stride = max(1, int(round(info.fps / MAX_ANALYSIS_FPS))) if info.fps > MAX_ANALYSIS_FPS else 1
    cuts = CutTracker(fps=info.fps or 25.0, threshold=cut_threshold)
    out = Pass([], MotionTracker(), [], [], [], {}, 0.0, stride)
    from .._progress import Progress

    bar = Progress(f"analysing {p.name}", info.n_frames_hint or 0, enabled=progress)
    n_hard_seen = 0
    colour_every = max(1, int(round(min(info.fps or 25.0, MAX_ANALYSIS_FPS) / COLOUR_HZ)))
    n_analysed = 0
    since_key = 0  # frames since the last key frame
    cut_since_pose = False
    next_thumb_s, thumb_every_s = 0.0, max(0.5, info.duration_s / 600)
    frames = _media.iter_frames(
        p,
        info,
        warnings_out=warn,
        pose_width=_body.POSE_WIDTH if tracker else 0,
        pose_every=tracker.every if tracker else 1,
    )
    for fr in frames:
        mid = fr.bgr
        flow_size = _media.fit_size(mid.shape[1], mid.shape[0], FLOW_WIDTH)
        if (mid.shape[1], mid.shape[0]) != flow_size:
            mid = cv2.resize(mid, flow_size, interpolation=cv2.INTER_AREA)
        half = FLOW_WIDTH // THUMB_WIDTH
        thumb = cv2.resize(
            mid,
            (max(8, flow_size[0] // half), max(2, flow_size[1] // half)),
            interpolation=cv2.INTER_AREA,
        )
        cuts.push(fr.index, fr.time_s, mid, thumb)
        new_cut = len(cuts.pending) + len(cuts.hard) > n_hard_seen
        n_hard_seen = len(cuts.pending) + len(cuts.hard)
        cut_since_pose = cut_since_pose or new_cut  # a cut on a frame pose skips counts
        if tracker is not None and fr.pose_bgr is not None:
            tracker.push(fr.time_s, fr.pose_bgr, after_cut=cut_since_pose)
            cut_since_pose = False
        since_key = 0 if fr.key else since_key + 1  # the encoder restarts its pattern
        if fr.index % stride == 0 or new_cut:
            out.motion.push(fr.time_s, mid, after_cut=new_cut)
            out.key_phase.append(since_key)
            if n_analysed % colour_every == 0 or new_cut:
                out.col_t.append(fr.time_s)
                out.col.append(colour_stats(thumb))
            n_analysed += 1
            if keep_thumbnails and (new_cut or fr.time_s >= next_thumb_s):
                # by time, regularly and at cuts: the plot takes each shot's middle one
                out.thumbs[fr.time_s] = cv2.resize(
                    fr.bgr, _media.fit_size(fr.bgr.shape[1], fr.bgr.shape[0], 128)
                )
                next_thumb_s = fr.time_s + thumb_every_s
        out.last_t = fr.time_s
        bar.update(1)
    bar.close()
    out.cuts = cuts.finish()
    return out
