"""The encoding options shared by the library, the writer and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field

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
        palette: "global", "scene" or "frame".
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
    palette: str = "global"
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
        if self.palette not in PALETTE_SCOPES:
            raise OptionError(f"palette={self.palette!r} is not a palette scope; use one of {', '.join(PALETTE_SCOPES)}")
        if self.dither not in DITHER_MODES:
            raise OptionError(f"dither={self.dither!r} is not a dither mode; use one of {', '.join(DITHER_MODES)}")
        if not -1 <= self.loop <= 65535:
            raise OptionError(f"loop={self.loop} is out of range; use 0 (forever), 1..65535 repeats, or -1 (play once)")
        if not 0 <= self.lossy <= 255:
            raise OptionError(f"lossy={self.lossy} is out of range; use 0 (exact) to 255")
        self.palette_options(self.colors)
        self.mapping_options()

    def palette_options(self, colors: int, exact_colors: int | None = None) -> PaletteOptions:
        """Palette options for a learned palette of ``colors`` entries (an exact one of up to ``exact_colors``)."""
        return PaletteOptions(colors=colors, quality=self.quality, refine=self.refine, fixed=self.fixed_colors,
                              exact_colors=exact_colors)

    def mapping_options(self) -> MappingOptions:
        return MappingOptions(dither=self.dither, strength=self.dither_strength,
                              motion_threshold=self.motion_threshold, temporal=self.temporal)
