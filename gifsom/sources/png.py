"""A fast path for the PNG files screen recorders write: 8-bit RGB or RGBA, not interlaced, one picture.

Pillow decodes such a file in 1.5 to 2.5 ms (a 480x320 screen shot): its
reader feeds the decoder in small blocks through Python, and the array
conversion copies the picture once more. Here the file is read whole, its image
data inflated in one call (with zlib-ng, :mod:`gifsom.deflate`: 0.07 ms, where
the standard library's zlib takes 1 ms) and the rows unfiltered by a compiled
kernel into the frame's array. Any other PNG (palette, grey, 16-bit,
interlaced, animated, with a transparent colour key), or one that does not read
cleanly, returns None, and the caller decodes it with Pillow as before: this
path changes how fast a frame decodes, never what it decodes to.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

from .. import deflate
from ._png_cy import unfilter

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Colour types handled here (PNG specification, table 11.1), with their bytes per 8-bit pixel.
PIXEL_BYTES = {2: 3, 6: 4}
#: Chunks that are not needed to decode the picture and do not change it as Pillow decodes it
#: (ancillary chunks are skipped too, except these two, which change what the picture is).
HANDLED_ELSEWHERE = (b"tRNS", b"acTL")
#: Files larger than this are left to Pillow, which reads them in blocks.
MOST_BYTES = 256 << 20


def png_size(header: bytes) -> tuple[int, int] | None:
    """(width, height) from the first 24 bytes of a PNG file, or None if they are not a PNG's."""
    if len(header) < 24 or not header.startswith(SIGNATURE) or header[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _chunks(data: bytes) -> Iterator[tuple[bytes, memoryview, bool]]:
    """The chunks of a PNG file's bytes after the signature, in order: ``(type, data, whole)``; ``whole`` is
    False for a chunk whose data runs past the end of ``data``, the last one given."""
    view = memoryview(data)
    at = len(SIGNATURE)
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        body = view[at + 8:at + 8 + length]
        yield kind, body, len(body) == length
        if len(body) < length:
            return
        at += length + 12                            # length, type, data, CRC


def png_channels(data: bytes) -> int | None:
    """3 or 4: the channels of the picture a PNG file holds, read from its chunks before the image data
    (``data`` is the file's start: a few kilobytes do), for the files :func:`decode_png` decodes; None for
    any other file, or where the chunks before the image data do not fit in ``data``."""
    if not data.startswith(SIGNATURE):
        return None
    channels = None
    for kind, body, whole in _chunks(data):
        if kind == b"IHDR":
            if not whole or len(body) != 13 or channels is not None:
                return None
            depth, colour_type = body[8], body[9]
            channels = PIXEL_BYTES.get(colour_type) if depth == 8 else None
            if channels is None:
                return None
        elif channels is None or kind in HANDLED_ELSEWHERE:
            return None
        elif kind == b"IDAT":
            return channels
    return None


def decode_png(data: bytes) -> np.ndarray | None:
    """The picture of a whole PNG file's bytes as uint8 (H, W, 3) or (H, W, 4), or None where this
    path does not handle the file (see the module's docstring)."""
    if len(data) > MOST_BYTES or not data.startswith(SIGNATURE):
        return None
    header = None
    parts: list[memoryview] = []
    for kind, body, whole in _chunks(data):
        if not whole:
            return None                               # truncated: Pillow says how
        if header is None and kind != b"IHDR":
            return None
        if kind == b"IHDR":
            header = bytes(body)
        elif kind == b"IDAT":
            parts.append(body)
        elif kind == b"IEND":
            break
        elif kind in HANDLED_ELSEWHERE or (kind != b"PLTE" and not kind[0] & 0x20):
            return None                               # transparency, animation or an unknown critical chunk
    if header is None or len(header) != 13 or not parts:
        return None
    width, height, depth, colour_type, compression, filtering, interlace = struct.unpack(">IIBBBBB", header)
    pixel_bytes = PIXEL_BYTES.get(colour_type)
    if pixel_bytes is None or depth != 8 or compression or filtering or interlace or not width or not height:
        return None
    row_bytes = width * pixel_bytes
    expected = height * (row_bytes + 1)
    inflater = deflate.decompressobj()
    try:
        filtered = inflater.decompress(b"".join(parts), expected)
    except deflate.error:
        return None
    if len(filtered) < expected:
        return None
    pixels = np.empty((height, width, pixel_bytes), np.uint8)
    if unfilter(filtered, pixels.reshape(height, row_bytes), pixel_bytes) != -1:
        return None
    return pixels
