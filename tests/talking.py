"""Talking videos with known answers: espeak-ng speech placed at known times over a picture,
with or without a music bed, impacts or applause under it (for the tests and bench/).

Speech comes from ``espeak-ng`` (Debian package); :func:`have_espeak` says whether it is
there. Every builder returns the clean voice as it was placed (so intelligibility and the
speech-to-music ratio can be measured against it) and the speech spans (the voiced parts
of each utterance, pauses inside it shorter than 0.3 s closed).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from synth import shot_image

SR = 48000
SENTENCES = [
    "The river was quiet in the morning, and the boats waited by the old stone bridge.",
    "We walked along the market, where the bakers were already selling warm bread.",
    "After lunch the wind turned, and the clouds came down from the hills.",
    "She told me that the train would leave at seven, so we had to hurry.",
    "In the evening the whole town gathered in the square to hear the music.",
    "Nobody expected the storm, but everyone had an umbrella by the end of the day.",
]


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def speech(text: str, *, voice: str = "en", words_per_min: int = 150, pitch: int = 50):
    """``text`` spoken by espeak-ng, as float32 mono at ``SR``."""
    import soundfile as sf
    from scipy.signal import resample_poly

    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(words_per_min), "-p", str(pitch), "-w",
             str(wav), text],
            check=True, capture_output=True,
        )  # fmt: skip
        x, sr = sf.read(str(wav), dtype="float32")
    g = np.gcd(SR, sr)
    return resample_poly(x, SR // g, sr // g).astype(np.float32)


def voiced_spans(x: np.ndarray, *, offset_s: float, hop_s: float = 0.01, gap_s: float = 0.3):
    """The spans where ``x`` sounds (above -45 dBFS per 10 ms), pauses < ``gap_s`` closed."""
    hop = int(hop_s * SR)
    n = len(x) // hop
    rms = np.sqrt((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1))
    on = 20 * np.log10(np.maximum(rms, 1e-9)) > -45
    spans: list[list[float]] = []
    for i in np.flatnonzero(on):
        t = i * hop_s
        if spans and t - spans[-1][1] < gap_s:
            spans[-1][1] = t + hop_s
        else:
            spans.append([t, t + hop_s])
    return [(round(a + offset_s, 3), round(b + offset_s, 3)) for a, b in spans]


@dataclass
class Talk:
    """A built talking video and what is known about it."""

    path: Path
    voice: np.ndarray  # (n,) float32 at SR: the voice alone, as placed in the track
    under: np.ndarray  # (n,) float32: everything else in the track (bed, impacts)
    spans: list[tuple[float, float]]  # the voiced spans (s)
    duration_s: float


def _bed(n: int, seed: int) -> np.ndarray:
    """A music bed: a rendered v2m cue (pop, 100 BPM) looped to ``n`` samples."""
    from v2m.composition import compose
    from v2m.cuesheet import make_cue
    from v2m.rendering import render

    r = render(
        compose(make_cue(duration_s=min(30.0, n / SR), tempo_bpm=100, style="pop", seed=seed))
    )
    m = r.mix.mean(axis=1)
    return np.resize(m, n).astype(np.float32)


def _impacts(n: int, times_s, seed: int) -> np.ndarray:
    """Door slams / hits: 80 ms bursts of decaying low-passed noise."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    y = np.zeros(n, np.float32)
    k = int(0.25 * SR)
    env = np.exp(-np.arange(k) / (0.04 * SR))
    for t in times_s:
        a = int(t * SR)
        burst = lfilter([0.3], [1, -0.7], rng.standard_normal(k)) * env
        y[a : a + k] += burst[: max(0, min(k, n - a))].astype(np.float32)
    return y


def _applause(n: int, start_s: float, end_s: float, seed: int) -> np.ndarray:
    """Applause: dense random claps (5 ms noise bursts) between ``start_s`` and ``end_s``."""
    rng = np.random.default_rng(seed)
    y = np.zeros(n, np.float32)
    k = int(0.005 * SR)
    for t in rng.uniform(start_s, end_s, int((end_s - start_s) * 120)):
        a = int(t * SR)
        y[a : a + k] += (rng.standard_normal(k) * rng.uniform(0.02, 0.08)).astype(np.float32)
    return y


def talking_video(
    path: Path,
    *,
    duration_s: float = 25.0,
    lines: list[tuple[float, str]] | None = None,
    bed_db: float | None = None,
    impacts_s=(),
    applause_s: tuple[float, float] | None = None,
    voice_dbfs: float = -20.0,
    seed: int = 0,
    fps: int = 25,
    cut_every_s: float = 4.0,
) -> Talk:
    """A video with shots cut every ``cut_every_s`` and a soundtrack of speech placed at
    the times of ``lines`` ((start_s, text) pairs), at ``voice_dbfs`` RMS over its voiced
    parts, over a music bed ``bed_db`` dB under the voice (None: no bed), impacts at
    ``impacts_s`` and applause over ``applause_s``. AAC audio at 48 kHz (mono)."""
    if lines is None:
        lines = [(1.0, SENTENCES[0]), (7.5, SENTENCES[1]), (15.0, SENTENCES[2])]
    n = int(duration_s * SR)
    voice = np.zeros(n, np.float32)
    spans: list[tuple[float, float]] = []
    for t, text in lines:
        x = speech(text)
        a = int(t * SR)
        x = x[: max(0, n - a)]
        voice[a : a + len(x)] += x
        spans += voiced_spans(x, offset_s=t)
    on = np.zeros(n, bool)
    for a, b in spans:
        on[int(a * SR) : int(b * SR)] = True
    rms = float(np.sqrt(np.mean(voice[on] ** 2))) if on.any() else 1.0
    voice *= np.float32(10 ** (voice_dbfs / 20) / rms)
    under = np.zeros(n, np.float32)
    if bed_db is not None:
        bed = _bed(n, seed)
        bed *= np.float32(10 ** ((voice_dbfs + bed_db) / 20) / np.sqrt(np.mean(bed**2)))
        under += bed
    if impacts_s:
        under += _impacts(n, impacts_s, seed)
    if applause_s:
        under += _applause(n, *applause_s, seed)
    _write(path, voice + under, duration_s=duration_s, fps=fps, cut_every_s=cut_every_s, seed=seed)
    return Talk(path, voice, under, spans, duration_s)


def _write(path: Path, audio: np.ndarray, *, duration_s, fps, cut_every_s, seed) -> None:
    """Shots of textured images (slow pan) cut every ``cut_every_s``, with ``audio``."""
    w, h = 192, 108
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.codec_context.options = {"preset": "ultrafast"}
        a_stream = c.add_stream("aac", rate=SR)
        a_stream.layout = "mono"
        a_stream.bit_rate = 128000
        n_frames = int(round(duration_s * fps))
        per_shot = max(1, int(round(cut_every_s * fps)))
        hop = 1024
        pos = 0
        for i in range(n_frames):
            img = shot_image(seed * 100 + i // per_shot, w=w + 40, h=h)
            off = (i % per_shot) * 40 // per_shot
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[:, off : off + w]), "rgb24")
            f.pts = i
            for p in vs.encode(f):
                c.mux(p)
            end = min(len(audio), int((i + 1) / fps * SR))
            while pos + hop <= end or (i == n_frames - 1 and pos < len(audio)):
                chunk = audio[pos : pos + hop]
                fr = av.AudioFrame.from_ndarray(chunk[None, :].astype(np.float32), "fltp", "mono")
                fr.sample_rate = SR
                fr.pts = pos
                fr.time_base = Fraction(1, SR)
                for p in a_stream.encode(fr):
                    c.mux(p)
                pos += len(chunk)
        for p in vs.encode():
            c.mux(p)
        for p in a_stream.encode():
            c.mux(p)
