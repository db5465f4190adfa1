"""Colour histograms: the distinct colours of a pixel set and how often each occurs."""

from __future__ import annotations

import numpy as np
from numba import njit

_EMPTY = np.uint32(0xFFFFFFFF)


@njit(cache=True)
def _histogram(pixels: np.ndarray, limit: int):
    count = pixels.shape[0]
    capacity = 1024
    while capacity < 2 * min(count, max(limit, 1)) + 16:
        capacity <<= 1
    keys = np.full(capacity, 0xFFFFFFFF, np.uint32)
    counts = np.zeros(capacity, np.int64)
    mask = capacity - 1
    distinct = 0
    # runs of one colour (flat screen content) skip the hash and are counted in a register
    previous_key = np.uint32(0xFFFFFFFF)
    previous_slot = 0
    run = 0
    for i in range(count):
        key = (np.uint32(pixels[i, 0]) << 16) | (np.uint32(pixels[i, 1]) << 8) | np.uint32(pixels[i, 2])
        if key == previous_key:
            run += 1
            continue
        if run:
            counts[previous_slot] += run
            run = 0
        slot = (key * np.uint32(2654435761)) >> np.uint32(8)
        slot &= mask
        while True:
            if keys[slot] == key:
                counts[slot] += 1
                previous_key = key
                previous_slot = slot
                break
            if keys[slot] == 0xFFFFFFFF:
                if distinct >= limit:
                    return np.empty((0, 3), np.uint8), np.empty(0, np.int64), False
                keys[slot] = key
                counts[slot] = 1
                distinct += 1
                previous_key = np.uint32(0xFFFFFFFF)    # the slot may move if the table grows
                if 2 * distinct > capacity:      # grow: rehash into a table twice the size
                    new_capacity = capacity * 2
                    new_keys = np.full(new_capacity, 0xFFFFFFFF, np.uint32)
                    new_counts = np.zeros(new_capacity, np.int64)
                    new_mask = new_capacity - 1
                    for s in range(capacity):
                        k = keys[s]
                        if k != 0xFFFFFFFF:
                            t = ((k * np.uint32(2654435761)) >> np.uint32(8)) & new_mask
                            while new_keys[t] != 0xFFFFFFFF:
                                t = (t + 1) & new_mask
                            new_keys[t] = k
                            new_counts[t] = counts[s]
                    keys, counts, capacity, mask = new_keys, new_counts, new_capacity, new_mask
                break
            slot = (slot + 1) & mask
    if run:
        counts[previous_slot] += run
    colours = np.empty((distinct, 3), np.uint8)
    weights = np.empty(distinct, np.int64)
    n = 0
    for s in range(capacity):
        k = keys[s]
        if k != 0xFFFFFFFF:
            colours[n, 0] = (k >> 16) & 255
            colours[n, 1] = (k >> 8) & 255
            colours[n, 2] = k & 255
            weights[n] = counts[s]
            n += 1
    return colours, weights, True


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
    colours, counts, complete = _histogram(pixels, int(limit))
    if not complete:
        return None
    return colours, counts
