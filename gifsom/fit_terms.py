"""The terms of a fit under a size: what the GIF must fit in (:class:`SizeLimit`), the settings a fit
tries (:class:`FitSetting`) and what it chose (:class:`FitResult`).

They are kept apart from the search (:mod:`gifsom.fit`), which a plain encode never loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import checks
from .errors import OptionValueError


@dataclass(frozen=True)
class FitSetting:
    """One way to make a clip smaller.

    Attributes:
        scale: output width and height as a share of the clip's (0 < scale <= 1).
        frame_step: keep every n-th frame, each shown n times as long.
        lossy: lossy LZW strength (see :class:`gifsom.options.EncodeOptions`).
        colors: palette size.
        dithered: with the options' dither (False: none).
    """

    scale: float = 1.0
    frame_step: int = 1
    lossy: int = 0
    colors: int = 256
    dithered: bool = True

    def size(self, width: int, height: int) -> tuple[int, int]:
        """The output size of a ``width`` x ``height`` clip, in pixels."""
        return max(1, round(width * self.scale)), max(1, round(height * self.scale))

    def describe(self, width: int, height: int, fps: float | None) -> str:
        """``"480 px wide, 12 fps, lossy 20, 256 colours"``."""
        parts = [f"{self.size(width, height)[0]} px wide"]
        if fps:
            parts.append(f"{fps / self.frame_step:.3g} fps")
        elif self.frame_step > 1:
            parts.append(f"every {self.frame_step} frames")
        parts.append(f"lossy {self.lossy}" if self.lossy else "exact LZW")
        parts.append(f"{self.colors} colours")
        if not self.dithered:
            parts.append("no dither")
        return ", ".join(parts)


@dataclass(frozen=True)
class SizeLimit:
    """What a GIF must fit in.

    Attributes:
        max_bytes: the most bytes.
        max_width, max_height: the largest size in pixels, or None.
        max_frames: the most frames, or None.
    """

    max_bytes: int
    max_width: int | None = None
    max_height: int | None = None
    max_frames: int | None = None

    def __post_init__(self) -> None:
        checks.in_range("max_size", self.max_bytes, 1, 10 ** 15, "a size above 0 bytes, such as 10M or 128K")
        if self.max_frames is not None:
            checks.in_range("max_frames", self.max_frames, 1, 10 ** 9, "at least 1")

    @property
    def max_side(self) -> tuple[int, int] | None:
        if self.max_width is None and self.max_height is None:
            return None
        return self.max_width or checks.GIF_MAX_SIDE, self.max_height or checks.GIF_MAX_SIDE


def size_limit(max_size: int | str | SizeLimit | None = None, target: str | None = None) -> SizeLimit | None:
    """What a GIF must fit in, from ``max_size`` (bytes: an int, a size such as ``"10M"``, ``"128K"``
    or ``"1MiB"``, or a :class:`SizeLimit`) and ``target`` (a place from :mod:`gifsom.presets`, such
    as ``"slack-emoji"``: its size, dimensions and frames). ``max_size`` overrides the target's size.
    None when neither is given.
    """
    from .limits import parse_bytes
    from .presets import preset

    place = preset(target) if target is not None else None
    if isinstance(max_size, SizeLimit) and place is None:
        return max_size
    if isinstance(max_size, SizeLimit):
        max_bytes: int | None = max_size.max_bytes
    elif isinstance(max_size, str):
        max_bytes = parse_bytes(max_size)
    elif max_size is None or isinstance(max_size, int):
        max_bytes = max_size if max_size is not None else (place.max_bytes if place else None)
    else:
        raise OptionValueError("max_size", max_size, "is not a size; give bytes as an int, or a size such as "
                                                     "'10M' or '128K'")
    if max_bytes is None:
        return None
    if place is None:
        return SizeLimit(max_bytes)
    return SizeLimit(max_bytes, place.max_width, place.max_height, place.max_frames)


@dataclass(frozen=True)
class FitResult:
    """The GIF that fits: its bytes and frames, the setting that made it, and the work it took."""

    data: bytes = field(repr=False)
    frames: int
    setting: FitSetting
    full_encodes: int
    probes: int
    #: The setting in words: ``"480 px wide, 12 fps, lossy 20, 256 colours"``.
    description: str = ""
