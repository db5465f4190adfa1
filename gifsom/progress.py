"""Progress reporting: a bar on a terminal, a callback for programs, and cancelling."""

from __future__ import annotations

import sys
from collections.abc import Callable

from .errors import Cancelled

#: ``progress(done, total)``: total is None when unknown; returning False cancels.
ProgressCallback = Callable[[int, "int | None"], "bool | None"]


class Progress:
    """Reports one stage of work.

    Args:
        label: what is being counted ("frames read", "frames written").
        total: how many units there will be, or None.
        callback: called with (done, total) after each unit; returning False cancels.
        bar: draw a tqdm bar on stderr (None: only when stderr is a terminal).
        unit: what one unit is called on the bar.
    """

    def __init__(self, label: str, total: int | None = None, *, callback: ProgressCallback | None = None,
                 bar: bool | None = False, unit: str = "frame") -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.callback = callback
        if bar is None:
            bar = sys.stderr.isatty()
        self._bar = None
        if bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit=unit, leave=False, file=sys.stderr)

    def step(self, count: int = 1) -> None:
        """Count ``count`` more units; raise :class:`Cancelled` if the callback says so."""
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        if self.callback is not None and self.callback(self.done, self.total) is False:
            raise Cancelled(f"cancelled by the progress callback after {self.done} {self.label}; no file was written")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
