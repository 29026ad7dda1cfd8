"""The ``musicgen`` backend: MusicGen / MusicGen-Melody conducted by the cue sheet.

The model comes from a local folder written by ``save_pretrained`` (config, weights and
the T5 tokenizer; for MusicGen-Melody also its feature extractor's
``preprocessor_config.json``), loaded with ``local_files_only`` and the Hugging Face
offline switches set: v2m never downloads it.

Per piece:

1. The prompt: the cue sheet's own ``prompt``, else :func:`~v2m.backends.prompt.prompt_for`;
   each window adds the energy (and key) of the section it mostly covers.
2. Windows of the model's length (at most 30 s, MusicGen's training length) planned on the
   cue's bar lines; each after the first continues the last ``context_s`` seconds of the
   previous one (MusicGen's audio prompt); equal-power crossfades centred on the joins.
   MusicGen-Melody takes no audio prompt in ``transformers``; there the windows are
   conditioned on the chroma of v2m's own score (one-hot of the strongest pitch class per
   chroma frame, melody notes weighted over the accompaniment, as the model's feature
   extractor makes from audio), which carries the harmony across the joins.
3. Sampling with a seed per window derived from the cue's seed (the same cue gives the same
   audio), classifier-free guidance as in the model's generation config (3.0 by default).
4. The joined audio is warped onto the cue's beats (:func:`~v2m.backends.warp.sync_to_grid`)
   and the report gives the cut-to-beat hit rate before and after.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .._deps import require
from .._models import check_tokenizer, device, model_folder, offline
from ..errors import InputError, ParameterError
from ._windowed import WindowedBackend
from .base import BACKENDS

__all__ = ["MusicGen", "score_chroma"]

MAX_WINDOW_S = 30.0
#: MusicGen-Melody's feature extractor: 4096-sample hop at 32 kHz.
CHROMA_HOP = 4096
MELODY_WEIGHT = 1.0
OTHER_WEIGHT = 0.35


def score_chroma(score, *, start_s: float, n_frames: int, frame_rate_hz: float) -> np.ndarray:
    """One-hot chroma of a composed score, as MusicGen-Melody's conditioning expects.

    Each frame (``start_s + k / frame_rate_hz``) gets the pitch class with the most
    weight among the notes sounding then (melody notes weigh ``MELODY_WEIGHT``, other
    pitched parts ``OTHER_WEIGHT``; drums none); frames where nothing sounds are zero.

    Returns
    -------
    np.ndarray, shape (n_frames, 12), float32
    """
    beats = np.asarray(score.cue.beats_s, float)
    idx = np.arange(beats.size, dtype=float)

    def to_s(beat):
        b = np.asarray(beat, float)
        inside = np.interp(b, idx, beats)
        first = beats[0] + (b - 0) * (beats[1] - beats[0])
        last = beats[-1] + (b - idx[-1]) * (beats[-1] - beats[-2])
        return np.where(b < 0, first, np.where(b > idx[-1], last, inside))

    t = start_s + np.arange(n_frames) / frame_rate_hz
    weight = np.zeros((n_frames, 12))
    for role, notes in score.parts.items():
        if role == "drums" or not notes:
            continue
        w = MELODY_WEIGHT if role == "melody" else OTHER_WEIGHT
        on = to_s([n.start for n in notes])
        off = to_s([n.end for n in notes])
        pcs = np.array([n.pitch % 12 for n in notes])
        a = np.searchsorted(t, on)
        b = np.searchsorted(t, off)
        for lo, hi, pc in zip(a, b, pcs, strict=True):
            weight[lo:hi, pc] += w
    out = np.zeros((n_frames, 12), np.float32)
    on = weight.max(axis=1) > 0
    out[np.flatnonzero(on), weight[on].argmax(axis=1)] = 1.0
    return out


@BACKENDS.register(aliases=("musicgen-melody",))
class MusicGen(WindowedBackend):
    """MusicGen or MusicGen-Melody from ``model_dir``.

    Options
    -------
    model_dir : path
        The local model folder (required).
    device : str
        ``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``.
    window_s, context_s, crossfade_s : float
        Window length (default: the model's maximum, at most 30 s), the continuation
        context (default a third of the window) and the crossfade at joins (default 1 s,
        at most the context).
    guidance_scale : float
        Classifier-free guidance (default: the model's generation config, else 3.0).
    sync : bool
        Warp the result onto the cue's beats (default True).
    """

    name = "musicgen"

    def _load(self) -> None:
        if self._loaded:
            return
        torch = require("torch", purpose="the musicgen backend")
        transformers = require("transformers", purpose="the musicgen backend")
        p = model_folder(
            self.options.get("model_dir"), "MusicGen", "facebook/musicgen-small or -melody"
        )
        offline()
        try:
            cfg = transformers.AutoConfig.from_pretrained(p, local_files_only=True)
            if cfg.model_type not in ("musicgen", "musicgen_melody"):
                raise ValueError(f"model type {cfg.model_type!r} is not MusicGen")
            self.melody = cfg.model_type == "musicgen_melody"
            cls = (
                transformers.MusicgenMelodyForConditionalGeneration
                if self.melody
                else transformers.MusicgenForConditionalGeneration
            )
            self._model = cls.from_pretrained(p, local_files_only=True).eval()
            self._tok = transformers.AutoTokenizer.from_pretrained(p, local_files_only=True)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{p}: not a MusicGen model folder ({exc})") from None
        check_tokenizer(self._tok, p)
        self.device = device(self.options.get("device", "auto"))
        m = self._model.to(self.device)
        self.model_label = "musicgen-melody" if self.melody else "musicgen"
        self.continues = not self.melody
        self.sample_rate = int(m.config.audio_encoder.sampling_rate)
        self.frame_rate = float(m.config.audio_encoder.frame_rate)
        self.codebooks = int(m.config.decoder.num_codebooks)
        max_frames = int(m.config.decoder.max_position_embeddings) - self.codebooks - 1
        self.max_window_s = min(MAX_WINDOW_S, max_frames / self.frame_rate)
        self.chroma_rate = self.sample_rate / CHROMA_HOP
        fe = p / "preprocessor_config.json"
        if self.melody and fe.is_file():
            d = json.loads(fe.read_text())
            self.chroma_rate = d.get("sampling_rate", self.sample_rate) / d.get(
                "hop_length", CHROMA_HOP
            )
        self._torch = torch
        self._loaded = True

    def generate(self, cue, *, timeline=None, score=None, progress: bool = False):
        self._load()
        if self.melody and score is None:
            from ..composition import compose

            score = compose(cue)
        return super().generate(cue, timeline=timeline, score=score, progress=progress)

    def _generate_window(self, text, w, prev, score, seed):
        torch = self._torch
        torch.manual_seed(seed)
        tok = self._tok([text], return_tensors="pt", padding=True).to(self.device)
        kw = {}
        new_s = w.duration_s - (w.context_s if prev is not None and not self.melody else 0.0)
        if prev is not None and not self.melody:
            n = int(round(w.context_s * self.sample_rate))
            tail = prev[-n:].T[None]  # (1, channels, n)
            kw["input_values"] = torch.from_numpy(np.ascontiguousarray(tail)).to(self.device)
        if self.melody:
            if score is None:
                raise ParameterError("musicgen-melody needs the composed score for its chroma")
            n_ch = int(math.ceil(w.duration_s * self.chroma_rate))
            chroma = score_chroma(
                score, start_s=w.start_s, n_frames=n_ch, frame_rate_hz=self.chroma_rate
            )
            self.last_chroma = chroma
            kw["input_features"] = torch.from_numpy(chroma[None]).to(self.device)
        g = self.options.get("guidance_scale")
        if g is None:
            g = getattr(self._model.generation_config, "guidance_scale", None) or 3.0
        new_tokens = int(math.ceil(new_s * self.frame_rate)) + self.codebooks
        with torch.no_grad():
            out = self._model.generate(
                **tok, **kw, max_new_tokens=new_tokens, do_sample=True, guidance_scale=g
            )
        return out[0].float().cpu().numpy().T  # (n, channels), from the window's start
