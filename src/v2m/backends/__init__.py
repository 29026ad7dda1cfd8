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

from . import musicgen, rules, stable_audio  # noqa: F401  (registration)
from .base import BACKENDS, Generated, MusicBackend, get_backend, write_generated

__all__ = ["BACKENDS", "MusicBackend", "Generated", "get_backend", "write_generated"]
