"""The one place that decides how many threads gifsom's compiled kernels and pools use, how jobs share
a pool, and how jobs run ahead of the thread that takes their results."""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Callable, TypeVar

T = TypeVar("T")

#: Set to a whole number to cap every pool and parallel kernel (for example to measure scaling).
THREADS_VARIABLE = "GIFSOM_THREADS"


def available_cores() -> int:
    """CPUs this process may run on, capped by ``GIFSOM_THREADS`` when that is set."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:      # not on Linux
        cores = os.cpu_count() or 1
    limit = os.environ.get(THREADS_VARIABLE, "").strip()
    if limit.isdigit() and int(limit) > 0:
        cores = min(cores, int(limit))
    return max(1, cores)


def threads_for(items: int, grain: int, cores_left: int = 0) -> int:
    """Threads worth starting for ``items`` units of work when one thread should get at least ``grain``, on
    the cores not left to other work (``cores_left``; at least one thread)."""
    return max(1, min(available_cores() - cores_left, items // max(1, grain)))


def run_together(pool: Executor | None, jobs: list[Callable[[], T]]) -> list[T]:
    """Each job's result, in order: the first run on the calling thread while ``pool`` (when given) runs
    the others. A job the pool has not started by the time its result is wanted is taken back and run
    on the calling thread, so a caller that is one of the pool's own workers never waits for a queue
    that it holds up."""
    if pool is None or len(jobs) < 2:
        return [job() for job in jobs]
    futures = [pool.submit(job) for job in jobs[1:]]
    try:
        results = [jobs[0]()]
        for job, future in zip(jobs[1:], futures):
            results.append(job() if future.cancel() else future.result())
    except BaseException:
        for future in futures:          # a failed job: the others not yet started are not wanted
            future.cancel()
        raise
    return results


def run_ahead(jobs: Iterable[Callable[[], T]], depth: int, *, workers: int = 1, name: str = "gifsom-ahead",
              deepen: Callable[[T], int] | None = None, first_here: int = 0) -> Generator[T, None, None]:
    """Each job's result, in order, from jobs run on a pool of ``workers`` threads of their own (named
    ``name``), up to ``depth`` of them started before the caller takes the first one's result.

    With one worker the jobs run one after another, so each may depend on the one before (mapping a frame
    uses what the frame before left); with more they run at once. The first ``first_here`` jobs run on the
    calling thread, one after another, before the pool starts the next ones (for a caller with nothing
    else to do until they are done). ``deepen``, given each result, gives the depth from then on (how many
    decoded frames fit in memory). ``jobs`` is advanced on the calling thread; a job's exception is raised
    when its result's turn comes. Closing the generator (use :func:`contextlib.closing`) cancels the jobs
    not yet started and waits for those running.
    """
    pending = iter(jobs)
    here = [job() for job in itertools.islice(pending, first_here)]
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    waiting: deque[Future[T]] = deque()
    try:
        if here:
            _start(pending, waiting, pool, depth)     # the pool starts on the jobs after them first
            yield from here
        while True:
            _start(pending, waiting, pool, depth)
            if not waiting:
                return
            result = waiting.popleft().result()
            if deepen is not None:
                depth = deepen(result)
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start(pending: Iterator[Callable[[], T]], waiting: deque[Future[T]], pool: Executor, depth: int) -> None:
    """Submit jobs from ``pending`` to ``pool`` until ``depth`` of them are ``waiting`` or none are left."""
    while len(waiting) < depth:
        job = next(pending, None)
        if job is None:
            break
        waiting.append(pool.submit(job))
