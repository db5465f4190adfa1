# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The compiled loop of the adaptive dither (``dither.py``): how much error diffusion each pixel gets."""

from cython.parallel cimport prange
from libc.stdint cimport uint8_t
from libc.stdlib cimport free, malloc


def dither_weights(const uint8_t[:, :, ::1] pixels, uint8_t[:, ::1] out, int smooth, int busy, int threads=1):
    """How much error diffusion each pixel should get: full where the picture is smooth (a
    gradient there bands), none at edges and on busy texture (which hide the error, and where
    dither noise only costs bytes).

    The measure is the range of luma (0..255, from the BT.601 weights in integers) over the
    pixel's 3x3 neighbourhood: at most ``smooth`` gives 255, at least ``busy`` gives 0, and
    between them the weight falls linearly.

    Args:
        pixels: uint8 (H, W, C >= 3) RGB(A), C-contiguous.
        out: uint8 (H, W) receives the weights.
        smooth, busy: luma ranges, 0 <= smooth < busy.
        threads: row bands computed at once.
    """
    cdef Py_ssize_t height = pixels.shape[0], width = pixels.shape[1], channels = pixels.shape[2]
    cdef Py_ssize_t y, x, band, bands, rows_per_band, first, last, above, below
    cdef int lo, hi, v, span = busy - smooth
    if height == 0 or width == 0:
        return
    if out.shape[0] != height or out.shape[1] != width or channels < 3 or span <= 0:
        raise ValueError("dither_weights: out must be (H, W), pixels (H, W, 3 or more), smooth < busy")
    cdef const uint8_t* p = &pixels[0, 0, 0]
    # the 3x3 range is separable: each row's luma, its 3-wide minimum and maximum, then those of 3 rows
    cdef uint8_t* row_min = <uint8_t*> malloc(height * width)
    cdef uint8_t* row_max = <uint8_t*> malloc(height * width)
    if row_min == NULL or row_max == NULL:
        free(row_min)
        free(row_max)
        raise MemoryError()
    bands = max(1, min(threads, height))
    rows_per_band = (height + bands - 1) // bands
    try:
        with nogil:
            for band in prange(bands, num_threads=bands, schedule="static"):
                first = band * rows_per_band
                last = min(height, first + rows_per_band)
                for y in range(first, last):
                    row_ranges(p + y * width * channels, width, channels, row_min + y * width, row_max + y * width)
            for band in prange(bands, num_threads=bands, schedule="static"):
                first = band * rows_per_band
                last = min(height, first + rows_per_band)
                for y in range(first, last):
                    above = y - 1 if y > 0 else y
                    below = y + 1 if y + 1 < height else y
                    for x in range(width):
                        lo = min(row_min[above * width + x], row_min[y * width + x], row_min[below * width + x])
                        hi = max(row_max[above * width + x], row_max[y * width + x], row_max[below * width + x])
                        v = hi - lo
                        if v <= smooth:
                            out[y, x] = 255
                        elif v >= busy:
                            out[y, x] = 0
                        else:
                            out[y, x] = <uint8_t>((busy - v) * 255 // span)
    finally:
        free(row_min)
        free(row_max)


cdef inline int _luma(const uint8_t* pixel) noexcept nogil:
    """The luma 0..255 of an RGB pixel, in integer BT.601 weights."""
    return (77 * pixel[0] + 150 * pixel[1] + 29 * pixel[2]) >> 8


cdef void row_ranges(const uint8_t* row, Py_ssize_t width, Py_ssize_t channels, uint8_t* low,
                     uint8_t* high) noexcept nogil:
    """The minimum and maximum luma over each pixel's 3-wide neighbourhood in one row (edges clipped)."""
    cdef Py_ssize_t x
    cdef int left, here, right
    here = _luma(row)
    left = here
    for x in range(width):
        right = _luma(row + (x + 1) * channels) if x + 1 < width else here
        low[x] = <uint8_t> min(left, here, right)
        high[x] = <uint8_t> max(left, here, right)
        left = here
        here = right
