"""One home for loading local models: the Hugging Face libraries' offline switches, the
torch device, a model folder that must exist, a tokenizer that must know words. The
neural backends and the CLIP tagger use it; v2m never downloads a model."""

from __future__ import annotations

import os
from pathlib import Path

from ._deps import require
from .errors import InputError, ParameterError

__all__ = [
    "offline",
    "device",
    "model_folder",
    "models_home",
    "check_tokenizer",
    "TOKENIZER_FILES",
]


def offline() -> None:
    """The Hugging Face libraries' own switches: never reach the network."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


#: Tokenizer files a text encoder's folder holds (one of them).
TOKENIZER_FILES = ("tokenizer.json", "spiece.model", "tokenizer.model", "vocab.json")


def device(name: str):
    """The torch device for ``name``: "auto" (CUDA when there is one), "cpu", "cuda" or
    "cuda:N"; ParameterError for another name or a CUDA device this machine lacks."""
    import re

    torch = require("torch", purpose="the neural backends")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(name, str) or not re.fullmatch(r"cpu|cuda(:\d+)?", name):
        raise ParameterError(f"--device {name!r}: must be auto, cpu, cuda or cuda:N")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError(f"--device {name}: this machine has no CUDA device (use cpu)")
    return torch.device(name)


def check_tokenizer(tok, folder: Path) -> None:
    """A model folder's tokenizer must come from its own files and know words: without
    them transformers builds an empty tokenizer and every prompt word becomes unknown."""
    sub = [folder, folder / "tokenizer"]
    if not any((d / f).is_file() for d in sub for f in TOKENIZER_FILES):
        raise InputError(
            f"{folder}: the tokenizer's files are missing (one of {', '.join(TOKENIZER_FILES)}); "
            "copy the whole model folder saved by save_pretrained"
        )
    special = set(getattr(tok, "all_special_tokens", []))
    if len([w for w in tok.get_vocab() if w not in special]) < 2:
        raise InputError(f"{folder}: the tokenizer knows no words (its files are empty)")


def model_folder(path, what: str, example: str, *, option: str = "--model-dir") -> Path:
    """``path`` as a folder, or InputError saying which ``option`` takes a local copy."""
    p = Path(path) if path else None
    if p is None or not p.is_dir():
        raise InputError(
            f"{p}: no {what} model folder (v2m never downloads models; pass {option} with "
            f"a folder saved by save_pretrained, e.g. a local copy of {example})"
        )
    return p


def models_home() -> Path:
    """v2m's own folder for model files a user installed (``v2m models``): ``$V2M_MODELS``,
    else ``$XDG_DATA_HOME/v2m/models``, else ``~/.local/share/v2m/models``."""
    env = os.environ.get("V2M_MODELS")
    if env:
        return Path(env).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "v2m" / "models"
