# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled PNG scanline unfiltering (the step after inflating a PNG's image data).

The Sub and Paeth filters of 3- and 4-byte pixels (most rows of screenshots and of frames Pillow saves)
carry each channel's last byte in a local from pixel to pixel. Undoing the rows of the bench's frames
(medians, one core, 2026-12-03): the scrolling page 3.09 to 2.37 ms a frame (two thirds of its rows
are Paeth), the cartoon 0.49 to 0.43 ms, the screen recording 0.39 to 0.37 ms.
"""

from libc.stdlib cimport abs as c_abs


cdef inline int paeth(int left, int up, int up_left) noexcept nogil:
    """The PNG Paeth predictor: whichever of left, up and up-left is nearest to left + up - up_left,
    ties going to left, then up. Without branches: the compiler picks with conditional moves, as which
    one wins follows the picture, not a pattern a branch predictor learns."""
    cdef int to_left = c_abs(up - up_left), to_up = c_abs(left - up_left)
    cdef int to_up_left = c_abs(left + up - up_left - up_left)
    cdef int up_or_up_left = up if to_up <= to_up_left else up_left
    return left if (to_left <= to_up) & (to_left <= to_up_left) else up_or_up_left


cdef inline void _sub_row(unsigned char* row, const unsigned char* line, Py_ssize_t row_bytes,
                          const int pixel_bytes) noexcept nogil:
    """Undo the Sub filter on one row, ``pixel_bytes`` (at most 4) at a time, each channel's last byte in a
    local (see :func:`_paeth_row`)."""
    cdef int left[4]
    cdef Py_ssize_t x, c
    for c in range(pixel_bytes):
        left[c] = line[c]
        row[c] = line[c]
    x = pixel_bytes
    while x < row_bytes:
        for c in range(pixel_bytes):
            left[c] = <unsigned char>(line[x + c] + left[c])
            row[x + c] = <unsigned char>left[c]
        x += pixel_bytes


cdef inline void _paeth_row(unsigned char* row, const unsigned char* line, const unsigned char* up,
                            Py_ssize_t row_bytes, const int pixel_bytes) noexcept nogil:
    """Undo the Paeth filter on one row below another, ``pixel_bytes`` (at most 4) at a time.

    Each channel's last byte and the byte above it are kept in locals, not read back from the row
    just written: the chain from one pixel to the next then does not wait on a store.
    """
    cdef int left[4]
    cdef int up_left[4]
    cdef int above
    cdef Py_ssize_t x, c
    for c in range(pixel_bytes):
        left[c] = <unsigned char>(line[c] + up[c])      # nothing to the left: the predictor is up
        row[c] = <unsigned char>left[c]
        up_left[c] = up[c]
    x = pixel_bytes
    while x < row_bytes:
        for c in range(pixel_bytes):
            above = up[x + c]
            left[c] = <unsigned char>(line[x + c] + paeth(left[c], above, up_left[c]))
            row[x + c] = <unsigned char>left[c]
            up_left[c] = above
        x += pixel_bytes


def unfilter(const unsigned char[::1] filtered, unsigned char[:, ::1] out, int pixel_bytes):
    """Undo PNG's per-row filters (PNG specification, section 9) for a non-interlaced image.

    Args:
        filtered: the inflated image data, uint8 (H * (1 + R),): each row is a filter-type byte (0 to 4)
            followed by its R filtered bytes.
        out: uint8 (H, R) array that receives the rows (R = width * pixel_bytes).
        pixel_bytes: bytes per pixel (3 for 8-bit RGB, 4 for 8-bit RGBA), the distance the Sub, Average
            and Paeth filters look back.

    Returns:
        -1 when every row was undone, else the number of the first row whose filter type is not 0 to 4
        (the rows before it are in ``out``).
    """
    cdef Py_ssize_t height = out.shape[0], row_bytes = out.shape[1], y, x, start, bad_row = -1
    cdef int kind
    cdef const unsigned char* line
    cdef unsigned char* row
    cdef const unsigned char* up
    if filtered.shape[0] < height * (row_bytes + 1):
        raise ValueError("the image data is shorter than its rows")
    with nogil:
        for y in range(height):
            start = y * (row_bytes + 1)
            kind = filtered[start]
            line = &filtered[start + 1]
            row = &out[y, 0]
            up = &out[y - 1, 0] if y > 0 else NULL
            if kind == 0 or (kind == 2 and up == NULL):
                for x in range(row_bytes):
                    row[x] = line[x]
            elif kind == 1 and pixel_bytes == 3:
                _sub_row(row, line, row_bytes, 3)
            elif kind == 1 and pixel_bytes == 4:
                _sub_row(row, line, row_bytes, 4)
            elif kind == 1:
                for x in range(pixel_bytes):
                    row[x] = line[x]
                for x in range(pixel_bytes, row_bytes):
                    row[x] = line[x] + row[x - pixel_bytes]
            elif kind == 2:
                for x in range(row_bytes):
                    row[x] = line[x] + up[x]
            elif kind == 3:
                if up == NULL:
                    for x in range(pixel_bytes):
                        row[x] = line[x]
                    for x in range(pixel_bytes, row_bytes):
                        row[x] = line[x] + (row[x - pixel_bytes] >> 1)
                else:
                    for x in range(pixel_bytes):
                        row[x] = line[x] + (up[x] >> 1)
                    for x in range(pixel_bytes, row_bytes):
                        row[x] = line[x] + ((row[x - pixel_bytes] + up[x]) >> 1)
            elif kind == 4:
                if up == NULL:                       # Paeth on the first row is Sub
                    for x in range(pixel_bytes):
                        row[x] = line[x]
                    for x in range(pixel_bytes, row_bytes):
                        row[x] = line[x] + row[x - pixel_bytes]
                elif pixel_bytes == 3:               # the common cases, with the channel count known
                    _paeth_row(row, line, up, row_bytes, 3)
                elif pixel_bytes == 4:
                    _paeth_row(row, line, up, row_bytes, 4)
                else:
                    for x in range(pixel_bytes):
                        row[x] = line[x] + up[x]     # nothing to the left: the predictor is up
                    for x in range(pixel_bytes, row_bytes):
                        row[x] = line[x] + paeth(row[x - pixel_bytes], up[x], up[x - pixel_bytes])
            else:
                bad_row = y
                break
    return bad_row
