# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled loops of the plan encoder (``plan_encoding.py``): choosing the values of hidden pixels, the
pixels a frame leaves to the screen, so that its LZW runs are long.
"""

from libc.stdint cimport int64_t, uint8_t

import numpy as np


def continue_runs(const uint8_t[::1] indices, const uint8_t[::1] hidden, const uint8_t[::1] unchanged,
                  int transparent):
    """Write hidden pixels as transparent, except unchanged ones that continue a run in their own colour.

    Args are flat (N,): uint8 indices, and bool-as-uint8 masks of hidden and
    unchanged pixels. Returns uint8 (N,). The greedy counterpart of :func:`fill_hidden`.
    """
    out_array = np.array(indices, dtype=np.uint8)
    cdef uint8_t[::1] out = out_array
    cdef Py_ssize_t i
    cdef int previous = -1
    with nogil:
        for i in range(out.shape[0]):
            if hidden[i] and not (unchanged[i] and out[i] == previous):
                out[i] = <uint8_t>transparent
            previous = out[i]
    return out_array


cdef inline int64_t _arrive(int64_t cost_own, int64_t cost_clear, int64_t previous_own, int64_t transparent,
                            int64_t value, uint8_t* came_from) noexcept nogil:
    """Cheapest cost of writing ``value`` after a pixel written as its own index (``previous_own``,
    path cost ``cost_own``) or as transparent (``cost_clear``); ``came_from`` gets which of the two
    (0 or 1) the path comes from. The own index wins ties."""
    cdef int64_t from_own = cost_own + (previous_own != value)
    cdef int64_t from_clear = cost_clear + (transparent != value)
    if from_clear < from_own:
        came_from[0] = 1
        return from_clear
    came_from[0] = 0
    return from_own


def fill_hidden(const uint8_t[::1] indices, const uint8_t[::1] hidden, const uint8_t[::1] unchanged,
                int transparent):
    """Write hidden pixels so that the scan has as few value changes as possible.

    Args are flat (N,), as for :func:`continue_runs`. An unchanged pixel already
    shows its colour, so it may be written as the transparent index or as its
    own; every other hidden pixel must be transparent. A two-state dynamic
    programme over the scan picks, for each free pixel, the value that
    minimises the number of places where a pixel differs from the one before
    it: fewer, longer runs for LZW. Returns uint8 (N,).
    """
    cdef Py_ssize_t n = indices.shape[0], i
    out_array = np.array(indices, dtype=np.uint8)
    if n == 0:
        return out_array
    cdef uint8_t[::1] out = out_array
    # state 0: the pixel written as its own index, state 1: written as transparent.
    # back[i, s]: the state of pixel i - 1 on the cheapest path that puts pixel i in state s.
    back_array = np.zeros((n, 2), np.uint8)
    cdef uint8_t[:, ::1] back = back_array
    cdef int64_t big = (<int64_t>1) << 40, cost0, cost1, new0, new1, previous_own
    cdef int state
    with nogil:
        cost0 = 0 if (not hidden[0]) or unchanged[0] else big
        cost1 = 0 if hidden[0] else big
        for i in range(1, n):
            previous_own = indices[i - 1]
            new0 = big
            new1 = big
            if (not hidden[i]) or unchanged[i]:
                new0 = _arrive(cost0, cost1, previous_own, transparent, indices[i], &back[i, 0])
            if hidden[i]:
                new1 = _arrive(cost0, cost1, previous_own, transparent, transparent, &back[i, 1])
            cost0 = min(new0, big)
            cost1 = min(new1, big)
        state = 0 if cost0 <= cost1 else 1
        i = n - 1
        while i >= 0:
            if state == 1:
                out[i] = <uint8_t>transparent
            state = back[i, state]
            i -= 1
    return out_array
