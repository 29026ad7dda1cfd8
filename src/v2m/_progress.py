"""Progress of long work on stderr: a bar on a terminal (tqdm), plain lines elsewhere.

When stderr is not a terminal (CI, a script, the app's log) a bar would print nothing
useful, so :class:`Progress` prints a line ``v2m: <stage>: 45 % (12.3 s)`` at most every
``every_s`` seconds, and one when the stage ends.
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Progress of one stage: ``update(k)`` adds ``k`` units of ``total``.

    Parameters
    ----------
    stage : str
        What is being done ("analysing clip.mp4").
    total : float
        Units in all (frames, samples); 0 when unknown.
    enabled : bool
        False: silent.
    every_s : float
        Seconds between plain lines (when stderr is not a terminal; default 5, or
        ``$V2M_PROGRESS_EVERY_S``).
    """

    def __init__(self, stage: str, total: float, *, enabled: bool = True,
                 every_s: float | None = None, unit: str = "frame"):  # fmt: skip
        import os

        if every_s is None:
            every_s = float(os.environ.get("V2M_PROGRESS_EVERY_S", "5"))
        self.stage, self.total, self.every_s = stage, float(total or 0), every_s
        self.done = 0.0
        self.t0 = self._last = time.perf_counter()
        self.bar = None
        self.plain = enabled and not _is_tty()
        if enabled and not self.plain:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total or None, unit=unit, desc=stage, file=sys.stderr,
                            leave=False)  # fmt: skip

    def update(self, k: float = 1) -> None:
        self.done += k
        if self.bar is not None:
            self.bar.update(k)
        elif self.plain:
            now = time.perf_counter()
            if now - self._last >= self.every_s:
                self._last = now
                print(f"v2m: {self.stage}: {self._share()} ({now - self.t0:.1f} s)",
                      file=sys.stderr, flush=True)  # fmt: skip

    def _share(self) -> str:
        if self.total > 0:
            return f"{min(100.0, 100 * self.done / self.total):.0f} %"
        return f"{self.done:.0f} done"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.plain and time.perf_counter() - self.t0 >= self.every_s:
            print(f"v2m: {self.stage}: done ({time.perf_counter() - self.t0:.1f} s)",
                  file=sys.stderr, flush=True)  # fmt: skip


def _is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
