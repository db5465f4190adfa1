"""The one place that decides how many threads gifsom's compiled kernels and pools use."""

from __future__ import annotations

import os

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
