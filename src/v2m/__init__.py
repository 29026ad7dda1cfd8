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
]


def __getattr__(name: str):
    # Stage entry points are imported lazily so `import v2m` stays fast.
    if name == "analyze":
        from .analysis import analyze

        return analyze
    raise AttributeError(name)
