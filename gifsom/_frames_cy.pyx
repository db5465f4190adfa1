# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled frame comparison."""

from libc.string cimport memcmp


def same_bytes(const unsigned char[::1] a, const unsigned char[::1] b):
    """True when two byte buffers (flat uint8 (N,) views of arrays) hold the same bytes."""
    cdef int result
    if a.shape[0] != b.shape[0]:
        return False
    if a.shape[0] == 0:
        return True
    with nogil:
        result = memcmp(&a[0], &b[0], a.shape[0])
    return result == 0


def changed_box(const unsigned char[:, :, ::1] a, const unsigned char[:, :, ::1] b, int channels,
                unsigned char[:, ::1] changed):
    """The rectangle around the pixels of two equally shaped uint8 (H, W, C) frames that differ in any
    of their first ``channels`` channels, as ``(top, bottom, left, right)`` (rows ``top:bottom``, columns
    ``left:right``; ``bottom`` is 0 when none differ). Where ``changed`` (uint8 (H, W)) has rows, it is set
    to 1 at the pixels that differ and 0 elsewhere; pass a (0, 0) array to skip it. Rows whose bytes are
    equal are skipped with one memcmp each."""
    cdef Py_ssize_t height = a.shape[0], width = a.shape[1], depth = a.shape[2], y, x, c
    cdef Py_ssize_t top = height, bottom = 0, left = width, right = 0
    cdef bint mark = changed.shape[0] == height and changed.shape[1] == width
    cdef bint differs, row_differs
    if b.shape[0] != height or b.shape[1] != width or b.shape[2] != depth:
        raise ValueError("frames of different shapes")
    if channels > depth:
        channels = depth
    if not mark and channels == depth and width:
        return _byte_box(a, b)
    with nogil:
        for y in range(height):
            if width == 0 or memcmp(&a[y, 0, 0], &b[y, 0, 0], width * depth) == 0:
                if mark:
                    for x in range(width):
                        changed[y, x] = 0
                continue
            row_differs = False
            for x in range(width):
                differs = False
                for c in range(channels):
                    if a[y, x, c] != b[y, x, c]:
                        differs = True
                        break
                if mark:
                    changed[y, x] = differs
                if differs:
                    row_differs = True
                    if x < left:
                        left = x
                    if x + 1 > right:
                        right = x + 1
            if row_differs:
                if y < top:
                    top = y
                bottom = y + 1
    return _found(top, bottom, left, right)


cdef inline tuple _found(Py_ssize_t top, Py_ssize_t bottom, Py_ssize_t left, Py_ssize_t right):
    """The rectangle as :func:`changed_box` returns it: ``(0, 0, 0, 0)`` where no row differs."""
    if not bottom:
        return 0, 0, 0, 0
    return top, bottom, left, right


cdef tuple _byte_box(const unsigned char[:, :, ::1] a, const unsigned char[:, :, ::1] b):
    """:func:`changed_box` comparing whole pixels, without a mask: a row that differs is scanned only
    outside the rectangle found so far, from its ends inwards, so once the rectangle is wide most rows
    cost one memcmp."""
    cdef Py_ssize_t height = a.shape[0], depth = a.shape[2], row_bytes = a.shape[1] * depth, y, i
    cdef Py_ssize_t top = height, bottom = 0, left = a.shape[1], right = 0
    cdef const unsigned char* row_a
    cdef const unsigned char* row_b
    with nogil:
        for y in range(height):
            row_a = &a[y, 0, 0]
            row_b = &b[y, 0, 0]
            if memcmp(row_a, row_b, row_bytes) == 0:
                continue
            i = 0
            while i < left * depth and row_a[i] == row_b[i]:
                i += 1
            if i < left * depth:
                left = i // depth
            i = row_bytes - 1
            while i >= right * depth and row_a[i] == row_b[i]:
                i -= 1
            if i >= right * depth:
                right = i // depth + 1
            if not bottom:
                top = y                  # the first row that differs
            bottom = y + 1
    return _found(top, bottom, left, right)
