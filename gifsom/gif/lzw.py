"""GIF's variable-length-code LZW, compiled.

Codes are packed least significant bit first. The code size grows when the
next free code no longer fits, up to 12 bits; when code 4095 would be taken,
a clear code restarts the table (as giflib does, so that every decoder copes).
The output is already cut into GIF data sub-blocks (a length byte, then up to
255 bytes) and ends with the zero-length block terminator.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MAX_CODE = 4095


@njit(cache=True)
def _encode(pixels: np.ndarray, min_code_size: int) -> np.ndarray:
    count = pixels.shape[0]
    clear = 1 << min_code_size
    end = clear + 1
    packed = np.empty(count * 2 + 64, np.uint8)
    length = 0
    accumulator = 0
    pending_bits = 0
    table = np.full(4096 * 256, -1, np.int16)
    assigned = np.empty(4096, np.int64)
    n_assigned = 0
    bits = min_code_size + 1
    next_code = clear + 2

    # emit the clear code
    accumulator |= clear << pending_bits
    pending_bits += bits
    while pending_bits >= 8:
        packed[length] = accumulator & 255
        length += 1
        accumulator >>= 8
        pending_bits -= 8

    prefix = np.int64(pixels[0]) if count else -1
    for i in range(1, count):
        pixel = np.int64(pixels[i])
        slot = prefix * 256 + pixel
        code = table[slot]
        if code >= 0:
            prefix = code
            continue
        accumulator |= prefix << pending_bits
        pending_bits += bits
        while pending_bits >= 8:
            packed[length] = accumulator & 255
            length += 1
            accumulator >>= 8
            pending_bits -= 8
        if next_code >= MAX_CODE:
            accumulator |= clear << pending_bits
            pending_bits += bits
            while pending_bits >= 8:
                packed[length] = accumulator & 255
                length += 1
                accumulator >>= 8
                pending_bits -= 8
            for j in range(n_assigned):
                table[assigned[j]] = -1
            n_assigned = 0
            bits = min_code_size + 1
            next_code = clear + 2
        else:
            table[slot] = next_code
            assigned[n_assigned] = slot
            n_assigned += 1
            next_code += 1
            if next_code > (1 << bits) and bits < 12:
                bits += 1
        prefix = pixel
    if prefix >= 0:
        accumulator |= prefix << pending_bits
        pending_bits += bits
    accumulator |= end << pending_bits
    pending_bits += bits
    while pending_bits > 0:
        packed[length] = accumulator & 255
        length += 1
        accumulator >>= 8
        pending_bits -= 8

    blocks = (length + 254) // 255
    out = np.empty(length + blocks + 1, np.uint8)
    o = 0
    for start in range(0, length, 255):
        size = min(255, length - start)
        out[o] = size
        out[o + 1:o + 1 + size] = packed[start:start + size]
        o += 1 + size
    out[o] = 0
    return out


def min_code_size(table_size: int) -> int:
    """LZW minimum code size for a colour table of ``table_size`` entries (at least 2, as GIF requires)."""
    return max(2, (int(table_size) - 1).bit_length())


def lzw_encode(indices: np.ndarray, code_size: int) -> bytes:
    """Compress palette indices into GIF image data.

    Args:
        indices: uint8 array of any shape (read in C order); every value < 2**code_size.
        code_size: the LZW minimum code size, 2..8 (see :func:`min_code_size`).

    Returns:
        The bytes that follow the LZW minimum code size byte in a GIF image: data
        sub-blocks and the block terminator.
    """
    flat = np.ascontiguousarray(indices, dtype=np.uint8).reshape(-1)
    return _encode(flat, int(code_size)).tobytes()
