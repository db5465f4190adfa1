"""Existing GIFs: composed as a browser shows them (see :mod:`gifsom.gif.reader`), timing and loop count kept."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..frames import Frame
from ..gif.reader import GifDamaged, GifReader
from .base import (ClipPlan, SourceBase, SourceOptions, check_crop, planned_size, retime, timed_pictures,
                   trimmed_seconds)


class GifSource(SourceBase):
    """Frames of a GIF file with their own delays and loop count.

    Frames are RGBA where the GIF shows any transparency, RGB otherwise (decided
    per frame; the spool keeps a clip RGBA from the first transparent frame on).
    """

    def __init__(self, path: str | os.PathLike, options: SourceOptions = SourceOptions()) -> None:
        self.path = Path(path)
        self.options = options
        self.fps = options.fps
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {str(self.path)!r}: {exc.strerror}; check the path") from None
        self._reader = GifReader(data, str(self.path), max_pixels=options.max_pixels)
        check_crop(options.crop, self._reader.width, self._reader.height)
        #: The loop block's count (0 forever, N repeats), or -1 (plays once) when the GIF has none.
        self.loop: int | None = self._reader.loop
        #: When the last frame stops showing (seconds of output), once read; None when resampled.
        self.end_time: float | None = None

    def plan(self) -> ClipPlan:
        """Frames and their size, counted from the GIF's blocks without decoding any image."""
        opts = self.options
        width, height = planned_size(self._reader.width, self._reader.height, opts)
        channels = 4 if self._reader.may_show_transparency else 3
        if opts.fps is None and opts.start is None and opts.end is None:
            frames = self._reader.frame_count
        else:
            seconds = trimmed_seconds(sum(self._reader.shown_delays) / 100.0, opts)
            frames = self._reader.frame_count if opts.fps is None else math.ceil(seconds * opts.fps)
        return ClipPlan(max(1, frames), width, height, channels, compressible=True)

    def _pictures(self) -> Iterator[tuple[np.ndarray, float]]:
        """Each frame as RGBA and how long it shows, in milliseconds; a damaged file ends early with
        ``partial_ok`` (and a warning), else raises."""
        frames = self._reader.frames()
        while True:
            try:
                canvas, delay_cs = next(frames)
            except StopIteration:
                return
            except GifDamaged as damage:
                if not self.options.partial_ok or damage.frames == 0:
                    raise
                self.warning = f"the input is damaged; kept the {damage.frames} frames before the damage"
                return
            yield canvas, delay_cs * 10

    def _raw(self) -> Iterator[Frame]:
        yield from timed_pictures(self._pictures(), self.options, self)
    def frames(self) -> Iterator[Frame]:
        yield from retime(self._raw(), self.options)
