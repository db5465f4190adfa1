"""Frames: the unit that flows through the pipeline.

A frame is a numpy ``uint8`` array of shape ``(height, width, 3)`` (RGB) or
``(height, width, 4)`` (RGBA, where alpha below 128 means transparent) plus a
presentation timestamp in seconds, counted from the start of the clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._frames_cy import changed_box, same_bytes
from .append_only import AppendOnlyMemory
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


def same_pixels(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two arrays have the same shape, dtype and values (compared as bytes, with memcmp:
    a 1080p frame in about a tenth of ``np.array_equal``'s time, which builds a boolean array first)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not (a.flags.c_contiguous and b.flags.c_contiguous):
        return bool(np.array_equal(a, b))
    return same_bytes(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8))


def unchangeable(array: np.ndarray) -> bool:
    """Whether nothing can change ``array``'s values: a read-only view (directly or through read-only
    memoryviews and arrays) of a ``bytes`` object or of an :class:`~gifsom.append_only.AppendOnlyMemory`, as
    frames read from a pipe are. Such a frame can be kept without a copy: a copy takes fresh pages, about
    3.5 us each on the 2-core machine."""
    base: object = array
    while isinstance(base, (np.ndarray, memoryview)):
        if isinstance(base, memoryview) and not base.readonly:
            return False                    # (bytes give only read-only views, and arrays over them stay so)
        base = base.base if isinstance(base, np.ndarray) else base.obj
    return isinstance(base, (bytes, AppendOnlyMemory))


_NO_MASK = np.zeros((0, 0), np.uint8)


def changed_rectangle(a: np.ndarray, b: np.ndarray, channels: int = 4,
                      changed: np.ndarray | None = None) -> tuple[int, int, int, int] | None:
    """The smallest rectangle around the pixels where C-contiguous uint8 (H, W, C) frames ``a`` and ``b`` differ
    in any of their first ``channels`` channels, as ``(top, bottom, left, right)`` (rows ``top:bottom``,
    columns ``left:right``), or None where they do not. ``changed``, a uint8 (H, W) array, is set to 1
    where they differ and 0 elsewhere."""
    box = changed_box(a, b, channels, _NO_MASK if changed is None else changed)
    return box if box[1] else None


def as_pixels(image: Any, *, what: str = "frame") -> np.ndarray:
    """Return ``image`` as a C-contiguous uint8 array of shape (H, W, 3) or (H, W, 4).

    This is the one gate every frame passes on its way in, so the rules are here:

    - shapes: (H, W) grey, (H, W, 1) grey, (H, W, 2) grey and alpha, (H, W, 3) RGB,
      (H, W, 4) RGBA; PIL images in any mode;
    - dtypes: uint8 as it is; other integers when every value is in 0..255; bool as
      black (False) and white (True); floats in 0..1, as matplotlib and scikit-image
      keep them (a float frame with values above 1 is refused rather than guessed at).

    RGBA input stays RGBA only when some pixel is not fully opaque.

    Raises:
        InputError: for any other shape, type, value range or size, naming what to pass instead.
    """
    if hasattr(image, "mode") and hasattr(image, "convert"):  # a PIL image
        keep_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = np.asarray(image.convert("RGBA" if keep_alpha else "RGB"))
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"{what} has shape {array.shape}; expected (height, width) grey, (height, width, 3) RGB "
                         "or (height, width, 4) RGBA")
    array = _as_uint8(array, what)
    if array.shape[2] <= 2:                   # grey, or grey and alpha
        array = np.concatenate([array[:, :, :1].repeat(3, axis=2), array[:, :, 1:]], axis=2)
    height, width = array.shape[:2]
    if height == 0 or width == 0:
        raise InputError(f"{what} is empty ({width}x{height} pixels)")
    if height > GIF_MAX_SIDE or width > GIF_MAX_SIDE:
        raise InputError(f"{what} is {width}x{height}; GIF allows at most {GIF_MAX_SIDE} pixels a side: scale it down")
    if array.shape[2] == 4 and bool((array[:, :, 3] == 255).all()):
        array = array[:, :, :3]
    return np.ascontiguousarray(array)


def _as_uint8(array: np.ndarray, what: str) -> np.ndarray:
    """``array``'s values as uint8 by the dtype rules of :func:`as_pixels`."""
    kind = array.dtype
    if kind == np.uint8:
        return array
    if kind == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(kind, np.floating):
        if array.size and not bool(np.isfinite(array).all()):
            raise InputError(f"{what} ({kind}) holds NaN or infinite values; pass finite pixels")
        top = float(array.max()) if array.size else 0.0
        low = float(array.min()) if array.size else 0.0
        if low < 0.0 or top > 1.0:
            raise InputError(f"{what} is {kind} with values from {low:g} to {top:g}; float pixels must be in "
                             "0..1 (divide by 255), or pass uint8 pixels in 0..255 (array.astype(np.uint8))")
        return np.rint(array * 255.0).astype(np.uint8)
    if np.issubdtype(kind, np.integer):
        if array.size and (int(array.min()) < 0 or int(array.max()) > 255):
            raise InputError(f"{what} is {kind} with values from {int(array.min())} to {int(array.max())}, "
                             "outside 0..255; pass uint8 pixels (for 16-bit images: (array >> 8).astype(np.uint8))")
        return array.astype(np.uint8)
    raise InputError(f"{what} has dtype {kind}; pass uint8 pixels in 0..255, or floats in 0..1")


def as_frame(item: Any, *, what: str = "frame") -> Frame:
    """Coerce a Frame, a (pixels, pts) pair, an array or a PIL image to a :class:`Frame`."""
    if isinstance(item, Frame):
        return Frame(as_pixels(item.pixels, what=what), item.pts)
    if isinstance(item, tuple) and len(item) == 2:
        pixels, pts = item
        return Frame(as_pixels(pixels, what=what), None if pts is None else float(pts))
    return Frame(as_pixels(item, what=what), None)
