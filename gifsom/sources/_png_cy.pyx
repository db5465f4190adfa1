# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled PNG scanline unfiltering (the step after inflating a PNG's image data)."""

from libc.stdlib cimport abs as c_abs


cdef inline unsigned char paeth(int left, int up, int up_left) noexcept nogil:
    """The PNG Paeth predictor: whichever of left, up and up-left is nearest to left + up - up_left,
    ties going to left, then up."""
    cdef int guess = left + up - up_left
    cdef int to_left = c_abs(guess - left), to_up = c_abs(guess - up), to_up_left = c_abs(guess - up_left)
    if to_left <= to_up and to_left <= to_up_left:
        return <unsigned char>left
    if to_up <= to_up_left:
        return <unsigned char>up
    return <unsigned char>up_left


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
                else:
                    for x in range(pixel_bytes):
                        row[x] = line[x] + up[x]     # nothing to the left: the predictor is up
                    for x in range(pixel_bytes, row_bytes):
                        row[x] = line[x] + paeth(row[x - pixel_bytes], up[x], up[x - pixel_bytes])
            else:
                bad_row = y
                break
    return bad_row
