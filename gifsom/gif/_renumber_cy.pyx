# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The compiled part of :mod:`gifsom.gif.palette_order`: an image's LZW codes read as a decoder reads them,
and written again with their literals renamed and the widths of another minimum code size.

No LZW search runs: the codes stay the same strings, so the image shows the same picture through the
renamed colour table. A string code keeps its place in the table (the same count of entries after the
clear and end codes); a smaller minimum code size starts the table lower, so no code gets wider, and a
larger one higher, so codes may get wider. A larger one also fills the table sooner: an image whose codes
run close to the last one (4095) before a clear has strings that the new table has no code for, and
cannot be renumbered.
"""

from libc.stdint cimport uint8_t
from libc.stdlib cimport free, malloc

from ._packing cimport Packer, put_code, start_packing, sub_blocks

cdef enum:
    TABLE_SIZE = 4096       # codes are at most 12 bits
    MAX_BITS = 12
    STATUS_INVALID = -1
    STATUS_MANY = 1

#: What :func:`renumber` and :func:`literals` return for data that is not a whole image of valid codes.
INVALID = STATUS_INVALID
#: What :func:`literals` returns once the image has drawn more indices than it was asked to look for.
MANY = STATUS_MANY


cdef struct Reader:
    const uint8_t* data
    Py_ssize_t length
    Py_ssize_t position         # the next byte of ``data``
    Py_ssize_t block_left       # data bytes left in the current sub-block
    unsigned long accumulator
    int pending                 # bits in ``accumulator``


cdef inline int _read(Reader* r, int bits) noexcept nogil:
    """The next ``bits``-bit code, least significant bit first, across sub-blocks; -1 where the data (or
    its terminator) comes first."""
    cdef int code
    while r.pending < bits:
        if r.block_left == 0:
            if r.position >= r.length or r.data[r.position] == 0:
                return -1
            r.block_left = r.data[r.position]
            r.position += 1
        if r.position >= r.length:
            return -1
        r.accumulator |= (<unsigned long>r.data[r.position]) << r.pending
        r.position += 1
        r.block_left -= 1
        r.pending += 8
    code = <int>(r.accumulator & ((1UL << bits) - 1))
    r.accumulator >>= bits
    r.pending -= bits
    return code


cdef int _walk(Reader* r, int min_code_size, Py_ssize_t pixels, const uint8_t* rename, int new_min_code_size,
               uint8_t* used, int most, Packer* w) noexcept nogil:
    """Read the codes of an image of ``pixels`` pixels, marking in ``used`` the literal codes (the indices
    drawn: every pixel of an LZW stream comes from a literal code) and, with a packer, writing each again:
    a literal ``c`` as ``rename[c]``, clear and string codes shifted to the new table's numbering, each with
    the width a decoder expects there, and an end code after the last pixel. The codes are read up to the
    last pixel, not up to the end code, as decoders read them: an encoder that adds no entry after its last
    code writes the end code a bit narrower than a decoder would read it. 0; INVALID; or, without a
    packer, MANY as soon as more than ``most`` indices are marked."""
    cdef int clear = 1 << min_code_size, new_clear = 1 << new_min_code_size
    cdef int shift = clear - new_clear
    cdef int bits = min_code_size + 1, new_bits = new_min_code_size + 1
    cdef int next_code = clear + 2, new_next = new_clear + 2
    cdef int previous = -1
    cdef int code, run, marked = 0
    cdef Py_ssize_t drawn = 0
    cdef int length[TABLE_SIZE]         # pixels in each entry's string
    while drawn < pixels:
        code = _read(r, bits)
        if code < 0:
            return STATUS_INVALID                   # the data ends before the last pixel
        if code == clear:
            if w != NULL:
                put_code(w, new_clear, new_bits)
            bits, next_code, new_bits, new_next, previous = min_code_size + 1, clear + 2, new_min_code_size + 1, \
                new_clear + 2, -1
            continue
        if code == clear + 1:
            return STATUS_INVALID                   # the end before the last pixel
        if code < clear:
            run = 1
            if not used[code]:
                used[code] = 1
                marked += 1
                if w == NULL and marked > most:
                    return STATUS_MANY
        elif previous < 0 or code > next_code or (code == next_code and next_code >= TABLE_SIZE):
            return STATUS_INVALID                   # a string code before any string, or not yet defined
        else:
            run = length[code] if code < next_code else (1 if previous < clear else length[previous]) + 1
            if code - shift >= TABLE_SIZE:
                return STATUS_INVALID               # a string the new table, which started higher, has no code for
        if w != NULL:
            put_code(w, rename[code] if code < clear else code - shift, new_bits)
        if previous >= 0:
            # a decoder adds an entry after each code but the first after a clear, widening its codes
            # when the table reaches the next power of two
            if next_code < TABLE_SIZE:
                length[next_code] = (1 if previous < clear else length[previous]) + 1
                next_code += 1
                if next_code == (1 << bits) and bits < MAX_BITS:
                    bits += 1
            if new_next < TABLE_SIZE:
                new_next += 1
                if new_next == (1 << new_bits) and new_bits < MAX_BITS:
                    new_bits += 1
        previous = code
        drawn += run
    if drawn != pixels:
        return STATUS_INVALID                       # a string runs past the last pixel
    if w != NULL:
        put_code(w, new_clear + 1, new_bits)
    return 0


def literals(const uint8_t[::1] data, int min_code_size, Py_ssize_t pixels, uint8_t[::1] used, int most=256):
    """Mark the indices an image draws, reading its codes up to the end, or until more than ``most``
    indices are marked (a photograph's frame draws most of its table in its first rows).

    Args:
        data: the image's LZW sub-blocks, from the first length byte (the terminator may follow).
        min_code_size: the image's LZW minimum code size, 2..8.
        pixels: the image's width times its height.
        used: uint8 (256,) of zeros: set to 1 at each index the codes draw.
        most: the most indices to look for.

    Returns:
        0; :data:`MANY` where it draws more than ``most`` indices (``used`` holds some of them); or
        :data:`INVALID` where the codes are not a whole valid image.
    """
    cdef Reader r
    cdef int status
    if used.shape[0] < 256 or not 2 <= min_code_size <= 8:
        raise ValueError("literals: used needs 256 entries and the code size must be 2..8")
    if data.shape[0] == 0 or pixels <= 0:
        return INVALID
    r.data, r.length, r.position, r.block_left, r.accumulator, r.pending = &data[0], data.shape[0], 0, 0, 0, 0
    with nogil:
        status = _walk(&r, min_code_size, pixels, NULL, min_code_size, &used[0], most, NULL)
    return status


def renumber(const uint8_t[::1] data, int min_code_size, Py_ssize_t pixels, const uint8_t[::1] rename,
             int new_min_code_size):
    """The image's codes written again for a renamed colour table.

    Args:
        data: the image's LZW sub-blocks, from the first length byte.
        min_code_size: the image's LZW minimum code size, 2..8.
        pixels: the image's width times its height.
        rename: uint8 (256,): the new index of each index; every index the image draws must get one
            below ``2 ** new_min_code_size``.
        new_min_code_size: 2..8.

    Returns:
        The new sub-blocks and their terminator (bytes), no longer than ``data``'s where the code size
        does not grow; or :data:`INVALID` where the codes are not a whole valid image, or where a larger
        code size leaves a string the image uses without a code (see the module's docstring).
    """
    cdef Reader r
    cdef Packer w
    cdef uint8_t used[256]
    cdef int status, i
    if rename.shape[0] < 256 or not 2 <= new_min_code_size <= 8 or not 2 <= min_code_size <= 8:
        raise ValueError("renumber: rename needs 256 entries and the code sizes must be 2..8")
    if data.shape[0] == 0 or pixels <= 0:
        return INVALID
    r.data, r.length, r.position, r.block_left, r.accumulator, r.pending = &data[0], data.shape[0], 0, 0, 0, 0
    # a code is at least 3 bits and at most 12, so it at most gets 4 times as wide
    cdef uint8_t* buffer = <uint8_t*>malloc(4 * data.shape[0] + 16)
    if buffer == NULL:
        raise MemoryError()
    start_packing(&w, buffer)
    try:
        with nogil:
            for i in range(256):
                used[i] = 0
            status = _walk(&r, min_code_size, pixels, &rename[0], new_min_code_size, used, 256, &w)
        return sub_blocks(&w) if status == 0 else INVALID
    finally:
        free(buffer)
