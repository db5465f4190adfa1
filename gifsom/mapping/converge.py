"""Mapping that makes a still picture converge on its source, frame after frame.

A screen recording mostly stays still, and its first frame may hold more
colours than one palette: anti-aliased text in many hues. Mapped to one
palette, the still parts keep that palette's approximation for the whole clip.
:class:`ConvergingMapper` gives each later frame a palette of its own: the
colours of the pixels that changed in the source first, then, in the room
left, the exact colours of pixels the screen still shows wrong, most frequent
first. Every other pixel is left to the screen, so a frame costs the pixels it
draws and its colour table. After a few frames a still picture is exact.

A steady camera's video is the same in kind: most of the picture stays, under
the sensor's and the codec's noise. :class:`SteadyCameraMapper` leaves every
pixel that the screen already shows within a bound of its source colour, and
redraws the rest with a palette learned from them alone, dithered. The screen
then holds colours from many palettes (thousands, where one palette holds 256),
and the still parts cost nothing once drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..colours.packed import among, pack_colours
from ..frames import changed_rectangle
from ..gif.screen_model import IndexedFrame
from ..gif.timing import MIN_DELAY_CS
from ..palette.histogram import colour_histogram
from ._converge_cy import KEEP, paint_drawn, select_redraw
from .stage import FrameMapper, MappingOptions

#: Luma RMS over 3 x 3 pixels (levels, 0..255) at which a part of a steady camera's picture is busy enough that
#: no pixel within the bound is touched up there (see :class:`SteadyCameraMapper`). At quality 100 (2026-12-04,
#: a share of 0.3, touch-ups drawn wherever nearer), at 16: the desk 86.83 by SSIMULACRA 2 at 964,907 bytes,
#: the car 79.92 at 457,537; at 8: 86.48 at 890,543 and 79.76 at 437,354; at 32: 86.92 at 1,022,497 (near
#: gifski's 1,067,537) and 80.01 at 474,941. FLIP sees the error that busy parts gather, frame after frame,
#: within the bound: at 16 the held-out lab clip (a photo over a micrograph) went from FLIP 0.041 on its first
#: frame to 0.048 to 0.051 on later ones. At quality 90 (2026-12-04, bytes / SSIMULACRA 2 / FLIP, 16 -> 64;
#: gifski 1.7 q90 in brackets): lab 389,027 / 80.33 / 0.0472 -> 425,163 / 81.88 / 0.0444 (493,445 / 79.77 /
#: 0.0452), the talking head 456,394 / 81.15 / 0.0413 -> 475,520 / 81.19 / 0.0400, the car 0.0433 -> 0.0410,
#: the desk 0.0401 -> 0.0386, the sky 350,112 -> 362,163 bytes (376,195) for 80.40 against 79.49. Seven of
#: the eight steady clips scored higher on both (webcam on SSIMULACRA 2, FLIP the same), for 1% to 12% more
#: bytes (webcam the most, still 32% under gifski's).
#: 32 took lab to 0.0455 only; 128 to 0.0435 for 2% more bytes than 64 on each clip.
TOUCH_UP_BUSY = 64.0
#: Most colours of a frame's own palette, one short of a full table: a pixel left to the screen needs an
#: index no drawn pixel uses (the frame's transparent index; the writer sizes the frame's table with room
#: for it, see :meth:`gifsom.gif.screen_model.ScreenModel.plan`).
MOST_OWN_COLOURS = 255


class ScreenFollowingMapper:
    """What the converging mappers share: each frame of one opaque clip is mapped, in order, against what a
    decoder shows after the frames before it.

    Args:
        palette: uint8 (K, 3) the palette of the first frame (the clip's or its first scene's).
        options: how the first frame, and the pixels later frames draw with a palette, are mapped.
        learn: returns a palette of at most the given number of colours for uint8 (N, 3) pixels: a later
            frame's own.
        most_colours: the most colours of a frame's own palette (the palette size asked for), at most
            :data:`MOST_OWN_COLOURS`.
        first: a first frame, uint8 (H, W, 3), and its uint8 (H, W) indices in ``palette``, mapped with
            ``options`` ahead of the mapper; taken where the first frame it maps is that one.

    :attr:`touch_up_gain`: how many times nearer (in squared RGB distance) a pixel that a frame may touch up
    must come to be drawn (see :class:`SteadyCameraMapper`; 1 where a mapper marks none).
    :attr:`only_nearer`: whether the other pixels a frame redraws are drawn only where they come nearer their
    source than the screen shows them (else all are).

    :meth:`frame` returns each frame for :class:`gifsom.gif.animation.AnimationWriter`, with ``keep``: the
    pixels a decoder must leave as they are (None for the first frame, which is drawn whole). The mapper
    assumes every frame it maps is shown as drawn, exactly (no lossy LZW), as the writer shows them: a frame
    starting under :data:`MIN_DELAY_CS` after the frame the writer holds back replaces that frame, and is
    mapped against what was shown before it.
    """

    touch_up_gain = 1.0
    only_nearer = False

    def __init__(self, palette: np.ndarray, options: MappingOptions,
                 learn: Callable[[np.ndarray, int], np.ndarray], most_colours: int = MOST_OWN_COLOURS,
                 first: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.palette = palette
        self.options = options
        self.learn = learn
        self.most_colours = min(most_colours, MOST_OWN_COLOURS)
        self._source: np.ndarray | None = None       # the source of the last frame mapped
        self._shown: np.ndarray | None = None        # uint8 (H, W, 3): what a decoder shows after it
        self._before: tuple[np.ndarray | None, np.ndarray | None] = (None, None)   # both, one frame earlier
        self._held_start: int | None = None          # the start of the frame the writer holds back
        self._first = first                          # a first frame and its indices, mapped ahead

    def frame(self, rgb: np.ndarray, start_cs: int) -> IndexedFrame:
        """Map uint8 (H, W, 3) ``rgb``, shown from ``start_cs`` centiseconds."""
        replaces = self._held_start is not None and start_cs - self._held_start < MIN_DELAY_CS
        indices, palette, keep = self.map(rgb, replaces)
        if not replaces and (keep is None or not keep.all()):     # a frame that keeps all is merged
            self._held_start = start_cs
        return IndexedFrame(indices, palette, start_cs, None, keep)

    def map(self, rgb: np.ndarray, replaces_previous: bool = False) -> tuple[np.ndarray, np.ndarray,
                                                                              np.ndarray | None]:
        """Map uint8 (H, W, 3) ``rgb``: uint8 (H, W) indices, uint8 (K, 3) palette and bool (H, W) ``keep``
        (or None). ``replaces_previous``: the writer shows this frame instead of the previous one."""
        rgb = np.ascontiguousarray(rgb)
        if replaces_previous:
            self._source, self._shown = self._before
        self._before = (self._source, self._shown)
        shown, source = self._shown, self._source
        self._source = rgb
        if shown is None or source is None or shown.shape != rgb.shape:
            ahead, self._first = self._first, None
            indices = ahead[1] if ahead is not None and np.array_equal(ahead[0], rgb) \
                else FrameMapper(self.palette, self.options).map(rgb)
            self._shown = self.palette[indices]
            return indices, self.palette, None
        height, width = rgb.shape[:2]
        redrawn = self._redraw(rgb, shown, source)
        if redrawn is None:
            return np.zeros((height, width), np.uint8), self.palette, np.ones((height, width), bool)
        indices, palette, draw = redrawn
        updated = shown.copy()
        marks = draw.view(np.uint8) if draw.dtype == bool else draw
        paint_drawn(updated, marks, indices, np.ascontiguousarray(palette, np.uint8), rgb,    # settles touch-ups
                    self.touch_up_gain, self.only_nearer)
        self._shown = updated
        return indices, palette, marks == KEEP

    def _redraw(self, rgb: np.ndarray, shown: np.ndarray, source: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """What a later frame draws over uint8 (H, W, 3) ``shown``, the screen, where ``source`` was the
        frame before: ``(indices, palette, draw)``, uint8 (H, W), uint8 (K, 3) and (H, W) where the frame
        draws: bool, or uint8 marks of ``_converge_cy.select_redraw`` (touch-ups are settled when the
        frame is painted); None where it draws nothing."""
        raise NotImplementedError


class ConvergingMapper(ScreenFollowingMapper):
    """Maps the frames of one flat, opaque clip so that what a decoder shows converges on them exactly (see
    the module's docstring and :class:`ScreenFollowingMapper`).

    Args: as for :class:`ScreenFollowingMapper`; ``learn`` serves where the pixels that changed in a frame
    have more colours than a palette holds.
    """

    def _redraw(self, rgb: np.ndarray, shown: np.ndarray, source: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        height, width = rgb.shape[:2]
        wrong = np.zeros((height, width), np.uint8)
        if changed_rectangle(rgb, shown, 3, wrong) is None:
            return None
        moved = np.zeros((height, width), np.uint8)
        top, bottom, left, right = changed_rectangle(rgb, source, 3, moved) or (0, 0, 0, 0)
        wrong_at = wrong.view(bool)
        must = moved.view(bool) & wrong_at                      # new content, not yet on screen
        palette, exact = self._palette_for(rgb[must], rgb[wrong_at & ~must])
        indices = np.zeros((height, width), np.uint8)
        draw = np.zeros((height, width), bool)
        if exact:
            # every new pixel's colour, and some stale ones', is in the palette: look them up exactly
            keys, own = pack_colours(rgb[wrong_at]), pack_colours(palette)
            order = np.argsort(own)
            place = np.minimum(np.searchsorted(own[order], keys), len(own) - 1)
            found = own[order][place] == keys
            indices[wrong_at] = np.where(found, order[place], 0)
            draw[wrong_at] = found
        else:
            # too many new colours for a table: map the rectangle they are in, as any frame is mapped
            box = (slice(top, bottom), slice(left, right))
            indices[box] = FrameMapper(palette, self.options).map(np.ascontiguousarray(rgb[box]))
            draw = must
        return indices, palette, draw

    def _palette_for(self, new: np.ndarray, stale: np.ndarray) -> tuple[np.ndarray, bool]:
        """A frame's own palette, from uint8 (N, 3) ``new`` pixels (changed in the source) and ``stale``
        ones (shown wrong): the exact colours of the new pixels when they fit, then the most frequent
        stale colours in the room left; else one learned from the new pixels. Also whether every new
        pixel's colour is in it."""
        room = self.most_colours
        found = colour_histogram(new, limit=room) if len(new) else (np.empty((0, 3), np.uint8), np.empty(0))
        if found is None:
            return self.learn(new, room), False
        colours = found[0][np.argsort(-found[1], kind="stable")]
        stale_found = colour_histogram(stale) if len(stale) and len(colours) < room else None
        if stale_found is not None:
            extra = stale_found[0][np.argsort(-stale_found[1], kind="stable")]
            extra = extra[~among(pack_colours(extra), pack_colours(colours))]
            colours = np.concatenate([colours, extra[:room - len(colours)]])
        return np.ascontiguousarray(colours[:room], np.uint8), True


class SteadyCameraMapper(ScreenFollowingMapper):
    """Maps the frames of a steady camera's opaque video so that the still parts are drawn once and gather
    colours from many palettes (see the module's docstring and :class:`ScreenFollowingMapper`).

    A later frame draws the pixels whose colour on screen lies further than ``bound`` (RGB distance) from
    their colour in the frame, each with the nearest colour of a palette learned from those pixels alone,
    dithered as ``options`` says among themselves (:meth:`FrameMapper.map_where`); the others are left to
    the screen, but for touch-ups: on smooth parts, where the eye sees small errors, pixels within the
    bound but beyond ``touch_up`` times it (more of it as the part is busier, up to :data:`TOUCH_UP_BUSY`)
    are mapped with the others and drawn where that palette shows them ``touch_up_gain`` times nearer
    their colour (in squared distance) than the screen does. The palette is not learned from them, so that
    it is not spread over colours the screen already shows well enough. Dithered among themselves rather
    than across the frame, the talking head of
    :data:`gifsom.options.STEADY_ANCHORS` took 507 KB for SSIMULACRA 2 80.66, against 519 KB and 80.55,
    the car 319 KB for 78.43 against 332 KB and 77.94, in 0.89 of the time (2026-12-04).

    Every pixel a frame redraws beyond the bound is drawn only where the frame's palette shows it nearer its
    colour than the screen does (:attr:`only_nearer`): a still pixel that noise took just past the bound
    may find no nearer colour in a palette spread over the moving parts, and drawn anyway it came out worse
    and cost bytes. Against drawing them all (2026-12-04, the six steady clips of ``scripts/bench.py``, bytes
    and SSIMULACRA 2), at quality 100: the held-out portrait 533,006 bytes for 80.03 against 644,856 for
    77.92, the talking head 602,423 for 81.97 against 645,741 for 81.65, the car 366,310 for 80.82 against
    426,295 for 80.13, the desk 789,637 for 86.73 against 864,500 for 86.59; at 90 (the default) 1% to 4%
    fewer bytes, the scores within 0.02 below or up to 0.29 above. Kept only where 1.5 or 2 times nearer
    (as touch-ups are), the desk fell to 86.49 and 86.28 at 100.

    Args:
        palette, options, learn, most_colours, first: as for :class:`ScreenFollowingMapper`.
        bound: RGB distance, 0..441, within which a pixel on screen is good enough to leave.
        touch_up: 0..1, the share of the bound beyond which a pixel on the smoothest parts is touched up;
            1 touches up nothing.
        touch_up_gain: at least 1, how many times nearer (in squared RGB distance) a touch-up must bring a
            pixel to be drawn.
    """

    only_nearer = True

    def __init__(self, palette: np.ndarray, options: MappingOptions,
                 learn: Callable[[np.ndarray, int], np.ndarray], bound: float,
                 most_colours: int = MOST_OWN_COLOURS, touch_up: float = 1.0, touch_up_gain: float = 2.0,
                 first: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        super().__init__(palette, options, learn, most_colours, first)
        self.bound = bound
        self.touch_up = touch_up
        self.touch_up_gain = touch_up_gain
        self._drawn = np.empty((0, 3), np.uint8)     # uint8 (H * W, 3) scratch: the colours a frame redraws

    def _redraw(self, rgb: np.ndarray, shown: np.ndarray, source: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        height, width = rgb.shape[:2]
        if self._drawn.shape[0] != height * width:
            self._drawn = np.empty((height * width, 3), np.uint8)
        draw = np.empty((height, width), np.uint8)
        count = select_redraw(shown, rgb, self.bound, self.touch_up, TOUCH_UP_BUSY, draw, self._drawn)
        if count == 0:
            return None
        palette = self.learn(self._drawn[:count], self.most_colours)
        return FrameMapper(palette, self.options).map_where(rgb, draw), palette, draw
