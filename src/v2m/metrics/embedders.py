"""Neural embedders for the embedding metrics (optional extra ``neural``: PyTorch).

v2m never downloads weights. Every embedder loads from a local path the user gives; a
missing path is a :class:`~v2m.errors.InputError` that says so.

:class:`VGGish`
    The VGGish audio network (Hershey et al. 2017), as used for FAD: mono audio resampled
    to 16 kHz with resampy's ``kaiser_best`` filter (as the reference front end does) ->
    log-mel patches of 96 frames x 64 bands (25 ms windows, 10 ms hop, 125-7500 Hz HTK mel,
    ``log(mel + 0.01)``), one 128-d embedding per 0.96 s. The embedding layer has no
    activation, as in Google's VGGish and FAD (``final_relu=True`` gives the ReLU output of
    the harritaylor/torchvggish port); no PCA post-processing. Weights: a PyTorch state dict
    in that port's layout (``features.*`` convolutions, ``embeddings.*`` fully connected
    layers). ``width`` scales the channel counts (1.0 is the real network; the tests use
    tiny random ones). Checked against torchvggish: equal log-mel patches (1e-6) and
    embeddings with the same weights.
:class:`PANNsCnn14`
    The PANNs CNN14 audio-tagging network (Kong et al. 2020): mono audio resampled to
    32 kHz as ``librosa.load`` does (soxr) -> log-mel (1024-point Hann STFT, centred with
    reflection padding, hop 320, 64 Slaney mel bands 50-14000 Hz, ``10 log10``), six
    double-convolution blocks, mean over frequency, max + mean over time, ``fc1`` -> the
    2048-d clip embedding used for FAD; ``classify`` gives the 527 AudioSet probabilities
    (for KL divergence and inception score). Weights: a state dict with the published
    layer names (``bn0``, ``conv_block1..6``, ``fc1``, ``fc_audioset``; the checkpoint's
    own STFT/mel buffers, if present, are not needed and are ignored). Checked against
    ``panns_inference.models.Cnn14`` with the same weights: equal embeddings and
    probabilities.
:class:`ClapEmbedder`
    LAION-CLAP (Wu et al. 2023) through Hugging Face ``transformers`` (``ClapModel``), from a
    local model directory (``save_pretrained`` layout: config, weights, feature extractor and
    tokenizer files; e.g. a copy of ``laion/clap-htsat-unfused`` or
    ``laion/larger_clap_music``). Audio is resampled to the feature extractor's rate
    (48 kHz) and cut into windows of its maximum length (10 s), so no random crop is ever
    taken: one unit-norm embedding per window. ``embed_text`` gives unit-norm text
    embeddings; the CLAP score of a piece is the cosine between its mean audio embedding
    and its caption's embedding.
:class:`TorchScriptEmbedder`
    Any TorchScript module the user exported (PANNs, a CLAP or ImageBind audio tower, ...):
    it is called on a float32 tensor of shape (1, n_samples) at its ``sample_rate`` and
    must return (n_frames, dim) or (dim,).

Both return ``np.ndarray`` of shape (n_frames, dim), ready for
:mod:`v2m.metrics.embedding`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._deps import require
from ..errors import InputError, ParameterError
from ._loading import _read_state, _to_mono_sr, _torch, _weights_path

__all__ = [
    "VGGish",
    "PANNsCnn14",
    "TorchScriptEmbedder",
    "ClapEmbedder",
    "vggish_log_mel",
    "cnn14_log_mel",
    "load_embedder",
]

VGGISH_SR = 16000


def _load_weights(
    model, path, what: str, *, width: float, unwrap: str | None = None, drop: tuple[str, ...] = ()
):
    """Load a local state dict (a path, or the dict itself) into ``model`` (eval mode) or
    raise an InputError."""
    p = "state dict" if isinstance(path, Mapping) else _weights_path(path, what)
    try:
        _, state = _read_state(path, what)
        if unwrap and isinstance(state, dict) and unwrap in state:
            state = state[unwrap]
        if drop:
            state = {k: v for k, v in state.items() if not k.startswith(drop)}
        model.load_state_dict(state)
    except (RuntimeError, OSError, ValueError, KeyError, AttributeError) as exc:
        raise InputError(f"{p}: not {what} weights of width {width} ({exc})") from None
    return model.eval()


def _hz_to_mel_htk(f):
    return 1127.0 * np.log(1.0 + np.asarray(f, float) / 700.0)


def _mel_matrix(n_fft: int, sr: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Triangular HTK-mel filters, shape (n_fft // 2 + 1, n_mels)."""
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel = _hz_to_mel_htk(freqs)
    edges = np.linspace(_hz_to_mel_htk(fmin), _hz_to_mel_htk(fmax), n_mels + 2)
    m = np.zeros((len(freqs), n_mels))
    for i in range(n_mels):
        lo, c, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (mel - lo) / (c - lo)
        down = (hi - mel) / (hi - c)
        m[:, i] = np.maximum(0.0, np.minimum(up, down))
    m[0, :] = 0.0  # no DC
    return m


def vggish_log_mel(y: np.ndarray, sr: int) -> np.ndarray:
    """VGGish input patches, shape (n_patches, 96, 64); at least one patch (zero-padded)."""
    x = _to_mono_sr(y, sr, VGGISH_SR, resampler="resampy")
    win, hop, n_fft = 400, 160, 512
    if x.size < win:
        x = np.pad(x, (0, win - x.size))
    n = 1 + (x.size - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)  # periodic Hann
    spec = np.abs(np.fft.rfft(x[idx] * window, n_fft))
    logmel = np.log(spec @ _mel_matrix(n_fft, VGGISH_SR, 64, 125.0, 7500.0) + 0.01)
    n_patch = max(1, logmel.shape[0] // 96)
    if logmel.shape[0] < 96:
        logmel = np.pad(logmel, ((0, 96 - logmel.shape[0]), (0, 0)), constant_values=np.log(0.01))
    return logmel[: n_patch * 96].reshape(n_patch, 96, 64).astype(np.float32)


class VGGish:
    """VGGish embedder. ``VGGish(weights=path)`` loads a local state dict.

    Parameters
    ----------
    weights : path or mapping
        A PyTorch state dict (``torch.save(model.state_dict(), path)``), or the dict.
    width : float or None
        Channel multiplier (1.0 = the published network); None reads it from the weights.
    final_relu : bool
        Apply a ReLU to the embeddings (the torchvggish port does; Google's VGGish and the
        FAD reference do not).
    """

    def __init__(
        self,
        weights: str | Path | Mapping,
        *,
        width: float | None = 1.0,
        final_relu: bool = False,
    ):
        if width is None:  # read from the checkpoint: the first layer has 64 * width channels
            label, state = _read_state(weights, "VGGish")
            first = state.get("features.0.weight") if isinstance(state, Mapping) else None
            if first is None:
                raise InputError(f"{label}: not VGGish weights (no features.0.weight)")
            width, weights = first.shape[0] / 64, state
        self.model = _load_weights(
            build_vggish(width=width, final_relu=final_relu), weights, "VGGish", width=width
        )

    def embed(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Embeddings of audio ``y`` (n,) or (n, channels) at ``sr`` Hz: (n_patches, 128)."""
        torch = _torch()
        patches = torch.from_numpy(vggish_log_mel(y, sr))[:, None]
        with torch.no_grad():
            return self.model(patches).numpy().astype(np.float64)


def build_vggish(*, width: float = 1.0, final_relu: bool = False):
    """The VGGish network with channel counts scaled by ``width`` (random weights)."""
    torch = _torch()
    nn = torch.nn
    if not 0 < width <= 1:
        raise ParameterError(f"width={width}: must be in (0, 1]")
    c = [max(1, int(round(k * width))) for k in (64, 128, 256, 512)]
    fc = max(1, int(round(4096 * width)))

    class _VGGish(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, c[0], 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2, 2),
                nn.Conv2d(c[0], c[1], 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2, 2),
                nn.Conv2d(c[1], c[2], 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(c[2], c[2], 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2, 2),
                nn.Conv2d(c[2], c[3], 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(c[3], c[3], 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2, 2),
            )
            self.embeddings = nn.Sequential(
                nn.Linear(c[3] * 6 * 4, fc),
                nn.ReLU(),
                nn.Linear(fc, fc),
                nn.ReLU(),
                nn.Linear(fc, 128),
                nn.ReLU() if final_relu else nn.Identity(),
            )

        def forward(self, x):  # x: (batch, 1, 96, 64)
            x = self.features(x)
            x = x.permute(0, 2, 3, 1).contiguous().flatten(1)  # as the TF original
            return self.embeddings(x)

    return _VGGish()


class TorchScriptEmbedder:
    """Any exported TorchScript audio embedder, loaded from a local file."""

    def __init__(self, path: str | Path, *, sample_rate: int):
        torch = _torch()
        p = _weights_path(path, "TorchScript embedder")
        if sample_rate < 1000:
            raise ParameterError(f"sample_rate={sample_rate}: not an audio rate")
        try:
            self.model = torch.jit.load(str(p), map_location="cpu")
        except (RuntimeError, ValueError) as exc:
            raise InputError(f"{p}: not a TorchScript file ({exc})") from None
        self.model.eval()
        self.sample_rate = int(sample_rate)

    def embed(self, y: np.ndarray, sr: int) -> np.ndarray:
        torch = _torch()
        x = torch.from_numpy(_to_mono_sr(y, sr, self.sample_rate))[None]
        with torch.no_grad():
            out = self.model(x)
        arr = out.detach().cpu().numpy().astype(np.float64)
        return arr[None] if arr.ndim == 1 else arr.reshape(-1, arr.shape[-1])


CNN14_SR = 32000


def cnn14_log_mel(y: np.ndarray, sr: int) -> np.ndarray:
    """CNN14 input: log-mel (n_frames, 64) in dB of 32 kHz mono audio."""
    librosa = require("librosa", purpose="the CNN14 front end")
    x = _to_mono_sr(y, sr, CNN14_SR)
    spec = (
        np.abs(
            librosa.stft(
                x, n_fft=1024, hop_length=320, window="hann", center=True, pad_mode="reflect"
            )
        )
        ** 2
    )
    mel = librosa.filters.mel(sr=CNN14_SR, n_fft=1024, n_mels=64, fmin=50, fmax=14000)
    return (10 * np.log10(np.maximum(mel @ spec, 1e-10))).T.astype(np.float32)


def build_cnn14(*, width: float = 1.0, classes: int = 527):
    """The CNN14 network (without its STFT front end) with channels scaled by ``width``."""
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional
    if not 0 < width <= 1:
        raise ParameterError(f"width={width}: must be in (0, 1]")
    ch = [max(1, int(round(k * width))) for k in (64, 128, 256, 512, 1024, 2048)]

    class ConvBlock(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.bn2 = nn.BatchNorm2d(cout)

        def forward(self, x, pool):
            x = F.relu_(self.bn1(self.conv1(x)))
            x = F.relu_(self.bn2(self.conv2(x)))
            return F.avg_pool2d(x, kernel_size=pool)

    class Cnn14(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn0 = nn.BatchNorm2d(64)
            ins = [1, *ch[:-1]]
            for i, (a, b) in enumerate(zip(ins, ch, strict=True), start=1):
                setattr(self, f"conv_block{i}", ConvBlock(a, b))
            self.fc1 = nn.Linear(ch[-1], ch[-1], bias=True)
            self.fc_audioset = nn.Linear(ch[-1], classes, bias=True)

        def forward(self, logmel):  # (batch, frames, 64)
            x = logmel[:, None]  # (batch, 1, frames, mel)
            x = self.bn0(x.transpose(1, 3)).transpose(1, 3)
            for i in range(1, 7):
                x = getattr(self, f"conv_block{i}")(x, (2, 2) if i < 6 else (1, 1))
            x = torch.mean(x, dim=3)
            x = torch.max(x, dim=2).values + torch.mean(x, dim=2)
            emb = F.relu_(self.fc1(x))
            return emb, torch.sigmoid(self.fc_audioset(emb))

    return Cnn14()


class PANNsCnn14:
    """PANNs CNN14: clip embeddings (2048-d) and AudioSet probabilities, local weights only."""

    def __init__(self, weights: str | Path | Mapping, *, width: float = 1.0):
        self.model = _load_weights(
            build_cnn14(width=width),
            weights,
            "CNN14",
            width=width,
            # the published checkpoint nests the weights under "model" and carries its own
            # STFT / mel buffers, which our numpy front end does not need
            unwrap="model",
            drop=("spectrogram_extractor.", "logmel_extractor."),
        )

    def _run(self, y: np.ndarray, sr: int):
        torch = _torch()
        mel = cnn14_log_mel(y, sr)
        if mel.shape[0] < 32:  # five 2x poolings need at least 32 frames
            mel = np.pad(mel, ((0, 32 - mel.shape[0]), (0, 0)), constant_values=-100.0)
        with torch.no_grad():
            emb, prob = self.model(torch.from_numpy(mel)[None])
        return emb.numpy().astype(np.float64), prob.numpy().astype(np.float64)

    def embed(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Clip embedding, shape (1, 2048 * width)."""
        return self._run(y, sr)[0]

    def classify(self, y: np.ndarray, sr: int) -> np.ndarray:
        """AudioSet class probabilities, shape (1, 527)."""
        return self._run(y, sr)[1]


class ClapEmbedder:
    """CLAP audio and text embeddings from a local Hugging Face model directory.

    Parameters
    ----------
    path : path
        A directory written by ``ClapModel.save_pretrained`` and
        ``ClapProcessor.save_pretrained``. Nothing is ever downloaded.
    """

    def __init__(self, path: str | Path):
        import os

        _torch()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: never the network
        transformers = require("transformers", purpose="CLAP")
        p = Path(path) if path is not None else None
        if p is None or not p.is_dir():
            raise InputError(
                f"{p}: no such CLAP model directory (v2m never downloads weights; pass a "
                "local folder saved with save_pretrained)"
            )
        try:
            self.model = transformers.ClapModel.from_pretrained(p, local_files_only=True).eval()
            proc = transformers.ClapProcessor.from_pretrained(p, local_files_only=True)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{p}: not a CLAP model directory ({exc})") from None
        self.features = proc.feature_extractor
        self.tokenizer = proc.tokenizer
        self.sample_rate = int(self.features.sampling_rate)
        self.window_s = float(getattr(self.features, "max_length_s", 10))

    @staticmethod
    def _pooled(out):
        torch = _torch()
        x = out if isinstance(out, torch.Tensor) else out.pooler_output
        return torch.nn.functional.normalize(x, dim=-1).numpy().astype(np.float64)

    def embed(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Unit-norm embeddings of ``y`` at ``sr`` Hz, one per window: (n_windows, dim)."""
        torch = _torch()
        x = _to_mono_sr(y, sr, self.sample_rate)
        win = int(round(self.window_s * self.sample_rate))
        chunks = [x[i : i + win] for i in range(0, max(x.size, 1), win)]
        if len(chunks) > 1 and chunks[-1].size < self.sample_rate:  # a tail under 1 s
            chunks.pop()
        chunks = [c if c.size else np.zeros(self.sample_rate, np.float32) for c in chunks]
        feats = self.features(chunks, sampling_rate=self.sample_rate, return_tensors="pt")
        with torch.no_grad():
            return self._pooled(self.model.get_audio_features(**feats))

    def embed_text(self, texts: list[str]) -> np.ndarray:
        """Unit-norm text embeddings, shape (len(texts), dim)."""
        torch = _torch()
        if isinstance(texts, str) or not texts:
            raise ParameterError("texts: give a non-empty list of strings")
        tok = self.tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt")
        with torch.no_grad():
            return self._pooled(self.model.get_text_features(**tok))

    def text_audio_score(self, y: np.ndarray, sr: int, text: str) -> float:
        """CLAP score: cosine between the mean audio embedding and the text's, in [-1, 1]."""
        a = self.embed(y, sr).mean(axis=0)
        t = self.embed_text([text])[0]
        return float(a @ t / max(np.linalg.norm(a) * np.linalg.norm(t), 1e-12))


EMBEDDERS = ("vggish", "panns", "clap", "imagebind", "torchscript")


def load_embedder(kind: str, path: str | Path, *, sample_rate: int = 48000):
    """An embedder by name (see :data:`EMBEDDERS`) from local weights at ``path``."""
    if kind == "vggish":
        return VGGish(path)
    if kind == "panns":
        return PANNsCnn14(path)
    if kind == "clap":
        return ClapEmbedder(path)
    if kind == "imagebind":
        from .imagebind import ImageBind

        return ImageBind(path)
    if kind == "torchscript":
        return TorchScriptEmbedder(path, sample_rate=sample_rate)
    raise ParameterError(f"embedder kind {kind!r}: use one of {', '.join(EMBEDDERS)}")
