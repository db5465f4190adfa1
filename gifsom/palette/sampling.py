"""Bounded, even sampling of training pixels across a clip of unknown length."""

from __future__ import annotations

import numpy as np

from ..frames import unchangeable
from ._survey_cy import every_nth_opaque, joined_rows


class PixelSampler:
    """Keeps at most ``capacity`` pixels spread evenly over every frame added.

    Each frame contributes every ``stride``-th pixel (from a moving offset, so
    that consecutive frames do not sample the same positions). When the pool
    overflows, every other kept pixel is dropped and the stride doubles, so
    early and late frames stay equally represented whatever the clip's length.
    Fully transparent pixels (alpha < 128) are not sampled.
    """

    def __init__(self, capacity: int = 1 << 20) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = int(capacity)
        self.stride = 1
        self.frames = 0
        self._chunks: list[np.ndarray] = []
        self._count = 0
        self._joined: np.ndarray | None = None     # the chunks joined, until the next frame

    def add(self, pixels: np.ndarray) -> None:
        """Add one frame: uint8 (H, W, 3) or (H, W, 4)."""
        self._joined = None
        flat = np.ascontiguousarray(pixels).reshape(-1, pixels.shape[-1])
        offset = (self.frames * 7919) % self.stride
        if self.stride == 1 and flat.shape[1] == 3:
            # every pixel: a copy where ``flat`` is the caller's array, which it may fill again, unless nothing
            # can (a decoded frame in the bytes the decoder's pipe gave)
            chosen = np.array(flat) if np.may_share_memory(flat, pixels) and not unchangeable(flat) else flat
        else:
            chosen = every_nth_opaque(flat, offset, self.stride)
        self._chunks.append(chosen)
        self._count += len(chosen)
        self.frames += 1
        while self._count > self.capacity:
            halved = [chunk[::2] for chunk in self._chunks]
            count = sum(len(chunk) for chunk in halved)
            if count == self._count:
                # every frame is down to one pixel or none (more frames than ``capacity``): of the frames
                # that still have their pixel, every other one loses it
                kept = np.cumsum([len(chunk) for chunk in self._chunks])
                halved = [chunk[:0] if len(chunk) and kept[number] % 2 == 0 else chunk
                          for number, chunk in enumerate(self._chunks)]
                count = sum(len(chunk) for chunk in halved)
            self._chunks, self._count = halved, count
            self.stride *= 2

    def kept(self, first: int, stop: int) -> int:
        """How many pixels are kept from frames ``first`` up to (not including) ``stop``, in the order added."""
        return sum(len(chunk) for chunk in self._chunks[first:stop])

    def pixels_of(self, first: int, stop: int) -> np.ndarray:
        """The pixels kept from frames ``first`` up to (not including) ``stop``, uint8 (N, 3), in order: a
        stretch of the clip learns its palette from them with no sample of its own."""
        return joined_rows(self._chunks[first:stop])

    def pixels(self) -> np.ndarray:
        """All kept pixels, uint8 (N, 3), in the order their frames were added (read-only: joined once
        and shared until the next frame, as a fit learns several palettes from one sample)."""
        if self._joined is None:
            self._joined = joined_rows(self._chunks)
            self._joined.flags.writeable = False
        return self._joined
