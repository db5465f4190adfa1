"""Encoding while frames still arrive, so that the GIF is ready moments after the last one.

:class:`LiveEncoder` reads frames from the collector's spool on a thread of its
own as soon as they are spooled. The clip is cut into *segments*, each with one
palette:

1. A segment starts by learning its palette from its first
   :data:`WARM_UP_FRAMES` frames (their exact colours when those fit, as the
   batch encoder does for a whole clip), then maps and writes them.
2. Later frames are mapped and written at once, while the palette still serves:
   - an exact palette serves while frames bring no new colour; one that does
     is added to the palette while it has room, and only past 256 colours does
     a learned segment start;
   - a learned palette serves until the picture cuts (the survey's scene test)
     or drifts away from it: frames whose mean error against it (probed on every
     :data:`PROBE_STEP`-th pixel of every such row) exceeds :data:`DRIFT_FACTOR`
     times the error of the frames it was learned on, plus :data:`DRIFT_FLOOR`.
3. The first segment's palette is the GIF's global colour table; later
   segments write local tables. The writer keeps the frames until the take
   ends and writes the header last (:class:`gifsom.gif.animation.AnimationWriter`),
   so an exact palette can grow to the end of the clip without a local table in
   any frame.

Every decision depends on the frames alone, never on timing: the same frames
give the same GIF. A clip that ends within the first warm-up is encoded by
:func:`gifsom.encoder.write_clip`, exactly as after the take.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import numpy as np

from .clip import Clip
from .colours.nearest import SortedPalette
from .colours.packed import among, pack_colours
from .encoder import (MOSTLY_CHANGING, converges, converging_mapper, exact_size, fitting_colours, learn_from,
                      new_survey, own_palette, palette_size, quality_asks_frame_palettes, split_alpha, write_clip)
from .gif.animation import AnimationWriter, IndexedFrame
from .gif.timing import start_cs
from .mapping.converge import ConvergingMapper
from .mapping.stage import FrameMapper
from .options import EncodeOptions
from .palette.clip import ClipSurvey, coarse_histogram, is_cut, opaque_pixels
from .palette.histogram import colour_histogram
from .spool import FrameSpool
from .threads import available_cores
from .timeline import TimelineEdits, TimelineView, edit

#: Frames each palette is learned from before its frames are written: the most frames left to
#: encode when the input ends (besides those not yet read).
WARM_UP_FRAMES = 10
#: A learned palette is replaced when a frame maps this many times worse than the frames it was learned on ...
#: (on the bench's scrolling page, 1.3 and 5 kept PSNR 0.06 dB above the palette learned from the whole clip for
#: 0.6% fewer bytes, where 2 and 25 lost 0.92 dB; the video clips never drift that far)
DRIFT_FACTOR = 1.3
#: ... plus this mean squared RGB distance (so that a near-perfect palette is not replaced for noise).
DRIFT_FLOOR = 5.0
#: The drift is judged on every this many pixels of every this many rows.
PROBE_STEP = 4
#: The most bytes of frames whose global table is reordered for short codes at Stop
#: (:mod:`gifsom.gif.palette_order`): renaming their codes runs at about 125 MB/s on one core, so a GIF of
#: this size is on disk about half a second after Stop (a 60 s take of a scrolling terminal, 33 MB: 0.35 s).
LIVE_REORDER_BYTES = 64 << 20


class LiveEncoder:
    """Encodes the frames of ``spool`` into ``out`` while they are spooled.

    Call :meth:`frames_spooled` after each frame is spooled, then :meth:`finish` once with the
    end time, or :meth:`abandon`. All the work runs on the encoder's own thread.

    Args:
        out: binary file positioned at its start; it holds the whole GIF once :meth:`finish` returns.
        spool: the spool frames go into (read here by number; written only by the collector).
        options: encoding options.
        edits: the idle cap and a longer last frame, applied as frames arrive (the edits that need the
            whole clip, reverse and boomerang, are not taken).
    """

    def __init__(self, out: BinaryIO, spool: FrameSpool, options: EncodeOptions,
                 edits: TimelineEdits = TimelineEdits()) -> None:
        if edits.reverse or edits.boomerang:
            raise ValueError("reverse and boomerang need the whole clip: encode it after the last frame")
        self.out = out
        self.spool = spool
        self.options = options
        self.edits = edits
        #: Frames and bytes written, once finished.
        self.frames_written = 0
        self.bytes_written = 0
        self._arrived = threading.Condition()
        self._spooled = 0
        self._end_time: float | None = None
        self._stopping = False
        self._failure: BaseException | None = None
        self._transparent = spool.shape[2] == 4
        self._size = palette_size(options, animated=True)
        self._exact = exact_size(options, self._transparent)
        self._first_survey = new_survey(options)
        self._survey: ClipSurvey | None = self._first_survey     # of the segment warming up, or None
        self._waiting: list[tuple[int, float]] = []                  # its frames: (number, start in seconds)
        self._shown_from = 0.0          # when the picture on show starts, on the GIF's timeline (seconds)
        self._taken_from = 0.0          # ... and on the source's
        self._per_frame = options.palette is not None and options.palette_scope == "frame"
        self._converging: ConvergingMapper | None = None    # the quality's palettes per frame for a still clip
        self._palette: np.ndarray | None = None
        self._mapper: FrameMapper | None = None
        self._exact_keys: np.ndarray | None = None     # sorted keys of an exact palette; None for a learned one
        self._sorted: SortedPalette | None = None
        self._baseline = 0.0
        self._histogram: np.ndarray | None = None
        self._writer: AnimationWriter | None = None
        self._own_pool: ThreadPoolExecutor | None = None         # workers for palettes per frame
        self._own_waiting: deque = deque()                        # (start, source, mask, job) in display order
        self._thread = threading.Thread(target=self._run, name="gifsom-live", daemon=True)
        self._thread.start()

    def frames_spooled(self, count: int) -> None:
        """The spool now holds ``count`` frames."""
        with self._arrived:
            self._spooled = count
            self._arrived.notify()

    def finish(self, end_time: float) -> None:
        """Encode what is left (the last frame shows until ``end_time`` seconds) and complete the GIF in ``out``.
        Raises whatever stopped the encoder."""
        with self._arrived:
            self._end_time = end_time
            self._arrived.notify()
        self._thread.join()
        if self._failure is not None:
            raise self._failure

    def abandon(self) -> None:
        """Stop at once; ``out`` is left unfinished."""
        with self._arrived:
            self._stopping = True
            self._arrived.notify()
        self._thread.join()
        if self._writer is not None:
            self._writer.abandon()
        self._release()

    def _run(self) -> None:
        number = 0
        try:
            while True:
                with self._arrived:
                    self._arrived.wait_for(lambda: number < self._spooled or self._end_time is not None
                                           or self._stopping)
                    if self._stopping:
                        return
                    if number >= self._spooled:
                        break                   # the end time is known and every frame was taken
                self._take(number)
                number += 1
            assert self._end_time is not None
            self._complete(self._end_time)
        except BaseException as exc:            # raised again by finish()
            self._failure = exc
            if self._writer is not None:
                self._writer.abandon()
        finally:
            if self._failure is not None or self._stopping:
                self._release()

    # -- one frame ---------------------------------------------------------------------------------

    def _start(self, number: int) -> float | None:
        """When frame ``number`` starts on the GIF's timeline, in seconds, or None for a frame the idle cap
        joins to the one before (see :func:`gifsom.timeline.edit`, which does the same after the take)."""
        taken = self.spool.timestamps[number]
        if self.edits.max_idle is None:
            return taken
        if number > 0 and self.spool.repeats[number]:
            return None
        if number > 0:
            self._shown_from += min(taken - self._taken_from, self.edits.max_idle)
        self._taken_from = taken
        return self._shown_from

    def _end(self, end_time: float) -> float:
        """When the last frame stops showing on the GIF's timeline, in seconds."""
        last = end_time if self.edits.max_idle is None else \
            self._shown_from + min(end_time - self._taken_from, self.edits.max_idle)
        return last + (self.edits.hold_last or 0.0)

    def _take(self, number: int) -> None:
        start = self._start(number)
        if start is None:
            return
        pixels = self.spool.frame(number)
        if self._survey is not None:                      # warming up
            self._survey.add(pixels)
            self._waiting.append((number, start))
            if len(self._waiting) >= WARM_UP_FRAMES:
                self._settle()
            return
        rgb, mask = split_alpha(pixels, self.options.matte)
        if self._per_frame:
            self._write_own(start, rgb, mask)
            return
        if self._converging is not None:
            self._gif.add(self._converging.frame(rgb, start_cs(start)))
            return
        if self._exact_keys is not None:
            if not self._still_exact(pixels):
                self._start_segment(number, start, pixels)
                return
        elif self._moved_on(rgb, mask):
            self._start_segment(number, start, pixels)
            return
        self._write(start, rgb, mask)

    def _start_segment(self, number: int, start: float, pixels: np.ndarray) -> None:
        self._survey = ClipSurvey(census_limit=self.options.palette_colors)
        self._survey.add(pixels)
        self._waiting = [(number, start)]
        self._mapper = None

    def _settle(self) -> None:
        """Learn the warming-up segment's palette, then write its frames."""
        survey, waiting = self._survey, self._waiting
        assert survey is not None, "a segment is warming up"
        self._survey, self._waiting = None, []
        if self._writer is None:
            # the content is judged on the first warm-up, as the batch encoder judges it on the clip
            self.options = self.options.for_clip(survey.content)
            self._size = palette_size(self.options, animated=True)
            self._exact = exact_size(self.options, self._transparent)
        census = fitting_colours(survey.census.colours(), self._exact)
        if self._writer is None and census is None and quality_asks_frame_palettes(self.options) \
                and survey.changed_share >= MOSTLY_CHANGING:
            self._per_frame = True           # the quality's palette per frame, in a clip that keeps changing
        if self._per_frame:
            self._open_writer(None)
            for number, start in waiting:
                self._write_own(start, *split_alpha(self.spool.frame(number), self.options.matte))
            return
        palette = learn_from(survey.sampler.pixels(), census, self.options, self._size, self._exact)
        self._use(palette, exact=census is not None)
        if self._writer is None:
            if quality_asks_frame_palettes(self.options) and converges(self.options, census, self.spool.shape[2]):
                # the quality's palette per frame, in a clip that mostly stays still: later frames' own
                # palettes fix what this one shows wrong, as in the batch encoder
                self._converging = converging_mapper(palette, self.options)
            self._open_writer(palette)
        frames = [(start, *split_alpha(self.spool.frame(number), self.options.matte)) for number, start in waiting]
        if self._converging is not None:
            for start, rgb, _ in frames:
                self._gif.add(self._converging.frame(rgb, start_cs(start)))
            return
        if self._sorted is not None:
            self._baseline = float(np.mean([self._probe_error(rgb, mask) for _, rgb, mask in frames]))
            self._histogram = coarse_histogram(frames[-1][1])
        for start, rgb, mask in frames:
            self._write(start, rgb, mask)

    def _use(self, palette: np.ndarray, *, exact: bool) -> None:
        self._palette = palette
        self._mapper = FrameMapper(palette, self.options.mapping_options(exact))
        self._exact_keys = np.sort(pack_colours(palette)) if exact else None
        self._sorted = None if exact else SortedPalette.of(palette)

    def _still_exact(self, pixels: np.ndarray) -> bool:
        """Whether the exact palette holds every colour of ``pixels``, after growing it if needed and possible."""
        palette, known = self._palette, self._exact_keys
        assert palette is not None and known is not None, "an exact segment's palette"
        found = colour_histogram(opaque_pixels(pixels), limit=self._exact)
        if found is None:
            return False
        colours, counts = found
        new = ~among(pack_colours(colours), known)
        if not new.any():
            return True
        if len(palette) + int(new.sum()) > self._exact:
            return False
        added = colours[new][np.argsort(-counts[new], kind="stable")]
        grown = np.concatenate([palette, added])
        if self._gif.global_palette is palette:
            self._gif.grow_global(grown)                 # earlier frames' indices keep their colours
        self._use(grown, exact=True)
        return True

    def _moved_on(self, rgb: np.ndarray, mask: np.ndarray | None) -> bool:
        """Whether a learned palette no longer serves: the picture cut, or drifted from it."""
        histogram = coarse_histogram(rgb)
        assert self._histogram is not None, "a learned segment's last picture"
        cut = is_cut(self._histogram, histogram)
        self._histogram = histogram
        return cut or self._probe_error(rgb, mask) > DRIFT_FACTOR * self._baseline + DRIFT_FLOOR

    def _probe_error(self, rgb: np.ndarray, mask: np.ndarray | None) -> float:
        """Mean squared RGB distance from the probed opaque pixels to their nearest palette entries."""
        probe = rgb[::PROBE_STEP, ::PROBE_STEP]
        if mask is not None:
            probe = probe[~mask[::PROBE_STEP, ::PROBE_STEP]]
        if probe.size == 0:
            return 0.0
        assert self._sorted is not None, "a learned segment's palette"
        _, first, _ = self._sorted.assign(probe.reshape(-1, 3))
        return float(first.mean())

    def _write(self, start: float, rgb: np.ndarray, mask: np.ndarray | None) -> None:
        """Map a frame that starts at ``start`` seconds to the segment's palette and write it."""
        assert self._mapper is not None and self._palette is not None, "a settled segment"
        self._gif.add(IndexedFrame(self._mapper.map(rgb), self._palette, start_cs(start), mask,
                                   source=self.options.lossy_source(rgb)))

    def _write_own(self, start: float, rgb: np.ndarray, mask: np.ndarray | None) -> None:
        """A frame with a palette of its own: learned and mapped on a worker thread (frames share nothing), and
        written in order as the workers finish, at most one frame per core ahead."""
        if self._own_pool is None:
            self._own_pool = ThreadPoolExecutor(max_workers=available_cores(), thread_name_prefix="gifsom-own")
        self._own_waiting.append((start, self.options.lossy_source(rgb), mask, self._own_pool.submit(
            own_palette, rgb, mask, self.options, self._size, self._exact)))
        self._write_finished_own(keep=available_cores())

    def _write_finished_own(self, keep: int) -> None:
        """Write the frames with palettes of their own, in order, until at most ``keep`` are waiting."""
        while len(self._own_waiting) > keep:
            start, source, mask, job = self._own_waiting.popleft()
            indices, palette = job.result()
            self._gif.add(IndexedFrame(indices, palette, start_cs(start), mask, source=source))

    @property
    def _gif(self) -> AnimationWriter:
        """The frames' writer, opened when the first palette is learned."""
        assert self._writer is not None, "frames are written once the first palette is learned"
        return self._writer

    def _open_writer(self, global_palette: np.ndarray | None) -> None:
        height, width, channels = self.spool.shape
        # the writer keeps the frames until it closes, when the global palette has stopped growing
        self._writer = AnimationWriter(self.out, width, height, global_palette=global_palette,
                                       loop=self.options.loop, comment=self.options.comment,
                                       lossy=self.options.lossy_level, spare_slot=channels == 4,
                                       reorder_up_to=LIVE_REORDER_BYTES)

    # -- the end -----------------------------------------------------------------------------------

    def _complete(self, end_time: float) -> None:
        if self._writer is None:
            # the clip ended within the first warm-up: the batch encoder sees the very same survey
            clip: Clip = self.spool
            if self.edits.any:
                timeline = edit(self.spool.timestamps, end_time, self.spool.repeats, self.edits)
                clip, end_time = TimelineView(self.spool, timeline.numbers, timeline.timestamps), timeline.end_time
            writer = write_clip(self.out, clip, self._first_survey, self.options, end_time)
            self.frames_written = writer.frames_written
            self.bytes_written = self.out.tell()
            return
        if self._survey is not None:
            self._settle()
        self._write_finished_own(keep=0)
        self._writer.close(start_cs(self._end(end_time)))
        self._release()
        self.frames_written = self._writer.frames_written
        self.bytes_written = self.out.tell()

    def _release(self) -> None:
        """Stop the palette-per-frame workers."""
        if self._own_pool is not None:
            self._own_pool.shutdown(wait=True, cancel_futures=True)
            self._own_pool = None
