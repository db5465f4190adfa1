"""Running jobs together on a pool (gifsom.threads.run_together), and ahead of their caller (run_ahead)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest

from gifsom.threads import run_ahead, run_together


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


# --- run_ahead: jobs that depend on the one before, run one at a time ahead of the caller ---

def test_run_ahead_runs_jobs_one_after_another_in_order_on_one_thread_of_their_own():
    ran: list[tuple[int, str]] = []

    def job(n: int):
        def run() -> int:
            ran.append((n, threading.current_thread().name))
            return n * n
        return run

    with closing(run_ahead((job(n) for n in range(20)), depth=3)) as results:
        assert list(results) == [n * n for n in range(20)]
    assert [n for n, _ in ran] == list(range(20))
    threads = {name for _, name in ran}
    assert len(threads) == 1 and threading.current_thread().name not in threads


@pytest.mark.parametrize("first_here", [1, 3, 25])
def test_run_ahead_runs_its_first_jobs_on_the_calling_thread_and_starts_the_next_before_giving_them(first_here: int):
    ran: list[tuple[int, str]] = []
    pool_started = threading.Event()

    def job(n: int):
        def run() -> int:
            ran.append((n, threading.current_thread().name))
            if n == first_here:
                pool_started.set()
            return n * n
        return run

    with closing(run_ahead((job(n) for n in range(20)), depth=3, first_here=first_here)) as results:
        assert next(results) == 0
        # the jobs run here are done, and the pool is at work on the next before the first result is taken
        assert [n for n, _ in ran][:min(first_here, 20)] == list(range(min(first_here, 20)))
        if first_here < 20:
            assert pool_started.wait(60)
        assert [0, *results] == [n * n for n in range(20)]
    assert [n for n, _ in ran] == list(range(20))
    here = threading.current_thread().name
    assert all((name == here) == (n < first_here) for n, name in ran)


def test_run_ahead_works_ahead_of_a_slow_caller_but_no_further_than_its_depth():
    started: list[int] = []
    third_done = threading.Event()

    def job(n: int):
        def run() -> int:
            started.append(n)
            if n == 2:
                third_done.set()
            return n
        return run

    results = run_ahead((job(n) for n in range(10)), depth=3)
    try:
        assert next(results) == 0
        # the caller holds result 0: jobs 1 and 2 run meanwhile, and job 3 is not started before result 1
        # is taken
        assert third_done.wait(60)
        assert started == [0, 1, 2]
        assert next(results) == 1
    finally:
        results.close()


def test_run_ahead_raises_a_jobs_exception_at_its_turn_and_starts_nothing_after_it_is_closed():
    pulled: list[int] = []
    ran: list[int] = []

    def job(n: int):
        def run() -> int:
            ran.append(n)
            if n == 2:
                raise ValueError("frame 2 failed")
            return n
        return run

    def jobs():
        for n in range(50):
            pulled.append(n)
            yield job(n)

    results = run_ahead(jobs(), depth=4)
    assert [next(results), next(results)] == [0, 1]
    with pytest.raises(ValueError, match="frame 2 failed"):
        next(results)
    assert len(pulled) <= 3 + 3          # the three results taken, and at most the depth beyond the last
    after = list(ran)
    assert set(after) <= set(pulled)
    assert not any(thread.name.startswith("gifsom-ahead") for thread in threading.enumerate())
    assert ran == after                  # the generator ended with the exception: nothing runs later
