"""What the neural backends share: window planning, prompts per window, joining, sync."""

from __future__ import annotations

import sys

import numpy as np

from ..errors import ParameterError
from .base import Generated, MusicBackend
from .prompt import prompt_for, section_prompts
from .windows import join_windows, plan_windows


class WindowedBackend(MusicBackend):
    """A model that makes at most ``max_window_s`` at a time, run window by window.

    Subclasses set in :meth:`_load`: ``sample_rate``, ``max_window_s``, ``device``,
    ``model_label``; and implement :meth:`_generate_window`, which returns (n, channels)
    float32 audio for the window from its start (``prev``: the previous window's audio,
    for continuation).
    """

    needs_model = True
    #: Whether a window continues the previous one's audio (else windows only overlap).
    continues = False

    def __init__(self, **options):
        super().__init__(**options)
        self._loaded = False

    def load(self) -> None:
        self._load()

    def _load(self) -> None:
        raise NotImplementedError

    def _generate_window(self, text: str, w, prev, score, seed: int) -> np.ndarray:
        raise NotImplementedError

    def _plan(self, cue):
        win = float(self.options.get("window_s") or self.max_window_s)
        if not 0 < win <= self.max_window_s + 1e-9:
            raise ParameterError(
                f"window_s={win}: the model makes at most {self.max_window_s:.1f} s at a time"
            )
        ctx = float(self.options.get("context_s") or win / 3)
        xf = float(self.options.get("crossfade_s") or min(1.0, ctx))
        return plan_windows(
            duration_s=cue.duration_s,
            bar_times_s=cue.bar_times(),
            window_s=win,
            context_s=ctx,
            crossfade_s=xf,
        ), xf

    @staticmethod
    def _window_prompt(prompts, w) -> str:
        """The prompt of the section in the middle of the window's new music."""
        mid = ((w.join_s if w.join_s is not None else w.start_s) + w.end_s) / 2
        text = prompts[0][1]
        for start, p in prompts:
            if start <= mid:
                text = p
        return text

    def generate(self, cue, *, timeline=None, score=None, progress: bool = False) -> Generated:
        self._load()
        windows, xf = self._plan(cue)
        base = prompt_for(cue, timeline)
        prompts = section_prompts(cue, base) if not getattr(cue, "prompt", None) else [(0, base)]
        parts, texts = [], []
        prev = None
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=round(cue.duration_s, 1), unit="s", desc=f"v2m: {self.name}",
                       file=sys.stderr, leave=False)  # fmt: skip
        for i, w in enumerate(windows):
            text = self._window_prompt(prompts, w)
            y = self._generate_window(text, w, prev, score, int(cue.seed) * 1000 + i)
            if bar is not None:  # seconds of the piece made so far
                bar.update(round(w.end_s - (windows[i - 1].end_s if i else 0.0), 1))
            n = int(round(w.duration_s * self.sample_rate))
            if y.shape[0] < n:
                y = np.pad(y, ((0, n - y.shape[0]), (0, 0)))
            parts.append(y[:n].astype(np.float32))
            texts.append(text)
            prev = parts[-1]
        if bar is not None:
            bar.close()
        n = int(round(cue.duration_s * self.sample_rate))
        audio = join_windows(parts, windows, sr=self.sample_rate, crossfade_s=xf, n_out=n)
        if audio.shape[1] == 1:
            audio = np.repeat(audio, 2, axis=1)
        report = {
            "backend": self.name,
            "model": self.model_label,
            "model_dir": str(self.options.get("model_dir")),
            "device": str(self.device),
            "prompt": base,
            "window_prompts": texts,
            "windows": [
                {
                    "start_s": round(w.start_s, 3),
                    "end_s": round(w.end_s, 3),
                    "join_s": None if w.join_s is None else round(w.join_s, 3),
                    "on_bar": w.on_bar,
                }
                for w in windows
            ],  # fmt: skip
            "continuation": self.continues,
            "crossfade_s": xf,
            "sample_rate": self.sample_rate,
        }
        if self.options.get("sync", True):
            from .warp import sync_to_grid

            cuts = [h.time_s for h in cue.hits if h.kind == "cut"] or [h.time_s for h in cue.hits]
            audio, report["sync"] = sync_to_grid(
                audio, self.sample_rate, beats_s=cue.beats_s, cuts_s=cuts,
                tempo_bpm=cue.tempo_bpm,
            )  # fmt: skip
        return Generated(audio=audio, sample_rate=self.sample_rate, score=score, report=report)
