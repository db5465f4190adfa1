# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The compiled loop of the adaptive dither (``dither.py``): how much error diffusion each pixel gets."""

from cython.parallel cimport prange
from libc.stdint cimport uint8_t


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
    cdef Py_ssize_t y, x, yy, xx, band, bands, rows_per_band, first, last
    cdef int lo, hi, v, span = busy - smooth
    if height == 0 or width == 0:
        return
    if out.shape[0] != height or out.shape[1] != width or channels < 3 or span <= 0:
        raise ValueError("dither_weights: out must be (H, W), pixels (H, W, 3 or more), smooth < busy")
    cdef const uint8_t* p = &pixels[0, 0, 0]
    bands = max(1, min(threads, height))
    rows_per_band = (height + bands - 1) // bands
    with nogil:
        for band in prange(bands, num_threads=bands, schedule="static"):
            first = band * rows_per_band
            last = min(height, first + rows_per_band)
            for y in range(first, last):
                for x in range(width):
                    lo = 255
                    hi = 0
                    for yy in range(max(0, y - 1), min(height, y + 2)):
                        for xx in range(max(0, x - 1), min(width, x + 2)):
                            v = (77 * p[(yy * width + xx) * channels] + 150 * p[(yy * width + xx) * channels + 1]
                                 + 29 * p[(yy * width + xx) * channels + 2]) >> 8
                            lo = min(lo, v)
                            hi = max(hi, v)
                    v = hi - lo
                    if v <= smooth:
                        out[y, x] = 255
                    elif v >= busy:
                        out[y, x] = 0
                    else:
                        out[y, x] = <uint8_t>((busy - v) * 255 // span)
