"""Palette order for short LZW codes: the global colour table reordered, once every frame is encoded, so
that frames drawing few colours draw only low indices.

An image's LZW codes only need to cover the indices it draws (:func:`gifsom.gif.blocks.image`), and its
codes start a bit shorter for every halving of that range (they grow as the code table fills, to 12
bits). After its first frame, a screen recording mostly redraws small rectangles in a few colours: where
those colours come first in the table, their codes are a bit or two shorter. On the bench's screen
recording this took 429 bytes off 28,938 (1.5%), where ``gifsicle -O3`` finds 315.

Which indices a frame draws is known only once it is encoded, and the table comes first in the file, so
:class:`~gifsom.gif.animation.AnimationWriter` keeps the encoded frames until it closes, chooses the order
then (:func:`choose_order`) and renames the frames' indices without a new LZW search
(:func:`renumbered_frame`, compiled in ``_renumber_cy.pyx``): each frame keeps its codes, which show the
same picture through the reordered table. A frame whose indices move up gets longer codes, so the
writer keeps the new order only where the renamed frames take fewer bytes in all.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ._renumber_cy import INVALID, MANY, literals, renumber
from .lzw import min_code_size

#: Bytes of a graphic control extension, which starts every frame the writer emits; its transparent
#: index is the 7th byte.
CONTROL_BYTES = 8
TRANSPARENT_AT = 6
#: Where the LZW minimum code size lies in a frame drawn with the global table (after the control and
#: the 10-byte image descriptor, with no local table); its codes follow.
CODE_SIZE_AT = CONTROL_BYTES + 10


def uses_global_table(frame: bytes) -> bool:
    """Whether a frame (as the writer emits it: graphic control, image descriptor, ...) is drawn with the
    global colour table: its descriptor's packed byte has no local-table flag."""
    return not frame[CONTROL_BYTES + 9] & 0x80


def _pixels(frame: bytes) -> int:
    """The pixels of a frame's image: the width times the height in its image descriptor."""
    width, height = struct.unpack_from("<HH", frame, CONTROL_BYTES + 5)
    return width * height


class DrawnIndices(NamedTuple):
    """What one frame drawn with the global colour table takes of it.

    Attributes:
        used: bool (256,): the indices its codes draw (its transparent index among them where it hides pixels);
            only some of them where ``many``.
        transparent: its transparent index, or None.
        size: bytes of the frame (control, descriptor and codes).
        many: it draws more than half the table, so its codes keep the table's size in any order.
    """

    used: np.ndarray
    transparent: int | None
    size: int
    many: bool = False

    @property
    def visible(self) -> np.ndarray:
        """bool (256,): the indices it draws that show a colour."""
        shown = self.used.copy()
        if self.transparent is not None:
            shown[self.transparent] = False
        return shown

    @property
    def hides(self) -> bool:
        """Whether its codes draw its transparent index, which must then be below its code range too."""
        return self.transparent is not None and bool(self.used[self.transparent])


def drawn_indices(frame: bytes, table_size: int) -> DrawnIndices | None:
    """The indices a frame drawn with a global table of ``table_size`` entries draws, read from its codes
    (bytes as the writer emits them: graphic control, image descriptor, codes), up to the point where it
    has drawn more than half the table; None where they cannot be read."""
    used = np.zeros(256, np.uint8)
    if len(frame) <= CODE_SIZE_AT or frame[0] != 0x21 or frame[CONTROL_BYTES] != 0x2C \
            or not 2 <= frame[CODE_SIZE_AT] <= 8:
        return None
    found = literals(np.frombuffer(frame, np.uint8, offset=CODE_SIZE_AT + 1), frame[CODE_SIZE_AT], _pixels(frame),
                     used, table_size // 2)
    if found == INVALID:
        return None
    transparent = frame[TRANSPARENT_AT] if frame[3] & 1 else None
    return DrawnIndices(used.astype(bool), transparent, len(frame), many=found == MANY)


def choose_order(frames: Sequence[DrawnIndices], table_size: int) -> np.ndarray | None:
    """The new place of each entry of a ``table_size``-entry global table, or None where no frame fits in
    less than half the table.

    The table is filled from its start, block by block (2, 4, ... entries up to half the table): while a
    frame's colours, and a free slot for its transparent index where it hides pixels, fit in the block
    with the colours placed so far, the frame that needs the fewest new colours per byte it weighs has
    its colours placed next. Entries no such frame draws keep their order after them.

    Returns:
        uint8 (table_size,): entry ``i`` of the old table is entry ``order[i]`` of the new one.
    """
    frames = [frame for frame in frames if not frame.many]
    if not frames or table_size <= 2:
        return None
    visible = np.array([frame.visible[:table_size] for frame in frames])
    slot = np.array([frame.hides for frame in frames], np.int64)
    sizes = np.array([frame.size for frame in frames], np.float64)
    counts = visible.sum(axis=1) + slot
    placed: list[int] = []
    inside = np.zeros(table_size, bool)
    block = 2
    while block < table_size:
        alone = counts <= block
        while True:
            needed = (visible & ~inside).sum(axis=1)
            fits = alone & (needed > 0) & (len(placed) + needed <= block)
            if not fits.any():
                break
            chosen = int(np.argmin(np.where(fits, needed / np.maximum(sizes, 1.0), np.inf)))
            new = np.flatnonzero(visible[chosen] & ~inside)
            placed.extend(int(index) for index in new)
            inside[new] = True
        block *= 2
    if not placed:
        return None
    order = np.empty(table_size, np.uint8)
    order[np.array(placed + [int(i) for i in np.flatnonzero(~inside)])] = np.arange(table_size)
    return order


def _renaming(frame: DrawnIndices, order: np.ndarray) -> tuple[np.ndarray, int | None]:
    """uint8 (256,): the new index of each index the frame draws, with its transparent index moved to the
    lowest entry its colours leave free where it hides pixels; and its new transparent index."""
    rename = np.zeros(256, np.uint8)
    rename[: len(order)] = order
    transparent = frame.transparent
    if transparent is None:
        return rename, None
    if frame.hides and not frame.many:
        taken = np.zeros(256, bool)
        taken[rename[frame.visible]] = True
        rename[transparent] = int(np.argmin(taken))          # the lowest free entry
    return rename, int(rename[transparent])


def renumbered_frame(frame: bytes, drawn: DrawnIndices, order: np.ndarray) -> bytes | None:
    """``frame`` (as the writer emits it, drawn with the global table) for the table reordered by
    ``order``: its transparent index and codes renamed, with the smallest code size that covers them
    (which may be larger than before, where its indices move up); None where that larger code size leaves
    a string of its codes without a code (see :mod:`._renumber_cy`)."""
    rename, transparent = _renaming(drawn, order)
    top = len(order) - 1 if drawn.many else int(rename[drawn.used].max()) if drawn.used.any() else 0
    new_size = min_code_size(top + 1)
    codes = renumber(np.frombuffer(frame, np.uint8, offset=CODE_SIZE_AT + 1), frame[CODE_SIZE_AT], _pixels(frame),
                     rename, new_size)
    if codes == INVALID:
        return None
    control = bytearray(frame[:CONTROL_BYTES])
    if transparent is not None:
        control[TRANSPARENT_AT] = transparent
    return bytes(control) + frame[CONTROL_BYTES:CODE_SIZE_AT] + bytes([new_size]) + codes


def reordered_table(palette: np.ndarray, table_size: int, order: np.ndarray) -> np.ndarray:
    """uint8 (table_size, 3): the colour table (``palette`` padded with black) with entry ``i`` moved to
    ``order[i]``."""
    table = np.zeros((table_size, 3), np.uint8)
    table[: len(palette)] = palette
    moved = np.empty_like(table)
    moved[order] = table
    return moved
