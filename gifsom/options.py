"""The encoding options shared by the library, the writer and the command line."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from . import checks
from .errors import OptionError, OptionValueError
from .mapping.dither import DITHER_MODES
from .mapping.stage import DEFAULT_MOTION_THRESHOLD, MappingOptions
from .palette.learn import PaletteOptions

if TYPE_CHECKING:
    import numpy as np

PALETTE_SCOPES = ("global", "scene", "drift", "frame")
#: The palette size when none is given.
DEFAULT_COLORS = 256
#: The quality an encode aims at when none is given (1..100; see :func:`knobs_for_quality`).
DEFAULT_QUALITY = 90


@dataclass(frozen=True)
class QualityKnobs:
    """What one step of the quality knob sets (where the caller did not set it).

    Attributes:
        dither: the dither mode.
        dither_strength: 0..1.
        lossy: lossy LZW strength, 0 (exact) up to :data:`LOWEST_KNOB_LOSSY`.
        palette: the palette scope.
        colors: palette size, 2..256.
    """

    dither: str
    dither_strength: float
    lossy: int
    palette: str = "scene"
    colors: int = DEFAULT_COLORS


#: What a clip shows, as the encoder judges it (:attr:`gifsom.palette.clip.ClipSurvey.content`), which
#: changes what the quality knob sets: ``flat`` (drawn: user interfaces, terminals, cartoons, charts),
#: ``clean`` (rendered pictures with texture: web pages with photos, games) or ``noisy`` (camera video).
CONTENT_KINDS = ("flat", "clean", "noisy")
#: The most lossy LZW the fit and the quality knob from 50 up use: beyond it, lossy LZW smears and
#: leaves streaks. Below quality 50 the knob goes on to :data:`LOWEST_KNOB_LOSSY`, for the smallest files.
MAX_KNOB_LOSSY = 40
LOWEST_KNOB_LOSSY = 80
#: (quality, dither strength, lossy, colours) at the knob's anchor points, best first, for each kind of
#: content; in between, strength and lossy are interpolated linearly and colours geometrically (see
#: :data:`FRAME_PALETTES_FROM` for the palette). Measured on the bench's clips (SSIMULACRA 2 and FLIP):
#:
#: - clean and flat pictures band where the palette steps through a smooth gradient, and nothing hides it:
#:   Floyd-Steinberg at 0.3 took the web page from FLIP 0.0175 to 0.0165 and SSIMULACRA 2 from 82.48
#:   to 83.48 for 3.8% more bytes; exact palettes (flat UI) are never dithered, so they stay lossless;
#: - camera video at 90: Floyd-Steinberg at a quarter strength, paid for by lossy LZW within 6 levels. Its
#:   noise hides banding but not the palette's error in busy texture, which FLIP sees (2026-12-03: without
#:   dither, with lossy 5, hopper's busy areas had FLIP 0.0701 against gifski's 0.0632). On the six noisy
#:   clips (small, pan, photos and the held-out chelsea, hopper, hubble) every one came out under gifski's
#:   bytes, SSIMULACRA 2 and FLIP, where no dither with lossy 5 missed on hopper (FLIP) and hubble (bytes);
#: - below 90, pictures with texture lose bytes most cheaply to lossy LZW (on the 176x144 camera clip,
#:   lossy 10 kept SSIMULACRA 2 at 75.3 for 22% fewer bytes, where 128 colours gave 71.9);
#: - flat pictures have no texture to hide lossy LZW's errors, and their flat areas cost few bytes
#:   whatever the palette, so fewer colours win there (2026-12-02, the cartoon clip: lossy 40 saved 3%
#:   of the bytes for SSIMULACRA 2 79.1; 64 colours with lossy 5 saved 15% for 95.0);
#: - camera video at 50 and below: fewer colours before more lossy LZW. With lossy 40 and 256 colours at 50
#:   (30 at 60), texture smeared: the held-out cat photo under a pan scored SSIMULACRA 2 -7.95 at 884,679
#:   bytes, and gifsom's curve fell under gifski's at gifski's 50 and 60 there and on the star field
#:   (hubble). With lossy 25 and 96 colours at 50 (2026-12-04), at gifski's bytes for its 50 and 60,
#:   gifsom's curve stood above gifski's by 6.8 and 9.7 points (cat), 2.9 and 1.2 (hubble), 1.7 and 5.5
#:   (the 176x144 camera clip, which was 0.45 above at 50), 18.3 and 17.8 (hopper); on the photo tour its
#:   50 gave 29.51 at 3,373,427 bytes, where gifski's gave 12.47 at 3,928,114. With lossy 20 and 64 colours
#:   the cat's 50 took more bytes than gifski's 50, and the small clip fell 0.36 under; with lossy 30 and
#:   128 colours hubble fell 0.07 under at 60;
#: - at 100, dither at half strength: ``adaptive`` scored highest of every dither setting on every camera
#:   clip (2026-12-01); on the web page Floyd-Steinberg beat it (84.37 against 83.83).
KNOB_ANCHORS = {
    "flat": ((100, 0.5, 0, 256), (90, 0.3, 0, 256), (80, 0.0, 5, 64), (60, 0.0, 10, 24), (50, 0.0, 10, 16),
             (1, 0.0, LOWEST_KNOB_LOSSY, 4)),
    "clean": ((100, 0.5, 0, 256), (90, 0.3, 0, 256), (80, 0.0, 10, 256), (50, 0.0, MAX_KNOB_LOSSY, 256),
              (1, 0.0, LOWEST_KNOB_LOSSY, 256)),
    "noisy": ((100, 0.5, 0, 256), (90, 0.25, 5, 256), (80, 0.0, 10, 256), (50, 0.0, 25, 96),
              (1, 0.0, LOWEST_KNOB_LOSSY, 32)),
}
#: From this quality up, each frame gets its own palette (in clips that mostly change, see
#: :data:`gifsom.encoder.MOSTLY_CHANGING`): SSIMULACRA 2 rose by 1.3 to 2.2 points on the photographic
#: clips for 1.5 to 11% more bytes, at 2 to 4 times the encoding time.
FRAME_PALETTES_FROM = 95
#: From this quality up to :data:`FRAME_PALETTES_FROM`, a scene's palette is learned again where its colours
#: drift (see :data:`gifsom.palette.clip.DRIFT`), in camera video that mostly changes (see
#: :func:`gifsom.encoder.write_clip`; elsewhere one palette per scene). On five of the bench's six camera
#: clips (2026-12-04; hubble's colours stay put) it added 0.8 to 1.1 points of SSIMULACRA 2 for 0.4% to
#: 3.9% more bytes; the 176x144 clip went from under gifski's score to over it.
DRIFT_PALETTES_FROM = 90
#: The dither mode the knob uses for each kind of content, as (lowest quality, mode) pairs from the top:
#: camera video takes ``adaptive`` where it gets a palette per frame, and Floyd-Steinberg below.
KNOB_DITHER = {"flat": ((1, "floyd-steinberg"),), "clean": ((1, "floyd-steinberg"),),
               "noisy": ((FRAME_PALETTES_FROM, "adaptive"), (1, "floyd-steinberg"))}


def _anchors_about(anchors: tuple[tuple[float, ...], ...], quality: int
                   ) -> tuple[tuple[float, ...], tuple[float, ...], float]:
    """The two rows of a table of anchors, best first and each led by its quality, that ``quality`` lies
    between, and how far it lies from the higher towards the lower (0..1)."""
    for high, low in zip(anchors, anchors[1:]):
        if low[0] <= quality <= high[0]:
            return high, low, (high[0] - quality) / (high[0] - low[0])
    raise ValueError(f"quality {quality} is outside the anchors")


def _between(anchors: tuple[tuple[int, float, float, int], ...], quality: int) -> tuple[float, float, int]:
    """(dither strength, the second knob, colours) at ``quality`` on a table of (quality, strength, second
    knob, colours) anchors, best first: strength and the second knob interpolated linearly, colours
    geometrically."""
    (_, strength_high, knob_high, colors_high), (_, strength_low, knob_low, colors_low), share = \
        _anchors_about(anchors, quality)
    return (strength_high + (strength_low - strength_high) * share, knob_high + (knob_low - knob_high) * share,
            round(colors_high * (colors_low / colors_high) ** share))


def knobs_for_quality(quality: int, content: str = "clean") -> QualityKnobs:
    """The dither, lossy LZW, palette scope and palette size that quality ``quality`` (1..100, higher is
    better looking and larger) stands for, for a clip of ``content`` (one of :data:`CONTENT_KINDS`).
    Bytes fall and the look worsens monotonically as quality falls."""
    checks.in_range("quality", quality, 1, 100, "1 (smallest) to 100 (best looking)")
    checks.one_of("content", content, CONTENT_KINDS, "a kind of content")
    strength, lossy, colors = _between(KNOB_ANCHORS[content], quality)
    mode = next(dither for lowest, dither in KNOB_DITHER[content] if quality >= lowest) if strength > 0 else "none"
    scope = "frame" if quality >= FRAME_PALETTES_FROM else "drift" if quality >= DRIFT_PALETTES_FROM else "scene"
    return QualityKnobs(mode, round(strength, 3), round(lossy), scope, colors)


@dataclass(frozen=True)
class SteadyKnobs:
    """What one step of the quality knob sets for a steady camera's video (see
    :class:`gifsom.mapping.converge.SteadyCameraMapper`).

    Attributes:
        dither_strength: 0..1, Floyd-Steinberg's.
        bound: RGB distance within which a pixel on screen is left as it is.
        colors: the most colours of a palette, 2..256.
        touch_up: 0..1, the share of the bound beyond which a pixel on a smooth part is touched up where a
            frame's palette comes nearer it (see :func:`gifsom.mapping._converge_cy.select_redraw`); 1: never.
        touch_up_gain: at least 1, how many times nearer (in squared RGB distance) a touch-up must bring a
            pixel to be drawn.
        careful_palettes: each frame's palette is refined as any palette of its size is
            (:data:`gifsom.palette.learn.QUICK`), not with the lighter :data:`gifsom.palette.learn.FRAME`.
    """

    dither_strength: float
    bound: float
    colors: int
    touch_up: float = 1.0
    touch_up_gain: float = 3.0
    careful_palettes: bool = False


#: (quality, Floyd-Steinberg strength, bound, colours) at the knob's anchor points for a steady camera's
#: video, best first (interpolated as :data:`KNOB_ANCHORS` are). Measured on the bench's three steady clips
#: (2026-12-04: head, car and desk, each with sensor noise through H.264) against gifski 1.7:
#:
#: - at 90, a bound of 8 took the talking head from 627 KB and SSIMULACRA 2 77.46 (the camera default) to
#:   505 KB and 80.85, where gifski has 550 KB and 80.54; a bound of 4 redrew much of each frame (1,025 KB,
#:   78.86: each palette spread over more pixels), 16 left noise standing (286 KB, 78.53);
#: - Floyd-Steinberg at 0.75 rather than 0.25 took the car's FLIP from 0.0458 to 0.0436 (gifski's: 0.0439)
#:   and the desk's from 0.0427 to 0.0396 (0.0422), for 3% to 6% more bytes (a first version, dithered
#:   across the whole frame, on clips with other noise);
#: - at 100, the bound stops at 7: under it, dither's own error redraws pixels frame after frame (a bound of
#:   6 at full strength took a desk clip to 3.2 MB) and each palette spreads thinner; half strength scored
#:   higher than full on the car (79.26 against 78.41, FLIP 0.0433 against 0.0427);
#: - at 50, undithered, 24 colours and a bound of 30. With 40, each clip came in under gifski's bytes at its
#:   quality 50 (the desk 205 KB against 227 KB), but the held-out sky stood in bands of leftover colour:
#:   SSIMULACRA 2 47.8 at 112 KB, and gifsom's curve fell 1.27 under gifski's at gifski's 50. With 30
#:   (2026-12-04, redrawn pixels only where nearer, see :class:`gifsom.mapping.converge.SteadyCameraMapper`)
#:   the sky scored 56.8 at 117 KB and the curve stood 4.7 above there; on the six steady clips the curve's
#:   margins at gifski's 50 to 70 rose or stayed within 0.3 (the talking head +3.61 against +3.72 at 50).
#:
#: With touch-ups (:data:`STEADY_TOUCH_UP`), the bound at 90 is 10 rather than 8: the palette is learned from
#: fewer pixels, and smooth parts are still touched up (figures there).
STEADY_ANCHORS = ((100, 0.5, 7.0, 256), (90, 0.75, 10.0, 256), (80, 0.5, 11.0, 256), (50, 0.0, 30.0, 24),
                  (1, 0.0, 64.0, 4))
#: (quality, touch-up share, touch-up gain) anchors for a steady camera's video, interpolated linearly:
#: pixels within the bound but beyond this share of it, on smooth parts, are touched up where the frame's
#: palette (learned from the pixels beyond the bound alone) shows them nearer their source by the gain (how
#: many times nearer in squared distance; see :class:`gifsom.mapping.converge.SteadyCameraMapper`).
#: SSIMULACRA 2 weighs error on smooth parts most: on the desk at quality 100 nearly all of gifsom's gap to
#: gifski (84.94 against 86.33) was the luminance's structure term on its smooth, dark corner, where pixels
#: within the bound were never redrawn (2026-12-04, frames scored term by term). Measured on the four steady
#: clips (2026-12-04; gifski 1.7 at the same quality in brackets):
#:
#: - at 100, a share of 0.15: the desk 86.59 at 864,500 bytes (84.94 at 759,011 without; gifski 86.33 at
#:   1,067,537), the car 80.13 at 426,295 (79.26 at 393,078; gifski 79.26 at 493,926), the talking head
#:   81.65 at 645,741 (81.24 at 573,603; 80.61 at 739,913), webcam 78.22 at 922,000 (77.88 at 658,227;
#:   77.63 at 1,239,994), with a gain of 2. A share of 0 gave the head 81.24, 0.3 the desk 86.43;
#: - at 90, with the bound at 10 and a gain of 3: the talking head 81.31 at 458,565 bytes, FLIP 0.0409 (80.85,
#:   0.0411 at 504,898 with a bound of 8 and none; gifski 80.54, 0.0437 at 549,546), the car 78.59, 0.0430 at
#:   269,863 (78.62, 0.0438 at 318,764; 77.68, 0.0439 at 351,925), the desk 84.55, 0.0401 at 616,076 (84.37,
#:   0.0400 at 673,952; 83.53, 0.0421 at 705,253), webcam 77.73, 0.0395 at 545,570 (77.33, 0.0391 at
#:   547,114; 76.93, 0.0427 at 875,109). A bound of 9 (with a gain of 2) scored higher on all four (the car
#:   79.15 at 303,491 bytes) but took a held-out clip of a smooth sky over gifski's bytes (381,868 against
#:   376,195);
#: - the gain: a touch-up that only just comes nearer costs its bytes for little. At 90, a gain of 1 took the
#:   talking head to 525,772 bytes for 81.38, 2 to 479,039 for 81.49, 3 to 458,565 for 81.31; the sky clip
#:   to 389,125 (over gifski's 376,195), 363,674 and 351,246 bytes; a 640x360 talking head to 4,399,466
#:   bytes at 2, over gifski's 4,362,822, and 4,187,448 at 3 (SSIMULACRA 2 80.57 against gifski's 77.77).
#:   At 100 a gain of 3 left the desk at 86.15, under gifski's 86.33;
#: - touching up within the bound on busy parts too costs bytes where nobody sees them: at 90 with a bound
#:   of 14 and a share of 0.5 everywhere, the desk scored 83.90 at 677,930 bytes; and redrawing those
#:   pixels with a palette learned from them as well spread each palette thinner (the car at 100, busy at 8
#:   levels: 78.57 at 493,265 bytes with a share of 0.5, where drawing them only where nearer gave 79.76 at
#:   437,354 with 0.3).
STEADY_TOUCH_UP = ((100, 0.15, 2.0), (90, 0.5, 3.0), (80, 1.0, 3.0), (1, 1.0, 3.0))
#: From this quality up, a steady camera's frames refine their palettes with full care (figures at
#: :data:`gifsom.palette.learn.FRAME`).
STEADY_CAREFUL_PALETTES = 100


def steady_knobs(quality: int) -> SteadyKnobs:
    """What quality ``quality`` (1..100) stands for in a steady camera's video (:data:`STEADY_ANCHORS`,
    :data:`STEADY_TOUCH_UP`, :data:`STEADY_CAREFUL_PALETTES`)."""
    checks.in_range("quality", quality, 1, 100, "1 (smallest) to 100 (best looking)")
    strength, bound, colors = _between(STEADY_ANCHORS, quality)
    high, low, share = _anchors_about(STEADY_TOUCH_UP, quality)
    touch_up, gain = (a + (b - a) * share for a, b in zip(high[1:], low[1:]))
    return SteadyKnobs(round(strength, 3), round(bound, 2), colors, round(touch_up, 3), round(gain, 3),
                       quality >= STEADY_CAREFUL_PALETTES)


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
        colors: palette size, 2..256 (one slot may go to transparency in animations), or None for the
            quality's (see :attr:`palette_colors`); a fit under a size may lower it only when None.
        quality: 1..100, what the GIF trades between bytes and looks, as gifski's ``--quality``
            does: it sets the dither, lossy LZW and colours that are not given (:func:`knobs_for_quality`).
            None is :data:`DEFAULT_QUALITY`.
        sample_factor: NeuQuant sampling factor 1..30 (pure NeuQuant, ``refine=False``, only).
        refine: run the palette convergence phase (False: pure NeuQuant).
        palette: "scene" (a palette per scene, new where the picture cuts; one for a clip with no cut), "drift"
            (as "scene", and new where a scene's colours drift: see :data:`gifsom.palette.clip.DRIFT`), "global"
            or "frame"; None for the quality's (see :attr:`palette_scope`).
        fixed_colors: colours forced into every palette.
        dither: dither mode name, or None for the quality's (see :attr:`dither_mode`).
        dither_strength: 0..1, or None for the quality's.
        motion_threshold: per-channel change under which a pixel keeps its index.
        loop: 0 forever, N repeats, -1 play once.
        matte: colour that semi-transparent pixels are blended onto, or None.
        comment: text stored in the GIF, or None.
        lossy: 0 (exact) or the RGB distance, up to 255, by which lossy LZW may move a pixel's colour;
            None for the quality's.
        temporal: keep the index of pixels whose colour did not change (stable dither, smaller files).
        content: what the frames show, one of :data:`CONTENT_KINDS`, which changes what the quality
            sets (:func:`knobs_for_quality`); None lets the encoder judge it from the frames
            (:attr:`gifsom.palette.clip.ClipSurvey.content`), and reads as ``clean`` until it has.
    """

    colors: int | None = None
    quality: int | None = None
    sample_factor: int = 10
    refine: bool = True
    palette: str | None = None
    fixed_colors: tuple[tuple[int, int, int], ...] = field(default_factory=tuple)
    dither: str | None = None
    dither_strength: float | None = None
    motion_threshold: int = DEFAULT_MOTION_THRESHOLD
    loop: int = 0
    matte: tuple[int, int, int] | None = None
    comment: str | None = None
    lossy: int | None = None
    temporal: bool = True
    content: str | None = None

    def __post_init__(self) -> None:
        if self.quality is not None and not self.refine and self.quality <= 30:
            raise OptionValueError("quality", self.quality, "is the 1..100 quality knob now; for pure NeuQuant's "
                                                            "sampling factor use `sample_factor`")
        self.knobs                                 # quality and content: checked there
        self.palette_options(self.palette_colors)     # colors, sample_factor and fixed_colors: checked there
        if self.palette is not None:
            checks.one_of("palette", self.palette, PALETTE_SCOPES, "a palette scope")
        if self.dither is not None:
            checks.one_of("dither", self.dither, DITHER_MODES, "a dither mode")
        if self.dither_strength is not None:
            checks.in_range("dither_strength", self.dither_strength, 0.0, 1.0, "0 to 1")
        checks.in_range("motion_threshold", self.motion_threshold, 0, 255, "0 to 255")
        checks.in_range("loop", self.loop, -1, 65535, "0 (forever), 1..65535 repeats, or -1 (play once)")
        if self.lossy is not None:
            checks.in_range("lossy", self.lossy, 0, 255, "0 (exact) to 255")

    @property
    def palette_colors(self) -> int:
        """The palette size used: as given, or the quality's (:data:`DEFAULT_COLORS` but for flat content
        below quality 90)."""
        return self.knobs.colors if self.colors is None else self.colors

    @property
    def knobs(self) -> QualityKnobs:
        """What the quality sets where dither and lossy are not given."""
        return knobs_for_quality(DEFAULT_QUALITY if self.quality is None else self.quality, self.content or "clean")

    @property
    def palette_scope(self) -> str:
        """The palette scope used: as given, or the quality's."""
        return self.knobs.palette if self.palette is None else self.palette

    @property
    def dither_mode(self) -> str:
        """The dither mode used: as given, or the quality's (a ``dither_strength`` given alone, above 0,
        means ``adaptive`` where the quality does not dither)."""
        if self.dither is not None:
            return self.dither
        if self.dither_strength is not None and self.knobs.dither == "none":
            return "adaptive" if self.dither_strength > 0 else "none"
        return self.knobs.dither

    @property
    def dither_level(self) -> float:
        """The dither strength used, 0..1: as given, else 1 for a dither mode given, else the quality's."""
        if self.dither_strength is not None:
            return self.dither_strength
        return 1.0 if self.dither is not None else self.knobs.dither_strength

    @property
    def lossy_level(self) -> int:
        """The lossy LZW strength used: as given, or the quality's."""
        return self.knobs.lossy if self.lossy is None else self.lossy

    @property
    def lossy_from_source(self) -> bool:
        """Whether lossy LZW bounds each pixel's error against its source colour (and searches for the
        longest strings within it, see :mod:`gifsom.gif.lzw`): in camera video, with lossy LZW on.

        On the six camera clips at the default (2026-12-03) it took 5% fewer to 2% more bytes than the old
        greedy parse a notch stronger, with SSIMULACRA 2 0.3 to 1 point higher and FLIP lower on every clip;
        the dark star field gained 0.6 dB of PSNR for 0.6% more bytes. Drawn content keeps the greedy parse:
        the screen recording with lossy 15 took 6% more bytes for the same scores, and its search is several
        times slower through long runs."""
        return self.lossy_level > 0 and self.content == "noisy"

    def lossy_source(self, rgb: np.ndarray) -> np.ndarray | None:
        """What lossy LZW measures the error of a frame (uint8 (H, W, 3) ``rgb``) against: the frame itself
        where :attr:`lossy_from_source`, else None (its indices' own colours)."""
        return rgb if self.lossy_from_source else None

    @property
    def steady(self) -> SteadyKnobs:
        """What the quality sets for a steady camera's video (:func:`steady_knobs`), with the colours and
        the dither strength given."""
        knobs = steady_knobs(DEFAULT_QUALITY if self.quality is None else self.quality)
        return dataclasses.replace(
            knobs, dither_strength=knobs.dither_strength if self.dither_strength is None else self.dither_strength,
            colors=knobs.colors if self.colors is None else self.colors)

    def steady_mapping_options(self) -> MappingOptions:
        """How a steady camera's frames are mapped: Floyd-Steinberg (or the dither given) at the steady
        strength, each frame afresh (the mapper leaves still pixels to the screen itself)."""
        return MappingOptions(dither="floyd-steinberg" if self.dither is None else self.dither,
                              strength=self.steady.dither_strength, temporal=False)

    def for_clip(self, content: str) -> "EncodeOptions":
        """These options for a clip whose content was judged ``content``, where :attr:`content` was left
        to the encoder."""
        return self if self.content is not None else dataclasses.replace(self, content=content)

    def palette_options(self, colors: int, exact_colors: int | None = None) -> PaletteOptions:
        """Palette options for a learned palette of ``colors`` entries (an exact one of up to ``exact_colors``)."""
        return PaletteOptions(colors=colors, sample_factor=self.sample_factor, refine=self.refine,
                              fixed=self.fixed_colors, exact_colors=exact_colors)

    def mapping_options(self, exact: bool = False) -> MappingOptions:
        """How frames are mapped; for an ``exact`` palette (one that holds every colour of the frames it
        maps) without dither, since a pixel that is exactly a palette colour is never dithered: the same
        indices, with no error diffusion to keep the mapping on one core.

        Frames of a clip with lossy LZW are mapped while lossy LZW encodes the frame before, and leave
        it a core. On 2 cores (mapping on one thread instead of two), the bench's hubble clip took 0.966
        of the time and pan 0.977 (paired medians of 11 in-process runs, 2026-12-03); photos and chelsea
        0.99 and 1.00 in an earlier run of 7."""
        return MappingOptions(dither="none" if exact else self.dither_mode, strength=self.dither_level,
                              motion_threshold=self.motion_threshold, temporal=self.temporal,
                              cores_left=1 if self.lossy_level else 0)


class EncodeFields(TypedDict, total=False):
    """The fields of :class:`EncodeOptions` as keyword arguments, for typed ``**fields``
    (``GifWriter(path, colors=64)``): each key and type is that of the field of the same name."""

    colors: int | None
    quality: int | None
    sample_factor: int
    refine: bool
    palette: str | None
    fixed_colors: tuple[tuple[int, int, int], ...]
    dither: str | None
    dither_strength: float | None
    motion_threshold: int
    loop: int
    matte: tuple[int, int, int] | None
    comment: str | None
    lossy: int | None
    temporal: bool
    content: str | None


def with_fields(base: EncodeOptions | None, fields: EncodeFields) -> EncodeOptions:
    """``base`` (default options when None) with ``fields`` replaced; the result checks itself once."""
    unknown = sorted(set(fields) - set(EncodeOptions.__dataclass_fields__))
    if unknown:
        raise OptionError(f"{unknown[0]!r} is not an encoding option; the encoding options are: "
                          f"{', '.join(EncodeOptions.__dataclass_fields__)}")
    if not fields:
        return base or EncodeOptions()
    return dataclasses.replace(base or EncodeOptions(), **fields)
