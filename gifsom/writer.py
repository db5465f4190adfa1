"""The writer: what other programs call to make GIFs from frames (:class:`GifWriter`, :func:`encode`).

Frames are numpy uint8 arrays of shape (H, W, 3) (RGB) or (H, W, 4) (RGBA;
alpha below 128 is transparent), or PIL images. Timestamps are in seconds
from the start of the clip.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any


from . import checks
from .checks import DEFAULT_MAX_SPOOL
from .clip import Clip
from .collector import Collector
from .encoder import FirstPaletteAhead, new_survey, write_clip
from .errors import InputError
from .fit_terms import FitResult, SizeLimit, size_limit
from .live import LiveEncoder
from .options import EncodeFields, EncodeOptions, with_fields
from .pages import release_scratch
from .palette.clip import ClipSurvey
from .output import AtomicOutput, GifPath, check_gif_path
from .progress import Progress, ProgressCallback
from .sources.base import FrameSource
from .spool import DEFAULT_MEMORY_BUDGET, FrameSpool
from .timeline import TimelineEdits, TimelineView, edit

if TYPE_CHECKING:
    from typing_extensions import Unpack

@dataclass(frozen=True)
class EncodeResult:
    """What :func:`encode` wrote.

    Attributes:
        path: the GIF, or None when it went to standard output (``"-"``).
        frames: GIF frames written (equal consecutive frames are merged into one).
        bytes: size of the GIF in bytes.
        fit: how it was fitted under ``max_size`` (the setting chosen), or None.
    """

    path: Path | None
    frames: int
    bytes: int
    fit: FitResult | None = None


class GifWriter:
    """Write an animated GIF frame by frame.

    Use it as a context manager. Frames are spooled as they arrive (in memory
    up to a budget, then in a temporary file). By default the GIF is encoded when
    the block ends, so that one palette can be learned from the whole clip; with
    ``live=True`` it is encoded while frames arrive (see :mod:`gifsom.live`), so
    that it is ready moments after the last one. If the block raises, or the
    progress callback cancels, no file is written and a file already at ``path``
    is left as it was. One thread should own a writer.

    Args:
        path: where the GIF goes: a name ending in .gif (any case) whose folder exists
            and is writable, or ``"-"`` for standard output. Any other name is refused
            with :class:`gifsom.errors.OptionError` before anything is done.
        fps: frame rate for frames given without a timestamp; None means the
            frames' own timestamps, or 10 fps when they have none.
        progress: ``callback(done, total)`` called while reading and writing
            frames (total is None while appending); returning False cancels.
        bar: draw progress bars on stderr while reading and encoding (None: only on a terminal).
        memory_budget: bytes of frames kept in memory before spooling to disk.
        compress_spool: deflate spooled frames: True always (screen recordings shrink many times
            over), False never, None where it pays (see :class:`gifsom.spool.FrameSpool`).
        max_spool: refuse (with :class:`gifsom.errors.ResourceError`) a clip whose raw
            frames would take more bytes than this.
        max_size: the most bytes the GIF may have: an int, a size such as ``"10M"``, ``"128K"`` or
            ``"1MiB"``, or a :class:`gifsom.fit_terms.SizeLimit` that also caps its size and frame count.
            The best-looking GIF that fits is written, trading lossy LZW,
            colours, scale and frame rate (those given in ``options`` or ``fields`` stay as given;
            see :mod:`gifsom.fit`). When nothing fits, :class:`gifsom.errors.ResourceError` names the
            smallest size reached and nothing is written.
        target: fit a place's published limits, as ``--for`` does: ``"github"``, ``"slack-emoji"``,
            ``"discord"``, ``"discord-emoji"``, ``"twitter"`` (see :mod:`gifsom.presets`); ``max_size``
            overrides its size.
        edits: reverse, boomerang, idle cap and a longer last frame
            (:class:`gifsom.timeline.TimelineEdits`), applied to the whole clip before encoding.
        live: encode while frames arrive. What needs the whole clip first is still encoded after the
            last frame, whatever ``live`` says: a fit under ``max_size`` or ``target``, the edits
            ``reverse`` and ``boomerang``, and ``palette="global"`` asked for by name (:attr:`live`
            says which it is).
        options: an :class:`gifsom.options.EncodeOptions` to start from (default options when None).
        **fields: any field of :class:`gifsom.options.EncodeOptions`, replacing that of ``options``
            (typed by :class:`gifsom.options.EncodeFields`: colors, quality, refine, palette,
            fixed_colors, dither, dither_strength, motion_threshold, temporal, loop, matte,
            comment, lossy).

    Example:
        >>> with GifWriter("out.gif", fps=15) as writer:      # doctest: +SKIP
        ...     for frame in frames:
        ...         writer.append(frame)
    """

    def __init__(self, path: str | os.PathLike | GifPath, fps: float | None = None, *,
                 progress: ProgressCallback | None = None, bar: bool | None = False,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET, compress_spool: bool | None = None,
                 max_spool: int = DEFAULT_MAX_SPOOL, max_size: int | str | SizeLimit | None = None,
                 target: str | None = None, edits: TimelineEdits | None = None, live: bool = False,
                 options: EncodeOptions | None = None, **fields: Unpack[EncodeFields]) -> None:
        if fps is not None:
            checks.frame_rate("fps", fps)
        self.target = check_gif_path(path)
        #: The GIF's path (``Path("-")`` for standard output).
        self.path = self.target.path
        self.fps = fps
        self.options = with_fields(options, fields)
        self.size_limit = size_limit(max_size, target)
        self.edits = edits or TimelineEdits()
        #: Whether the GIF is encoded while frames arrive (``live`` asked for it, and nothing needs the whole clip).
        self.live = live and self.size_limit is None and not needs_whole_clip(self.options, self.edits)
        #: How the GIF was fitted under ``max_size``, once closed (a :class:`gifsom.fit_terms.FitResult`), or None.
        self.fit: FitResult | None = None
        self.progress = progress
        self.bar = bar
        self._survey = None if self.live else new_survey(self.options)
        # a steady camera's first palette, learned while the clip is read (a fit or an edited timeline
        # encodes other first frames)
        self._first_palette = FirstPaletteAhead(self.options) if not self.live and self.size_limit is None \
            and not self.edits.any else None
        self._collector = Collector(fps, survey=self._survey,
                                    reading=Progress("frames read", None, callback=progress, bar=bar),
                                    memory_budget=memory_budget, compress_spool=compress_spool, max_spool=max_spool,
                                    on_frame=self._spooled if self.live else self._first_spooled)
        self._output: AtomicOutput | None = None
        self._live: LiveEncoder | None = None
        self._closed = False
        #: Number of GIF frames written and GIF size in bytes, once closed.
        self.frames_written = 0
        self.bytes_written = 0

    def __enter__(self) -> "GifWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def append(self, frame: Any, pts: float | None = None) -> None:
        """Add a frame.

        Args:
            frame: uint8 (H, W, 3) or (H, W, 4) array, PIL image, or :class:`gifsom.frames.Frame`.
                Every frame must have the size of the first.
            pts: when the frame starts showing, in seconds from the start (non-decreasing);
                None: one frame period after the previous frame.
        """
        self._collector.append(frame, pts)

    def _spooled(self, count: int) -> None:
        """A frame is in the spool: the live encoder (started by the first) may take it."""
        if self._live is None:
            assert self._collector.spool is not None      # it holds the frame just spooled
            self._output = AtomicOutput(self.target)
            out = self._output.__enter__()
            self._live = LiveEncoder(out, self._collector.spool, self.options, self.edits)
        self._live.frames_spooled(count)

    def _first_spooled(self, count: int) -> None:
        """A frame is in the spool: the first frame's palette may start its learning (see
        :meth:`FirstPaletteAhead.frames_spooled`)."""
        if self._first_palette is not None:
            # both are there whenever a first palette is learned ahead (never with a live encoder)
            assert self._collector.spool is not None and self._survey is not None
            self._first_palette.frames_spooled(self._collector.spool, self._survey)

    @property
    def frames_appended(self) -> int:
        """Frames appended so far."""
        return len(self._collector)

    @property
    def spool_bytes(self) -> int:
        """Bytes of frames spooled to disk so far."""
        return 0 if self._collector.spool is None else self._collector.spool.bytes_on_disk

    def close(self, *, end_time: float | None = None) -> None:
        """Encode the frames and move the GIF into place. Closing twice does nothing.

        Args:
            end_time: when the last frame stops showing, in seconds from the start (a source
                that knows it, such as a GIF's last delay); None: one frame period after it starts.
        """
        if self._closed:
            return
        self._closed = True
        try:
            spool = self._collector.spool
            if spool is None or len(spool) == 0:
                raise InputError(f"no frames were given for {str(self.path)!r}; append at least one frame")
            self._collector.reading.close()
            end_time = self._collector.end_time(end_time)
            if self._live is not None and self._output is not None:
                self._finish_live(self._live, self._output, end_time)
                return
            survey = self._survey
            assert survey is not None                  # a writer that is not live surveys every frame
            output = AtomicOutput(self.target)
            clip, end_time = self._edited(spool, end_time)
            if self.size_limit is not None:
                self.fit = self._fitted(clip, survey, end_time, self.size_limit)
                with output as out:
                    out.write(self.fit.data)
                    output.commit()
                self.bytes_written, self.frames_written = len(self.fit.data), self.fit.frames
                return
            with output as out:
                writer = write_clip(out, clip, survey, self.options, end_time,
                                    progress=self.progress, bar=self.bar, first_palette=self._first_palette)
                self.bytes_written = out.tell()
                output.commit(meanwhile=self._release_clip)     # the frames are not needed any more
            self.frames_written = writer.frames_written
        finally:
            self._release()

    def _finish_live(self, live: LiveEncoder, output: AtomicOutput, end_time: float) -> None:
        """Let the live encoder write what is left, then move the GIF into place."""
        self._live = None
        try:
            live.finish(end_time)
        except BaseException:
            live.abandon()
            raise
        output.commit()
        self.frames_written, self.bytes_written = live.frames_written, live.bytes_written

    def _edited(self, spool: FrameSpool, end_time: float) -> tuple[Clip, float]:
        """The clip to encode (the spool, or the spool along the edited timeline) and its end time."""
        if not self.edits.any:
            return spool, end_time
        timeline = edit(spool.timestamps, end_time, spool.repeats, self.edits)
        return TimelineView(spool, timeline.numbers, timeline.timestamps), timeline.end_time

    def _fitted(self, clip: Clip, survey: ClipSurvey, end_time: float, limit: SizeLimit) -> FitResult:
        """The best GIF under the size limit; lossy, colours and a dither given by the caller stay as given."""
        from .fit import Fitter        # the search: loaded only for a fit

        chosen = frozenset(name for name in ("lossy", "colors") if getattr(self.options, name) is not None) | (
            {"dither"} if self.options.dither is not None or self.options.dither_strength is not None else set())
        tries = Progress(f"fitting under {limit.max_bytes:,} bytes", None, bar=self.bar, unit="try")
        lock = threading.Lock()

        def tried(_line: str) -> None:
            with lock:                 # probes run on worker threads
                tries.step()
        try:
            fitter = Fitter(clip, survey, self.options, end_time, limit.max_bytes, fixed=chosen,
                            max_frames=limit.max_frames, max_side=limit.max_side, report=tried)
            return fitter.fit()
        finally:
            tries.close()

    def abort(self) -> None:
        """Drop the frames without writing anything."""
        self._closed = True
        self._release()

    def _release(self) -> None:
        if self._live is not None:
            self._live.abandon()
            self._live = None
        if self._output is not None:
            self._output.__exit__(None, None, None)      # removes the unfinished file, if any
            self._output = None
        self._release_clip()

    def _release_clip(self) -> None:
        """Drop the spooled frames and what was learned from them; calling it again does nothing more."""
        self._collector.close()
        if self._first_palette is not None:
            self._first_palette.close()
        release_scratch()           # the palettes' reused pages (gifsom.pages) serve one GIF at a time


def needs_whole_clip(options: EncodeOptions, edits: TimelineEdits) -> bool:
    """Whether these options and edits can only be encoded once the last frame is in: reversing, a boomerang,
    and one palette for the clip asked for by name."""
    return edits.reverse or edits.boomerang or options.palette == "global"


def encode(frames: Iterable[Any] | FrameSource, path: str | os.PathLike | GifPath, fps: float | None = None, *,
           progress: ProgressCallback | None = None, bar: bool | None = False,
           max_spool: int = DEFAULT_MAX_SPOOL, max_size: int | str | SizeLimit | None = None, target: str | None = None,
           edits: TimelineEdits | None = None, live: bool = False, options: EncodeOptions | None = None,
           **fields: Unpack[EncodeFields]) -> EncodeResult:
    """Encode frames into an animated GIF at ``path``: the one entry point of ``encode``, ``convert`` and the plugins.

    Args:
        frames: arrays, PIL images, :class:`gifsom.frames.Frame` objects or ``(pixels, pts_seconds)`` pairs,
            in display order; or a frame source (:func:`gifsom.sources.open_source`), whose end time, when it
            knows one (a GIF's last delay, a trimmed video), ends the last frame.
        path: output file; written whole or not at all.
        fps: frame rate for frames without timestamps (default: their own
            timestamps, else 10 fps).
        progress: ``callback(done, total)``; returning False cancels, leaving no file.
        bar: progress bar on stderr while encoding (None: only on a terminal).
        max_spool: refuse a clip whose raw frames would take more bytes than this, as for :class:`GifWriter`.
        max_size, target: the most bytes the GIF may have, and a place whose limits it must fit,
            as for :class:`GifWriter`.
        edits: timeline edits, as for :class:`GifWriter`.
        live: encode while the frames are read (as for :class:`GifWriter`): the work overlaps a
            generator that decodes or renders them.
        options, **fields: encoding options, as for :class:`GifWriter`.

    Returns:
        An :class:`EncodeResult`: the path, GIF frames and bytes written (and the fit, with ``max_size``).
    """
    writer = GifWriter(path, fps, progress=progress, bar=bar, max_spool=max_spool, max_size=max_size, target=target,
                       edits=edits, live=live, options=options, **fields)
    with writer:
        if isinstance(frames, FrameSource):
            for frame in frames.frames():
                writer.append(frame)
            writer.close(end_time=frames.end_time)
        else:
            for frame in frames:
                writer.append(frame)
    return EncodeResult(None if writer.target.to_stdout else writer.path, writer.frames_written,
                        writer.bytes_written, writer.fit)
