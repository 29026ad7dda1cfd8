"""The ``rules`` backend: v2m's composer and SoundFont renderer (the default)."""

from __future__ import annotations

from .base import BACKENDS, Generated, MusicBackend


@BACKENDS.register(aliases=("default", "soundfont"))
class Rules(MusicBackend):
    name = "rules"

    def generate(self, cue, *, timeline=None, score=None, progress: bool = False) -> Generated:
        from ..composition import compose
        from ..rendering import render

        sc = score if score is not None else compose(cue)
        out = render(sc, soundfont=self.options.get("soundfont"), target_lufs=-14.0)
        return Generated(
            audio=out.mix,
            sample_rate=out.sample_rate,
            score=sc,
            report={"backend": self.name, "soundfont": out.soundfont, "synth": out.synth},
        )
