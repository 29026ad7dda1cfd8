"""Known-answer media built with PyAV for the tests."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
W, H = 160, 96


def shot_image(seed: int, *, w: int = W, h: int = H) -> np.ndarray:
    """A textured, distinct RGB image per seed (smooth colour field plus blocks)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(30, 225, size=3)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.empty((h, w, 3), np.float32)
    for c in range(3):
        fx, fy = rng.uniform(0.5, 3.0, 2)
        img[..., c] = base[c] + 40 * np.sin(
            2 * np.pi * (fx * xx / w + fy * yy / h) + rng.uniform(0, 6)
        )
    blocks = rng.integers(0, 255, size=(h // 16 + 1, w // 16 + 1, 3))
    img = 0.7 * img + 0.3 * np.kron(blocks, np.ones((16, 16, 1)))[:h, :w]
    return np.clip(img, 0, 255).astype(np.uint8)


def write_video(
    path: Path,
    frames,
    *,
    fps: int = 25,
    times_s=None,
    rotate: int | None = None,
    codec: str = "libx264",
    audio_s: float | None = None,
) -> Path:
    """Write RGB frames (iterable of HxWx3 uint8). ``times_s`` gives explicit (VFR) times."""
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=fps)
        first = True
        tb = Fraction(1, 1000) if times_s is not None else Fraction(1, fps)
        if times_s is not None:
            s.codec_context.time_base = tb
        a_stream = None
        if audio_s is not None:
            a_stream = c.add_stream("aac", rate=44100)
        for i, img in enumerate(frames):
            if first:
                s.width, s.height = img.shape[1], img.shape[0]
                s.pix_fmt = "yuv420p"
                s.time_base = tb
                s.codec_context.options = {"g": "12", "bf": "0"}
                first = False
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = int(round(times_s[i] * 1000)) if times_s is not None else i
            f.time_base = tb
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
        if a_stream is not None:
            _write_tone(c, a_stream, audio_s)
    if rotate:
        set_mp4_rotation(path, rotate)
    return path


def set_mp4_rotation(path: Path, degrees: int) -> None:
    """Patch the display matrix of the first video track's ``tkhd`` box (ISO 14496-12)."""
    import struct

    data = bytearray(Path(path).read_bytes())
    i = data.find(b"tkhd")
    assert i > 0, "no tkhd box"
    version = data[i + 4]
    off = i + 4 + 4 + (32 if version == 1 else 20) + 8 + 8
    one, zero, w = 0x10000, 0, 0x40000000
    # FFmpeg reports the counter-clockwise angle that undoes the matrix.
    mats = {
        90: (zero, -one, zero, one, zero, zero, zero, zero, w),
        180: (-one, zero, zero, zero, -one, zero, zero, zero, w),
        270: (zero, one, zero, -one, zero, zero, zero, zero, w),
    }
    data[off : off + 36] = struct.pack(">9i", *mats[degrees % 360])
    Path(path).write_bytes(bytes(data))


def _write_tone(c, a_stream, seconds: float, sr: int = 44100) -> None:
    n = int(seconds * sr)
    t = np.arange(n) / sr
    x = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    hop = 1024
    for i in range(0, n, hop):
        chunk = x[i : i + hop]
        fr = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
        fr.sample_rate = sr
        fr.pts = i
        for p in a_stream.encode(fr):
            c.mux(p)
    for p in a_stream.encode():
        c.mux(p)


def write_audio_only(path: Path, seconds: float = 2.0) -> Path:
    with av.open(str(path), "w") as c:
        a = c.add_stream("aac", rate=44100)
        _write_tone(c, a, seconds)
    return path


def cuts_video(path: Path, *, cut_frames=(20, 45, 83), n_frames=110, fps=25, **kw) -> Path:
    """Hard cuts at ``cut_frames`` between distinct textured shots (slight drift in each)."""
    bounds = [0, *cut_frames, n_frames]
    frames = []
    for k in range(len(bounds) - 1):
        img = shot_image(100 + k, w=W + 40, h=H)
        for j in range(bounds[k], bounds[k + 1]):
            off = (j - bounds[k]) % 80
            off = off if off <= 40 else 80 - off  # pan back and forth, never jump
            frames.append(np.ascontiguousarray(img[:, off : off + W]))
    return write_video(path, frames, fps=fps, **kw)


def fade_flash_video(path: Path, fps=25) -> tuple[Path, dict]:
    """Shot A (0-39), a 1 s dissolve to B (40-64), B with a one-frame white flash at 85,
    a hard cut to C at 110, end at 140."""
    a, b, c = shot_image(1), shot_image(2), shot_image(3)
    frames = [a] * 40
    for j in range(25):
        al = (j + 1) / 26
        frames.append(((1 - al) * a + al * b).astype(np.uint8))
    frames += [b] * 20
    frames.append(np.full_like(b, 255))  # flash frame at 85
    frames += [b] * 24
    frames += [c] * 30
    assert len(frames) == 140
    write_video(path, frames, fps=fps)
    return path, {"dissolve": (40 / fps, 65 / fps), "flash_frame": 85, "cut_frame": 110}


def stop_motion_video(path: Path, fps=25, stops_s=(1.0, 2.2, 3.4, 4.6), duration_s=5.6):
    """A bright square moves fast and stops abruptly at each time in ``stops_s`` (resting
    0.4 s before moving again)."""
    n = int(duration_s * fps)
    width = 400
    rng = np.random.default_rng(7)
    bg = (40 + 30 * rng.random((H // 4, width // 4, 1))).repeat(4, 0).repeat(4, 1)
    bg = np.broadcast_to(bg, (H, width, 3)).astype(np.uint8)
    obj = np.kron((np.indices((6, 6)).sum(0) % 2)[..., None], np.ones((6, 6, 1)))
    obj = (60 + 190 * obj * np.array([1.0, 0.9, 0.3])).astype(np.uint8)
    x = 10.0
    xs = []
    for i in range(n):
        t = i / fps
        moving = not any(s <= t < s + 0.4 for s in stops_s)
        if moving:
            x += 3.0
        xs.append(x)
    frames = []
    for x in xs:
        img = bg.copy()
        xi = int(x)
        img[30:66, xi : xi + 36] = obj
        frames.append(img)
    write_video(path, frames, fps=fps)
    return path


def montage_timeline(seconds: float, *, seed: int = 0):
    """A built montage timeline (no video): cuts at random times, every fourth a scene
    change (score 80, the others 35), shots whose colour mood drifts, a slowly swelling
    motion curve. Used by the projection tests and bench/music.py."""
    from v2m.timeline import Cut, Shot, Source, Timeline

    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.uniform(1.0, seconds - 1.0, int(seconds / 3))).round(3)
    cuts = cuts[np.r_[True, np.diff(cuts) > 0.4]]
    bounds = [0.0, *cuts, seconds]
    shots = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        v, ar = np.sin(i / 3) * 0.4, np.cos(i / 5) * 0.5
        shots.append(Shot(a, b, 0.5, 0.4, 0.3, 0.2 * v, 0.3, v, ar, 0.3 + 0.3 * np.sin(i)))
    hop = 0.04
    t = np.arange(int(seconds / hop) + 1) * hop
    motion = 0.5 + 0.4 * np.sin(2 * np.pi * t / 47.0) * np.sin(2 * np.pi * t / 13.0)
    return Timeline(
        source=Source("montage", "video", 1920, 1080, 25.0, seconds),
        cuts=[
            Cut(float(c), int(c * 25), 80.0 if i % 4 == 0 else 35.0, "hard")
            for i, c in enumerate(cuts)
        ],  # fmt: skip
        shots=shots,
        motion={"hop_s": hop, "energy": list(np.clip(motion, 0, 1))},
        impact={"hop_s": hop, "envelope": [0.0] * len(t)},
    )


def video_with_audio(path: Path, audio: np.ndarray, *, sr: int, layout: str,
                     codec: str = "aac", fps: int = 10) -> Path:  # fmt: skip
    """A small grey video as long as ``audio`` (frames, channels; float -1..1), with it as
    ``codec`` (``aac`` or ``pcm_s16le``) in ``layout`` (mono, stereo, 5.1, ...)."""
    audio = np.asarray(audio, np.float32)
    if audio.ndim == 1:
        audio = audio[:, None]
    pcm = codec.startswith("pcm_s16")
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = 96, 64, "yuv420p"
        a = c.add_stream(codec, rate=sr)
        a.layout = layout
        for i in range(int(audio.shape[0] / sr * fps)):
            f = av.VideoFrame.from_ndarray(np.full((64, 96, 3), 90, np.uint8), format="rgb24")
            f.pts = i
            for p in vs.encode(f):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        for i in range(0, audio.shape[0], 1024):
            chunk = audio[i : i + 1024]
            if pcm:
                data = np.ascontiguousarray((chunk * 32767).astype(np.int16).reshape(1, -1))
                fr = av.AudioFrame.from_ndarray(data, format="s16", layout=layout)
            else:
                fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk.T), format="fltp",
                                                layout=layout)  # fmt: skip
            fr.sample_rate, fr.pts, fr.time_base = sr, i, Fraction(1, sr)
            for p in a.encode(fr):
                c.mux(p)
        for p in a.encode():
            c.mux(p)
    return path
