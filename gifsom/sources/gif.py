"""Existing GIFs: composed as a browser shows them (see :mod:`gifsom.gif.reader`), timing and loop count kept."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError
from ..frames import Frame
from ..gif.reader import GifDamaged, GifReader
from .base import SourceBase, SourceOptions, check_crop, cropped, fit_size, resize, retime


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

    def _raw(self) -> Iterator[Frame]:
        pts_cs = 0
        size = None
        frames = self._reader.frames()
        while True:
            try:
                canvas, delay_cs = next(frames)
            except StopIteration:
                break
            except GifDamaged as damage:
                if not self.options.partial_ok or damage.frames == 0:
                    raise
                self.warning = f"the input is damaged; kept the {damage.frames} frames before the damage"
                break
            canvas = cropped(canvas, self.options.crop)
            pixels = canvas[:, :, :3].copy() if bool((canvas[:, :, 3] == 255).all()) else canvas.copy()
            if size is None:
                size = fit_size(pixels.shape[1], pixels.shape[0], self.options.width, self.options.height)
            yield Frame(resize(pixels, size), pts_cs / 100.0)
            pts_cs += delay_cs
        if self.options.fps is None:
            end = pts_cs / 100.0 if self.options.end is None else min(pts_cs / 100.0, self.options.end)
            self.end_time = max(0.0, end - (self.options.start or 0.0)) / self.options.speed

    def frames(self) -> Iterator[Frame]:
        yield from retime(self._raw(), self.options)
