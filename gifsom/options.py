"""The encoding options shared by the library, the writer and the command line."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TypedDict

from . import checks
from .errors import OptionError
from .mapping.dither import DITHER_MODES
from .mapping.stage import DEFAULT_MOTION_THRESHOLD, MappingOptions
from .palette.learn import PaletteOptions

PALETTE_SCOPES = ("global", "scene", "frame")


def parse_colour(text: str) -> tuple[int, int, int]:
    """Parse ``RRGGBB`` or ``#RRGGBB`` into an (r, g, b) triple."""
    value = text.strip().lstrip("#")
    if len(value) != 6:
        raise OptionError(f"colour {text!r} is not RRGGBB hex (for example ff8800)")
    try:
        number = int(value, 16)
    except ValueError as exc:
        raise OptionError(f"colour {text!r} is not RRGGBB hex (for example ff8800)") from exc
    return (number >> 16) & 255, (number >> 8) & 255, number & 255


@dataclass(frozen=True)
class EncodeOptions:
    """Everything that decides how frames become a GIF.

    Attributes:
        colors: palette size, 2..256 (one slot may go to transparency in animations).
        quality: NeuQuant sampling factor 1..30 (pure NeuQuant, ``refine=False``, only).
        refine: run the palette convergence phase (False: pure NeuQuant).
        palette: "scene" (a palette per scene, new where the picture cuts; one for a clip with no cut), "global" or "frame".
        fixed_colors: colours forced into every palette.
        dither: dither mode name.
        dither_strength: 0..1.
        motion_threshold: per-channel change under which a pixel keeps its index.
        loop: 0 forever, N repeats, -1 play once.
        matte: colour that semi-transparent pixels are blended onto, or None.
        comment: text stored in the GIF, or None.
        lossy: 0 (exact) or the RGB distance, up to 255, by which lossy LZW may move a pixel's colour.
        temporal: keep the index of pixels whose colour did not change (stable dither, smaller files).
    """

    colors: int = 256
    quality: int = 10
    refine: bool = True
    palette: str = "scene"
    fixed_colors: tuple[tuple[int, int, int], ...] = field(default_factory=tuple)
    dither: str = "none"
    dither_strength: float = 1.0
    motion_threshold: int = DEFAULT_MOTION_THRESHOLD
    loop: int = 0
    matte: tuple[int, int, int] | None = None
    comment: str | None = None
    lossy: int = 0
    temporal: bool = True

    def __post_init__(self) -> None:
        self.palette_options(self.colors)         # colors, quality and fixed_colors: checked there
        checks.one_of("palette", self.palette, PALETTE_SCOPES, "a palette scope")
        checks.one_of("dither", self.dither, DITHER_MODES, "a dither mode")
        checks.in_range("dither_strength", self.dither_strength, 0.0, 1.0, "0 to 1")
        checks.in_range("motion_threshold", self.motion_threshold, 0, 255, "0 to 255")
        checks.in_range("loop", self.loop, -1, 65535, "0 (forever), 1..65535 repeats, or -1 (play once)")
        checks.in_range("lossy", self.lossy, 0, 255, "0 (exact) to 255")

    def palette_options(self, colors: int, exact_colors: int | None = None) -> PaletteOptions:
        """Palette options for a learned palette of ``colors`` entries (an exact one of up to ``exact_colors``)."""
        return PaletteOptions(colors=colors, quality=self.quality, refine=self.refine, fixed=self.fixed_colors,
                              exact_colors=exact_colors)

    def mapping_options(self) -> MappingOptions:
        return MappingOptions(dither=self.dither, strength=self.dither_strength,
                              motion_threshold=self.motion_threshold, temporal=self.temporal)


class EncodeFields(TypedDict, total=False):
    """The fields of :class:`EncodeOptions` as keyword arguments, for typed ``**fields``
    (``GifWriter(path, colors=64)``): each key and type is that of the field of the same name."""

    colors: int
    quality: int
    refine: bool
    palette: str
    fixed_colors: tuple[tuple[int, int, int], ...]
    dither: str
    dither_strength: float
    motion_threshold: int
    loop: int
    matte: tuple[int, int, int] | None
    comment: str | None
    lossy: int
    temporal: bool


def with_fields(base: EncodeOptions | None, fields: EncodeFields) -> EncodeOptions:
    """``base`` (default options when None) with ``fields`` replaced; the result checks itself once."""
    unknown = sorted(set(fields) - set(EncodeOptions.__dataclass_fields__))
    if unknown:
        raise OptionError(f"{unknown[0]!r} is not an encoding option; the encoding options are: "
                          f"{', '.join(EncodeOptions.__dataclass_fields__)}")
    if not fields:
        return base or EncodeOptions()
    return dataclasses.replace(base or EncodeOptions(), **fields)
