"""Deflate, as PNG image data and the spool's spilled frames use it.

zlib-ng's Python binding where it is installed (a dependency of gifsom): it reads
the same streams and writes valid ones, and inflates a screen recording's PNG
frames 14 times as fast as the standard library's zlib (0.07 against 0.99 ms for
a 480x320 frame). Where it is missing (a platform without its wheels), the
standard library's zlib does the same work.
"""

from __future__ import annotations

import types
import zlib

_library: types.ModuleType
try:
    from zlib_ng import zlib_ng as _library
except ImportError:         # zlib-ng is a dependency; this keeps an install without it working
    _library = zlib

compress = _library.compress
decompress = _library.decompress
decompressobj = _library.decompressobj
#: What a damaged stream raises.
error: type[Exception] = _library.error
