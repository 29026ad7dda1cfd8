"""Dance videos with known answers, built from the real frames of ``dancer.avi`` (for the tests
and ``bench/dance.py``).

* :func:`reencoded`: the same frames at the same times through another codec (H.264 at a
  given CRF, or lossless).
* :func:`retimed`: the same frames played ``factor`` times faster (the frame rate scaled; a
  moment at ``t`` in the source is at ``t / factor`` in the copy). Lossless, so the pose model
  sees exactly the source's pictures.
* :func:`ping_pong`: a stretch of the dance played forward and backward, the direction
  reversing every ``period_s`` (a whole number of frames): the body stops and turns at every
  reversal, so the reversals are kinematic beats at a known tempo, ``60 / period_s``.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

DANCER = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "video" / "dancer.avi"


def dancer_frames(*, start_s: float = 0.0, n: int | None = None, src: Path = DANCER) -> list:
    """RGB frames (uint8, h x w x 3) of ``src`` from ``start_s`` on (``n`` of them, or all)."""
    out = []
    with av.open(str(src)) as c:
        s = c.streams.video[0]
        for f in c.decode(s):
            if f.time is not None and f.time < start_s - 1e-6:
                continue
            out.append(f.to_ndarray(format="rgb24"))
            if n is not None and len(out) >= n:
                break
    return out


def write_frames(frames, dst: Path, *, fps: float | Fraction, crf: int | None = None) -> Path:
    """Frames into an MP4 (H.264, yuv420p): lossless when ``crf`` is None."""
    rate = Fraction(fps).limit_denominator(1000)
    h, w = frames[0].shape[:2]
    with av.open(str(dst), "w") as out:
        v = out.add_stream("libx264", rate=rate)
        v.width, v.height, v.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        v.options = {"qp": "0"} if crf is None else {"crf": str(crf)}
        for i, rgb in enumerate(frames):
            img = av.VideoFrame.from_ndarray(rgb[: v.height, : v.width], format="rgb24")
            img.pts = i
            img.time_base = Fraction(1) / rate
            for p in v.encode(img):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
    return dst


def _fps(src: Path) -> Fraction:
    with av.open(str(src)) as c:
        return Fraction(c.streams.video[0].average_rate)


def reencoded(dst: Path, *, src: Path = DANCER, crf: int | None = 18, seconds: float | None = None):
    """``src``'s frames at their own times through H.264 (``crf``; None: lossless)."""
    fps = _fps(src)
    n = None if seconds is None else int(round(seconds * fps))
    return write_frames(dancer_frames(src=src, n=n), dst, fps=fps, crf=crf)


def retimed(dst: Path, *, factor: float, src: Path = DANCER, seconds: float | None = None):
    """``src``'s frames played ``factor`` times faster (lossless; the frame rate scaled)."""
    fps = _fps(src)
    n = None if seconds is None else int(round(seconds * fps))
    return write_frames(dancer_frames(src=src, n=n), dst, fps=fps * Fraction(factor), crf=None)


def ping_pong(
    dst: Path,
    *,
    period_s: float,
    fps: float = 25.0,
    duration_s: float = 16.0,
    start_s: float = 20.0,
    crf: int | None = None,
    src: Path = DANCER,
) -> tuple[Path, np.ndarray]:
    """Frames from ``start_s`` played forward then backward, reversing every ``period_s``.

    Returns the file and the reversal times (seconds; the frames where the direction turns).
    ``period_s * fps`` must be a whole number of frames.
    """
    frames, turns = ping_pong_frames(
        period_s=period_s, fps=fps, n=int(round(duration_s * fps)), start_s=start_s, src=src
    )
    write_frames(frames, dst, fps=fps, crf=crf)
    return dst, turns


def ping_pong_frames(
    *, period_s: float, fps: float, n: int, start_s: float = 20.0, src: Path = DANCER
) -> tuple[list, np.ndarray]:
    """The ``n`` frames of :func:`ping_pong` and its reversal times (seconds)."""
    k = period_s * fps
    if abs(k - round(k)) > 1e-6 or round(k) < 2:
        raise ValueError(f"period_s={period_s} is not a whole number of frames at {fps} fps")
    k = int(round(k))
    seg = dancer_frames(start_s=start_s, n=k + 1, src=src)
    order = []
    i, step = 0, 1
    for _ in range(n):
        order.append(i)
        if (i == k and step > 0) or (i == 0 and step < 0 and order[:-1]):
            step = -step
        i += step
    order = np.asarray(order)
    turns = np.nonzero(np.r_[False, (order[1:-1] == 0) | (order[1:-1] == k), False])[0]
    return [seg[j] for j in order], turns / float(fps)


def cut_to_closer(
    dst: Path, *, period_s: float = 0.6, fps: float = 25.0, first_frames: int = 201
) -> tuple[Path, float, np.ndarray]:
    """A reversing stretch (:func:`ping_pong_frames`, from 20 s of the dance) and the
    same again after a hard cut, 1.3x closer, its colours swapped (a red wall, so the cut
    is seen). Returns the file, the cut's time and every reversal's time."""
    import cv2

    a, ta = ping_pong_frames(period_s=period_s, fps=fps, n=first_frames, start_s=20.0)
    b, tb = a, ta
    h, w = b[0].shape[:2]

    def closer(f):
        big = cv2.resize(f, None, fx=1.3, fy=1.3)
        y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
        return np.ascontiguousarray(big[y0 : y0 + h, x0 : x0 + w, ::-1])

    cut_s = first_frames / fps
    write_frames(a + [closer(f) for f in b], dst, fps=fps)
    return dst, cut_s, np.r_[ta, tb + cut_s]


def performer(
    dst: Path, *, seconds: float = 16.0, start_s: float = 20.0, keep: float = 0.66, src=DANCER
) -> Path:
    """A performer seen from the waist up (a pianist behind the piano, a singer, a drummer):
    the dancer's frames cut below the hips (the top ``keep`` of the height), so her head,
    arms and torso move and her legs are out of the picture."""
    fps = _fps(src)
    frames = dancer_frames(start_s=start_s, n=int(round(seconds * fps)), src=src)
    row = int(keep * frames[0].shape[0]) // 2 * 2
    return write_frames([f[:row] for f in frames], dst, fps=fps, crf=18)


def troupe(dst: Path, *, seconds: float = 12.0, start_s: float = 5.0, src=DANCER) -> Path:
    """Three copies of the dancer side by side, each from another moment of the dance (a
    picture with several people)."""
    import cv2

    fps = _fps(src)
    n = int(round(seconds * fps))
    step = int(round(7.0 * fps))
    all_frames = dancer_frames(start_s=start_s, n=n + 2 * step, src=src)
    out = []
    for i in range(n):
        tiles = [all_frames[i + k * step] for k in range(3)]
        row = np.concatenate(tiles, axis=1)
        h, w = row.shape[:2]
        out.append(cv2.resize(row, (w // 2, h // 2), interpolation=cv2.INTER_AREA))
    return write_frames(out, dst, fps=fps, crf=18)
