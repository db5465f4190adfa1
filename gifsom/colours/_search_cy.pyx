# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled nearest-two search over many colours, on several threads, and the axis a palette is sorted along."""

from cython.parallel cimport prange
from libc.stdint cimport int64_t

from ._search cimport nearest_two, principal_direction


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


def principal_axis(const double[:, ::1] colours, double[::1] axis):
    """Write into float64 (3,) ``axis`` the unit direction of largest spread of float64 (K, 3) ``colours``
    (power iteration on their covariance); returns False, leaving ``axis`` as it is, where they have no
    spread (K < 2, or all one colour)."""
    cdef Py_ssize_t k = colours.shape[0], i
    cdef int a, b
    cdef double mean[3]
    cdef double covariance[3][3]
    cdef double direction[3]
    cdef double value, d
    if axis.shape[0] != 3 or colours.shape[1] != 3:
        raise ValueError("principal_axis: colours must be (K, 3) and axis (3,)")
    if k < 2:
        return False
    with nogil:
        for a in range(3):
            mean[a] = 0.0
            for b in range(3):
                covariance[a][b] = 0.0
        for i in range(k):
            for a in range(3):
                mean[a] += colours[i, a]
        for a in range(3):
            mean[a] /= k
        for i in range(k):
            for a in range(3):
                d = colours[i, a] - mean[a]
                for b in range(a, 3):
                    covariance[a][b] += d * (colours[i, b] - mean[b])
        for a in range(3):
            for b in range(a):
                covariance[a][b] = covariance[b][a]
        principal_direction(covariance, direction, &value)
    if value == 0.0:
        return False
    for a in range(3):
        axis[a] = direction[a]
    return True
