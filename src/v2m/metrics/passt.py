"""PaSST audio tagger (Koutini et al., Interspeech 2022) for the KL divergence of V2M-bench.

VidMuse and GVMGen report "KL" as AudioCraft computes it: both pieces are cut into
segments of the classifier's input length (10, 20 or 30 s; segments of 0.15 s or less
are dropped), each segment gets the softmax of PaSST's 527 AudioSet logits, and the KL
divergence ``sum(p_ref * (log p_ref - log(p_gen + 1e-6)))`` is averaged over segment
pairs. :class:`PaSST` is our own implementation of the network and its front end; it loads
the published checkpoints (``passt-s-f128-p16-s10-ap476-swa.pt`` and the 20 s / 30 s
ones, a state dict with the layer names of the ``hear21passt`` package) from a local file
and never downloads anything.

Front end (``hear21passt``'s ``AugmentMelSTFT`` in evaluation mode): mono audio at
32 kHz, pre-emphasis ``y[n] - 0.97 y[n-1]``, a 1024-point STFT of 800-sample symmetric
Hann windows, hop 320, centred with reflection padding, power spectrum, 128 Kaldi mel
bands from 0 Hz to 15 kHz, ``(log(mel + 1e-5) + 4.5) / 5``.

Network: a distilled ViT on 16 x 16 patches with stride 10 x 10 (``width``, ``depth`` and
the positional grid are read from the checkpoint; ``heads`` is 12 for the published
models), separate frequency and time positional embeddings, the classifier head applied to
the mean of the class and distillation tokens.

Checked against ``hear21passt`` (the model AudioCraft's metric loads) with the same random
weights: equal log-mel input and equal logits (tests/test_passt.py); the mel matrix
against kaldi-native-fbank's Kaldi mel banks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import InputError, ParameterError
from ._loading import _read_state, _to_mono_sr, _torch

__all__ = ["PaSST", "kaldi_mel_banks", "passt_log_mel", "build_passt", "kl_segments"]

PASST_SR = 32000
N_FFT = 1024
HOP = 320
WIN = 800
N_MELS = 128
FMAX_HZ = 15000.0  # hear21passt: fmax = sr/2 - fmax_aug_range/2 with fmax_aug_range = 2000
MIN_SEGMENT_S = 0.15  # AudioCraft drops shorter segments
KL_EPS = 1e-6


def _mel_kaldi(f):
    return 1127.0 * np.log(1.0 + np.asarray(f, float) / 700.0)


def kaldi_mel_banks(
    *, n_mels: int = N_MELS, n_fft: int = N_FFT, sr: int = PASST_SR, fmin_hz: float = 0.0,
    fmax_hz: float = FMAX_HZ,
) -> np.ndarray:  # fmt: skip
    """Kaldi's triangular mel filters (mel = 1127 ln(1 + f/700), no VTLN warp).

    Returns
    -------
    np.ndarray, shape (n_mels, n_fft // 2)
        Weights of the FFT bins 0 .. n_fft/2 - 1 (Kaldi leaves out the Nyquist bin).
    """
    if not 0 <= fmin_hz < fmax_hz <= sr / 2:
        raise ParameterError(f"mel range {fmin_hz}-{fmax_hz} Hz: must lie in 0-{sr / 2} Hz")
    lo, hi = _mel_kaldi(fmin_hz), _mel_kaldi(fmax_hz)
    delta = (hi - lo) / (n_mels + 1)
    b = np.arange(n_mels)[:, None]
    left, center, right = lo + b * delta, lo + (b + 1) * delta, lo + (b + 2) * delta
    mel = _mel_kaldi(np.arange(n_fft // 2) * sr / n_fft)[None, :]
    up = (mel - left) / (center - left)
    down = (right - mel) / (right - center)
    return np.maximum(0.0, np.minimum(up, down))


def passt_log_mel(y: np.ndarray, sr: int) -> np.ndarray:
    """PaSST's input: normalised log-mel of ``y`` (any rate, mono or (n, channels)).

    Returns
    -------
    np.ndarray, shape (128, n_frames), float32
        ``n_frames = 1 + (n_samples_32k - 1) // 320``.
    """
    x = _to_mono_sr(y, sr, PASST_SR)
    return _log_mel_32k(x)


def _log_mel_32k(x: np.ndarray) -> np.ndarray:
    torch = _torch()
    if x.size < 2:
        raise InputError("audio too short for PaSST (under two samples)")
    t = torch.from_numpy(np.asarray(x, np.float32))
    t = t[1:] - 0.97 * t[:-1]
    spec = torch.stft(
        t, N_FFT, hop_length=HOP, win_length=WIN, center=True, pad_mode="reflect",
        window=torch.hann_window(WIN, periodic=False), return_complex=True,
    )  # fmt: skip
    power = spec.real**2 + spec.imag**2  # (513, frames)
    banks = torch.from_numpy(kaldi_mel_banks().astype(np.float32))
    mel = banks @ power[:-1]
    return ((torch.log(mel + 1e-5) + 4.5) / 5.0).numpy()


def build_passt(*, width: int = 768, depth: int = 12, heads: int = 12, grid=(12, 99),
                classes: int = 527):  # fmt: skip
    """The PaSST network (distilled ViT, 16 x 16 patches, stride 10) as a torch module.

    Its forward takes log-mel of shape (batch, 128, frames) and returns the logits
    (batch, classes): the head on the mean of the class and distillation tokens (the
    checkpoints' separate ``head_dist`` layer is loaded but, as in PaSST, not used).
    """
    torch = _torch()
    nn = torch.nn
    if width % heads:
        raise ParameterError(f"width {width} is not a multiple of heads={heads}")

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(width, eps=1e-6)
            self.attn = nn.Module()
            self.attn.qkv = nn.Linear(width, 3 * width)
            self.attn.proj = nn.Linear(width, width)
            self.norm2 = nn.LayerNorm(width, eps=1e-6)
            self.mlp = nn.Module()
            self.mlp.fc1 = nn.Linear(width, 4 * width)
            self.mlp.fc2 = nn.Linear(4 * width, width)

        def forward(self, x):
            b, n, c = x.shape
            q, k, v = self.attn.qkv(self.norm1(x)).reshape(b, n, 3, heads, c // heads).unbind(2)
            a = nn.functional.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
            )
            x = x + self.attn.proj(a.transpose(1, 2).reshape(b, n, c))
            h = self.mlp.fc2(nn.functional.gelu(self.mlp.fc1(self.norm2(x))))
            return x + h

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = nn.Module()
            self.patch_embed.proj = nn.Conv2d(1, width, kernel_size=16, stride=10)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
            self.dist_token = nn.Parameter(torch.zeros(1, 1, width))
            self.new_pos_embed = nn.Parameter(torch.zeros(1, 2, width))
            self.freq_new_pos_embed = nn.Parameter(torch.zeros(1, width, grid[0], 1))
            self.time_new_pos_embed = nn.Parameter(torch.zeros(1, width, 1, grid[1]))
            self.blocks = nn.Sequential(*[Block() for _ in range(depth)])
            self.norm = nn.LayerNorm(width, eps=1e-6)
            self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, classes))
            self.head_dist = nn.Linear(width, classes)

        def forward(self, mel):
            x = self.patch_embed.proj(mel[:, None])  # (b, width, f, t)
            if x.shape[-1] > self.time_new_pos_embed.shape[-1]:
                raise ParameterError(
                    f"{x.shape[-1]} time patches: longer than the model's "
                    f"{self.time_new_pos_embed.shape[-1]}"
                )
            x = x + self.time_new_pos_embed[..., : x.shape[-1]] + self.freq_new_pos_embed
            x = x.flatten(2).transpose(1, 2)
            b = x.shape[0]
            tokens = (
                torch.cat((self.cls_token, self.dist_token), dim=1).expand(b, -1, -1)
                + self.new_pos_embed
            )
            x = self.norm(self.blocks(torch.cat((tokens, x), dim=1)))
            return self.head((x[:, 0] + x[:, 1]) / 2)

    return Net()


def _shape_from_state(state: Mapping) -> dict:
    try:
        width = int(state["cls_token"].shape[-1])
        depth = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
        grid = (
            int(state["freq_new_pos_embed"].shape[2]),
            int(state["time_new_pos_embed"].shape[3]),
        )
        classes = int(state["head_dist.weight"].shape[0])
    except (KeyError, ValueError, IndexError) as exc:
        raise InputError(f"not a PaSST state dict (missing {exc})") from None
    return {"width": width, "depth": depth, "grid": grid, "classes": classes}


class PaSST:
    """PaSST AudioSet tagger from a local checkpoint.

    Parameters
    ----------
    weights : path or mapping
        A state dict in ``hear21passt``'s layout (keys ``patch_embed.proj.weight``,
        ``blocks.N...``, ``head.1.weight``, ``head_dist.weight``, ...; a ``net.`` prefix, as
        in a saved ``PasstBasicWrapper``, is accepted). Never downloaded.
    heads : int
        Attention heads (12 in every published PaSST-S checkpoint).

    Attributes
    ----------
    segment_s : float
        The input length the checkpoint's time embedding covers (10, 20 or 30 s).
    """

    def __init__(self, weights: str | Path | Mapping, *, heads: int = 12):
        label, state = _read_state(weights, "PaSST")
        state = {k.removeprefix("net."): v for k, v in dict(state).items()}
        state = {k: v for k, v in state.items() if not k.startswith(("mel.", "device_proxy"))}
        try:
            shape = _shape_from_state(state)
            self.model = build_passt(heads=heads, **shape)
            self.model.load_state_dict(state)
        except (RuntimeError, InputError) as exc:
            raise InputError(f"{label}: not PaSST weights ({exc})") from None
        self.model.eval()
        self.classes = shape["classes"]
        # a time grid of 99 patches (998 frames) is PaSST's 10 s, 200 is 20 s, 300 is 30 s
        self.segment_s = float(round(shape["grid"][1] / 10))

    def logits(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Logits of one piece up to :attr:`segment_s` long, shape (classes,)."""
        torch = _torch()
        mel = passt_log_mel(y, sr)
        if mel.shape[1] < 16:
            raise InputError(f"audio too short for PaSST ({mel.shape[1]} frames; 16 needed)")
        with torch.no_grad():
            return self.model(torch.from_numpy(mel)[None])[0].double().numpy()

    def classify(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Softmax label distribution per segment, as AudioCraft's KL uses them.

        The piece (resampled to 32 kHz, mono) is cut into consecutive segments of
        :attr:`segment_s` without padding; segments of 0.15 s or less are dropped.

        Returns
        -------
        np.ndarray, shape (n_segments, classes)
        """
        x = _to_mono_sr(y, sr, PASST_SR)
        seg = int(self.segment_s * PASST_SR)
        rows = []
        for i in range(0, x.size, seg):
            part = x[i : i + seg]
            if part.size > int(MIN_SEGMENT_S * PASST_SR):
                z = self.logits(part, PASST_SR)
                e = np.exp(z - z.max())
                rows.append(e / e.sum())
        return np.array(rows).reshape(len(rows), self.classes)


def kl_segments(p_generated: np.ndarray, p_reference: np.ndarray) -> np.ndarray:
    """AudioCraft's KL per segment pair: ``sum(p_ref * (log p_ref - log(p_gen + 1e-6)))``.

    Parameters
    ----------
    p_generated, p_reference : np.ndarray, shape (n_segments, classes)
        Label distributions from :meth:`PaSST.classify`; pairs beyond the shorter of the
        two are not compared.

    Returns
    -------
    np.ndarray, shape (min(n_generated, n_reference),)
    """
    n = min(len(p_generated), len(p_reference))
    g = np.asarray(p_generated, float)[:n]
    r = np.asarray(p_reference, float)[:n]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * (np.log(r) - np.log(g + KL_EPS)), 0.0)
    return terms.sum(axis=1)
