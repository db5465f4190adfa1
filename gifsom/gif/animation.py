"""The frame optimiser: turns full indexed frames into the fewest GIF bytes that show them.

It keeps a model of what a decoder has on screen (colour and opacity of every
pixel). Each frame is compared with that model: only the changed rectangle is
written; inside it, pixels that already show the right colour become the
transparent index when that makes the frame smaller; identical frames are
merged by adding their delays; frames shorter than 2 cs are dropped in favour
of the next. Writing lags one frame behind, because a frame's disposal (and
its delay) depend on the frame that follows it.

Without lossy LZW, every way of encoding a rectangle shows the same picture,
so the screen model moves on at once and the encoding (several candidates, the
smallest kept) runs on worker threads, one per CPU, a few frames behind; the
frames are written in order. The compiled encoders release the GIL.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from ..frames import same_pixels
from ..threads import available_cores
from . import _screen_cy, blocks
from .timing import MIN_DELAY_CS

DISPOSE_NONE = 1        # leave the frame on screen
DISPOSE_BACKGROUND = 2  # clear the frame's rectangle to transparent


@dataclass
class IndexedFrame:
    """A frame after mapping.

    Attributes:
        indices: uint8 (H, W) palette indices.
        palette: uint8 (K, 3), 1 <= K <= 256.
        start_cs: when the frame starts, in centiseconds from the start of the clip.
        mask: bool (H, W), True where the frame is transparent, or None when fully opaque.
    """

    indices: np.ndarray
    palette: np.ndarray
    start_cs: int
    mask: np.ndarray | None = None

    def colours(self) -> np.ndarray:
        return self.palette[self.indices]


#: The screen model's value for a pixel that shows nothing (packed colours are below 2**24).
EMPTY = np.uint32(_screen_cy.EMPTY)


def pack_colours(palette: np.ndarray) -> np.ndarray:
    """uint8 (K, 3) colours as uint32 (K,) values ``r << 16 | g << 8 | b``, as the screen model holds them."""
    colours = palette.astype(np.uint32)
    return (colours[:, 0] << 16) | (colours[:, 1] << 8) | colours[:, 2]


def _as_bytes(mask: np.ndarray) -> np.ndarray:
    """A bool array as uint8 of the same shape, without copying where it can."""
    return mask.view(np.uint8) if mask.dtype == np.bool_ else np.asarray(mask, np.uint8)


def changed_pixels(indices: np.ndarray, colours: np.ndarray, opaque: np.ndarray, has_mask: bool,
                   screen: np.ndarray, tolerance: int) -> tuple[np.ndarray, int, int, int, int]:
    """Where a frame changes what is on screen, and the rectangle around those places.

    Args:
        indices: uint8 (H, W) the frame's palette indices.
        colours: uint32 (K,) its palette, packed (:func:`pack_colours`).
        opaque: bool (H, W) where the frame is opaque; read only when ``has_mask``.
        screen: uint32 (H, W) the screen model: packed colours, :data:`EMPTY` where nothing shows.
        tolerance: an opaque pixel within this RGB distance of the screen's counts as unchanged (0: exact).

    Returns:
        ``(changed, top, bottom, left, right)``: bool (H, W), and the smallest
        rectangle holding every changed pixel, rows ``top:bottom``, columns
        ``left:right`` (``bottom`` is 0 when nothing changed).
    """
    return _screen_cy.changed_pixels(np.ascontiguousarray(indices), colours, np.ascontiguousarray(_as_bytes(opaque)),
                                     has_mask, screen, tolerance)


def paint_screen(screen: np.ndarray, shown: np.ndarray, colours: np.ndarray, drawn_where: np.ndarray,
                 transparent: int, top: int, left: int) -> None:
    """Draw a frame's rectangle onto the model of the screen, in place.

    Args:
        screen: uint32 (H, W) the screen model (see :func:`changed_pixels`).
        shown: uint8 (h, w) the indices a decoder shows in the rectangle at (``top``, ``left``).
        colours: uint32 (K,) their packed colours.
        drawn_where: bool (h, w) the pixels drawn when the frame has no transparent index.
        transparent: the frame's transparent index (its pixels leave the screen as it is), or -1.
    """
    _screen_cy.paint_screen(screen, np.ascontiguousarray(shown), colours, _as_bytes(drawn_where), transparent,
                            top, left)


def continue_runs(indices: np.ndarray, hidden: np.ndarray, unchanged: np.ndarray, transparent: int) -> np.ndarray:
    """Write hidden pixels as transparent, except unchanged ones that continue a run in their own colour.

    The greedy counterpart of :func:`fill_hidden`; all arrays (h, w), uint8 indices and bool masks.
    """
    flat = [np.ascontiguousarray(_as_bytes(a)).reshape(-1) for a in (indices, hidden, unchanged)]
    return _screen_cy.continue_runs(*flat, transparent).reshape(indices.shape)


def fill_hidden(indices: np.ndarray, hidden: np.ndarray, unchanged: np.ndarray, transparent: int) -> np.ndarray:
    """Write hidden pixels (bool (h, w)) so that the scan has as few value changes as possible.

    Unchanged pixels (bool (h, w)) may be written as ``transparent`` or as their
    own index; other hidden pixels must be transparent. Returns uint8 (h, w).
    """
    flat = [np.ascontiguousarray(_as_bytes(a)).reshape(-1) for a in (indices, hidden, unchanged)]
    return _screen_cy.fill_hidden(*flat, transparent).reshape(indices.shape)


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


class AnimationWriter:
    """Writes an animated GIF to a binary file, one :class:`IndexedFrame` at a time.

    Args:
        out: writable binary file.
        width, height: canvas size in pixels.
        global_palette: uint8 (K, 3) written as the global colour table (frames
            with this very palette need no local table), or None.
        loop: 0 plays forever, N > 0 plays N + 1 times in all, -1 plays once
            (no loop block).
        comment: text for a comment extension, or None.
        spare_slot: size colour tables with room for one more entry than the
            palette, so a transparent index always exists (needed for clips with
            transparent pixels). Without it, each frame uses as its transparent
            index any entry its own pixels do not use, and a palette of exactly
            2**n colours keeps an n-bit table.
        lossy: 0 writes exactly; N > 0 lets LZW show a pixel in a colour up to N
            (RGB distance) away when that lengthens a match, and counts a pixel
            whose screen colour is within N of its new colour as unchanged.
    """

    def __init__(self, out: BinaryIO, width: int, height: int, *, global_palette: np.ndarray | None,
                 loop: int = 0, comment: str | None = None, lossy: int = 0, spare_slot: bool = False) -> None:
        self.out = out
        self.spare_slot = spare_slot
        self.lossy = lossy
        self.width = width
        self.height = height
        self.global_palette = global_palette
        self.global_bits = self._bits(global_palette) if global_palette is not None else 0
        self.screen = np.full((height, width), EMPTY, np.uint32)     # what a decoder shows (packed colours)
        self.pending: IndexedFrame | None = None
        # exact frames are encoded on worker threads while the next ones are prepared, and written in order
        workers = available_cores()
        self.encoder = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gifsom-lzw")
        self.encode_ahead = 2 * workers           # frames handed over and not yet written, at most
        self.encoded: deque[Future] = deque()
        self.frames_started = 0
        self.frames_written = 0
        self.bytes_written = 0
        out.write(blocks.header(width, height, global_palette, self.global_bits))
        if loop >= 0:
            out.write(blocks.loop_extension(loop))
        if comment:
            out.write(blocks.comment_extension(comment))

    def add(self, frame: IndexedFrame) -> None:
        """Queue a frame; the previous one is written now that its successor is known."""
        pending = self.pending
        if pending is None:
            self.pending = frame
            return
        if frame.start_cs - pending.start_cs < MIN_DELAY_CS:
            frame.start_cs = pending.start_cs      # too short to be seen: show the newer frame instead
            self.pending = frame
            return
        if self._same_picture(pending, frame):
            return                                 # the pending frame simply lasts longer
        self._write(pending, frame.start_cs - pending.start_cs, frame)
        self.pending = frame

    def close(self, end_cs: int) -> None:
        """Write the last frame (shown until ``end_cs``) and the trailer."""
        if self.pending is not None:
            self._write(self.pending, max(MIN_DELAY_CS, end_cs - self.pending.start_cs), None)
            self.pending = None
        while self.encoded:
            self._emit(self.encoded.popleft().result())
        self.out.write(blocks.TRAILER)
        self.encoder.shutdown()

    def abandon(self) -> None:
        """Stop encoding after a failure: queued frames are dropped, the output is left unfinished."""
        self.encoder.shutdown(cancel_futures=True)
        self.encoded.clear()

    def _bits(self, palette: np.ndarray) -> int:
        return blocks.table_bits(min(len(palette) + (1 if self.spare_slot else 0), 256))

    @staticmethod
    def _same_picture(a: IndexedFrame, b: IndexedFrame) -> bool:
        if (a.mask is None) != (b.mask is None):
            return False
        if a.mask is not None and not same_pixels(a.mask, b.mask):
            return False
        if a.palette is b.palette or same_pixels(a.palette, b.palette):
            return same_pixels(a.indices, b.indices)
        return same_pixels(a.colours(), b.colours())

    def _write(self, frame: IndexedFrame, delay_cs: int, successor: IndexedFrame | None) -> None:
        opaque = np.ones((self.height, self.width), bool) if frame.mask is None else ~frame.mask
        colours = pack_colours(frame.palette)
        changed, top, bottom, left, right = changed_pixels(frame.indices, colours, opaque, frame.mask is not None,
                                                           self.screen, self.lossy)
        box = (top, bottom, left, right) if bottom > 0 else None
        disposal = DISPOSE_NONE
        if successor is not None and successor.mask is not None:
            # the successor needs pixels cleared that will be shown after this frame
            clear = successor.mask & ((self.screen != EMPTY) | opaque)
            if clear.any():
                disposal = DISPOSE_BACKGROUND
                box = _union(box, _bbox(clear))
        if self.frames_started == 0:
            # the first frame covers the canvas: decoders disagree on what an area no frame drew shows
            # (browsers: transparent; Pillow, ffmpeg and ImageMagick: the background colour)
            box = (0, self.height, 0, self.width)
        elif box is None:
            box = (0, 1, 0, 1)                     # nothing changed: a 1x1 frame keeps the timing
        self.frames_started += 1
        top, bottom, left, right = box
        rect = (slice(top, bottom), slice(left, right))

        palette = frame.palette
        is_global = self.global_palette is not None and (
            palette is self.global_palette or np.array_equal(palette, self.global_palette))
        bits = self.global_bits if is_global else self._bits(palette)

        indices = frame.indices[rect].copy()
        # opaque pixels already showing the right colour may be left to the screen
        keep = ~changed[rect] & opaque[rect]
        if disposal == DISPOSE_BACKGROUND:
            keep[:] = False                        # the frame is cleared afterwards; draw it whole
        hidden = keep | ~opaque[rect]
        # any table entry the pixels drawn by this frame do not use can serve as its transparent index
        used = np.bincount(indices[~hidden], minlength=1 << bits) > 0
        free = np.flatnonzero(~used[: 1 << bits])
        spare = int(free[0]) if len(free) else None    # the lowest keeps LZW's code size small
        if spare is None and not bool(opaque[rect].all()):
            raise ValueError("a frame with transparent pixels needs a palette with a free slot")
        image = _FrameImage(indices, hidden, keep, spare, left, top, bits, None if is_global else palette,
                            palette, self.lossy, delay_cs, disposal)
        if self.lossy:
            # lossy LZW decides what is shown: encode now, then paint what the decoder will see
            chunk, shown, transparent_index = image.encode(self.encoder)
            self._emit(chunk)
            paint_screen(self.screen, shown, colours, opaque[rect],
                         -1 if transparent_index is None else transparent_index, top, left)
        else:
            # every candidate shows the same picture, so the screen moves on while a worker encodes
            self.encoded.append(self.encoder.submit(image.chunk))
            paint_screen(self.screen, indices, colours, ~hidden, -1, top, left)
            while len(self.encoded) > self.encode_ahead or (self.encoded and self.encoded[0].done()):
                self._emit(self.encoded.popleft().result())
        if disposal == DISPOSE_BACKGROUND:
            self.screen[rect] = EMPTY

    def _emit(self, chunk: bytes) -> None:
        self.out.write(chunk)
        self.bytes_written += len(chunk)
        self.frames_written += 1


@dataclass
class _FrameImage:
    """One frame's rectangle, ready to be encoded in whichever way comes out smallest.

    Attributes:
        indices: uint8 (h, w) the frame's indices in the rectangle at (``left``, ``top``).
        hidden: bool (h, w) pixels the frame need not draw (unchanged or transparent).
        keep: bool (h, w) the hidden pixels that are unchanged on screen.
        spare: an index no drawn pixel uses (the transparent index), or None.
        bits: size of the colour table in bits; local: the local colour table, or None.
        palette: uint8 (K, 3) the indices' colours; lossy: as for :class:`AnimationWriter`.
        delay_cs, disposal: for the frame's graphic control extension.
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

    def candidates(self) -> list[tuple[np.ndarray, int | None]]:
        """Ways to write the rectangle that show the same picture: ``(indices, transparent index)``."""
        hidden, keep, spare = self.hidden, self.keep, self.spare
        found = []
        mostly_unchanged = keep.mean() > 0.5
        # exact LZW: writing every pixel only pays where most of the rectangle changed (it never
        # won otherwise on the fixture clips; with lossy LZW it does). Impossible when some pixel
        # must stay transparent.
        if (self.lossy or not mostly_unchanged) and not (hidden & ~keep).any():
            # a frame cleared afterwards names a transparent index even when it draws every pixel:
            # Pillow and ffmpeg clear to it, and to the opaque background colour without one
            found.append((self.indices, spare if self.disposal == DISPOSE_BACKGROUND else None))
        if spare is not None and hidden.any():
            transparent = self.indices.copy()
            transparent[hidden] = spare
            found.append((transparent, spare))
            if mostly_unchanged:      # worth more tries only where much of the rectangle is unchanged
                found.append((continue_runs(self.indices, hidden, keep, spare), spare))
                found.append((fill_hidden(self.indices, hidden, keep, spare), spare))
        if not found:                 # no spare index to hide pixels with: every pixel is written
            found.append((self.indices, spare if self.disposal == DISPOSE_BACKGROUND else None))
        return found

    def encode(self, pool: ThreadPoolExecutor | None = None) -> tuple[bytes, np.ndarray, int | None]:
        """The frame's graphic control extension and its smallest image block:
        ``(bytes, indices a decoder shows, transparent index)``.

        With a ``pool``, the candidates are encoded on its threads at once.
        """
        candidates = self.candidates()

        def image(c: np.ndarray, t: int | None) -> tuple[bytes, np.ndarray]:
            return blocks.image(c, self.left, self.top, self.bits, self.local, palette=self.palette,
                                lossy=self.lossy, transparent=t)

        if pool is None or len(candidates) == 1:
            encoded = [image(c, t) for c, t in candidates]
        else:
            encoded = [job.result() for job in [pool.submit(image, c, t) for c, t in candidates]]
        best = min(range(len(encoded)), key=lambda n: len(encoded[n][0]))
        data, shown = encoded[best]
        if not self.lossy:
            # the same pixels parsed with one step of lookahead: kept when that is smaller
            parsed, _ = blocks.image(candidates[best][0], self.left, self.top, self.bits, self.local, lookahead=True)
            if len(parsed) < len(data):
                data = parsed
        transparent_index = candidates[best][1]
        return blocks.graphic_control(self.delay_cs, self.disposal, transparent_index) + data, shown, transparent_index

    def chunk(self) -> bytes:
        """The bytes of :meth:`encode` alone."""
        return self.encode()[0]
