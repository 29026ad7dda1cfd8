"""The ``rules`` backend: v2m's composer and SoundFont renderer (the default)."""

from __future__ import annotations

from .base import BACKENDS, Generated, MusicBackend


@BACKENDS.register(aliases=("default", "soundfont"))
class Rules(MusicBackend):
    name = "rules"

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
        """The composer's score through the SoundFont renderer, streamed to ``path``."""
        from ..composition import compose
        from ..rendering import render_to_file

        info = render_to_file(
            score if score is not None else compose(cue),
            path,
            soundfont=self.options.get("soundfont"),
            subtype="FLOAT",
            target_lufs=target_lufs,
            stems_dir=stems_dir,
            progress=progress,
        )
        return info, None

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
