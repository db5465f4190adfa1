"""The collector: where frames enter the pipeline, from any source.

:class:`Collector` takes frames one at a time (``append(frame, pts)``): it
checks each one, gives it a timestamp, spools it and lets the survey look at
it. ``end_time`` then says when the clip ends. The spool it fills is the clip
the encoder reads, after the last frame (:func:`gifsom.encoder.write_clip`) or
while frames still arrive (:class:`gifsom.live.LiveEncoder`, told of each frame
through ``on_frame``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .checks import DEFAULT_MAX_SPOOL
from .errors import InputError, OptionError
from .frames import as_frame
from .limits import check_clip_budget
from .median import median
from .palette.clip import ClipSurvey
from .progress import Progress
from .spool import DEFAULT_MEMORY_BUDGET, FrameSpool

#: Frame rate used when frames carry no timestamps and no fps is given.
DEFAULT_FPS = 10.0


class Collector:
    """Checks, timestamps, spools and surveys frames as they arrive.

    Args:
        fps: frame rate for frames given without a timestamp; None: one frame period of
            :data:`DEFAULT_FPS`, or the median step between the given timestamps at the end.
        survey: what to gather from each frame for the encoder, or None (a live encoder surveys for itself).
        reading: counts frames read (and may cancel); None counts them silently.
        memory_budget, compress_spool, max_spool: as for :class:`gifsom.GifWriter`.
        on_frame: called with the number of frames spooled after each one, or None.
    """

    def __init__(self, fps: float | None, *, survey: ClipSurvey | None, reading: Progress | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET, compress_spool: bool | None = None,
                 max_spool: int = DEFAULT_MAX_SPOOL, on_frame: Callable[[int], None] | None = None) -> None:
        self.fps = fps
        self.survey = survey
        self.reading = reading or Progress("frames read")
        self.memory_budget = memory_budget
        self.compress_spool = compress_spool
        self.max_spool = max_spool
        self.on_frame = on_frame
        #: The frames so far, or None before the first (its size and channels come from the first frame).
        self.spool: FrameSpool | None = None
        self._closed = False

    def __len__(self) -> int:
        return 0 if self.spool is None else len(self.spool)

    def append(self, frame: Any, pts: float | None = None) -> None:
        """Add a frame: a uint8 (H, W, 3) or (H, W, 4) array, PIL image or :class:`gifsom.frames.Frame`,
        shown from ``pts`` seconds (non-decreasing; None: one frame period after the previous frame)."""
        if self._closed:
            raise OptionError("append() after the writer was closed; open a new GifWriter")
        number = len(self)
        item = as_frame(frame, what=f"frame {number}")
        pixels = item.pixels
        if pts is None:
            pts = item.pts
        last = self.last_pts
        if pts is None:
            pts = 0.0 if last is None else last + 1.0 / (self.fps or DEFAULT_FPS)
        pts = float(pts)
        if not np.isfinite(pts) or pts < 0 or (last is not None and pts < last):
            raise InputError(f"frame {number} has timestamp {pts}; timestamps must be finite, "
                             f"non-negative and non-decreasing (previous {last})")
        if self.spool is None:
            height, width, channels = pixels.shape
            self.spool = FrameSpool(width, height, channels, memory_budget=self.memory_budget,
                                    compress=self.compress_spool)
        if (number + 1) * self.spool.frame_bytes > self.max_spool:
            height, width, channels = self.spool.shape
            check_clip_budget(number + 1, width, height, channels, self.max_spool)
        changed = self.spool.append(pixels, pts)
        if self.survey is not None:
            self.survey.add(pixels, changed)
        self.reading.step()
        if self.on_frame is not None:
            self.on_frame(number + 1)

    @property
    def last_pts(self) -> float | None:
        """When the last frame starts, in seconds, or None before the first."""
        return self.spool.timestamps[-1] if self.spool is not None and len(self.spool) else None

    def end_time(self, given: float | None) -> float:
        """When the last frame stops showing: ``given`` (from the caller) when it is after the last
        start, else one frame period after it (the fps, or the median step between timestamps)."""
        if self.spool is None or not len(self.spool):
            raise InputError("the clip has no frames; append at least one frame")
        times = self.spool.timestamps
        if given is not None and given > times[-1]:
            return given
        if self.fps is not None:
            return times[-1] + 1.0 / self.fps
        steps = np.diff(times)
        steps = steps[steps > 0]
        return times[-1] + (median(steps) if len(steps) else 1.0 / DEFAULT_FPS)

    def close(self) -> None:
        """Take no more frames and drop the spool (its temporary file too)."""
        self._closed = True
        self.reading.close()
        if self.spool is not None:
            self.spool.close()
            self.spool = None

