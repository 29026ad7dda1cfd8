"""Benchmark media: long 1080p H.264 videos with cuts and motion, built once and reused."""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
MEDIA = HERE / "_media"


def _texture(seed: int, h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(h // 32 + 2, w // 32 + 2, 3), dtype=np.uint8)
    import cv2

    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:h, 0:w]
    for c in range(3):
        img[..., c] = np.clip(
            img[..., c] * 0.6 + 60 * (1 + np.sin(xx / (40 + 17 * c) + yy / 53)), 0, 255
        )
    return img


def _put(container, stream, img: np.ndarray, pts: int) -> None:
    """Encode one RGB frame at ``pts`` and mux its packets."""
    f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
    f.pts = pts
    for p in stream.encode(f):
        container.mux(p)


def long_video(seconds: int, *, width: int = 1920, height: int = 1080, fps: int = 30) -> Path:
    """A ``seconds``-long video: shots of 2-6 s panning over textures, hard cuts between."""
    MEDIA.mkdir(exist_ok=True)
    path = MEDIA / f"bench_{seconds}s_{height}p.mp4"
    if path.exists():
        return path
    t0 = time.time()
    rng = np.random.default_rng(seconds)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.codec_context.options = {"preset": "ultrafast", "crf": "23"}
        n = seconds * fps
        i = 0
        shot = 0
        while i < n:
            length = int(rng.uniform(2, 6) * fps)
            tex = _texture(shot, height + 200, width + 400)
            vx, vy = rng.uniform(-4, 4), rng.uniform(-1, 1)
            for j in range(min(length, n - i)):
                x = int(200 + vx * j) % 400
                y = int(100 + vy * j) % 200
                _put(c, s, tex[y : y + height, x : x + width], i)
                i += 1
            shot += 1
        for p in s.encode():
            c.mux(p)
    tmp.rename(path)
    print(f"built {path.name} in {time.time() - t0:.0f} s")
    return path


def decode_only_s(path: Path) -> float:
    """Wall time of a PyAV decode-only pass (threaded decoding, no conversion)."""
    t = time.perf_counter()
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        st.thread_type = "AUTO"
        for _ in c.decode(st):
            pass
    return time.perf_counter() - t


def real_montage(seconds: int, *, shared: Path, fps: int = 25, seed: int = 0) -> Path:
    """A ``seconds``-long montage of the shared sample clips: shots of 1.5-5 s taken from
    random places in ``shared/video/*`` in turn, letterboxed into 640x360 at ``fps``, hard
    cuts between (no sound)."""
    import cv2

    MEDIA.mkdir(exist_ok=True)
    path = MEDIA / f"real_montage_{seconds}s_{seed}.mp4"
    if path.exists():
        return path
    clips = []
    for p in sorted((shared / "video").glob("*")):
        with av.open(str(p)) as c:
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        clips.append(frames)
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".part.mp4")
    width, height = 640, 360
    with av.open(str(tmp), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.codec_context.options = {"preset": "veryfast", "crf": "20"}
        i, shot, n = 0, 0, seconds * fps
        while i < n:
            frames = clips[shot % len(clips)]
            length = min(int(rng.uniform(1.5, 5) * fps), len(frames), n - i)
            start = int(rng.integers(0, len(frames) - length + 1))
            for img in frames[start : start + length]:
                h, w = img.shape[:2]
                k = min(width / w, height / h)
                small = cv2.resize(img, (round(w * k) // 2 * 2, round(h * k) // 2 * 2))
                canvas = np.zeros((height, width, 3), np.uint8)
                y0 = (height - small.shape[0]) // 2
                x0 = (width - small.shape[1]) // 2
                canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
                _put(c, s, canvas, i)
                i += 1
            shot += 1
        for pkt in s.encode():
            c.mux(pkt)
    tmp.rename(path)
    return path
