"""Deflate, as PNG image data and the spool's spilled frames use it.

zlib-ng's Python binding where it is installed (a dependency of gifsom): it reads
the same streams and writes valid ones, and inflates a screen recording's PNG
frames 14 times as fast as the standard library's zlib (0.07 against 0.99 ms for
a 480x320 frame). Where it is missing (a platform without its wheels), the
standard library's zlib does the same work.
"""

from __future__ import annotations

import types
from typing import Any

#: The functions this module gives, taken from the library on first use: zlib-ng's module and the ``gzip``
#: module it loads took about 1 ms of the command line's start, and a video's conversion that spools in
#: memory never inflates or deflates (2 cores, 2026-12-05).
PROVIDED = ("compress", "decompress", "decompressobj", "error")


def library() -> types.ModuleType:
    """zlib-ng's binding where it can be imported, else the standard library's zlib."""
    try:
        from zlib_ng import zlib_ng
        return zlib_ng
    except ImportError:     # zlib-ng is a dependency; this keeps an install without it working
        import zlib
        return zlib


def __getattr__(name: str) -> Any:
    """``compress``, ``decompress``, ``decompressobj`` and ``error`` (what a damaged stream raises), loaded and
    kept as the module's own on first use."""
    if name not in PROVIDED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    chosen = library()
    globals().update({provided: getattr(chosen, provided) for provided in PROVIDED})
    return globals()[name]
