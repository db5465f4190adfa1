"""The frame optimiser: turns full indexed frames into the fewest GIF bytes that show them.

:class:`AnimationWriter` keeps the order and timing: identical frames are
merged by adding their delays, frames shorter than 2 cs are dropped in favour
of the next, and writing lags one frame behind, because a frame's disposal
(and its delay) depend on the frame that follows it. Each frame is planned
against the model of the screen (:mod:`.screen_model`: only the changed
rectangle, unchanged pixels left to the screen) and encoded by
:mod:`.plan_encoding` (several candidates, the smallest kept, on worker threads).
"""

from __future__ import annotations

import dataclasses
from typing import BinaryIO

import numpy as np

from ..frames import same_pixels
from . import blocks
from .plan_encoding import PlanEncoder
from .screen_model import FramePlan, IndexedFrame, ScreenModel, union_box
from .timing import MIN_DELAY_CS

__all__ = ["AnimationWriter", "IndexedFrame"]


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
        preamble_later: write no header to ``out``: the caller writes :meth:`preamble` before the
            frames itself, once the global palette has stopped growing (see :meth:`grow_global`).
    """

    def __init__(self, out: BinaryIO, width: int, height: int, *, global_palette: np.ndarray | None,
                 loop: int = 0, comment: str | None = None, lossy: int = 0, spare_slot: bool = False,
                 preamble_later: bool = False) -> None:
        self.out = out
        self.lossy = lossy
        self.width, self.height, self.loop, self.comment = width, height, loop, comment
        self.model = ScreenModel(width, height, global_palette=global_palette, spare_slot=spare_slot, lossy=lossy)
        self.encoder = PlanEncoder(self._emit)
        self.pending: IndexedFrame | None = None
        self.frames_written = 0
        self.bytes_written = 0
        self._started: FramePlan | None = None      # a lossy plan being encoded
        # where the pending frame differs from the last frame planned, as far as the frames say (None: unknown)
        self._pending_changed: tuple[int, int, int, int] | None = None
        #: Bytes of each frame written (graphic control and image), in order.
        self.frame_sizes: list[int] = []
        if not preamble_later:
            out.write(self.preamble())

    @property
    def global_palette(self) -> np.ndarray | None:
        """uint8 (K, 3): the global colour table's colours, or None."""
        return self.model.global_palette

    def preamble(self) -> bytes:
        """The header, global colour table, loop and comment blocks that come before the frames."""
        data = blocks.header(self.width, self.height, self.model.global_palette, self.model.global_bits)
        if self.loop >= 0:
            data += blocks.loop_extension(self.loop)
        if self.comment:
            data += blocks.comment_extension(self.comment)
        return data

    def grow_global(self, palette: np.ndarray) -> None:
        """Make ``palette`` (K, 3), which starts with every entry of the global palette in its order, the global
        colour table (see :meth:`ScreenModel.grow_global`). Only for a writer whose :meth:`preamble` is written
        last."""
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
            self.pending = dataclasses.replace(frame, start_cs=pending.start_cs)
            self._pending_changed = union_box(self._pending_changed, frame.changed)
            return
        if self._same_picture(pending, frame):
            return                                 # the pending frame simply lasts longer
        self._write(pending, frame.start_cs - pending.start_cs, frame)
        self.pending = frame
        self._pending_changed = frame.changed      # against the frame just planned

    def close(self, end_cs: int) -> None:
        """Write the last frame (shown until ``end_cs``) and the trailer."""
        if self.pending is not None:
            self._write(self.pending, max(MIN_DELAY_CS, end_cs - self.pending.start_cs), None)
            self.pending = None
        self._finish_lossy()
        self.encoder.close()
        self.out.write(blocks.TRAILER)

    def abandon(self) -> None:
        """Stop encoding after a failure: queued frames are dropped, the output is left unfinished."""
        self.encoder.abandon()

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
            # the caller maps the next frame while a worker encodes this one
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

    def _emit(self, chunk: bytes) -> None:
        self.out.write(chunk)
        self.bytes_written += len(chunk)
        self.frame_sizes.append(len(chunk))
        self.frames_written += 1
