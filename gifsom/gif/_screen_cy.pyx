# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled loops of the frame planner: what a frame changes on screen, painting the
screen model, and choosing values for hidden pixels.

The screen model is uint32 (H, W): packed colours ``r << 16 | g << 8 | b``, and
``EMPTY`` (1 << 24, above every packed colour) where nothing shows.
"""

from libc.stdint cimport int64_t, uint8_t, uint32_t

import numpy as np

cdef uint32_t EMPTY_PIXEL = 1 << 24
#: The screen model's value for a pixel that shows nothing.
EMPTY = EMPTY_PIXEL


def changed_pixels(const uint8_t[:, ::1] indices, const uint32_t[::1] colours, const uint8_t[:, ::1] opaque,
                   bint has_mask, const uint32_t[:, ::1] screen, int tolerance):
    """Where a frame changes what is on screen, and the rectangle around those places.

    Args:
        indices: uint8 (H, W) the frame's palette indices.
        colours: uint32 (K,) its palette, packed.
        opaque: bool as uint8 (H, W), nonzero where the frame is opaque; read only when ``has_mask``.
        screen: uint32 (H, W) the screen model.
        tolerance: an opaque pixel within this RGB distance of the screen's counts as unchanged (0: exact).

    Returns:
        ``(changed, top, bottom, left, right)``: bool (H, W), True where an
        opaque pixel differs from (or covers an empty) screen pixel, or a
        transparent pixel covers a shown one; and the smallest rectangle holding
        every changed pixel, rows ``top:bottom``, columns ``left:right``
        (``bottom`` is 0 when nothing changed).
    """
    cdef Py_ssize_t height = indices.shape[0], width = indices.shape[1], y, x
    cdef Py_ssize_t top = height, bottom = 0, left = width, right = 0
    cdef int64_t limit = <int64_t>tolerance * tolerance, gap, d
    cdef uint32_t value, on_screen
    cdef bint differs, row_changed
    cdef int shift
    changed_array = np.empty((height, width), np.bool_)
    cdef uint8_t[:, ::1] changed = changed_array.view(np.uint8)
    with nogil:
        for y in range(height):
            row_changed = False
            for x in range(width):
                value = colours[indices[y, x]]
                if has_mask and not opaque[y, x]:
                    value = EMPTY_PIXEL
                on_screen = screen[y, x]
                differs = value != on_screen
                if differs and limit > 0 and value != EMPTY_PIXEL and on_screen != EMPTY_PIXEL:
                    gap = 0
                    for shift in range(0, 24, 8):
                        d = <int64_t>((value >> shift) & 255) - <int64_t>((on_screen >> shift) & 255)
                        gap += d * d
                    differs = gap > limit
                changed[y, x] = differs
                row_changed = row_changed or differs
            if row_changed:
                top = min(top, y)
                bottom = y + 1
                x = 0
                while not changed[y, x]:
                    x += 1
                left = min(left, x)
                x = width - 1
                while not changed[y, x]:
                    x -= 1
                right = max(right, x + 1)
    return changed_array, top, bottom, left, right


def paint_screen(uint32_t[:, ::1] screen, const uint8_t[:, ::1] shown, const uint32_t[::1] colours,
                 const uint8_t[:, :] drawn_where, int transparent, Py_ssize_t top, Py_ssize_t left):
    """Draw a frame's rectangle onto the screen model, in place.

    Args:
        screen: uint32 (H, W) the screen model.
        shown: uint8 (h, w) the indices a decoder shows in the rectangle at (``top``, ``left``).
        colours: uint32 (K,) their packed colours.
        drawn_where: bool as uint8 (h, w), the pixels drawn when the frame has no transparent index.
        transparent: the frame's transparent index (its pixels leave the screen as it is), or -1.
    """
    cdef Py_ssize_t y, x, j
    cdef bint drawn
    with nogil:
        for y in range(shown.shape[0]):
            for x in range(shown.shape[1]):
                j = shown[y, x]
                if transparent >= 0:
                    drawn = j != transparent
                else:
                    drawn = drawn_where[y, x] != 0
                if drawn:
                    screen[top + y, left + x] = colours[j]


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
