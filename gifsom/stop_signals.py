"""Turn Ctrl+C, SIGTERM and SIGHUP into a call that ends a take, without taking a lock in the signal handler.

Python runs a signal handler on the main thread between two bytecodes, wherever that thread is. If
the handler took a lock the main thread already holds (the lock inside the very
:class:`threading.Event` the capture loop waits on, say), the main thread would wait for itself
forever. So the handler here only writes a byte to a pipe, and a small thread that reads the pipe
makes the call.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import TracebackType

#: Signals that stop a take (Ctrl+C, SIGTERM from systemd or docker, SIGHUP from a closed terminal).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

_STOP, _DONE = b"s", b"d"


class StopOnSignals:
    """While entered, each of ``numbers`` makes a helper thread call ``stop()`` (it may be called more than once).

    On leaving, the previous handlers come back. Outside the main thread, where Python cannot
    install handlers, it does nothing.
    """

    def __init__(self, stop: Callable[[], None], numbers: tuple[int, ...] = STOP_SIGNALS) -> None:
        self.stop = stop
        self.numbers = numbers
        self._previous: dict[int, object] = {}
        self._pipe: tuple[int, int] | None = None
        self._caller: threading.Thread | None = None

    def __enter__(self) -> StopOnSignals:
        if threading.current_thread() is not threading.main_thread():
            return self
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)       # a full pipe drops the byte rather than block the handler
        self._pipe = (read_end, write_end)
        self._caller = threading.Thread(target=self._call_stop, name="gifsom-stop-signals", daemon=True)
        self._caller.start()

        def on_signal(_number: int, _frame: object) -> None:
            try:
                os.write(write_end, _STOP)
            except OSError:                     # full: a stop is already on its way
                pass
        for number in self.numbers:
            self._previous[number] = signal.signal(number, on_signal)
        return self

    def _call_stop(self) -> None:
        assert self._pipe is not None
        while os.read(self._pipe[0], 1) == _STOP:
            self.stop()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)      # type: ignore[arg-type]
        self._previous.clear()
        if self._pipe is None or self._caller is None:
            return
        read_end, write_end = self._pipe
        os.set_blocking(write_end, True)
        os.write(write_end, _DONE)
        self._caller.join()
        os.close(read_end)
        os.close(write_end)
        self._pipe = self._caller = None
