"""Where people post GIFs, and the limits each place publishes (``--for TARGET``).

Each preset sets the most bytes, and where the place has them, the largest
size and the most frames. Flags given beside ``--for`` override its values.
The sources are the places' own pages, as read on 2026-11-26.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import OptionValueError


@dataclass(frozen=True)
class Preset:
    """A place's published limits for a GIF.

    Attributes:
        name: the ``--for`` value.
        max_bytes: the most bytes the file may have.
        max_width, max_height: the largest size in pixels, or None.
        max_frames: the most frames, or None.
        source: where the limit is published.
    """

    name: str
    max_bytes: int
    max_width: int | None = None
    max_height: int | None = None
    max_frames: int | None = None
    source: str = ""


PRESETS = {preset.name: preset for preset in (
    Preset("github", 10_000_000, source="GitHub Docs, 'Attaching files': images and GIFs up to 10 MB "
                                        "(docs.github.com/en/get-started/writing-on-github)"),
    Preset("slack-emoji", 128_000, 128, 128, source="Slack Help Center, 'Add custom emoji and aliases to your "
                                                    "workspace': under 128 KB, 128 x 128 px"),
    Preset("discord", 10_000_000, source="Discord Support, 'File Attachments FAQ': 10 MB per file without Nitro"),
    Preset("discord-emoji", 256_000, 128, 128, source="Discord Support, 'Custom Emojis': up to 256 KB, "
                                                      "128 x 128 px"),
    Preset("twitter", 15_000_000, 1280, 1080, 350, source="X Developer Platform, 'Media best practices': GIF up to "
                                                          "15 MB, 1280 x 1080, 350 frames"),
)}


def preset(name: str) -> Preset:
    """The preset called ``name``.

    Raises:
        OptionValueError: for an unknown name, listing the known ones.
    """
    if name not in PRESETS:
        raise OptionValueError("target", name, f"is not a known target; use one of {', '.join(PRESETS)}")
    return PRESETS[name]


def limits_broken(size: int, width: int, height: int, frames: int) -> list[str]:
    """The presets a GIF of ``size`` bytes, ``width`` x ``height`` and ``frames`` frames breaks, as
    ``"slack-emoji (over 128 KB)"`` phrases."""
    broken = []
    for item in PRESETS.values():
        reasons = []
        if size > item.max_bytes:
            reasons.append(f"over {describe_size(item.max_bytes)}")
        if item.max_width and (width > item.max_width or height > (item.max_height or height)):
            reasons.append(f"larger than {item.max_width}x{item.max_height}")
        if item.max_frames and frames > item.max_frames:
            reasons.append(f"more than {item.max_frames} frames")
        if reasons:
            broken.append(f"{item.name} ({', '.join(reasons)})")
    return broken


def describe_size(count: int) -> str:
    """Bytes in decimal units, as upload limits are stated, rounded down: ``"9.7 MB"``, ``"128 KB"``."""
    for unit, scale in (("GB", 10 ** 9), ("MB", 10 ** 6), ("KB", 10 ** 3)):
        if count >= scale:
            value = math.floor(count / scale * 10) / 10
            return f"{value:g} {unit}"
    return f"{count} bytes"
