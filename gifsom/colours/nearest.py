"""Exact nearest-colour search against a palette sorted along its principal axis.

A colour's distance to an entry is at least the distance between their
projections on that axis, so a search that starts at the colour's projection
and walks outwards can stop as soon as the projection gap alone exceeds the
best distance found (the compiled walk is ``_search.pxd``).
"""

from __future__ import annotations

import numpy as np

from ..threads import threads_for
from ._search_cy import assign_two
from ._search_cy import principal_axis as principal_axis_of

#: Points per thread below which the search stays on one thread. A steady camera learns a palette a frame from
#: a few thousand colours, in some ten searches of them all: at 512 rather than 1024 the car's 1,900 drawn
#: colours are searched on two threads, and its palettes took 6.5 against 7.8 ms, the talking head's 7.9
#: against 9.1 (2 cores, 2026-12-04; the same palettes, as the searches write one slot each). At 256 rather
#: than 512 (2026-12-05, the refinement compiled whole), whole conversions in nine interleaved runs: the car
#: 0.437 against 0.458 s, the portrait 0.475 against 0.504, the talking head 0.457 against 0.471; 128 was no
#: faster again.
POINTS_PER_THREAD = 256


class SortedPalette:
    """A palette prepared for pruned nearest search.

    Attributes:
        colours: float64 (K, 3) palette entries sorted by ``keys``.
        keys: float64 (K,) projection of each sorted entry on ``axis``.
        axis: float64 (3,) unit vector, the palette's principal axis.
        order: int64 (K,) original palette index of each sorted entry.
    """

    def __init__(self, colours: np.ndarray, keys: np.ndarray, axis: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self.order = order.astype(np.int64)
        self.colours = np.ascontiguousarray(np.asarray(colours, dtype=np.float64)[order])
        self.keys = np.ascontiguousarray(keys[order], dtype=np.float64)
        self.axis = np.ascontiguousarray(axis, dtype=np.float64)

    @classmethod
    def of(cls, palette: np.ndarray) -> "SortedPalette":
        """``palette`` (K, 3), any numeric dtype, sorted along its own principal axis."""
        colours = np.asarray(palette, dtype=np.float64).reshape(-1, 3)
        axis = principal_axis(colours)
        return cls(colours, colours @ axis, axis)

    @classmethod
    def along(cls, colours: np.ndarray, axis: np.ndarray) -> "SortedPalette":
        """float64 (K, 3) ``colours`` sorted along a given unit ``axis`` (3,)."""
        keys = colours[:, 0] * axis[0] + colours[:, 1] * axis[1] + colours[:, 2] * axis[2]
        return cls(colours, keys, axis)

    def assign(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest entry of each float64 (M, 3) point: ``(labels, first, second)`` as in :func:`assign_nearest`."""
        points = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 3)
        count = len(points)
        labels = np.empty(count, np.int64)
        first = np.empty(count, np.float64)
        second = np.empty(count, np.float64)
        assign_two(points, self.colours, self.keys, self.axis, self.order, labels, first, second,
                   threads_for(count, POINTS_PER_THREAD))
        return labels, first, second


def principal_axis(colours: np.ndarray) -> np.ndarray:
    """Unit float64 (3,) direction of largest spread of float (K, 3) colours (luma for K <= 2, or no spread).

    Any axis gives the same distances (the search is exact); this one makes it walk the fewest entries. With
    the compiled power iteration this took 11 us for 255 colours, against 96 with numpy's ``eigh``
    (2026-12-04), and a steady camera's frame palette asks for two or three."""
    axis = np.array([0.299, 0.587, 0.114])
    if len(colours) > 2:
        principal_axis_of(np.ascontiguousarray(colours, dtype=np.float64), axis)
    return axis / np.linalg.norm(axis)


def assign_nearest(points: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest and second-nearest squared distances of each point to a (float) palette.

    Args:
        points: float64 (M, 3) colours.
        palette: (K, 3) entries, any numeric dtype.

    Returns:
        ``(labels, first, second)``: int64 (M,) index of the nearest entry, float64
        (M,) squared distance to it and to the runner-up (1e300 when K == 1).
    """
    return SortedPalette.of(palette).assign(points)
