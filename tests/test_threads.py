"""Running jobs together on a pool (gifsom.threads.run_together)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gifsom.threads import run_together


def test_run_together_returns_each_jobs_result_in_order_and_runs_the_first_on_the_caller():
    ran_on = {}

    def job(n: int):
        def run() -> int:
            ran_on[n] = threading.current_thread().name
            return n * n
        return run

    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="pool") as pool:
        assert run_together(pool, [job(n) for n in range(6)]) == [n * n for n in range(6)]
    assert ran_on[0] == threading.current_thread().name
    assert run_together(None, [job(n) for n in range(3)]) == [0, 1, 4]


def test_run_together_called_from_the_pools_only_worker_runs_the_queued_jobs_itself():
    # the worker that calls it holds the only thread: jobs it queued would never start, so it takes them back
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        outer = pool.submit(run_together, pool, [lambda n=n: n + 1 for n in range(4)])
        assert outer.result(timeout=60) == [1, 2, 3, 4]
    finally:
        pool.shutdown(cancel_futures=True)     # where it waits on its queue, this frees it to fail


def test_run_together_raises_a_jobs_exception():
    def failing() -> int:
        raise ValueError("part failed")

    with ThreadPoolExecutor(max_workers=2) as pool:
        with pytest.raises(ValueError, match="part failed"):
            run_together(pool, [lambda: 1, failing, lambda: 3])
