"""What the neural embedders share: torch from the ``neural`` extra, local weights files
(never downloaded) read as state dicts, audio resampled to a model's rate."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._deps import require
from ..errors import InputError

__all__ = ["_torch", "_weights_path", "_read_state", "_to_mono_sr"]


def _torch():
    return require("torch", purpose="neural embedders")


def _weights_path(path: str | Path | None, what: str) -> Path:
    if path is None:
        raise InputError(f"{what}: give the path of a local weights file (v2m never downloads)")
    p = Path(path)
    if not p.is_file():
        raise InputError(
            f"{p}: no such weights file for {what} (v2m never downloads weights; "
            "pass the path of a local copy)"
        )
    return p


def _read_state(weights, what: str):
    """``(label, state dict)`` from a local file or a mapping (a missing file: InputError)."""
    if isinstance(weights, Mapping):
        return "state dict", dict(weights)
    p = _weights_path(weights, what)
    torch = _torch()
    try:
        state = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - narrowed below
        known = (RuntimeError, ValueError, EOFError, OSError, KeyError, IndexError)
        if not isinstance(exc, known) and type(exc).__name__ != "UnpicklingError":
            raise
        raise InputError(
            f"{p}: not a {what} checkpoint (torch.load cannot read it: {type(exc).__name__})"
        ) from None
    if not isinstance(state, Mapping):
        raise InputError(f"{p}: not a {what} checkpoint (no state dict in it)")
    return p, state


def _to_mono_sr(y: np.ndarray, sr: int, target: int, *, resampler: str = "soxr") -> np.ndarray:
    """Mono float32 audio at ``target`` Hz: resampled with soxr (``librosa.load``'s
    default) or resampy's ``kaiser_best`` (``resampler="resampy"``, VGGish's front end)."""
    y = np.asarray(y, np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1) if y.shape[1] <= 8 else y.mean(axis=0)
    if sr != target:
        if resampler == "resampy":
            resampy = require("resampy", purpose="VGGish's front end")
            y = resampy.resample(y, sr, target, filter="kaiser_best")
        else:
            librosa = require("librosa", purpose="resampling for the neural embedders")
            y = librosa.resample(y, orig_sr=sr, target_sr=target, res_type="soxr_hq")
        y = np.asarray(y, np.float32)
    return y
