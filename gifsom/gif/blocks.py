"""The GIF89a byte syntax: header, colour tables, extensions, image blocks, trailer."""

from __future__ import annotations

import struct
from concurrent.futures import Executor

import numpy as np

from .lzw import lzw_encode, min_code_size


def table_bits(entries: int) -> int:
    """Bits of the smallest GIF colour table (2..256 entries, a power of two) holding ``entries``."""
    return max(1, (max(int(entries), 2) - 1).bit_length())


def colour_table(palette: np.ndarray, bits: int) -> bytes:
    """A colour table of 2**bits entries: ``palette`` (K, 3) uint8, padded with black."""
    table = np.zeros((1 << bits, 3), np.uint8)
    table[: len(palette)] = palette
    return table.tobytes()


def header(width: int, height: int, global_palette: np.ndarray | None, global_bits: int,
           background: int = 0) -> bytes:
    """Signature and logical screen descriptor (``background``: the background colour's index), followed by
    the global colour table if any."""
    packed = 0x70  # colour resolution 8 bits
    table = b""
    if global_palette is not None:
        packed |= 0x80 | (global_bits - 1)
        table = colour_table(global_palette, global_bits)
    return b"GIF89a" + struct.pack("<HHBBB", width, height, packed, background, 0) + table


def loop_extension(loop: int) -> bytes:
    """NETSCAPE2.0 application extension; ``loop`` 0 plays forever, N repeats N times."""
    return b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\x00"


def comment_extension(text: str) -> bytes:
    """A comment extension holding ``text`` (UTF-8, cut into sub-blocks)."""
    data = text.encode("utf-8")
    blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255))
    return b"\x21\xfe" + blocks + b"\x00"


def graphic_control(delay_cs: int, disposal: int, transparent: int | None) -> bytes:
    """Graphic control extension: delay in centiseconds, disposal method 0..3, transparent index."""
    packed = (disposal & 7) << 2
    if transparent is not None:
        packed |= 1
    return b"\x21\xf9\x04" + struct.pack("<BHB", packed, max(0, min(delay_cs, 65535)),
                                         transparent or 0) + b"\x00"


def image(indices: np.ndarray, left: int, top: int, code_bits: int, local_palette: np.ndarray | None = None,
          *, palette: np.ndarray | None = None, lossy: int = 0, transparent: int | None = None,
          lookahead: bool = False, source: np.ndarray | None = None, pool: Executor | None = None
          ) -> tuple[bytes, np.ndarray]:
    """Image descriptor, optional local colour table and LZW data for uint8 (h, w) indices.

    ``code_bits`` is the colour table's size in bits (global or local); every index is below 2**code_bits.
    ``palette``, ``lossy``, ``transparent``, ``lookahead``, ``source`` (uint8 (h, w, 3)) and ``pool`` are passed
    to :func:`lzw_encode`.

    Returns:
        The bytes, and the indices a decoder will show (they differ only when lossy).
    """
    height, width = indices.shape
    packed = 0
    table = b""
    if local_palette is not None:
        packed |= 0x80 | (code_bits - 1)
        table = colour_table(local_palette, code_bits)
    # the code size only has to cover the indices this image uses, not the whole table
    code_size = min(min_code_size(int(indices.max()) + 1 if indices.size else 2), min_code_size(1 << code_bits))
    data, shown = lzw_encode(indices, code_size, palette=palette, lossy=lossy, transparent=transparent,
                             lookahead=lookahead, source=source, pool=pool)
    return (b"\x2c" + struct.pack("<HHHHB", left, top, width, height, packed) + table
            + bytes([code_size]) + data), shown


TRAILER = b"\x3b"
