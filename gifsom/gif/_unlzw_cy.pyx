# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""GIF's LZW decoder, compiled, as forgiving as a browser's.

A missing clear code at the start, a missing end code, codes after the table
is full (4096 entries: they are used without adding entries) and data past the
last pixel are all accepted. A code that is not yet in the table stops the
decoding: the pixels decoded before it are kept and the caller is told.
"""

from libc.stdint cimport int16_t, int32_t, uint8_t

import numpy as np

cdef enum:
    TABLE_SIZE = 4096
    STATUS_ENDED = 0
    STATUS_BAD_CODE = 1

#: ``decode`` status: the data ended (end code or end of the bytes) normally.
ENDED = STATUS_ENDED
#: ``decode`` status: a code that was not yet defined; the pixels before it were kept.
BAD_CODE = STATUS_BAD_CODE


def decode(const uint8_t[::1] data, int min_code_size, uint8_t[::1] out):
    """Decode LZW ``data`` (the image's sub-blocks joined) into ``out``.

    Args:
        data: the LZW bytes, least significant bit first.
        min_code_size: the image's minimum code size, 1..11.
        out: uint8 (N,) the image's pixels in stream order; at most N are written.

    Returns:
        ``(pixels written, status)``: status :data:`ENDED` or :data:`BAD_CODE`.
    """
    cdef int16_t prefix[TABLE_SIZE]
    cdef uint8_t suffix[TABLE_SIZE]
    cdef uint8_t first[TABLE_SIZE]
    cdef uint8_t stack[TABLE_SIZE]
    cdef int clear = 1 << min_code_size
    cdef int end = clear + 1
    cdef int bits = min_code_size + 1
    cdef int next_code = clear + 2
    cdef int previous = -1
    cdef int code, walk, depth, i
    cdef Py_ssize_t position = 0, written = 0, total = out.shape[0], length = data.shape[0]
    cdef unsigned int accumulator = 0
    cdef int pending = 0
    cdef int status = STATUS_ENDED
    for i in range(clear):
        prefix[i] = -1
        suffix[i] = <uint8_t>i
        first[i] = <uint8_t>i
    with nogil:
        while written < total:
            while pending < bits and position < length:
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
                out[written] = <uint8_t>code
                written += 1
                previous = code
                continue
            if code > next_code or (code == next_code and next_code >= TABLE_SIZE):
                status = STATUS_BAD_CODE
                break
            if next_code < TABLE_SIZE:
                # the new entry is the previous string plus the first pixel of this one (or of
                # the previous string itself when the code is the one being defined)
                prefix[next_code] = <int16_t>previous
                first[next_code] = first[previous]
                suffix[next_code] = first[code] if code < next_code else first[previous]
                next_code += 1
                if next_code == (1 << bits) and bits < 12:
                    bits += 1
            depth = 0
            walk = code
            while walk >= 0:
                stack[depth] = suffix[walk]
                depth += 1
                walk = prefix[walk] if walk > end else -1
            while depth > 0 and written < total:
                depth -= 1
                out[written] = stack[depth]
                written += 1
            previous = code
    return written, status
