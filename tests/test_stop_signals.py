"""Ctrl+C, SIGTERM and SIGHUP end a take through :class:`gifsom.stop_signals.StopOnSignals`."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from gifsom.stop_signals import StopOnSignals

#: A child that is sent ``number`` while its main thread holds the lock inside the Event the stop sets:
#: the capture loop is in that state for a moment each time it waits for the next frame.
_SIGNAL_WHILE_THE_LOCK_IS_HELD = textwrap.dedent("""
    import os, sys, threading
    from gifsom.stop_signals import StopOnSignals

    stopped = threading.Event()
    with StopOnSignals(stopped.set):
        with stopped._cond:                       # the lock Event.set takes
            os.kill(os.getpid(), int(sys.argv[1]))
            sum(range(100_000))                   # Python runs the handler between these bytecodes
        print("stopped" if stopped.wait(30) else "not stopped")
""")


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda number: number.name)
def test_a_signal_that_comes_while_the_main_thread_holds_the_stops_lock_still_stops(number):
    # a handler that called stop itself would wait on a lock its own thread holds: the child would hang
    child = subprocess.run([sys.executable, "-c", _SIGNAL_WHILE_THE_LOCK_IS_HELD, str(int(number))],
                           capture_output=True, text=True, timeout=60)
    assert (child.returncode, child.stdout.strip()) == (0, "stopped"), child.stderr


def test_each_signal_calls_stop_and_the_old_handlers_come_back():
    calls: list[int] = []
    called = threading.Semaphore(0)

    def stop() -> None:
        calls.append(1)
        called.release()
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    with StopOnSignals(stop, (signal.SIGINT, signal.SIGTERM)):
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.raise_signal(number)
            assert called.acquire(timeout=30)
    assert len(calls) == 2
    assert {number: signal.getsignal(number) for number in before} == before


def test_outside_the_main_thread_it_leaves_the_handlers_alone():
    before = signal.getsignal(signal.SIGINT)
    seen: list[object] = []

    def in_a_thread() -> None:
        with StopOnSignals(lambda: None):
            seen.append(signal.getsignal(signal.SIGINT))
    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    assert seen == [before]
