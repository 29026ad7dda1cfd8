"""Stage 5: music + picture -> a video file (PyAV).

:func:`mux` copies the input's video stream packet for packet (no re-encode) and adds the
music as AAC, cut to the video's length. :func:`still_video` makes a video from a still
image (H.264, 5 frames per second) for the music's length.
"""

from __future__ import annotations

import contextlib
import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from . import _media
from ._io import atomic_path
from .errors import InputError, ParameterError

__all__ = ["mux", "still_video", "read_audio", "check_mux", "check_still"]

log = logging.getLogger("v2m")

AAC_BITRATE = 192_000


class _AudioWriter:
    """Encodes float stereo audio to AAC in pieces, so it can interleave with video.

    ``audio`` is an array (n, 2) or the path of a WAV/FLAC file, read piece by piece (the
    memory then does not grow with the length).
    """

    def __init__(self, container, audio: np.ndarray | str | Path, sr: int, *, duration_s: float):
        self.c = container
        self.stream = container.add_stream("aac", rate=sr)
        self.stream.bit_rate = AAC_BITRATE
        self.stream.layout = "stereo"
        # FFmpeg's "fast" AAC coder: several times faster than the default two-loop search
        # at 192 kb/s, where the difference is not audible.
        self.stream.codec_context.options = {"aac_coder": "fast"}
        if isinstance(audio, np.ndarray):
            self._file = None
            self.x = audio
            total = audio.shape[0]
        else:
            import soundfile as sf

            self._file = sf.SoundFile(str(audio))
            total = self._file.frames
        self.n = min(total, int(round(duration_s * sr)))
        self.sr = sr
        self.pos = 0

    def _read(self, hop: int) -> np.ndarray:
        k = min(hop, self.n - self.pos)
        if self._file is None:
            x = self.x[self.pos : self.pos + k]
        else:
            x = self._file.read(k, dtype="float32", always_2d=True)
        return np.ascontiguousarray(x.T, dtype=np.float32)

    def write_until(self, t_s: float) -> None:
        hop = 1024
        end = self.n if t_s == float("inf") else min(self.n, int(t_s * self.sr))
        while self.pos < end:
            chunk = self._read(hop)
            fr = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            fr.sample_rate = self.sr
            fr.pts = self.pos
            fr.time_base = Fraction(1, self.sr)
            for p in self.stream.encode(fr):
                self.c.mux(p)
            self.pos += hop

    def close(self) -> None:
        self.write_until(float("inf"))
        for p in self.stream.encode():
            self.c.mux(p)
        if self._file is not None:
            self._file.close()


def read_audio(path: str | Path, *, sample_rate: int, duration_s: float) -> np.ndarray | None:
    """Decode the first audio stream of ``path`` to float32 stereo at ``sample_rate``.

    Returns an array of shape (round(duration_s * sample_rate), 2), or None if the file
    has no audio stream.
    """
    n = int(round(duration_s * sample_rate))
    with _media.open_media(path) as c:
        if not c.streams.audio:
            return None
        res = av.AudioResampler(format="fltp", layout="stereo", rate=sample_rate)
        chunks = []
        for frame in c.decode(c.streams.audio[0]):
            for out in res.resample(frame):
                chunks.append(out.to_ndarray())
        for out in res.resample(None):
            chunks.append(out.to_ndarray())
    x = np.concatenate(chunks, axis=1).T if chunks else np.zeros((0, 2), np.float32)
    y = np.zeros((n, 2), np.float32)
    y[: min(n, len(x))] = x[:n]
    return y


def mux(
    video_path: str | Path,
    audio: np.ndarray | str | Path,
    sample_rate: int,
    out_path: str | Path,
    *,
    keep_audio: bool = False,
    duck_db: float = -12.0,
    info: _media.VideoInfo | None = None,
) -> Path:
    """Write ``out_path``: the video stream of ``video_path`` copied, plus ``audio`` as AAC.

    Parameters
    ----------
    info : VideoInfo, optional
        The input's probe when the caller has it (the file is not probed again).
    audio : np.ndarray, shape (n, 2), float32, or path
        The music, or a WAV/FLAC file of it (streamed: memory does not grow with length).
    keep_audio : bool
        Mix the input's own sound under the music, lowered by ``duck_db`` dB (this reads
        both sounds whole).

    The output's container follows ``out_path``'s suffix (mp4, mov, mkv, ...).
    """
    out_path = Path(out_path)
    info = info if info is not None else _media.probe_video(video_path)
    duration = info.duration_s
    if keep_audio:
        if not isinstance(audio, np.ndarray):
            import soundfile as sf

            audio = sf.read(str(audio), dtype="float32", always_2d=True)[0]
        orig = read_audio(
            video_path, sample_rate=sample_rate, duration_s=audio.shape[0] / sample_rate
        )
        if orig is not None:
            mix = audio + orig * np.float32(10 ** (duck_db / 20))
            peak = float(np.abs(mix).max())
            if peak > 0.89:
                mix *= np.float32(0.89 / peak)
            audio = mix
    with atomic_path(out_path) as tmp:
        with _media.open_media(video_path) as src:
            vin = src.streams.video[0]
            try:
                out = av.open(str(tmp), mode="w", format=_format_for(out_path))
            except (av.error.FFmpegError, ValueError) as exc:
                raise ParameterError(f"{out_path}: cannot write this container ({exc})") from None
            with out:
                vout = _copy_stream(out, vin, out_path)
                aw = _AudioWriter(out, audio, sample_rate, duration_s=duration)
                last_dts = None
                tb = float(vin.time_base)
                start = float(vin.start_time * vin.time_base) if vin.start_time else 0.0
                for packet in src.demux(vin):
                    if packet.dts is None:  # the demuxer's flush packet
                        continue
                    if last_dts is not None and packet.dts <= last_dts:
                        continue
                    last_dts = packet.dts
                    aw.write_until(packet.dts * tb - start + 0.5)
                    packet.stream = vout
                    out.mux(packet)
                aw.close()
    return out_path


def _copy_stream(out, vin, out_path: Path):
    """Add a stream to ``out`` that takes ``vin``'s packets as they are (no encoder needed:
    the codec parameters are copied, so AV1, VP9 or any codec the container accepts)."""
    try:
        return out.add_stream_from_template(vin, opaque=True)
    except (ValueError, av.error.FFmpegError) as exc:
        codec = vin.codec_context.codec.name if vin.codec_context.codec else "this"
        raise ParameterError(
            f"{out_path}: a {out_path.suffix} file cannot hold the input's {codec} video as a "
            f"copy ({exc}); use {_other_containers(out_path)}"
        ) from None


def check_mux(video_path: str | Path, out_path: str | Path) -> None:
    """Check, before any work, that ``out_path``'s container can hold ``video_path``'s video
    stream as a copy next to AAC audio (writes only a header, in memory).

    Raises
    ------
    ParameterError
    """
    import io

    out_path = Path(out_path)
    fmt = _format_for(out_path)
    with _media.open_media(video_path) as src:
        if not src.streams.video:
            return  # analysis says "no video stream" with the file's name
        vin = src.streams.video[0]
        try:
            out = av.open(io.BytesIO(), mode="w", format=fmt)
        except (av.error.FFmpegError, ValueError) as exc:
            raise ParameterError(f"{out_path}: cannot write this container ({exc})") from None
        try:
            _copy_stream(out, vin, out_path)
            a = out.add_stream("aac", rate=48000)
            a.layout = "stereo"
            out.start_encoding()
        except (ValueError, av.error.FFmpegError) as exc:
            raise ParameterError(
                f"{out_path}: a {out_path.suffix} file cannot hold this video with AAC audio "
                f"({exc}); use {_other_containers(out_path)}"
            ) from None
        finally:
            with contextlib.suppress(Exception):
                out.close()


def _other_containers(path: Path) -> str:
    """The containers to try instead of ``path``'s (Matroska holds any codec)."""
    others = [s for s in (".mkv", ".mp4", ".mov") if s != path.suffix.lower()]
    return " or ".join(others)


def _format_for(path: Path) -> str | None:
    return {
        ".mp4": "mp4",
        ".m4v": "mp4",
        ".mov": "mov",
        ".mkv": "matroska",
        ".webm": "webm",
        ".avi": "avi",
    }.get(path.suffix.lower())


def _still_size(image_path, w: int, h: int) -> tuple[int, int]:
    """The video size of a still ``w`` x ``h``: at most 1920x1080, even sides."""
    scale = min(1.0, 1920 / w, 1080 / h)
    w2, h2 = int(w * scale) // 2 * 2, int(h * scale) // 2 * 2
    if w2 < 2 or h2 < 2:
        raise InputError(
            f"{image_path}: image is too small for a video ({w}x{h}; at least 2x2 pixels)"
        )
    return w2, h2


def check_still(image_path: str | Path) -> None:
    """Check, before any work, that a still image can become a video (:func:`still_video`).

    Raises
    ------
    InputError
    """
    img = _media.load_image(image_path)
    _still_size(image_path, img.shape[1], img.shape[0])


def still_video(
    image_path: str | Path,
    audio: np.ndarray | str | Path,
    sample_rate: int,
    out_path: str | Path,
    *,
    duration_s: float,
    fps: int = 5,
) -> Path:
    """A video of a still image with ``audio``: H.264 (yuv420p) at ``fps`` plus AAC."""
    import cv2

    img = _media.load_image(image_path)
    w2, h2 = _still_size(image_path, img.shape[1], img.shape[0])
    img = cv2.resize(img, (w2, h2), interpolation=cv2.INTER_AREA)
    rgb = np.ascontiguousarray(img[..., ::-1])
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        with av.open(str(tmp), mode="w", format=_format_for(out_path) or "mp4") as out:
            vs = out.add_stream("libx264", rate=fps)
            vs.width, vs.height, vs.pix_fmt = w2, h2, "yuv420p"
            vs.codec_context.options = {"tune": "stillimage", "preset": "veryfast"}
            aw = _AudioWriter(out, audio, sample_rate, duration_s=duration_s)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            n = int(np.ceil(duration_s * fps))
            for i in range(n):
                frame.pts = i
                for p in vs.encode(frame):
                    out.mux(p)
                aw.write_until((i + 1) / fps)
            for p in vs.encode():
                out.mux(p)
            aw.close()
    return out_path
