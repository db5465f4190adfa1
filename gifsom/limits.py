"""Resource limits: refuse work that would need more disk or memory than allowed."""

from __future__ import annotations

import re
import shutil
import tempfile

from .errors import OptionError, ResourceError

#: Default cap on the bytes of frames a clip may spool (memory and disk together).
DEFAULT_MAX_SPOOL = 64 << 30


def parse_bytes(text: str) -> int:
    """Parse a size such as ``500M``, ``64G`` or ``1048576`` into bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not match:
        raise OptionError(f"size {text!r} is not a number of bytes such as 500M or 64G")
    value, unit = match.groups()
    return int(float(value) * (1 << (10 * "_kmgt".index(unit or "_"))))


def describe_bytes(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def check_clip_budget(frames: int, width: int, height: int, channels: int, max_spool: int,
                      folder: str | None = None) -> None:
    """Refuse a clip whose frames would not fit the spool budget or the free disk.

    Raises:
        ResourceError: with the numbers and the options that change them.
    """
    need = frames * width * height * channels
    if need > max_spool:
        raise ResourceError(f"this clip needs {describe_bytes(need)} of frames ({frames} frames of {width}x{height}), "
                            f"over the {describe_bytes(max_spool)} limit: lower --fps or --width, trim with "
                            "--start/--end, or raise --max-spool")
    folder = folder or tempfile.gettempdir()
    free = shutil.disk_usage(folder).free
    if need > free:
        raise ResourceError(f"this clip needs {describe_bytes(need)} of frames ({frames} frames of {width}x{height}) "
                            f"but {folder!r} has {describe_bytes(free)} free: lower --fps or --width, trim it, "
                            "or point TMPDIR at a bigger disk")
