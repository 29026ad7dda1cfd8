"""Run independent tasks in worker processes (``v2m eval --jobs``, ``v2m bench``).

Workers come from a *forkserver*: one fresh process (started by exec, so it carries none of
the caller's threads: FluidSynth, decoders, progress bars) imports the heavy modules once
(``preload``: librosa's onset and beat code alone take seconds to import) and forks every
worker from that state, so each worker starts warm. When worker processes cannot start at
all (a caller without an importable ``__main__``, a sandbox without ``fork``), the work runs
in this process instead, with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

log = logging.getLogger(__name__)


def _one_thread() -> None:
    """Worker start: one BLAS/OpenMP thread each, so that ``jobs`` workers use ``jobs``
    cores instead of competing for them (numpy's matrix products, e.g. librosa's mel
    filter bank, would otherwise start a thread per core in every worker)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def imap_unordered(
    fn: Callable[[Any], Any],
    tasks: Iterable[Any],
    *,
    jobs: int,
    preload: tuple[str, ...] = (),
    key: Callable[[Any], Any] = id,
) -> Iterator[Any]:
    """``fn(task)`` for every task, in ``jobs`` processes, yielded as they finish.

    ``key(task)`` identifies a task (to find the ones left over when the pool breaks);
    ``fn`` must be importable (a module-level function).
    """
    tasks = list(tasks)
    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield fn(t)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    finished: set = set()
    try:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
    except ValueError:  # no forkserver on this platform
        ctx = mp.get_context("spawn")
    try:
        n = min(jobs, len(tasks))
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_one_thread) as ex:
            futures = {ex.submit(fn, t): key(t) for t in tasks}
            for f in as_completed(futures):
                r = f.result()
                finished.add(futures[f])
                yield r
    except BrokenProcessPool:
        log.warning("worker processes failed to start; running the rest in this process")
        for t in tasks:
            if key(t) not in finished:
                yield fn(t)
