"""Colours packed into one integer each, for set operations and lookups on whole colours."""

from __future__ import annotations

import numpy as np


def pack_colours(colours: np.ndarray) -> np.ndarray:
    """uint8 (K, 3) colours as uint32 (K,) values ``r << 16 | g << 8 | b`` (below 2**24)."""
    wide = colours.astype(np.uint32)
    return (wide[:, 0] << 16) | (wide[:, 1] << 8) | wide[:, 2]
