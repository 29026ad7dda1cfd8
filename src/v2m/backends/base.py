"""What every music backend is: :class:`MusicBackend`, the :class:`Generated` result, the
registry and :func:`write_generated` (see :mod:`v2m.backends`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._registry import Registry

__all__ = ["BACKENDS", "MusicBackend", "Generated", "get_backend", "write_generated"]


@dataclass
class Generated:
    """Audio from a backend: ``audio`` (n, 2) float32 at ``sample_rate``, unmastered, exactly
    the cue's length; ``score`` the composed score when the backend wrote one; ``report``
    what the backend did (prompt, windows, sync before/after, model)."""

    audio: np.ndarray
    sample_rate: int
    score: object | None = None
    report: dict = field(default_factory=dict)


class MusicBackend:
    """A way to make music for a cue sheet. Subclasses set ``name`` and implement
    :meth:`generate`; options come as keyword arguments (``model_dir``, ``device``, ...)."""

    name = ""
    #: True when the backend needs a local model folder.
    needs_model = False

    def __init__(self, **options):
        self.options = options

    def load(self) -> None:
        """Load the model now, so that a missing or broken one is reported before any other
        work (the default backend has nothing to load)."""

    def generate(self, cue, *, timeline=None, score=None, progress: bool = False) -> Generated:
        raise NotImplementedError

    def render_file(
        self,
        cue,
        path,
        *,
        score=None,
        timeline=None,
        target_lufs: float = -14.0,
        stems_dir=None,
        progress: bool = False,
    ):
        """Make the music for ``cue`` as a mastered float WAV at ``path``: the route every
        run takes (the pipeline, ``render-cue``, the app).

        The default generates in memory and masters with :func:`write_generated`; the
        rules backend streams through the SoundFont renderer instead (bounded memory,
        stems, ``target_lufs``).

        Returns
        -------
        info : v2m.rendering.RenderInfo
        report : dict or None
            What the backend did (None when it has nothing to add).
        """
        gen = self.generate(cue, timeline=timeline, score=score, progress=progress)
        return write_generated(gen, cue, path), gen.report


BACKENDS: Registry[MusicBackend] = Registry("backend")


def get_backend(name: str, **options) -> MusicBackend:
    """The backend registered as ``name``, built with ``options``."""
    return BACKENDS.get_class(name)(**options)


def write_generated(gen: Generated, cue, path, *, sample_rate: int = 48000):
    """Resample a backend's audio to ``sample_rate``, master it as the renderer does (the
    cue's length and ending, -14 LUFS, true peak <= -1 dBTP) and write it as float WAV.

    Returns
    -------
    v2m.rendering.RenderInfo
    """
    from math import gcd

    from scipy.signal import resample_poly

    from ..rendering import RenderInfo, master, write_audio

    x = np.asarray(gen.audio, np.float32)
    if gen.sample_rate != sample_rate:
        g = gcd(int(gen.sample_rate), int(sample_rate))
        x = resample_poly(x, sample_rate // g, gen.sample_rate // g, axis=0).astype(np.float32)
    out, lufs, peak = master({"mix": x}, sample_rate, duration_s=cue.duration_s, ending=cue.ending)
    write_audio(path, out["mix"], sample_rate, subtype="FLOAT")
    model = gen.report.get("model", gen.report.get("backend", "?"))
    return RenderInfo(
        duration_s=out["mix"].shape[0] / sample_rate,
        sample_rate=sample_rate,
        soundfont=gen.report.get("soundfont", f"(none: {model})"),
        soundfont_origin=gen.report.get("backend", "?"),
        synth=gen.report.get("synth", model),
        loudness_lufs=lufs,
        true_peak_dbtp=peak,
    )
