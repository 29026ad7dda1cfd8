"""The exceptions v2m raises.

Every error v2m raises on purpose derives from :class:`V2MError`, so a caller can catch one
type. Messages name the file, field or value that is wrong.
"""

from __future__ import annotations

__all__ = [
    "V2MError",
    "InputError",
    "NoVideoStreamError",
    "DecodeError",
    "ParameterError",
    "CueSheetError",
    "OutputExistsError",
    "OutputError",
    "MissingDependencyError",
    "SoundFontError",
]


class V2MError(Exception):
    """Root of all v2m errors."""


class InputError(V2MError):
    """An input file is missing, unreadable or not a media file."""


class NoVideoStreamError(InputError):
    """The input file opens but holds no video stream (for example audio only)."""


class DecodeError(InputError):
    """Not a single frame of the input could be decoded."""


class ParameterError(V2MError, ValueError):
    """A parameter is outside the range that makes sense."""


class CueSheetError(V2MError, ValueError):
    """A cue sheet is invalid; the message names the field."""


class OutputExistsError(V2MError):
    """An output file exists already and ``force`` was not given."""


class OutputError(V2MError):
    """An output cannot be written (read-only or full disk, no permission, not a folder)."""


class MissingDependencyError(V2MError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


class SoundFontError(V2MError):
    """No usable SoundFont was found, or the given one cannot be read."""
