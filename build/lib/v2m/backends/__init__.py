"""Music backends: what turns a cue sheet into audio.

==============  ============================================================================
``rules``       The default: v2m's composer writes the score, the SoundFont renderer plays it
                (:mod:`v2m.composition`, :mod:`v2m.rendering`). No extra needed.
``musicgen``    MusicGen or MusicGen-Melody (Copet et al. 2023) through Hugging Face
                ``transformers``, from a local model folder (``--model-dir``; extra
                ``neural``). The prompt is written from the cue sheet
                (:mod:`v2m.backends.prompt`); MusicGen-Melody is also conditioned on the
                chroma of v2m's own score, so its harmony follows the cue. Pieces longer
                than the model's window are generated window by window as continuations,
                joined on bar lines (:mod:`v2m.backends.windows`), then warped onto the
                cue's beats (:mod:`v2m.backends.warp`).
``stable-audio`` Stable Audio Open through ``diffusers`` (``StableAudioPipeline``) from a
                local folder: the same prompt, windows of the model's length overlapped and
                crossfaded on bar lines (no audio continuation), the same warp.
==============  ============================================================================

Every backend returns :class:`Generated`: audio at the backend's rate (unmastered; the
pipeline masters it) and a report of what it did. v2m never downloads a model: a missing
folder is an :class:`~v2m.errors.InputError` that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._registry import Registry

__all__ = ["BACKENDS", "MusicBackend", "Generated", "get_backend", "write_generated"]


@dataclass
class Generated:
    """Audio from a backend: ``audio`` (n, 2) float32 at ``sample_rate``, unmastered, exactly
    the cue's length; ``score`` the composed score when the backend wrote one; ``report``
    what the backend did (prompt, windows, sync before/after, model)."""

    audio: np.ndarray
    sample_rate: int
    score: object | None = None
    report: dict = field(default_factory=dict)


class MusicBackend:
    """A way to make music for a cue sheet. Subclasses set ``name`` and implement
    :meth:`generate`; options come as keyword arguments (``model_dir``, ``device``, ...)."""

    name = ""
    #: True when the backend needs a local model folder.
    needs_model = False

    def __init__(self, **options):
        self.options = options

    def load(self) -> None:
        """Load the model now, so that a missing or broken one is reported before any other
        work (the default backend has nothing to load)."""

    def generate(self, cue, *, timeline=None, score=None, progress: bool = False) -> Generated:
        raise NotImplementedError


BACKENDS: Registry[MusicBackend] = Registry("backend")


def get_backend(name: str, **options) -> MusicBackend:
    """The backend registered as ``name``, built with ``options``."""
    return BACKENDS.get_class(name)(**options)


def write_generated(gen: Generated, cue, path, *, sample_rate: int = 48000):
    """Resample a backend's audio to ``sample_rate``, master it as the renderer does (the
    cue's length and ending, -14 LUFS, true peak <= -1 dBTP) and write it as float WAV.

    Returns
    -------
    v2m.rendering.RenderInfo
    """
    from math import gcd

    from scipy.signal import resample_poly

    from ..rendering import RenderInfo, master, write_audio

    x = np.asarray(gen.audio, np.float32)
    if gen.sample_rate != sample_rate:
        g = gcd(int(gen.sample_rate), int(sample_rate))
        x = resample_poly(x, sample_rate // g, gen.sample_rate // g, axis=0).astype(np.float32)
    out, lufs, peak = master({"mix": x}, sample_rate, duration_s=cue.duration_s, ending=cue.ending)
    write_audio(path, out["mix"], sample_rate, subtype="FLOAT")
    model = gen.report.get("model", gen.report.get("backend", "?"))
    return RenderInfo(
        duration_s=out["mix"].shape[0] / sample_rate,
        sample_rate=sample_rate,
        soundfont=gen.report.get("soundfont", f"(none: {model})"),
        soundfont_origin=gen.report.get("backend", "?"),
        synth=gen.report.get("synth", model),
        loudness_lufs=lufs,
        true_peak_dbtp=peak,
    )


from . import musicgen, rules, stable_audio  # noqa: E402,F401  (registration)
