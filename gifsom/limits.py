"""Resource limits: refuse work that would need more disk or memory than allowed."""

from __future__ import annotations

import re
import shutil
import tempfile

from .errors import OptionError, ResourceError


#: Size suffixes: K, M, G, T (and KB, MB, ...) are decimal; KiB, MiB, GiB, TiB are binary.
SIZE_UNITS = {"": 1, "b": 1, "k": 10 ** 3, "kb": 10 ** 3, "m": 10 ** 6, "mb": 10 ** 6, "g": 10 ** 9, "gb": 10 ** 9,
              "t": 10 ** 12, "tb": 10 ** 12, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}


def parse_bytes(text: str) -> int:
    """Parse a size such as ``10M``, ``128K``, ``2.5MB`` or ``1MiB`` into bytes.

    K, M, G and T (with or without B) are powers of 1000, as file managers and upload
    limits count; KiB, MiB, GiB and TiB are powers of 1024. A bare number is bytes.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in SIZE_UNITS:
        raise OptionError(f"size {text!r} is not a size such as 10M, 128K, 2.5MB or 1MiB "
                          "(K, M, G are powers of 1000; KiB, MiB, GiB powers of 1024)")
    value, unit = match.groups()
    return int(float(value) * SIZE_UNITS[unit])


def describe_bytes(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def check_clip_budget(frames: int, width: int, height: int, channels: int, max_spool: int,
                      folder: str | None = None, *, compressible: bool = False) -> None:
    """Refuse a clip whose frames would not fit the spool budget or the free disk.

    The free disk is compared with the raw frames only when they will not deflate well
    (``compressible`` False); otherwise the spool checks it as it grows.

    Raises:
        ResourceError: with the numbers and the options that change them.
    """
    need = frames * width * height * channels
    if need > max_spool:
        raise ResourceError(f"this clip needs {describe_bytes(need)} of frames ({frames} frames of {width}x{height}), "
                            f"over the {describe_bytes(max_spool)} limit: lower `fps` or `width`, trim with "
                            "`start`/`end`, or raise `max_spool`")
    if compressible:
        return
    folder = folder or tempfile.gettempdir()
    free = shutil.disk_usage(folder).free
    if need > free:
        raise ResourceError(f"this clip needs {describe_bytes(need)} of frames ({frames} frames of {width}x{height}) "
                            f"but {folder!r} has {describe_bytes(free)} free: lower `fps` or `width`, trim it, "
                            "or point TMPDIR at a bigger disk")
