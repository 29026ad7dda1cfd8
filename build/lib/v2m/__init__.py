"""v2m: vision-to-music generation.

The pipeline, one module per stage::

    video --analyze--> Timeline --project--> CueSheet --compose--> score (MIDI)
          --render--> audio --mux--> video
"""

from .errors import (
    CueSheetError,
    DecodeError,
    InputError,
    MissingDependencyError,
    NoVideoStreamError,
    OutputExistsError,
    ParameterError,
    SoundFontError,
    V2MError,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "V2MError",
    "InputError",
    "NoVideoStreamError",
    "DecodeError",
    "ParameterError",
    "CueSheetError",
    "OutputExistsError",
    "MissingDependencyError",
    "SoundFontError",
    "analyze",
    "project",
    "compose",
    "render",
    "score",
    "evaluate_files",
]

_ENTRY_POINTS = {
    "analyze": ("analysis", "analyze"),
    "project": ("projection", "project"),
    "compose": ("composition", "compose"),
    "render": ("rendering", "render"),
    "score": ("pipeline", "score"),
    "evaluate_files": ("evaluation", "evaluate_files"),
}


def __getattr__(name: str):
    # Stage entry points are imported lazily so `import v2m` stays fast.
    if name in _ENTRY_POINTS:
        import importlib

        module, attr = _ENTRY_POINTS[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'v2m' has no attribute {name!r}")
