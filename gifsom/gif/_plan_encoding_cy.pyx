# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled loops of the plan encoder (``plan_encoding.py``): choosing the values of hidden pixels, the
pixels a frame leaves to the screen, so that its LZW runs are long.
"""

from libc.stdint cimport int64_t, uint8_t
from libc.string cimport memset

import numpy as np


def hide(const uint8_t[::1] indices, const uint8_t[::1] hidden, int transparent):
    """The indices with every hidden pixel written as ``transparent``: uint8 (N,), from flat (N,) uint8
    indices and a bool-as-uint8 mask of hidden pixels. (numpy's masked assignment on a copy took 0.21 ms of a
    240x180 rectangle, its mask scattered as a steady camera's is.)"""
    out_array = np.empty(indices.shape[0], np.uint8)
    cdef uint8_t[::1] out = out_array
    cdef uint8_t value = <uint8_t>transparent
    cdef Py_ssize_t i
    with nogil:
        for i in range(out.shape[0]):
            # without a branch (a steady camera's mask is scattered): all ones where hidden (a bool is 0 or 1)
            out[i] = indices[i] ^ ((indices[i] ^ value) & <uint8_t>(0 - hidden[i]))
    return out_array


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
    cdef Py_ssize_t n = indices.shape[0], i, start
    out_array = np.array(indices, dtype=np.uint8)
    if n == 0:
        return out_array
    cdef uint8_t[::1] out = out_array
    # state 0: the pixel written as its own index, state 1: written as transparent. back[i], bit s: the
    # state of pixel i - 1 on the cheapest path that puts pixel i in state s (the own index wins ties).
    back_array = np.empty(n, np.uint8)
    cdef uint8_t[::1] back = back_array
    cdef int64_t big = (<int64_t>1) << 40, cost0, cost1, own0, clear0, own1, clear1, best0, best1
    cdef int64_t value, previous, t = transparent
    cdef int state
    cdef bint from_clear0, from_clear1
    with nogil:
        cost0 = 0 if (not hidden[0]) or unchanged[0] else big
        cost1 = 0 if hidden[0] else big
        i = 1
        while i < n:
            value = indices[i]
            previous = indices[i - 1]
            # to state 0 (write ``value``): after an own pixel, or after a transparent one
            own0 = cost0 + (previous != value)
            clear0 = cost1 + (t != value)
            from_clear0 = clear0 < own0
            best0 = clear0 if from_clear0 else own0
            # to state 1 (write the transparent index)
            own1 = cost0 + (previous != t)
            clear1 = cost1
            from_clear1 = clear1 < own1
            best1 = clear1 if from_clear1 else own1
            back[i] = from_clear0 | (from_clear1 << 1)
            cost0 = best0 if (not hidden[i]) or unchanged[i] else big
            cost1 = best1 if hidden[i] else big
            i += 1
            if i >= 3 and value == previous and indices[i - 3] == value and hidden[i - 1] == hidden[i - 2] \
                    and unchanged[i - 1] == unchanged[i - 2]:
                # pixel i - 1 took the same step as the one before (same value after the same value, same
                # masks): a step that changes nothing more, so the pixels that repeat it keep its costs and
                # its back bits
                start = i
                while i < n and indices[i] == value and hidden[i] == hidden[start - 1] \
                        and unchanged[i] == unchanged[start - 1]:
                    i += 1
                if i > start:
                    memset(&back[start], back[start - 1], i - start)
        state = 0 if cost0 <= cost1 else 1
        i = n - 1
        while i >= 0:
            if state == 1:
                out[i] = <uint8_t>transparent
            state = (back[i] >> state) & 1
            i -= 1
    return out_array
