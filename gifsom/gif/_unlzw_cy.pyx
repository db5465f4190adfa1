# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""GIF's LZW decoder, compiled, as forgiving as a browser's, and bounded by what is shown.

A missing clear code at the start, a missing end code, codes after the table
is full (4096 entries: they are used without adding entries) and data past the
last pixel are all accepted. A code that is not yet in the table stops the
decoding: the pixels decoded before it are kept and the caller is told.

Only the part of an image that lies on the logical screen is stored: an image
may declare 65535x65535 pixels on a 1x1 screen, and its data is then walked
without storing the pixels no one sees. A run of pixels that falls wholly
outside the window is skipped in one step, so the work grows with the codes
read and the pixels shown, not with the size the image declares.
"""

from libc.stdint cimport int16_t, int32_t, uint8_t, uint16_t

cdef enum:
    TABLE_SIZE = 4096
    STATUS_ENDED = 0
    STATUS_BAD_CODE = 1

#: ``decode_window`` status: the data ended (end code, end of the bytes, or every needed pixel).
ENDED = STATUS_ENDED
#: ``decode_window`` status: a code that was not yet defined; the pixels before it were kept.
BAD_CODE = STATUS_BAD_CODE


def decode_window(const uint8_t[::1] data, int min_code_size, Py_ssize_t width, const int32_t[::1] display_row,
                  Py_ssize_t stop, uint8_t[:, ::1] out, uint8_t[:, ::1] drawn):
    """Decode an image's LZW ``data`` into the window ``out`` of its top-left corner.

    Args:
        data: the LZW bytes (the image's sub-blocks joined), least significant bit first.
        min_code_size: the image's minimum code size, 1..11.
        width: the image's declared width in pixels (the length of a row in the stream).
        display_row: int32 (R,): the row on screen of each row of the stream, in stream
            order (0, 1, 2, ... for a plain image; the pass order for an interlaced one).
        stop: stream position (pixels) after which nothing more is needed, at most R * width.
        out: uint8 (h, w): the window's indices, h and w at most the image's size; a pixel at
            stream row s and column c lands at ``out[display_row[s], c]`` when that is inside.
        drawn: uint8 (h, w): set to 1 where a pixel was decoded.

    Returns:
        ``(pixels read, status)``: the stream position reached, and :data:`ENDED` or :data:`BAD_CODE`.
    """
    cdef int16_t prefix[TABLE_SIZE]
    cdef uint8_t suffix[TABLE_SIZE]
    cdef uint8_t first[TABLE_SIZE]
    cdef uint16_t length[TABLE_SIZE]
    cdef uint8_t stack[TABLE_SIZE]
    cdef int clear = 1 << min_code_size
    cdef int end = clear + 1
    cdef int bits = min_code_size + 1
    cdef int next_code = clear + 2
    cdef int previous = -1
    cdef int code, walk, depth, i, run, row_on_screen
    cdef Py_ssize_t position = 0, length_in = data.shape[0]
    cdef Py_ssize_t read = 0, column = 0, stream_row = 0
    cdef Py_ssize_t window_height = out.shape[0], window_width = out.shape[1]
    cdef unsigned int accumulator = 0
    cdef int pending = 0
    cdef int status = STATUS_ENDED
    for i in range(clear):
        prefix[i] = -1
        suffix[i] = <uint8_t>i
        first[i] = <uint8_t>i
        length[i] = 1
    with nogil:
        while read < stop:
            while pending < bits and position < length_in:
                accumulator |= (<unsigned int>data[position]) << pending
                position += 1
                pending += 8
            if pending < bits:
                break                                   # the data ran out: no end code
            code = accumulator & ((1 << bits) - 1)
            accumulator >>= bits
            pending -= bits
            if code == clear:
                bits = min_code_size + 1
                next_code = clear + 2
                previous = -1
                continue
            if code == end:
                break
            if previous < 0:
                if code >= clear:
                    status = STATUS_BAD_CODE
                    break
                previous = code
            else:
                if code > next_code or (code == next_code and next_code >= TABLE_SIZE):
                    status = STATUS_BAD_CODE
                    break
                if next_code < TABLE_SIZE:
                    # the new entry is the previous string plus the first pixel of this one (or of
                    # the previous string itself when the code is the one being defined)
                    prefix[next_code] = <int16_t>previous
                    first[next_code] = first[previous]
                    suffix[next_code] = first[code] if code < next_code else first[previous]
                    length[next_code] = length[previous] + 1
                    next_code += 1
                    if next_code == (1 << bits) and bits < 12:
                        bits += 1
                previous = code
            run = length[code]
            if run > stop - read:
                run = <int>(stop - read)
            # a run inside one row of the stream that no one sees is skipped in one step
            if column + run <= width:
                row_on_screen = display_row[stream_row]
                if row_on_screen >= window_height or column >= window_width:
                    read += run
                    column += run
                    if column == width:
                        column = 0
                        stream_row += 1
                    continue
            depth = 0
            walk = code
            while walk >= 0:
                stack[depth] = suffix[walk]
                depth += 1
                walk = prefix[walk] if walk > end else -1
            # the string comes off the stack first pixel first; a cut run keeps its start
            i = 0
            while i < run:
                depth -= 1
                row_on_screen = display_row[stream_row]
                if row_on_screen < window_height and column < window_width:
                    out[row_on_screen, column] = stack[depth]
                    drawn[row_on_screen, column] = 1
                read += 1
                column += 1
                if column == width:
                    column = 0
                    stream_row += 1
                i += 1
    return read, status
