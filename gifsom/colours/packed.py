"""Colours packed into one integer each, for set operations and lookups on whole colours."""

from __future__ import annotations

import numpy as np


def pack_colours(colours: np.ndarray) -> np.ndarray:
    """uint8 (K, 3) colours as uint32 (K,) values ``r << 16 | g << 8 | b`` (below 2**24)."""
    wide = colours.astype(np.uint32)
    return (wide[:, 0] << 16) | (wide[:, 1] << 8) | wide[:, 2]


def among(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """bool (N,): whether each of the packed colours ``values`` (N,) is one of ``members`` (M,), any order.

    ``np.isin`` on packed colours may pick its lookup table, which spans the values' range (up to 2**24
    entries): 0.73 ms for 800 colours against a palette of 200, where sorting the members and searching
    them takes some 10 us (numpy 2.4, 2026-12-05).
    """
    if len(members) == 0:
        return np.zeros(len(values), bool)
    known = np.sort(members)
    place = np.minimum(np.searchsorted(known, values), len(known) - 1)
    return known[place] == values
