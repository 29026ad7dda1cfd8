"""Opening media with PyAV: validation, probing and one streaming decode pass.

Everything that opens a user's video goes through :func:`open_media`, so the errors for a
missing file, a file that is not media, or a file with no video stream are the same
everywhere.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .errors import DecodeError, InputError, NoVideoStreamError

log = logging.getLogger("v2m")

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}

#: Longer side in pixels of the analysis frame (BGR, aspect kept). Everything is measured
#: on it. Scaling uses swscale's fast bilinear filter: far cheaper than an area filter at
#: 1080p and enough for cut, flow and colour statistics.
ANALYSIS_WIDTH = 256


def fit_size(width: int, height: int, longest: int, *, min_side: int = 16) -> tuple[int, int]:
    """(w, h) with the aspect of ``width`` x ``height`` and the longer side ``longest``
    pixels (both even; the shorter side at least ``min_side``, so extreme aspect ratios
    such as 16x4096 stay analysable at a bounded cost)."""
    width, height = max(int(width), 1), max(int(height), 1)
    scale = longest / max(width, height)
    w = max(min_side, int(round(width * scale / 2)) * 2)
    h = max(min_side, int(round(height * scale / 2)) * 2)
    return min(w, longest), min(h, longest)


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about the video stream.

    ``width`` and ``height`` are the display size: rotation metadata and the sample aspect
    ratio are applied.
    """

    path: str
    width: int
    height: int
    coded_width: int
    coded_height: int
    fps: float
    duration_s: float
    rotation_deg: int
    start_s: float
    has_audio: bool
    n_frames_hint: int


@dataclass
class DecodedFrame:
    """One decoded frame, already downscaled for analysis.

    Attributes
    ----------
    index : int
        Position of the frame in decode order (0-based, counting only good frames).
    time_s : float
        Presentation time in seconds, relative to the first frame's presentation time.
    bgr : np.ndarray, shape (h, w, 3), uint8
        The frame scaled to ``ANALYSIS_WIDTH`` on its longer side (display aspect,
        rotation applied).
    pose_bgr : np.ndarray or None
        The frame scaled to the decoder's ``pose_width`` (for pose estimation), on every
        ``pose_every``-th frame when pose images were asked for; else None.
    key : bool
        The frame was coded on its own (an intra/key frame): its coding noise differs from
        the predicted frames around it, which optical flow reads as a jolt of motion.
    """

    index: int
    time_s: float
    bgr: np.ndarray
    pose_bgr: np.ndarray | None = None
    key: bool = False


#: FFmpeg demuxers and decoders that turn text into pictures (ANSI art, subtitles burnt
#: in): not video, whatever the file is called.
TEXT_DEMUXERS = frozenset({"tty", "srt", "ass", "webvtt", "microdvd", "subviewer", "jacosub"})
TEXT_CODECS = frozenset({"ansi", "bintext", "xbin", "idf"})


def is_image_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def check_readable(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a media file")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: file is empty (zero length)")
    return p


def open_media(path: str | Path) -> av.container.InputContainer:
    """Open ``path`` with PyAV, turning FFmpeg's errors into :class:`InputError`."""
    p = check_readable(path)
    try:
        return av.open(str(p), mode="r")
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError) as exc:
        if _mp4_index_missing(p):
            raise InputError(
                f"{p}: truncated: the file's index (the MP4 'moov' box, written last) is "
                "missing, so no frame can be located; copy the file again from its source, "
                "or rebuild the index with a repair tool (e.g. untrunc) and a good file from "
                "the same camera"
            ) from None
        raise InputError(f"{p}: not a media file FFmpeg can read ({exc})") from None


def _mp4_index_missing(p: Path) -> bool:
    """True if ``p`` starts like an MP4/QuickTime file (``ftyp``) and its top-level boxes
    end without a ``moov`` box: a recording or copy that stopped before the index."""
    import struct

    try:
        size_total = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(8)
            if len(head) < 8 or head[4:8] != b"ftyp":
                return False
            pos = 0
            while pos + 8 <= size_total:
                f.seek(pos)
                hdr = f.read(16)
                size, kind = struct.unpack(">I4s", hdr[:8])
                if kind == b"moov":
                    return False
                if size == 1 and len(hdr) >= 16:
                    size = struct.unpack(">Q", hdr[8:16])[0]
                elif size == 0:
                    break  # box runs to the end of the file
                if size < 8:
                    break
                pos += size
    except OSError:
        return False
    return True


def probe_video(path: str | Path) -> VideoInfo:
    """Read the container header of ``path`` and describe its first video stream.

    Raises
    ------
    InputError, NoVideoStreamError, DecodeError
    """
    p = check_readable(path)
    with open_media(p) as container:
        if not container.streams.video:
            raise NoVideoStreamError(f"{p}: has no video stream")
        stream = container.streams.video[0]
        if container.format.name in TEXT_DEMUXERS or stream.codec_context.name in TEXT_CODECS:
            raise NoVideoStreamError(
                f"{p}: a text file ({container.format.name}), not a video: FFmpeg would draw "
                "its characters as pictures"
            )
        cc = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        fps = float(rate)
        duration_s = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / 1e6
        start_s = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        rotation = 0
        try:
            frame = next(container.decode(stream))
            rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 360
        except (StopIteration, av.error.FFmpegError):
            pass
        sar = stream.sample_aspect_ratio or Fraction(1)
        w = int(round(cc.width * float(sar))) if sar and float(sar) > 0 else cc.width
        h = cc.height
        if rotation in (90, 270):
            w, h = h, w
        return VideoInfo(
            path=str(p),
            width=w,
            height=h,
            coded_width=cc.width,
            coded_height=cc.height,
            fps=fps,
            duration_s=duration_s,
            rotation_deg=rotation,
            start_s=start_s,
            has_audio=bool(container.streams.audio),
            n_frames_hint=int(stream.frames or round(duration_s * fps)),
        )


def _plane(plane, h: int, w: int) -> np.ndarray:
    return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:h, :w]


def _small_bgr(frame, out_w: int, out_h: int) -> np.ndarray:
    """Scale a decoded frame to ``out_w`` x ``out_h`` BGR, cheaply.

    For 8-bit 4:2:0 frames (nearly all H.264/HEVC/VP9/AV1 video) the planes are read in
    place, decimated by an integer stride that keeps at least the target size, resampled
    bilinearly by OpenCV (a small, near-1 ratio) and converted to BGR on the small frame:
    about a quarter of the cost of a full-frame swscale conversion at 1080p. Other formats
    go through swscale.
    """
    import cv2

    fmt = frame.format.name
    w, h = frame.width, frame.height
    if fmt not in ("yuv420p", "yuvj420p") or w < 4 or h < 4:
        return frame.reformat(
            width=out_w, height=out_h, format="bgr24", interpolation="FAST_BILINEAR"
        ).to_ndarray()
    k = max(1, min(w // out_w, h // out_h))
    kc = max(1, k // 2)
    y = _plane(frame.planes[0], h, w)[::k, ::k]
    u = _plane(frame.planes[1], (h + 1) // 2, (w + 1) // 2)[::kc, ::kc]
    v = _plane(frame.planes[2], (h + 1) // 2, (w + 1) // 2)[::kc, ::kc]
    cw, ch = out_w // 2, out_h // 2
    ys = cv2.resize(np.ascontiguousarray(y), (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    us = cv2.resize(np.ascontiguousarray(u), (cw, ch), interpolation=cv2.INTER_LINEAR)
    vs = cv2.resize(np.ascontiguousarray(v), (cw, ch), interpolation=cv2.INTER_LINEAR)
    i420 = np.concatenate([ys.ravel(), us.ravel(), vs.ravel()]).reshape(out_h * 3 // 2, out_w)
    return cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)


def _rotate(img: np.ndarray, rotation_deg: int) -> np.ndarray:
    # FFmpeg's display-matrix rotation is counter-clockwise in degrees.
    k = {90: 1, 180: 2, 270: 3}.get(rotation_deg % 360, 0)
    return np.ascontiguousarray(np.rot90(img, k)) if k else img


def iter_frames(
    path: str | Path,
    info: VideoInfo,
    *,
    warnings_out: list[str],
    width: int = ANALYSIS_WIDTH,
    queue_size: int = 16,
    pose_width: int = 0,
    pose_every: int = 1,
) -> Iterator[DecodedFrame]:
    """Like :func:`_iter_frames_sync`, but decoding and scaling run in a background thread
    (FFmpeg releases the GIL), so the caller's analysis overlaps with decoding. At most
    ``queue_size`` small frames wait in the queue, so memory stays bounded."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=queue_size)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for fr in _iter_frames_sync(
                path,
                info,
                warnings_out=warnings_out,
                width=width,
                pose_width=pose_width,
                pose_every=pose_every,
            ):
                while not stop.is_set():
                    try:
                        q.put(fr, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    t = threading.Thread(target=produce, name="v2m-decode", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        t.join(timeout=5)


def _iter_frames_sync(
    path: str | Path,
    info: VideoInfo,
    *,
    warnings_out: list[str],
    width: int = ANALYSIS_WIDTH,
    pose_width: int = 0,
    pose_every: int = 1,
) -> Iterator[DecodedFrame]:
    """Decode ``path`` once and yield every frame downscaled to ``width`` pixels (and, with
    ``pose_width`` > 0, every ``pose_every``-th frame also at ``pose_width`` pixels).

    Frame times come from presentation timestamps (so variable frame rate is exact). Frames
    that fail to decode are skipped with a warning; a stream that ends early (truncated
    file) is reported in ``warnings_out``.
    """
    # Scale in swscale (fast) to the display aspect; rotation is applied after scaling.
    disp_w, disp_h = (
        (info.height, info.width)
        if info.rotation_deg in (90, 270)
        else (
            info.width,
            info.height,
        )
    )
    out_w, out_h = fit_size(disp_w, disp_h, width)
    if info.rotation_deg in (90, 270):
        scale_w, scale_h = out_h, out_w
    else:
        scale_w, scale_h = out_w, out_h
    pose_w, pose_h = fit_size(
        info.width, info.height, min(pose_width, max(info.width, info.height))
    )
    n_bad = 0
    n_corrupt = 0
    gap_s = 0.0
    nominal = 1.0 / max(info.fps, 1.0)
    index = 0
    t0: float | None = None
    last_t = -1.0
    with open_media(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                warnings_out.append(
                    f"{path}: demuxing stopped early ({exc}); analysed what decoded"
                )
                break
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                n_bad += 1
                continue
            for frame in frames:
                if frame.pts is None and frame.time is None:
                    n_bad += 1
                    continue
                t = float(frame.time) if frame.time is not None else last_t + 1.0 / info.fps
                if t0 is None:
                    t0 = t
                t -= t0
                if t <= last_t:  # duplicated or out-of-order timestamp
                    continue
                if last_t >= 0 and t - last_t > 3 * nominal:
                    gap_s += t - last_t - nominal  # frames lost to damage (or a long VFR frame)
                n_corrupt += bool(getattr(frame, "is_corrupt", False))
                last_t = t
                img = _small_bgr(frame, scale_w, scale_h)
                big = None
                if pose_width > 0 and index % pose_every == 0:
                    big = _rotate(_small_bgr(frame, pose_w, pose_h), info.rotation_deg)
                yield DecodedFrame(
                    index=index,
                    time_s=t,
                    bgr=_rotate(img, info.rotation_deg),
                    pose_bgr=big,
                    key=bool(frame.key_frame),
                )
                index += 1
    if n_bad:
        msg = f"{path}: {n_bad} packet(s) or frame(s) could not be decoded and were skipped"
        warnings_out.append(msg)
    if n_corrupt:
        warnings_out.append(f"{path}: {n_corrupt} frame(s) decoded with damage (concealed)")
    if gap_s > 0:
        warnings_out.append(
            f"{path}: timestamps jump: about {gap_s / nominal:.0f} frame(s) "
            f"({gap_s:.2f} s) missing, probably damaged data"
        )
    if index == 0:
        raise DecodeError(f"{path}: no video frame could be decoded")
    expected = info.duration_s
    if expected > 0 and last_t + 1.5 / max(info.fps, 1.0) < expected * 0.9:
        warnings_out.append(
            f"{path}: file looks truncated: decoded {last_t:.2f} s of {expected:.2f} s"
        )
    for w in warnings_out:
        log.warning(w)


def load_image(path: str | Path) -> np.ndarray:
    """Read a still image as BGR uint8 with EXIF orientation applied.

    Raises
    ------
    InputError
        If the file is missing or is not an image OpenCV or FFmpeg can read.
    """
    import cv2

    p = check_readable(path)
    with warnings.catch_warnings():
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if img is None:
        # Fall back to FFmpeg for formats OpenCV was built without.
        try:
            with av.open(str(p)) as c:
                frame = next(c.decode(video=0))
                img = frame.to_ndarray(format="bgr24")
        except (av.error.FFmpegError, StopIteration, IndexError):
            raise InputError(f"{p}: not an image that can be read") from None
    return img


def audio_frames(container, stream, *, skipped: list[int] | None = None):
    """The decoded frames of audio ``stream``, packet by packet: a packet that does not
    decode (damaged data) becomes silence of its own length (so the sound stays in step
    with the picture) and is counted in ``skipped`` (a one-item list); a few bad packets
    cost a few milliseconds of sound, not the whole track."""
    cc = stream.codec_context
    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except av.error.FFmpegError:
            if skipped is not None:
                skipped[0] += 1
            silent = _silence(packet, cc)
            if silent is not None:
                yield silent


def _silence(packet, cc):
    """A silent frame as long as ``packet``, in the decoder's format, or None."""
    if not packet.duration or not packet.time_base or not cc.sample_rate or cc.format is None:
        return None
    n = int(round(float(packet.duration * packet.time_base) * cc.sample_rate))
    if n <= 0:
        return None
    fr = av.AudioFrame(format=cc.format.name, layout=cc.layout.name, samples=n)
    for plane in fr.planes:
        plane.update(bytes(plane.buffer_size))
    fr.sample_rate = cc.sample_rate
    fr.pts = packet.pts
    fr.time_base = packet.time_base
    return fr
