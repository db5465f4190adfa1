"""Frames: the unit that flows through the pipeline.

A frame is a numpy ``uint8`` array of shape ``(height, width, 3)`` (RGB) or
``(height, width, 4)`` (RGBA, where alpha below 128 means transparent) plus a
presentation timestamp in seconds, counted from the start of the clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._frames_cy import same_bytes
from .checks import GIF_MAX_SIDE
from .errors import InputError



@dataclass(frozen=True)
class Frame:
    """One picture of a clip.

    Attributes:
        pixels: uint8 array, shape (H, W, 3) or (H, W, 4), C-contiguous.
        pts: presentation time in seconds from the start of the clip, or None
            when the source has no timing of its own (the frame rate decides).
    """

    pixels: np.ndarray
    pts: float | None = None

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def has_alpha(self) -> bool:
        return self.pixels.shape[2] == 4


def same_pixels(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two arrays have the same shape, dtype and values (compared as bytes, with memcmp:
    a 1080p frame in about a tenth of ``np.array_equal``'s time, which builds a boolean array first)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not (a.flags.c_contiguous and b.flags.c_contiguous):
        return bool(np.array_equal(a, b))
    return same_bytes(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8))


def as_pixels(image: Any, *, what: str = "frame") -> np.ndarray:
    """Return ``image`` as a C-contiguous uint8 array of shape (H, W, 3) or (H, W, 4).

    Accepts numpy arrays (H x W grey, H x W x 3 RGB, H x W x 4 RGBA; uint8, or
    floats in 0..1) and PIL images in any mode. RGBA input stays RGBA only when
    some pixel is not fully opaque.

    Raises:
        InputError: for any other shape, type or size.
    """
    if hasattr(image, "mode") and hasattr(image, "convert"):  # a PIL image
        keep_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = np.asarray(image.convert("RGBA" if keep_alpha else "RGB"))
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None].repeat(3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise InputError(
            f"{what} has shape {array.shape}; expected (height, width, 3) RGB or (height, width, 4) RGBA"
        )
    if array.dtype != np.uint8:
        if np.issubdtype(array.dtype, np.floating):
            array = np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
        elif np.issubdtype(array.dtype, np.integer) and array.size and (array.min() < 0 or array.max() > 255):
            raise InputError(f"{what} has values outside 0..255 (dtype {array.dtype}); pass uint8 pixels")
        else:
            array = array.astype(np.uint8)
    height, width = array.shape[:2]
    if height == 0 or width == 0:
        raise InputError(f"{what} is empty ({width}x{height} pixels)")
    if height > GIF_MAX_SIDE or width > GIF_MAX_SIDE:
        raise InputError(f"{what} is {width}x{height}; GIF allows at most {GIF_MAX_SIDE} pixels a side: scale it down")
    if array.shape[2] == 4 and bool((array[:, :, 3] == 255).all()):
        array = array[:, :, :3]
    return np.ascontiguousarray(array)


def as_frame(item: Any, *, what: str = "frame") -> Frame:
    """Coerce a Frame, a (pixels, pts) pair, an array or a PIL image to a :class:`Frame`."""
    if isinstance(item, Frame):
        return Frame(as_pixels(item.pixels, what=what), item.pts)
    if isinstance(item, tuple) and len(item) == 2:
        pixels, pts = item
        return Frame(as_pixels(pixels, what=what), None if pts is None else float(pts))
    return Frame(as_pixels(item, what=what), None)
