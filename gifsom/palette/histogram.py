"""Colour histograms: the distinct colours of a pixel set and how often each occurs."""

from __future__ import annotations

import numpy as np

from ._histogram_cy import histogram


def colour_histogram(pixels: np.ndarray, limit: int = 1 << 24) -> tuple[np.ndarray, np.ndarray] | None:
    """Count the distinct colours of ``pixels``.

    Args:
        pixels: uint8 array of shape (N, 3).
        limit: stop and return None as soon as more than this many distinct colours appear.

    Returns:
        ``(colours, counts)``: uint8 (M, 3) distinct colours and int64 (M,) counts
        (in no particular order), or None when there are more than ``limit``.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(-1, 3)
    return histogram(pixels, int(limit))
