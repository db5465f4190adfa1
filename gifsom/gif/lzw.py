"""GIF's variable-length-code LZW, compiled, with an optional lossy mode.

Codes are packed least significant bit first. The code size grows when the
next free code no longer fits, up to 12 bits; when code 4095 would be taken,
a clear code restarts the table (as giflib does, so that every decoder copes).
Exact mode can also parse with one step of lookahead (see
:func:`_encode_lookahead`). The output is already cut into GIF data
sub-blocks (a length byte, then up to 255 bytes) and ends with the
zero-length block terminator.

Lossy mode: when the string being matched has no exact continuation with the
next pixel, a continuation whose colour is within ``tolerance`` (Euclidean
RGB distance) of that pixel's colour is taken instead, and the pixel is shown
in that colour. Longer matches mean fewer codes; the transparent index is
never traded for a colour or back.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import njit

MAX_CODE = 4095


@njit(cache=True, inline="always")
def _put(packed, length, accumulator, pending_bits, code, bits):
    accumulator |= code << pending_bits
    pending_bits += bits
    while pending_bits >= 8:
        packed[length] = accumulator & 255
        length += 1
        accumulator >>= 8
        pending_bits -= 8
    return length, accumulator, pending_bits


@njit(cache=True, inline="always")
def _clear_table(table, assigned, n_assigned) -> None:
    """Forget the ``n_assigned`` strings given codes since the last clear."""
    for j in range(n_assigned):
        table[assigned[j]] = -1


@njit(cache=True, inline="always")
def _give_code(table, assigned, n_assigned, next_code, bits, slot, store):
    """Take the next code for the string at ``slot`` (remembered only when ``store``).

    Returns ``(n_assigned, next_code, bits)``, the code size grown once the next
    code no longer fits (up to 12 bits), as every decoder does.
    """
    if store:
        table[slot] = next_code
        assigned[n_assigned] = slot
        n_assigned += 1
    next_code += 1
    if next_code > (1 << bits) and bits < 12:
        bits += 1
    return n_assigned, next_code, bits


@njit(cache=True, nogil=True)
def _encode(pixels: np.ndarray, min_code_size: int, colours: np.ndarray, tolerance2: int, transparent: int,
            table: np.ndarray, assigned: np.ndarray):
    count = pixels.shape[0]
    clear = 1 << min_code_size
    end = clear + 1
    lossy = tolerance2 > 0
    shown = pixels.copy()
    packed = np.empty(count * 2 + 64, np.uint8)
    length = 0
    accumulator = 0
    pending_bits = 0
    first_child = np.full(4096, -1, np.int16)
    next_sibling = np.full(4096, -1, np.int16)
    suffix = np.zeros(4096, np.int64)
    n_assigned = 0
    bits = min_code_size + 1
    next_code = clear + 2
    length, accumulator, pending_bits = _put(packed, length, accumulator, pending_bits, clear, bits)

    prefix = np.int64(pixels[0]) if count else -1
    for i in range(1, count):
        pixel = np.int64(pixels[i])
        slot = prefix * 256 + pixel
        code = table[slot]
        if code >= 0:
            prefix = code
            continue
        if lossy and pixel != transparent:
            best = -1
            best_d = tolerance2 + 1
            child = first_child[prefix]
            while child >= 0:
                s = suffix[child]
                if s != transparent:
                    dr = colours[s, 0] - colours[pixel, 0]
                    dg = colours[s, 1] - colours[pixel, 1]
                    db = colours[s, 2] - colours[pixel, 2]
                    d = dr * dr + dg * dg + db * db
                    if d < best_d:
                        best_d = d
                        best = child
                child = next_sibling[child]
            if best >= 0:
                shown[i] = suffix[best]
                prefix = best
                continue
        length, accumulator, pending_bits = _put(packed, length, accumulator, pending_bits, prefix, bits)
        if next_code >= MAX_CODE:
            length, accumulator, pending_bits = _put(packed, length, accumulator, pending_bits, clear, bits)
            _clear_table(table, assigned, n_assigned)
            if lossy:
                first_child[:] = -1
            n_assigned = 0
            bits = min_code_size + 1
            next_code = clear + 2
        else:
            if lossy:
                suffix[next_code] = pixel
                next_sibling[next_code] = first_child[prefix]
                first_child[prefix] = next_code
            n_assigned, next_code, bits = _give_code(table, assigned, n_assigned, next_code, bits, slot, True)
        prefix = pixel
    if prefix >= 0:
        length, accumulator, pending_bits = _put(packed, length, accumulator, pending_bits, prefix, bits)
    length, accumulator, pending_bits = _put(packed, length, accumulator, pending_bits, end, bits)
    _clear_table(table, assigned, n_assigned)      # leave the table empty for the next image
    return _sub_blocks(packed, length, accumulator, pending_bits), shown


@njit(cache=True)
def _sub_blocks(packed, length, accumulator, pending_bits):
    """Flush the last bits and cut ``packed[:length]`` into data sub-blocks with the terminator."""
    if pending_bits > 0:
        packed[length] = accumulator & 255
        length += 1
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


@njit(cache=True)
def _extend_match(pixels, start, length, table, codes):
    """Lengthen a match of ``pixels[start:start + length]`` (code ``codes[length]``) as far as the table allows.

    ``codes[l]`` receives the code of the first l pixels for every l it adds;
    returns the new length. A length of 1 starts from the pixel itself.
    """
    count = pixels.shape[0]
    code = codes[length]
    while start + length < count:
        following = table[code * 256 + pixels[start + length]]
        if following < 0:
            break
        code = following
        length += 1
        codes[length] = code
    return length


@njit(cache=True, nogil=True)
def _encode_lookahead(pixels: np.ndarray, min_code_size: int, table: np.ndarray, assigned: np.ndarray):
    """Exact LZW with one step of lookahead ("flexible parsing").

    Where the longest match has length L, a match of L - 1 is taken instead
    when the match that follows it reaches further. The decoder needs no
    change: it adds a table entry per code whatever the parse, and the encoder
    counts an entry whose string is already in the table without storing it.

    The match looked at beyond the chosen one is where the next step starts,
    so it is kept: the one table entry added since can only lengthen it, and
    :func:`_extend_match` carries it on from where it stopped.
    """
    count = pixels.shape[0]
    clear = 1 << min_code_size
    end = clear + 1
    packed = np.empty(count * 2 + 64, np.uint8)
    length = 0
    accumulator = 0
    pending_bits = 0
    n_assigned = 0
    bits = min_code_size + 1
    next_code = clear + 2
    length, accumulator, pending_bits = _put(packed, length, accumulator, pending_bits, clear, bits)
    # three match buffers, codes[row, l]: the code of the first l pixels of a match;
    # rows are swapped rather than copied
    matches = np.empty((3, 4097), np.int64)
    here, after_shorter, after_longest = 0, 1, 2
    known = 0           # length of the match kept in row ``here`` for position i (0: none)
    i = 0
    while i < count:
        if known:
            longest = _extend_match(pixels, i, known, table, matches[here])
        else:
            matches[here, 1] = pixels[i]
            longest = _extend_match(pixels, i, 1, table, matches[here])
        take = longest
        chosen = here
        known = 0
        if longest > 1 and i + longest < count:
            matches[after_shorter, 1] = pixels[i + longest - 1]
            reach_shorter = _extend_match(pixels, i + longest - 1, 1, table, matches[after_shorter])
            matches[after_longest, 1] = pixels[i + longest]
            reach_longest = _extend_match(pixels, i + longest, 1, table, matches[after_longest])
            # the match looked at where the next step starts becomes the kept one
            if longest - 1 + reach_shorter > longest + reach_longest:
                take = longest - 1
                here, after_shorter = after_shorter, here
                known = reach_shorter
            else:
                here, after_longest = after_longest, here
                known = reach_longest
        code = matches[chosen, take]
        length, accumulator, pending_bits = _put(packed, length, accumulator, pending_bits, code, bits)
        if i + take < count:
            if next_code >= MAX_CODE:
                length, accumulator, pending_bits = _put(packed, length, accumulator, pending_bits, clear, bits)
                _clear_table(table, assigned, n_assigned)
                n_assigned = 0
                bits = min_code_size + 1
                next_code = clear + 2
                known = 0       # the kept match used strings that are gone
            else:
                # a string already in the table still takes a code, as the decoder's does
                slot = code * 256 + pixels[i + take]
                n_assigned, next_code, bits = _give_code(table, assigned, n_assigned, next_code, bits, slot,
                                                         table[slot] < 0)
        i += take
    length, accumulator, pending_bits = _put(packed, length, accumulator, pending_bits, end, bits)
    _clear_table(table, assigned, n_assigned)      # leave the table empty for the next image
    return _sub_blocks(packed, length, accumulator, pending_bits)


def min_code_size(table_size: int) -> int:
    """LZW minimum code size for a colour table of ``table_size`` entries (at least 2, as GIF requires)."""
    return max(2, (int(table_size) - 1).bit_length())


_NO_COLOURS = np.zeros((256, 3), np.int64)
_THREAD_TABLES = threading.local()


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """This thread's string table (prefix code * 256 + pixel -> code, -1 when absent) and its list of taken slots.

    The encoders clear the slots they took before returning, so the 2 MiB
    table is filled once per thread rather than once per image.
    """
    tables = getattr(_THREAD_TABLES, "tables", None)
    if tables is None:
        tables = _THREAD_TABLES.tables = (np.full(4096 * 256, -1, np.int16), np.empty(4096, np.int64))
    return tables


def lzw_encode(indices: np.ndarray, code_size: int, *, palette: np.ndarray | None = None, lossy: int = 0,
               transparent: int | None = None, lookahead: bool = False) -> tuple[bytes, np.ndarray]:
    """Compress palette indices into GIF image data.

    Args:
        indices: uint8 array of any shape (read in C order); every value < 2**code_size.
        code_size: the LZW minimum code size, 2..8 (see :func:`min_code_size`).
        palette: uint8 (K, 3) colours of the indices; needed when ``lossy`` > 0.
        lossy: 0 for exact; otherwise the largest RGB distance a pixel may be moved by.
        transparent: the transparent index, which lossy mode never substitutes.
        lookahead: parse with one step of lookahead instead of greedily (exact mode
            only): often a little smaller, sometimes a little larger.

    Returns:
        ``(data, shown)``: the bytes that follow the LZW minimum code size byte in
        a GIF image (data sub-blocks and the block terminator), and the indices a
        decoder will show, with the shape of ``indices`` (equal to it when exact).
    """
    flat = np.ascontiguousarray(indices, dtype=np.uint8).reshape(-1)
    if lookahead and not lossy:
        return _encode_lookahead(flat, int(code_size), *_tables()).tobytes(), np.asarray(indices)
    colours = _NO_COLOURS
    if lossy and palette is not None:
        colours = np.zeros((256, 3), np.int64)
        colours[: len(palette)] = palette
    else:
        lossy = 0
    transparent_index = -1 if transparent is None else int(transparent)
    data, shown = _encode(flat, int(code_size), colours, int(lossy) ** 2, transparent_index, *_tables())
    return data.tobytes(), shown.reshape(np.shape(indices))
