# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled nearest-two search over many colours, on several threads."""

from cython.parallel cimport prange
from libc.stdint cimport int64_t

from ._search cimport nearest_two


def assign_two(const double[:, ::1] points, const double[:, ::1] colours, const double[::1] keys,
               const double[::1] axis, const int64_t[::1] order, int64_t[::1] labels, double[::1] first,
               double[::1] second, int threads=1):
    """For every point, the nearest entry of a sorted palette and the two smallest squared distances.

    Args:
        points: float64 (M, 3) colours.
        colours, keys, axis, order: a sorted palette (see :class:`gifsom.colours.nearest.SortedPalette`).
        labels: int64 (M,) receives the nearest entry's original index.
        first, second: float64 (M,) receive the squared distance to it and to the runner-up.
        threads: how many threads share the points (the GIL is released).
    """
    cdef Py_ssize_t i, m = points.shape[0], n = keys.shape[0]
    if m == 0:
        return
    with nogil:
        for i in prange(m, num_threads=threads, schedule="static"):
            nearest_two(points[i, 0], points[i, 1], points[i, 2], &colours[0, 0], &keys[0], n, &axis[0],
                        &order[0], &labels[i], &first[i], &second[i])
