"""What a decoder has on screen, and the plan of each frame against it.

:class:`ScreenModel` keeps the colour and opacity a decoder shows at every
pixel. :meth:`ScreenModel.plan` compares a frame with it and returns a
:class:`FramePlan`: the rectangle to write, which pixels may be left to the
screen (written as the transparent index), a free index to be that
transparent index, and the disposal. The first frame covers the canvas, and a
frame that is cleared for its successor (and, in a clip with transparency,
the first frame) names a transparent index, so that no decoder falls back on
the background colour or drops the alpha channel. Planning never changes the
frame; :meth:`ScreenModel.show` moves the model on once the plan's encoding
(and so what a decoder will show) is chosen.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..colours.packed import pack_colours
from . import blocks
from ._screen_cy import EMPTY as EMPTY_PIXEL, changed_pixels as _changed_pixels, paint_screen as _paint_screen
from ._screen_cy import rectangle_masks as _rectangle_masks, same_colours as _same_colours

DISPOSE_NONE = 1        # leave the frame on screen
DISPOSE_BACKGROUND = 2  # clear the frame's rectangle to transparent

#: The screen model's value for a pixel that shows nothing (packed colours are below 2**24).
EMPTY = np.uint32(EMPTY_PIXEL)


class IndexedFrame(NamedTuple):
    """A frame after mapping.

    Attributes:
        indices: uint8 (H, W) palette indices.
        palette: uint8 (K, 3), 1 <= K <= 256.
        start_cs: when the frame starts, in centiseconds from the start of the clip.
        mask: bool (H, W), True where the frame is transparent, or None when fully opaque.
        keep: bool (H, W), True where a decoder must leave what it shows as it is (the indices there
            mean nothing), or None. Only in opaque clips written without lossy LZW.
        changed: ``(top, bottom, left, right)``, a rectangle outside which the frame shows what the frame
            given to the writer before it shows (the same colours and transparency), or None where that
            is not known. The screen model then compares only that rectangle with the screen.
        source: uint8 (H, W, 3) the colours the indices stand for (the frame before mapping), or None:
            lossy LZW bounds how much it adds to each pixel's error against them (see
            :mod:`gifsom.gif.lzw`); without, against the indices' own colours.
    """

    indices: np.ndarray
    palette: np.ndarray
    start_cs: int
    mask: np.ndarray | None = None
    keep: np.ndarray | None = None
    changed: tuple[int, int, int, int] | None = None
    source: np.ndarray | None = None

    def shows_what(self, other: IndexedFrame) -> bool:
        """True when ``other`` shows the same colour as this frame at every pixel, whatever the palettes and
        indices (transparency is not compared)."""
        return _same_colours(np.ascontiguousarray(self.indices), _padded_colours(self.palette),
                             np.ascontiguousarray(other.indices), _padded_colours(other.palette))


def _padded_colours(palette: np.ndarray) -> np.ndarray:
    """uint32 (256,): the palette packed (:func:`pack_colours`), padded with zeros."""
    padded = np.zeros(256, np.uint32)
    padded[:len(palette)] = pack_colours(palette)
    return padded


class FramePlan(NamedTuple):
    """One frame's rectangle, ready to be encoded in whichever way comes out smallest.

    Attributes:
        indices: uint8 (h, w) the frame's indices in the rectangle at (``left``, ``top``).
        hidden: bool (h, w) pixels the frame need not draw (unchanged or transparent).
        keep: bool (h, w) the hidden pixels that are unchanged on screen.
        spare: an index no drawn pixel uses (the transparent index), or None.
        left, top: the rectangle's place on the canvas, in pixels.
        bits: size of the colour table in bits; local: the local colour table, or None.
        palette: uint8 (K, 3) the indices' colours.
        lossy: as for :class:`gifsom.gif.animation.AnimationWriter`.
        delay_cs, disposal: for the frame's graphic control extension.
        names_transparent: the frame must name a transparent index even if it hides no pixel.
        colours: uint32 (K,) the palette packed (:func:`pack_colours`); opaque: bool (h, w) the frame's
            opaque pixels in the rectangle (both for :meth:`ScreenModel.show`).
        source: lossy plans: uint8 (h, w, 3) the frame's source colours in the rectangle, or None.
        shows_frame: once shown exactly (``shown`` None in :meth:`ScreenModel.show`), the screen holds the
            frame's colours at every pixel: an opaque frame, written without lossy LZW, left on screen,
            with nothing left to the screen.
    """

    indices: np.ndarray
    hidden: np.ndarray
    keep: np.ndarray
    spare: int | None
    left: int
    top: int
    bits: int
    local: np.ndarray | None
    palette: np.ndarray
    lossy: int
    delay_cs: int
    disposal: int
    names_transparent: bool
    colours: np.ndarray
    opaque: np.ndarray
    shows_frame: bool = False
    source: np.ndarray | None = None


def as_bytes(mask: np.ndarray) -> np.ndarray:
    """A bool array as uint8 of the same shape, without copying where it can."""
    return mask.view(np.uint8) if mask.dtype == np.bool_ else np.asarray(mask, np.uint8)


def changed_pixels(indices: np.ndarray, colours: np.ndarray, opaque: np.ndarray, has_mask: bool,
                   screen: np.ndarray, tolerance: int, within: tuple[int, int, int, int] | None = None,
                   out: np.ndarray | None = None, left_alone: np.ndarray | None = None
                   ) -> tuple[np.ndarray, int, int, int, int]:
    """Where a frame changes what is on screen, and the rectangle around those places.

    Args:
        indices: uint8 (H, W) the frame's palette indices.
        colours: uint32 (K,) its palette, packed (:func:`pack_colours`).
        opaque: bool (H, W) where the frame is opaque; read only when ``has_mask``.
        screen: uint32 (H, W) the screen model: packed colours, :data:`EMPTY` where nothing shows.
        tolerance: an opaque pixel within this RGB distance of the screen's counts as unchanged (0: exact).
        within: ``(top, bottom, left, right)``: compare only there, where the caller knows that the frame
            shows what the screen does outside it; None: everywhere.
        out: C-ordered bool (H, W) that receives the answer within the rectangle and is left as it is outside;
            None: a new array, False outside.
        left_alone: bool (H, W) where the frame leaves the screen as it is (never changed there), or None.

    Returns:
        ``(changed, top, bottom, left, right)``: bool (H, W), and the smallest
        rectangle holding every changed pixel, rows ``top:bottom``, columns
        ``left:right`` (``bottom`` is 0 when nothing changed).
    """
    height, width = indices.shape
    if out is None:
        out = np.empty((height, width), bool) if within is None else np.zeros((height, width), bool)
    mask = np.ascontiguousarray(as_bytes(opaque)) if has_mask else _NOT_READ     # no copy the kernel skips
    box = _changed_pixels(np.ascontiguousarray(indices), colours, mask, has_mask, screen, tolerance,
                          out.view(np.uint8), *(within or (0, height, 0, width)),
                          None if left_alone is None else np.ascontiguousarray(as_bytes(left_alone)))
    return (out, *box)


_NOT_READ = np.zeros((0, 0), np.uint8)


class RectangleMasks(NamedTuple):
    """What a plan needs of a frame's rectangle (see :func:`rectangle_masks`)."""

    indices: np.ndarray      # uint8 (h, w): a copy of the rectangle's indices
    hidden: np.ndarray       # bool (h, w): pixels the frame need not draw (kept, transparent or left alone)
    keep: np.ndarray         # bool (h, w): opaque unchanged pixels that may be left to the screen
    used: np.ndarray         # bool (256,): the index values of the pixels drawn
    all_opaque: bool         # every pixel of the rectangle is opaque


def rectangle_masks(indices: np.ndarray, changed: np.ndarray, opaque: np.ndarray, left_alone: np.ndarray | None,
                    box: tuple[int, int, int, int], draw_all: bool) -> RectangleMasks:
    """The masks of a frame's rectangle ``box`` = (top, bottom, left, right), in one pass.

    Args:
        indices: uint8 (H, W) the frame's indices.
        changed, opaque: bool (H, W) where the frame changes the screen, and where it is opaque.
        left_alone: bool (H, W) where the frame leaves the screen as it is, or None.
        draw_all: keep nothing: the frame is cleared afterwards, so it is drawn whole.
    """
    top, bottom, left, right = box
    return RectangleMasks(*_rectangle_masks(
        np.ascontiguousarray(indices), np.ascontiguousarray(as_bytes(changed)), np.ascontiguousarray(as_bytes(opaque)),
        _NOT_READ if left_alone is None else np.ascontiguousarray(as_bytes(left_alone)), left_alone is not None,
        top, bottom, left, right, draw_all))


def paint_screen(screen: np.ndarray, shown: np.ndarray, colours: np.ndarray, drawn_where: np.ndarray,
                 transparent: int, top: int, left: int, where_not: bool = False) -> None:
    """Draw a frame's rectangle onto the model of the screen, in place.

    Args:
        screen: uint32 (H, W) the screen model (see :func:`changed_pixels`).
        shown: uint8 (h, w) the indices a decoder shows in the rectangle at (``top``, ``left``).
        colours: uint32 (K,) their packed colours.
        drawn_where: bool (h, w) the pixels drawn when the frame has no transparent index (with
            ``where_not``: the pixels not drawn).
        transparent: the frame's transparent index (its pixels leave the screen as it is), or -1.
    """
    _paint_screen(screen, np.ascontiguousarray(shown), colours, as_bytes(drawn_where), transparent,
                  top, left, where_not)


def _bbox(changed: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(changed.any(axis=1))
    if not len(rows):
        return None
    cols = np.flatnonzero(changed.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _union(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def union_box(a: tuple[int, int, int, int] | None,
              b: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
    """The smallest rectangle ``(top, bottom, left, right)`` holding both; an empty one (no rows or no
    columns) holds nothing, and None (unknown) makes the union unknown."""
    if a is None or b is None:
        return None
    return _union(_or_none(a), _or_none(b)) or (0, 0, 0, 0)


def _or_none(box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """``box``, or None where it is empty (no rows or no columns), as :func:`_union` takes an empty one."""
    return None if box[1] <= box[0] or box[3] <= box[2] else box


class ScreenModel:
    """What a decoder shows on a ``width`` x ``height`` canvas, frame after frame.

    Args:
        global_palette: uint8 (K, 3) the global colour table's colours, or None.
        spare_slot: colour tables get room for one more entry than the palette, so a
            transparent index always exists (clips with transparent pixels).
        lossy: as for :class:`gifsom.gif.animation.AnimationWriter`.
    """

    def __init__(self, width: int, height: int, *, global_palette: np.ndarray | None, spare_slot: bool,
                 lossy: int) -> None:
        self.width = width
        self.height = height
        self.spare_slot = spare_slot
        self.lossy = lossy
        self.global_palette = global_palette
        self.global_bits = self.table_bits(global_palette) if global_palette is not None else 0
        #: Palettes the global palette grew from (see :meth:`grow_global`): frames in them need no local table.
        self.grown_from: list[np.ndarray] = []
        self.screen = np.full((height, width), EMPTY, np.uint32)     # packed colours
        self.frames_planned = 0
        #: Whether the screen holds the last planned frame's colours at every pixel (see FramePlan.shows_frame).
        self.shows_last_frame = False
        self._all_opaque = np.ones((height, width), bool)
        self._all_opaque.flags.writeable = False
        # where a plan compares within a rectangle (_changed_within): the answer, all False outside the
        # rectangle it last wrote, kept from plan to plan so that a frame costs no full-frame array
        self._changed = np.zeros((height, width), bool)
        self._changed_written = (0, 0, 0, 0)

    def table_bits(self, palette: np.ndarray) -> int:
        """Bits of the colour table that holds ``palette`` (and the spare slot, if any)."""
        return blocks.table_bits(min(len(palette) + (1 if self.spare_slot else 0), 256))

    def plan(self, frame: IndexedFrame, delay_cs: int, successor: IndexedFrame | None,
             changed_since: tuple[int, int, int, int] | None = None) -> FramePlan:
        """How to write ``frame``, shown for ``delay_cs`` and followed by ``successor`` (None: the last).

        ``changed_since``: a rectangle ``(top, bottom, left, right)`` outside which ``frame`` shows the
        colours of the last frame planned, or None where that is not known. Where the screen holds that
        frame exactly (:attr:`shows_last_frame`), only the rectangle is compared with it."""
        opaque = self._all_opaque if frame.mask is None else ~frame.mask
        colours = pack_colours(frame.palette)
        if changed_since is not None and self.shows_last_frame and frame.mask is None and frame.keep is None:
            changed, top, bottom, left, right = self._changed_within(frame.indices, colours, changed_since)
        else:
            # pixels the frame leaves to the screen are not its change
            left_alone = frame.keep if frame.keep is not None and self.frames_planned else None
            changed, top, bottom, left, right = changed_pixels(frame.indices, colours, opaque,
                                                               frame.mask is not None, self.screen, self.lossy,
                                                               left_alone=left_alone)
        self.shows_last_frame = False          # until the plan is shown
        box = (top, bottom, left, right) if bottom > 0 else None
        disposal = DISPOSE_NONE
        if successor is not None and successor.mask is not None:
            # the successor needs pixels cleared that will be shown after this frame
            clear = successor.mask & ((self.screen != EMPTY) | opaque)
            if clear.any():
                disposal = DISPOSE_BACKGROUND
                box = _union(box, _bbox(clear))
        first = self.frames_planned == 0
        if first:
            # the first frame covers the canvas: decoders disagree on what an area no frame drew shows
            # (browsers: transparent; Pillow, ffmpeg and ImageMagick: the background colour)
            box = (0, self.height, 0, self.width)
        elif box is None:
            box = (0, 1, 0, 1)                     # nothing changed: a 1x1 frame keeps the timing
        self.frames_planned += 1
        # A frame cleared for its successor names a transparent index: Pillow and ffmpeg clear to
        # it, and to the opaque background colour without one. In a clip with transparency the
        # first frame names one too: Pillow decides from the first frame alone whether the whole
        # animation has an alpha channel.
        names_transparent = disposal == DISPOSE_BACKGROUND or (first and self.spare_slot)
        top, bottom, left, right = box
        rect = (slice(top, bottom), slice(left, right))

        palette = frame.palette
        is_global = self.global_palette is not None and (
            palette is self.global_palette or any(palette is earlier for earlier in self.grown_from)
            or np.array_equal(palette, self.global_palette))
        bits = self.global_bits if is_global else self.table_bits(palette)
        left_alone = frame.keep[rect] if frame.keep is not None and not first else None
        if left_alone is not None and not is_global:
            bits = blocks.table_bits(min(len(palette) + 1, 256))     # room for the transparent index

        indices, hidden, keep, used, all_opaque = rectangle_masks(
            frame.indices, changed, opaque, None if left_alone is None else frame.keep, box,
            disposal == DISPOSE_BACKGROUND)
        # any table entry the pixels drawn by this frame do not use can serve as its transparent index
        free = np.flatnonzero(~used[: 1 << bits])
        spare = int(free[0]) if len(free) else None    # the lowest keeps LZW's code size small
        if spare is None and (not all_opaque or (left_alone is not None and left_alone.any())):
            raise ValueError("a frame with transparent pixels, or pixels left to the screen, needs a free slot")
        shows_frame = (self.lossy == 0 and frame.mask is None and frame.keep is None
                       and disposal == DISPOSE_NONE)
        return FramePlan(indices, hidden, keep, spare, left, top, bits, None if is_global else palette, palette,
                         self.lossy, delay_cs, disposal, names_transparent, colours, opaque[rect], shows_frame,
                         np.ascontiguousarray(frame.source[rect]) if self.lossy and frame.source is not None else None)

    def _changed_within(self, indices: np.ndarray, colours: np.ndarray, within: tuple[int, int, int, int]
                        ) -> tuple[np.ndarray, int, int, int, int]:
        """:func:`changed_pixels` of an opaque frame, compared with the screen only ``within`` the rectangle
        (top, bottom, left, right): outside it, the frame and the screen show the same colours. The array
        returned is the model's own, good until the next plan."""
        changed = self._changed
        top, bottom, left, right = self._changed_written
        changed[top:bottom, left:right] = False            # what the last plan found
        top, bottom, left, right = within
        if bottom <= top or right <= left:
            self._changed_written = (0, 0, 0, 0)
            return changed, 0, 0, 0, 0
        self._changed_written = within
        return changed_pixels(indices, colours, self._all_opaque, False, self.screen, self.lossy, within, changed)

    def grow_global(self, palette: np.ndarray) -> None:
        """Make ``palette`` (K, 3), which starts with every entry of the global palette in its order, the global
        palette: frames planned in the earlier global palettes keep their colours under it, and frames still to
        be planned in them need no local table either."""
        if self.global_palette is None or not np.array_equal(palette[:len(self.global_palette)], self.global_palette):
            raise ValueError("a global palette can only grow by entries added after its own")
        self.grown_from.append(self.global_palette)
        self.global_palette = palette
        self.global_bits = self.table_bits(palette)

    def show(self, plan: FramePlan, shown: np.ndarray | None = None, transparent: int | None = None) -> None:
        """Move the model on past ``plan``: what the decoder shows, then the frame's disposal.

        Args:
            shown: uint8 (h, w) the indices the chosen encoding shows, with its ``transparent``
                index; None for exact encodings, which all show the plan's indices where not hidden.
        """
        height, width = plan.indices.shape
        self.shows_last_frame = plan.shows_frame and shown is None
        if shown is None:
            paint_screen(self.screen, plan.indices, plan.colours, plan.hidden, -1, plan.top, plan.left, where_not=True)
        else:
            paint_screen(self.screen, shown, plan.colours, plan.opaque, -1 if transparent is None else transparent,
                         plan.top, plan.left)
        if plan.disposal == DISPOSE_BACKGROUND:
            self.screen[plan.top:plan.top + height, plan.left:plan.left + width] = EMPTY
