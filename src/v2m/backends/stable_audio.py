"""The ``stable-audio`` backend: Stable Audio Open through ``diffusers``, from a local folder.

The pipeline (``StableAudioPipeline``: T5 text encoder, DiT, Oobleck autoencoder, cosine
DPM-Solver++ scheduler) is loaded with ``local_files_only`` from a folder written by
``save_pretrained`` (a local copy of ``stabilityai/stable-audio-open-1.0``); it needs the
``torchsde`` package for its scheduler (extra ``neural``). Stable Audio is told the
duration of each window ("seconds total" conditioning) and the prompt written from the cue
sheet. Its windows cannot continue earlier audio (the pipeline has no audio prompt), so
longer pieces are made of windows that overlap by ``context_s``, crossfaded on bar lines
and seeded in sequence; the warp onto the cue's beats follows, as for MusicGen.
"""

from __future__ import annotations

from .._deps import require
from .._models import device, model_folder, offline
from ..errors import InputError
from ._windowed import WindowedBackend
from .base import BACKENDS

__all__ = ["StableAudio"]


@BACKENDS.register(aliases=("stable-audio-open", "stableaudio"))
class StableAudio(WindowedBackend):
    """Stable Audio Open from ``model_dir``.

    Options
    -------
    model_dir, device, window_s, context_s, crossfade_s, sync
        As for :class:`~v2m.backends.musicgen.MusicGen` (the window defaults to the
        model's maximum length, 47 s for Stable Audio Open 1.0).
    steps : int
        Diffusion steps (default 100, the pipeline's default).
    guidance_scale : float
        Classifier-free guidance (default 7.0, the pipeline's default).
    """

    name = "stable-audio"

    def _load(self) -> None:
        if self._loaded:
            return
        self._torch = require("torch", purpose="the stable-audio backend")
        diffusers = require("diffusers", purpose="the stable-audio backend")
        p = model_folder(
            self.options.get("model_dir"), "Stable Audio", "stabilityai/stable-audio-open-1.0"
        )
        offline()
        try:
            self._pipe = diffusers.StableAudioPipeline.from_pretrained(p, local_files_only=True)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{p}: not a Stable Audio pipeline folder ({exc})") from None
        except ImportError as exc:  # the scheduler needs torchsde
            raise InputError(f"{p}: {exc} (install the 'neural' extra)") from None
        self.device = device(self.options.get("device", "auto"))
        self._pipe.to(self.device)
        self._pipe.set_progress_bar_config(disable=True)
        vae = self._pipe.vae
        self.sample_rate = int(vae.config.sampling_rate)
        self.max_window_s = (
            self._pipe.transformer.config.sample_size * vae.hop_length / self.sample_rate
        )
        self.model_label = "stable-audio"
        self.continues = False
        self._loaded = True

    def _generate_window(self, text, w, prev, score, seed):
        torch = self._torch
        gen = torch.Generator(device="cpu").manual_seed(seed)
        out = self._pipe(
            text,
            audio_start_in_s=0.0,
            # the window's length, kept inside the model's limit against rounding (the
            # caller pads the missing sample)
            audio_end_in_s=min(float(w.duration_s), self.max_window_s * (1 - 1e-9)),
            num_inference_steps=int(self.options.get("steps", 100)),
            guidance_scale=float(self.options.get("guidance_scale", 7.0)),
            negative_prompt="low quality, vocals, noise",
            generator=gen,
        )
        return out.audios[0].float().cpu().numpy().T  # (n, channels)
