"""ImageBind's vision and audio towers (Girdhar et al. 2023), for the ImageBind score.

V2M papers (VidMuse, MuVi, ...) report the *ImageBind score*: the cosine similarity of a
video's ImageBind embedding and its music's. :class:`ImageBind` loads the vision and audio
parts of the published checkpoint (``imagebind_huge.pth``, a state dict with keys
``modality_preprocessors.*``, ``modality_trunks.*``, ``modality_heads.*``; the text,
depth, thermal and IMU parts are ignored) from a local file; v2m never downloads it.

Inputs are prepared as the reference ``imagebind/data.py`` does (its facts, our code):

Audio
    16 kHz mono, three 2 s clips evenly spaced over the file (pytorchvideo's
    ``ConstantClipsPerVideoSampler``), each: mean removed, Kaldi filter bank (25 ms
    Hanning frames, 10 ms shift, 128 mel bins 20 Hz-8 kHz, pre-emphasis 0.97, per-frame DC
    removal, no dither, log), cut or zero-padded to 204 frames, normalised with mean
    -4.268 and standard deviation 9.138. Our filter bank equals kaldi-native-fbank's (tests).
Video
    five 2 s clips evenly spaced, two frames per clip (the first and last of the clip),
    short side scaled to 224 px (bilinear), normalised with CLIP's mean and standard
    deviation, three 224 px crops (left, centre, right; top, centre, bottom for portrait)
    -> 15 inputs of 2 frames. Images: short side to 224 (bicubic), centre crop, repeated to
    two frames.

Each input goes through its tower (patch embedding, class token, learned position
embedding, pre-norm transformer blocks, LayerNorm, class token, linear projection) and is
L2-normalised; a file's embedding is the mean over its clips (and crops), as in
ImageBind's ``forward``. The ImageBind score is the cosine of the two means.

The resampler (soxr instead of torchaudio's sinc) and video decoder (PyAV instead of
decord) differ from the reference's, so values can differ slightly from numbers computed
with the reference code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import InputError, ParameterError
from ._loading import _torch

__all__ = [
    "ImageBind",
    "build_imagebind",
    "kaldi_fbank",
    "audio_inputs",
    "video_inputs",
    "image_inputs",
    "clip_starts",
]

AUDIO_SR = 16000
AUDIO_MEAN, AUDIO_STD = -4.268, 9.138
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)
HUGE = {
    "vision_dim": 1280,
    "vision_blocks": 32,
    "vision_heads": 16,
    "audio_dim": 768,
    "audio_blocks": 12,
    "audio_heads": 12,
    "out_dim": 1024,
}


def clip_starts(duration_s: float, *, clip_s: float = 2.0, n_clips: int) -> np.ndarray:
    """Start times (s) of ``n_clips`` clips of ``clip_s`` evenly spaced over ``duration_s``."""
    span = max(duration_s - clip_s, 0.0)
    step = span / max(n_clips - 1, 1)
    return step * np.arange(n_clips)


def _mel_banks(n_bins: int, n_fft: int, sr: int, low_hz: float, high_hz: float) -> np.ndarray:
    """Kaldi's triangular mel filters, shape (n_fft // 2 + 1, n_bins) (Nyquist bin zero)."""

    def mel(f):
        return 1127.0 * np.log(1.0 + np.asarray(f, np.float64) / 700.0)

    lo, hi = mel(low_hz), mel(high_hz)
    delta = (hi - lo) / (n_bins + 1)
    fft_mel = mel(np.arange(n_fft // 2) * sr / n_fft)
    left = lo + np.arange(n_bins) * delta
    centre = left + delta
    right = centre + delta
    up = (fft_mel[:, None] - left) / (centre - left)
    down = (right - fft_mel[:, None]) / (right - centre)
    banks = np.maximum(0.0, np.minimum(up, down))
    return np.vstack([banks, np.zeros((1, n_bins))])


def kaldi_fbank(
    y: np.ndarray, *, sample_rate: int = AUDIO_SR, n_mels: int = 128, low_hz: float = 20.0
) -> np.ndarray:
    """Kaldi log mel filter bank (25 ms Hanning frames, 10 ms shift), shape (n_frames, n_mels).

    Kaldi's defaults otherwise: frames inside the signal only (snip edges), DC removed per
    frame, pre-emphasis 0.97 (first sample replicated), FFT size the next power of two,
    power spectrum, ``log(max(e, float32 eps))``, no dither, no energy term.
    """
    x = np.asarray(y, np.float64)
    win, hop = int(0.025 * sample_rate), int(0.010 * sample_rate)
    if x.size < win:
        return np.zeros((0, n_mels), np.float32)
    n = 1 + (x.size - win) // hop
    frames = x[np.arange(win)[None, :] + hop * np.arange(n)[:, None]]
    frames = frames - frames.mean(axis=1, keepdims=True)
    prev = np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    frames = frames - 0.97 * prev
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / (win - 1))
    n_fft = 1 << (win - 1).bit_length()
    power = np.abs(np.fft.rfft(frames * window, n_fft)) ** 2
    banks = _mel_banks(n_mels, n_fft, sample_rate, low_hz, sample_rate / 2)
    eps = np.finfo(np.float32).eps
    return np.log(np.maximum(power @ banks, eps)).astype(np.float32)


def audio_inputs(y: np.ndarray, sr: int, *, n_clips: int = 3) -> np.ndarray:
    """The audio tower's inputs: (n_clips, 1, 128, 204) normalised log-mel clips."""
    from ._loading import _to_mono_sr

    x = _to_mono_sr(y, sr, AUDIO_SR).astype(np.float64)
    out = []
    for start in clip_starts(x.size / AUDIO_SR, n_clips=n_clips):
        a, b = int(start * AUDIO_SR), int((start + 2.0) * AUDIO_SR)
        clip = x[a:b] - x[a:b].mean() if b > a else np.zeros(0)
        fb = kaldi_fbank(clip).T  # (128, frames)
        fb = fb[:, :204] if fb.shape[1] >= 204 else np.pad(fb, ((0, 0), (0, 204 - fb.shape[1])))
        out.append((fb - AUDIO_MEAN) / AUDIO_STD)
    return np.stack(out)[:, None].astype(np.float32)


def _short_side(frames, size: int, mode: str):
    """Scale (N, C, H, W) float frames so the short side is ``size`` (torch interpolate)."""
    torch = _torch()
    h, w = frames.shape[-2:]
    if h <= w:
        nh, nw = size, int(np.floor(w / h * size))
    else:
        nh, nw = int(np.floor(h / w * size)), size
    kw = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    return torch.nn.functional.interpolate(frames, size=(nh, nw), mode=mode, **kw)


def _crop(frames, size: int, where: int):
    """Left/top (0), centre (1) or right/bottom (2) ``size`` crop of (..., H, W)."""
    h, w = frames.shape[-2:]
    y0 = int(np.ceil((h - size) / 2))
    x0 = int(np.ceil((w - size) / 2))
    if h > w:
        y0 = {0: 0, 1: y0, 2: h - size}[where]
    else:
        x0 = {0: 0, 1: x0, 2: w - size}[where]
    return frames[..., y0 : y0 + size, x0 : x0 + size]


def _normalise(frames):
    torch = _torch()
    m = torch.from_numpy(CLIP_MEAN)[:, None, None]
    s = torch.from_numpy(CLIP_STD)[:, None, None]
    return (frames - m) / s


def video_inputs(frames: np.ndarray, times_s: np.ndarray, duration_s: float, *, n_clips: int = 5):
    """The vision tower's inputs from RGB frames: (n_clips * 3, 3, 2, 224, 224).

    Parameters
    ----------
    frames : np.ndarray, shape (n_frames, H, W, 3), uint8 RGB
        Decoded frames at times ``times_s`` (s), e.g. every frame of the video.
    duration_s : float
        Length of the video in seconds.
    """
    torch = _torch()
    times = np.asarray(times_s, float)
    if len(frames) == 0:
        raise InputError("video_inputs: no frames")
    out = []
    for start in clip_starts(duration_s, n_clips=n_clips):
        inside = np.flatnonzero((times >= start) & (times < start + 2.0))
        if inside.size == 0:  # a clip past the last frame: the nearest frame
            inside = np.array([int(np.argmin(np.abs(times - start)))])
        pick = inside[np.linspace(0, inside.size - 1, 2).astype(int)]
        clip = torch.from_numpy(np.ascontiguousarray(frames[pick])).permute(0, 3, 1, 2)
        clip = _normalise(_short_side(clip.float() / 255.0, 224, "bilinear"))
        clip = clip.permute(1, 0, 2, 3)  # (C, T, H, W)
        out += [_crop(clip, 224, k) for k in range(3)]
    return torch.stack(out)


def image_inputs(rgb: np.ndarray):
    """The vision tower's input for one RGB uint8 image (H, W, 3): (1, 3, 2, 224, 224)."""
    torch = _torch()
    img = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255.0
    img = _short_side(img, 224, "bicubic")
    img = _normalise(_crop(img, 224, 1)[0])
    return img[:, None].repeat(1, 2, 1, 1)[None]


def build_imagebind(
    *,
    vision_dim: int = 1280,
    vision_blocks: int = 32,
    vision_heads: int = 16,
    audio_dim: int = 768,
    audio_blocks: int = 12,
    audio_heads: int = 12,
    out_dim: int = 1024,
):
    """ImageBind's vision and audio towers with random weights, in the checkpoint's layout."""
    torch = _torch()
    nn = torch.nn
    for name, v in (("vision_dim", vision_dim), ("audio_dim", audio_dim)):
        h = vision_heads if name == "vision_dim" else audio_heads
        if v < 1 or h < 1 or v % h:
            raise ParameterError(f"{name}={v}: must be a positive multiple of its head count {h}")

    class Block(nn.Module):
        def __init__(self, dim, heads, bias_kv):
            super().__init__()
            self.attn = nn.MultiheadAttention(dim, heads, bias=True, add_bias_kv=bias_kv)
            self.norm_1 = nn.LayerNorm(dim, eps=1e-6)
            self.norm_2 = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = nn.Module()
            self.mlp.fc1 = nn.Linear(dim, 4 * dim)
            self.mlp.fc2 = nn.Linear(4 * dim, dim)

        def forward(self, x):  # (L, B, D)
            h = self.norm_1(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            h = self.mlp.fc2(nn.functional.gelu(self.mlp.fc1(self.norm_2(x))))
            return x + h

    class Trunk(nn.Module):
        def __init__(self, dim, blocks, heads, pre_ln, bias_kv):
            super().__init__()
            self.pre_transformer_layer = nn.Sequential(
                nn.LayerNorm(dim, eps=1e-6) if pre_ln else nn.Identity()
            )
            self.blocks = nn.Sequential(*[Block(dim, heads, bias_kv) for _ in range(blocks)])

        def forward(self, tokens):  # (B, L, D)
            x = self.pre_transformer_layer(tokens).transpose(0, 1)
            for blk in self.blocks:
                x = blk(x)
            return x.transpose(0, 1)

    class First(nn.Module):
        def forward(self, x):
            return x[:, 0]

    def head(dim):
        return nn.Sequential(
            nn.LayerNorm(dim, eps=1e-6), First(), nn.Linear(dim, out_dim, bias=False)
        )

    def pre(dim, n_tokens, stem):
        m = nn.Module()
        m.cls_token = nn.Parameter(torch.randn(1, 1, dim) * dim**-0.5)
        m.rgbt_stem = stem
        m.pos_embedding_helper = nn.Module()
        m.pos_embedding_helper.pos_embed = nn.Parameter(torch.randn(1, n_tokens, dim) * dim**-0.5)
        return m

    v_stem = nn.Module()
    v_stem.proj = nn.Sequential(
        nn.Identity(), nn.Conv3d(3, vision_dim, (2, 14, 14), stride=(2, 14, 14), bias=False)
    )
    a_stem = nn.Module()
    a_stem.proj = nn.Conv2d(1, audio_dim, 16, stride=10, bias=False)
    a_stem.norm_layer = nn.LayerNorm(audio_dim)

    class ImageBindTowers(nn.Module):
        def __init__(self):
            super().__init__()
            self.modality_preprocessors = nn.ModuleDict(
                {
                    "vision": pre(vision_dim, 1 + 16 * 16, v_stem),
                    "audio": pre(audio_dim, 1 + 12 * 19, a_stem),
                }
            )
            self.modality_trunks = nn.ModuleDict(
                {
                    "vision": Trunk(vision_dim, vision_blocks, vision_heads, True, False),
                    "audio": Trunk(audio_dim, audio_blocks, audio_heads, False, True),
                }
            )
            self.modality_heads = nn.ModuleDict(
                {"vision": head(vision_dim), "audio": head(audio_dim)}
            )

        def _tokens(self, kind, x):
            p = self.modality_preprocessors[kind]
            t = p.rgbt_stem.proj(x).flatten(2).transpose(1, 2)
            if kind == "audio":
                t = p.rgbt_stem.norm_layer(t)
            t = torch.cat([p.cls_token.expand(t.shape[0], -1, -1), t], dim=1)
            return t + p.pos_embedding_helper.pos_embed

        def embed(self, kind, x):
            """Unit-norm embeddings (B, out_dim) of a batch of inputs of one modality."""
            z = self.modality_heads[kind](self.modality_trunks[kind](self._tokens(kind, x)))
            return nn.functional.normalize(z, dim=-1)

    return ImageBindTowers()


def _sizes_from(state: Mapping) -> dict:
    """Tower sizes read off a checkpoint (head counts: see :class:`ImageBind`)."""
    out = {}
    for kind in ("vision", "audio"):
        dim = int(state[f"modality_preprocessors.{kind}.cls_token"].shape[-1])
        prefix = f"modality_trunks.{kind}.blocks."
        idx = [int(k[len(prefix) :].split(".")[0]) for k in state if k.startswith(prefix)]
        huge_dim, huge_heads = HUGE[f"{kind}_dim"], HUGE[f"{kind}_heads"]
        heads = huge_heads if dim == huge_dim else (dim // 64 if dim % 64 == 0 else 1)
        out.update({f"{kind}_dim": dim, f"{kind}_blocks": 1 + max(idx, default=-1)})
        out[f"{kind}_heads"] = heads
    out["out_dim"] = int(state["modality_heads.vision.2.weight"].shape[0])
    return out


_PREFIXES = tuple(
    f"{part}.{kind}."
    for part in ("modality_preprocessors", "modality_trunks", "modality_heads")
    for kind in ("vision", "audio")
)


class ImageBind:
    """ImageBind audio, video and image embeddings from a local checkpoint.

    Parameters
    ----------
    weights : path or mapping
        The published ``imagebind_huge.pth`` (or any state dict in its layout).
    **dims
        Tower sizes (``vision_dim``, ``vision_blocks``, ``vision_heads``, ``audio_dim``,
        ``audio_blocks``, ``audio_heads``, ``out_dim``). Sizes and block counts not given are
        read from the checkpoint; head counts not given are ImageBind-Huge's (16 and 12) for
        its widths, else ``width // 64`` (or 1).
    batch : int
        Inputs per forward pass (memory against speed).
    """

    def __init__(self, weights: str | Path | Mapping, *, batch: int = 4, **dims):
        _torch()  # a clear error without the neural extra
        from ._loading import _read_state, _weights_path

        unknown = set(dims) - set(HUGE)
        if unknown:
            raise ParameterError(f"ImageBind: unknown size argument(s) {sorted(unknown)}")
        where = (
            "state dict" if isinstance(weights, Mapping) else _weights_path(weights, "ImageBind")
        )
        try:
            _, state = _read_state(weights, "ImageBind")
            state = {k: v for k, v in state.items() if k.startswith(_PREFIXES)}
            self.model = build_imagebind(**{**_sizes_from(state), **dims}).eval()
            self.model.load_state_dict(state)
        except (RuntimeError, OSError, ValueError, KeyError, AttributeError) as exc:
            raise InputError(f"{where}: not ImageBind weights of this size ({exc})") from None
        self.batch = max(1, int(batch))

    def _run(self, kind: str, x) -> np.ndarray:
        torch = _torch()
        with torch.no_grad():
            parts = [
                self.model.embed(kind, x[i : i + self.batch]) for i in range(0, len(x), self.batch)
            ]
        return torch.cat(parts).numpy().astype(np.float64)

    def embed(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Audio: unit-norm embeddings of the three clips, shape (3, out_dim)."""
        torch = _torch()
        return self._run("audio", torch.from_numpy(audio_inputs(y, sr)))

    def embed_frames(
        self, frames: np.ndarray, times_s: np.ndarray, duration_s: float
    ) -> np.ndarray:
        """Video: unit-norm embeddings of the 15 clip crops, shape (15, out_dim)."""
        return self._run("vision", video_inputs(frames, times_s, duration_s))

    def embed_video(self, path: str | Path) -> np.ndarray:
        """Video file: decode (PyAV; only the frames needed) and embed, shape (15, out_dim)."""
        frames, times, duration = _decode_rgb(Path(path))
        return self.embed_frames(frames, times, duration)

    def embed_image(self, rgb: np.ndarray) -> np.ndarray:
        """Image (H, W, 3) uint8 RGB: shape (1, out_dim)."""
        return self._run("vision", image_inputs(rgb))

    def video_audio_score(self, video_emb: np.ndarray, audio_emb: np.ndarray) -> float:
        """ImageBind score: cosine of the mean video and mean audio embeddings."""
        v, a = np.mean(video_emb, axis=0), np.mean(audio_emb, axis=0)
        return float(v @ a / max(np.linalg.norm(v) * np.linalg.norm(a), 1e-12))


def _decode_rgb(path: Path, *, n_clips: int = 5, max_side: int = 448):
    """The frames the video inputs need: the first and last frame of each clip window, as
    RGB uint8 (short side at most ``max_side``), with their times (s) and the duration."""
    from .. import _media

    duration = float(_media.probe_video(path).duration_s)
    starts = clip_starts(duration, n_clips=n_clips)
    first: dict[int, object] = {}
    last: dict[int, object] = {}
    any_frame = None
    with _media.open_media(path) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        for fr in c.decode(stream):
            if fr.time is None:
                continue
            t = float(fr.time)
            any_frame = any_frame or fr
            for i in np.flatnonzero((starts <= t) & (t < starts + 2.0)):
                first.setdefault(int(i), fr)
                last[int(i)] = fr
    keep = {id(f): f for f in (*first.values(), *last.values())} or (
        {id(any_frame): any_frame} if any_frame is not None else {}
    )
    if not keep:
        raise InputError(f"{path}: no decodable video frames")
    chosen = sorted(keep.values(), key=lambda f: float(f.time))
    frames = []
    for fr in chosen:
        scale = min(1.0, max_side / min(fr.height, fr.width))
        w, h = int(round(fr.width * scale)), int(round(fr.height * scale))
        frames.append(fr.to_ndarray(format="rgb24", width=w, height=h))
    return np.stack(frames), np.array([float(f.time) for f in chosen]), duration
