"""The frame optimiser: turns full indexed frames into the fewest GIF bytes that show them.

:class:`AnimationWriter` keeps the order and timing: identical frames are
merged by adding their delays, frames shorter than 2 cs are dropped in favour
of the next, and writing lags one frame behind, because a frame's disposal
(and its delay) depend on the frame that follows it. Each frame is planned
against the model of the screen (:mod:`.screen_model`: only the changed
rectangle, unchanged pixels left to the screen) and encoded by
:mod:`.plan_encoding` (several candidates, the smallest kept, on worker threads).
The encoded frames wait in a temporary file until the writer closes, when the
global colour table is put in the order that gives them the shortest codes
(:mod:`.palette_order`) and the GIF is written to its file.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import IO, BinaryIO

import numpy as np

from ..frames import same_pixels
from . import blocks
from .palette_order import DrawnIndices, choose_order, renumbered_frame, reordered_table, uses_global_table
from .plan_encoding import PlanEncoder
from .screen_model import FramePlan, IndexedFrame, ScreenModel, union_box
from .timing import MIN_DELAY_CS

__all__ = ["AnimationWriter", "IndexedFrame"]

#: Encoded frames wait in memory up to this many bytes, then in a temporary file: kept in memory, the
#: 13 MB GIF of the bench's pan clip took the conversion's peak memory from 109 to 131 MB (110 with 1 MB).
FRAMES_IN_MEMORY = 1 << 20


class AnimationWriter:
    """Writes an animated GIF to a binary file, one :class:`IndexedFrame` at a time.

    Nothing reaches ``out`` before :meth:`close`, which writes the whole GIF.

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
        reorder: put the global colour table in the order that gives frames the shortest codes
            (:mod:`.palette_order`); False keeps the palette's order.
        reorder_up_to: reorder only GIFs of at most this many bytes of frames (None: any); renaming the
            frames' codes takes about 8 ms a MB, after the last frame.
        every_way: try every way of writing each lossy rectangle under
            :data:`.plan_encoding.PARALLEL_CANDIDATE_PIXELS` pixels, whatever recent frames say (see
            :class:`.plan_encoding.PlanEncoder`).
        mapped_ahead: the caller's frames are mapped on another thread, so :meth:`add` encodes a lossy frame
            on the caller's thread (else on a worker, while the caller maps the next frame).
        lookahead_only: parse exact rectangles written one way with lookahead alone (camera video; see
            :class:`.plan_encoding.PlanEncoder`).
    """

    def __init__(self, out: BinaryIO, width: int, height: int, *, global_palette: np.ndarray | None,
                 loop: int = 0, comment: str | None = None, lossy: int = 0, spare_slot: bool = False,
                 reorder: bool = True, reorder_up_to: int | None = None,
                 every_way: bool = False, mapped_ahead: bool = False, lookahead_only: bool = False) -> None:
        self.out = out
        self.lossy = lossy
        self.width, self.height, self.loop, self.comment = width, height, loop, comment
        self.model = ScreenModel(width, height, global_palette=global_palette, spare_slot=spare_slot, lossy=lossy)
        self.encoder = PlanEncoder(self._emit, every_way, lossy_on_caller=mapped_ahead, lookahead_only=lookahead_only)
        self.pending: IndexedFrame | None = None
        self.frames_written = 0
        self.bytes_written = 0
        self._started: FramePlan | None = None      # a lossy plan being encoded
        # where the pending frame differs from the last frame planned, as far as the frames say (None: unknown)
        self._pending_changed: tuple[int, int, int, int] | None = None
        #: Bytes of each frame written (graphic control and image), in order.
        self.frame_sizes: list[int] = []
        self._frames = tempfile.SpooledTemporaryFile(FRAMES_IN_MEMORY, prefix="gifsom-frames-")
        #: per frame emitted, what it draws of the global table (None: a table of its own, or unreadable)
        self._drawn: list[DrawnIndices | None] = []
        self._global: list[bool] = []           # per frame emitted, whether it uses the global table
        self.reorder = reorder
        self.reorder_up_to = reorder_up_to

    @property
    def global_palette(self) -> np.ndarray | None:
        """uint8 (K, 3): the global colour table's colours, or None."""
        return self.model.global_palette

    def preamble(self, order: np.ndarray | None = None) -> bytes:
        """The header, global colour table (its entries moved by ``order``, see
        :func:`.palette_order.choose_order`), loop and comment blocks that come before the frames."""
        palette, background = self.model.global_palette, 0
        if palette is not None and order is not None:
            palette = reordered_table(palette, 1 << self.model.global_bits, order)
            background = int(order[0])       # the same colour as before, for decoders that clear to it
        data = blocks.header(self.width, self.height, palette, self.model.global_bits, background)
        if self.loop >= 0:
            data += blocks.loop_extension(self.loop)
        if self.comment:
            data += blocks.comment_extension(self.comment)
        return data

    def grow_global(self, palette: np.ndarray) -> None:
        """Make ``palette`` (K, 3), which starts with every entry of the global palette in its order, the global
        colour table (see :meth:`ScreenModel.grow_global`)."""
        self._finish_lossy()
        self.model.grow_global(palette)

    def add(self, frame: IndexedFrame) -> None:
        """Queue a frame; the previous one is written now that its successor is known."""
        pending = self.pending
        if pending is None:
            self.pending = frame
            self._pending_changed = None
            return
        if frame.start_cs - pending.start_cs < MIN_DELAY_CS:
            # too short to be seen: show the newer frame from the older one's start
            self.pending = frame._replace(start_cs=pending.start_cs)
            self._pending_changed = union_box(self._pending_changed, frame.changed)
            return
        if self._same_picture(pending, frame):
            return                                 # the pending frame simply lasts longer
        self._write(pending, frame.start_cs - pending.start_cs, frame)
        self.pending = frame
        self._pending_changed = frame.changed      # against the frame just planned

    def close(self, end_cs: int) -> None:
        """Write the last frame (shown until ``end_cs``), then the whole GIF to ``out``."""
        if self.pending is not None:
            self._write(self.pending, max(MIN_DELAY_CS, end_cs - self.pending.start_cs), None)
            self.pending = None
        self._finish_lossy()
        self.encoder.close()
        frames: IO[bytes] = self._frames
        within = self.reorder_up_to is None or self.bytes_written <= self.reorder_up_to
        order = self._order() if self.reorder and within else None
        renumbered = None if order is None else self._renumbered(order)
        if renumbered is not None and sum(renumbered[1]) < self.bytes_written:
            frames, self.frame_sizes, self.bytes_written = renumbered[0], renumbered[1], sum(renumbered[1])
            self._frames.close()
        else:
            order = None
            if renumbered is not None:
                renumbered[0].close()
        self.out.write(self.preamble(order))
        frames.seek(0)
        shutil.copyfileobj(frames, self.out, 1 << 20)
        frames.close()
        self.out.write(blocks.TRAILER)

    def _order(self) -> np.ndarray | None:
        """The global table's new order (see :func:`.palette_order.choose_order`), or None where there is no
        global table, or a frame's codes could not be read."""
        if self.model.global_palette is None or any(g and d is None for g, d in zip(self._global, self._drawn)):
            return None
        on_global = [drawn for drawn, is_global in zip(self._drawn, self._global) if is_global and drawn is not None]
        return choose_order(on_global, 1 << self.model.global_bits)

    def _renumbered(self, order: np.ndarray) -> tuple[IO[bytes], list[int]] | None:
        """The frames for the global table reordered by ``order``, in a temporary file, and their sizes; None
        where a frame cannot be renumbered (see :func:`.palette_order.renumbered_frame`)."""
        renumbered = tempfile.SpooledTemporaryFile(FRAMES_IN_MEMORY, prefix="gifsom-frames-")
        sizes = []
        self._frames.seek(0)
        for size, drawn, is_global in zip(self.frame_sizes, self._drawn, self._global):
            frame = self._frames.read(size)
            if is_global:
                assert drawn is not None, "every frame on the global table was read (see _order)"
                moved = renumbered_frame(frame, drawn, order)
                if moved is None:
                    renumbered.close()
                    return None
                frame = moved
            renumbered.write(frame)
            sizes.append(len(frame))
        return renumbered, sizes

    def abandon(self) -> None:
        """Stop encoding after a failure: queued frames are dropped, nothing is written."""
        self.encoder.abandon()
        self._frames.close()

    @staticmethod
    def _same_picture(a: IndexedFrame, b: IndexedFrame) -> bool:
        if b.keep is not None:
            return bool(b.keep.all())             # a frame that leaves everything to the screen
        if (a.mask is None) != (b.mask is None):
            return False
        if a.mask is not None and b.mask is not None and not same_pixels(a.mask, b.mask):
            return False
        if a.palette is b.palette or same_pixels(a.palette, b.palette):
            return same_pixels(a.indices, b.indices)
        return a.shows_what(b)

    def _write(self, frame: IndexedFrame, delay_cs: int, successor: IndexedFrame | None) -> None:
        self._finish_lossy()
        plan = self.model.plan(frame, delay_cs, successor, self._pending_changed)
        if self.lossy:
            # lossy LZW decides what is shown: the model learns it before the next plan (_finish_lossy), and
            # unless frames are mapped ahead, the caller maps the next frame while a worker encodes this one
            self.encoder.start(plan)
            self._started = plan
        else:
            # every candidate shows the same picture, so the model moves on while a worker encodes
            self.encoder.later(plan)
            self.model.show(plan)

    def _finish_lossy(self) -> None:
        """Show the model what the decoder shows of the lossy plan being encoded, if any."""
        if self._started is not None:
            plan, self._started = self._started, None
            self.model.show(plan, *self.encoder.finish())

    def _emit(self, chunk: bytes, drawn: DrawnIndices | None) -> None:
        self._frames.write(chunk)
        self._global.append(uses_global_table(chunk))
        self._drawn.append(drawn)
        self.bytes_written += len(chunk)
        self.frame_sizes.append(len(chunk))
        self.frames_written += 1
