# Packing LZW codes into GIF image data: the bits least significant first, cut into sub-blocks of at
# most 255 bytes with a terminator. Shared by the LZW encoder (_lzw_cy.pyx) and the renumbering of an
# image's codes for a reordered colour table (_renumber_cy.pyx).

from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.string cimport memcpy


cdef struct Packer:
    uint8_t* packed             # the caller's buffer, large enough for every code it puts
    Py_ssize_t length
    uint64_t accumulator
    int pending_bits


cdef inline void start_packing(Packer* p, uint8_t* buffer) noexcept nogil:
    """Start packing into ``buffer``."""
    p.packed = buffer
    p.length = 0
    p.accumulator = 0
    p.pending_bits = 0


cdef inline void put_code(Packer* p, int64_t code, int bits) noexcept nogil:
    """Append a code of ``bits`` bits, least significant bit first."""
    p.accumulator |= (<uint64_t>code) << p.pending_bits
    p.pending_bits += bits
    while p.pending_bits >= 8:
        p.packed[p.length] = p.accumulator & 255
        p.length += 1
        p.accumulator >>= 8
        p.pending_bits -= 8


cdef inline void flush(Packer* p) noexcept nogil:
    """Put the last bits in a byte of their own (its high bits zero)."""
    if p.pending_bits > 0:
        p.packed[p.length] = p.accumulator & 255
        p.length += 1
        p.pending_bits = 0


cdef inline object sub_blocks(Packer* p):
    """Flush the last bits and cut the packed bytes into data sub-blocks with the terminator."""
    flush(p)
    cdef Py_ssize_t length = p.length, blocks = (length + 254) // 255, start, size, o = 0
    out = bytearray(length + blocks + 1)
    cdef uint8_t[::1] view = out
    with nogil:
        start = 0
        while start < length:
            size = min(255, length - start)
            view[o] = <uint8_t>size
            memcpy(&view[o + 1], p.packed + start, size)
            o += 1 + size
            start += 255
        view[o] = 0
    return bytes(out)
