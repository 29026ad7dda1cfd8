"""Optional dependencies, imported where used, with an error that names the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

_EXTRA = {
    "librosa": "eval",
    "numba": "eval",
    "torch": "neural",
    "resampy": "neural",
    "transformers": "neural",
    "diffusers": "neural",
    "torchsde": "neural",
    "ray": "cluster",
    "starlette": "app",
    "uvicorn": "app",
    "python_multipart": "app",
}


def require(module: str, *, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = _EXTRA.get(module, "test")
        raise MissingDependencyError(
            f"{purpose} needs {module}: pip install 'v2m[{extra}]'"
        ) from None
