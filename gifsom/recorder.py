"""``gifsom record``: capture the screen and encode it while the take runs.

The capture loop runs on the main thread (where signals arrive) and hands
frames through a short queue to a thread that spools them (deflated on disk),
so memory holds only a few frames however long the take. The live encoder
(:mod:`gifsom.live`) reads them from the spool as they come and writes the
GIF on its own thread, so that little is left to do when the take ends.
Ctrl+C or SIGTERM ends the capture and the GIF is still written; a second
Ctrl+C while it is finished aborts and leaves no file.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import checks
from .checks import DEFAULT_MAX_SPOOL
from .errors import GifsomError, OptionError, ResourceError
from .fit_terms import FitResult, SizeLimit
from .frames import Frame
from .options import EncodeFields, EncodeOptions
from .output import GifPath
from .sources import portal
from .sources.base import resize
from .sources.screen import CaptureOptions, Region, ScreenSource, SteadyCapture
from .sources.select import last_region, remember_region, select_region
from .sources.window import find_window
from .stop_signals import StopOnSignals
from .timeline import TimelineEdits
from .writer import GifWriter

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: Recording stops when the temporary folder has less free space than this.
MIN_FREE_BYTES = 256 << 20
#: Frames kept in memory before the spool goes to disk.
RECORD_MEMORY_BUDGET = 32 << 20


@dataclass
class RecordingReport:
    """What a take produced: frames grabbed, grabs skipped to keep up, seconds, GIF frames and bytes
    (and, with ``max_size``, how the GIF was fitted)."""

    frames: int
    late: int
    seconds: float
    gif_frames: int
    gif_bytes: int
    stopped_because: str | None = None
    fit: FitResult | None = None

    def summary(self) -> str:
        fps = self.frames / self.seconds if self.seconds > 0 else 0.0
        text = (f"recorded {self.frames} frames in {self.seconds:.1f} s ({fps:.1f} fps), {self.late} late; "
                f"wrote {self.gif_frames} GIF frames, {self.gif_bytes / 1024:.1f} KiB")
        return text + (f" ({self.stopped_because})" if self.stopped_because else "")


def _free_bytes(folder: str) -> int:
    return shutil.disk_usage(folder).free


def record(path: str | os.PathLike | GifPath, *, region: Region | str | None = None, window: str | bool | None = None,
           backend: str | None = None, forget_permission: bool = False, monitor: int = 1, fps: float = 10.0,
           duration: float | None = None, max_frames: int | None = None, countdown: float = 0.0,
           cursor: bool = True, width: int | None = None, height: int | None = None, scale: float | None = None,
           status: bool | None = None, handle_signals: bool = True,
           max_spool: int = DEFAULT_MAX_SPOOL, max_size: int | str | SizeLimit | None = None,
           target: str | None = None, edits: TimelineEdits | None = None, live: bool = True,
           options: EncodeOptions | None = None, **fields: Unpack[EncodeFields]) -> RecordingReport:
    """Record the screen into an animated GIF.

    Args:
        path: the GIF to write.
        region: a :class:`Region`, ``"X,Y,W,H"`` or ``"WxH+X+Y"``; ``"select"`` to drag a rectangle on a
            still picture of the screen first (see :mod:`gifsom.sources.select`); ``"last"`` for the region
            recorded last; None records the whole monitor.
        window: record one window and follow it when it moves (see :mod:`gifsom.sources.window`): its title,
            or part of it; True (or ``""``) to click the window. The GIF keeps the window's first size.
            With the portal, the portal's dialog picks the window (give no title).
        backend: ``"x11"`` (mss), ``"portal"`` (the desktop portal and PipeWire: Wayland, see
            :mod:`gifsom.sources.portal`), or None: the portal in a Wayland session, else X11.
        forget_permission: drop the portal's saved permission first, so that its dialog asks again.
        monitor: 1-based monitor number when no region is given.
        fps: frames per second to aim for (above 0, at most 100).
        duration: seconds to record; None records until Ctrl+C, SIGTERM or ``max_frames``.
        max_frames: stop after this many frames.
        countdown: seconds to wait (with a visible count on a terminal) before starting, 0 to 3600.
        cursor: draw the mouse pointer.
        width, height, scale: keep frames at this size (one side keeps the aspect ratio; scale multiplies
            both sides). Frames are scaled on the spooling thread as they arrive, by area averaging
            (fast, and no ringing around text), so the spool holds the small frames and the capture
            loop keeps its pace.
        status: show a live status line and progress bar on stderr (None: only on a terminal).
        handle_signals: turn the first Ctrl+C, SIGTERM or SIGHUP into "stop recording" (main thread only).
        max_spool: refuse to go on once the raw frames would take more bytes than this.
        max_size, target: the most bytes the GIF may have, and a place whose limits it must fit
            (``"slack-emoji"``), as for :class:`gifsom.GifWriter`.
        edits: timeline edits (``TimelineEdits(max_idle=1)`` cuts the pauses), as for :class:`gifsom.GifWriter`.
        live: encode while recording, so that the GIF is ready moments after the take ends (see
            :mod:`gifsom.live`); False learns one palette from the whole take after it ends.
        options, **fields: encoding options, as for :class:`gifsom.GifWriter`.

    Returns:
        A :class:`RecordingReport`.
    """
    if window is not None and window is not False and region is not None:
        raise OptionError("give `region` or `window`, not both")
    # every option is checked before the user is asked to choose anything
    CaptureOptions(monitor=monitor, fps=fps, duration=duration, max_frames=max_frames, cursor=cursor, width=width,
                   height=height, scale=scale)
    checks.in_range("countdown", countdown, 0.0, 3600.0, "0 to 3600 seconds")
    if status is None:
        status = sys.stderr.isatty()
    spool_folder = tempfile.gettempdir()
    if _free_bytes(spool_folder) < MIN_FREE_BYTES:
        raise ResourceError(f"less than {MIN_FREE_BYTES >> 20} MB free in {spool_folder!r} for the recording; "
                            "free some space or point TMPDIR elsewhere")
    # the status line reports the capture; the progress bar only the encoding after it
    writer = GifWriter(path, fps, bar=False, memory_budget=RECORD_MEMORY_BUDGET, compress_spool=True,
                       max_spool=max_spool, max_size=max_size, target=target, edits=edits, live=live,
                       options=options, **fields)
    try:
        source = _source(region, window, backend, forget_permission,
                         dict(monitor=monitor, fps=fps, duration=duration, max_frames=max_frames, cursor=cursor,
                              width=width, height=height, scale=scale))
    except BaseException:
        writer.abort()
        raise
    capture = source.options

    handoff: queue.Queue = queue.Queue(maxsize=8)
    failure: list[BaseException] = []
    stopped_because: list[str] = []

    def spool_frames() -> None:
        try:
            while True:
                frame = handoff.get()
                if frame is None:
                    return
                size = capture.kept_size(frame.width, frame.height)
                if size != (frame.width, frame.height):
                    frame = Frame(resize(frame.pixels, size, area_average=True), frame.pts)
                writer.append(frame)
                if writer.frames_appended % 25 == 0 and _free_bytes(spool_folder) < MIN_FREE_BYTES:
                    stopped_because.append(f"stopped early: less than {MIN_FREE_BYTES >> 20} MB free in {spool_folder}")
                    source.stop()
        except BaseException as exc:   # handed to the main thread, which raises it
            failure.append(exc)
            source.stop()
            while handoff.get() is not None:
                pass

    stop_on_signals = StopOnSignals(source.stop) if handle_signals else contextlib.nullcontext()
    spooler = threading.Thread(target=spool_frames, name="gifsom-spool", daemon=True)
    try:
        with stop_on_signals:
            if countdown > 0:
                _count_down(countdown, status, source.stop_event)
            spooler.start()
            last_status = 0.0
            for frame in source.frames():
                handoff.put(frame)
                if status and time.monotonic() - last_status > 0.5:
                    last_status = time.monotonic()
                    elapsed = frame.pts or 0.0
                    rate = source.frames_taken / elapsed if elapsed > 0 else 0.0
                    print(f"\r● {elapsed:6.1f} s  {source.frames_taken} frames  {rate:4.1f} fps  "
                          f"spool {writer.spool_bytes / 1e6:6.1f} MB  (Ctrl+C stops) ", end="", file=sys.stderr,
                          flush=True)
    except BaseException:
        handoff.put(None)
        if spooler.is_alive():
            spooler.join()
        writer.abort()
        raise
    finally:
        if status:
            print(file=sys.stderr)
    handoff.put(None)
    spooler.join()
    if failure:
        writer.abort()
        raise failure[0]
    if writer.frames_appended == 0:
        writer.abort()
        raise GifsomError("the recording stopped before the first frame; nothing was written")
    writer.bar = status
    with writer:      # encoding: Ctrl+C here aborts and leaves no file
        pass
    if source.region is not None:
        remember_region(source.region)
    return RecordingReport(source.frames_taken, source.late, source.elapsed, writer.frames_written,
                           writer.bytes_written, stopped_because[0] if stopped_because else None, writer.fit)


#: The screen capture backends: X11 through mss, and the desktop portal with PipeWire (Wayland).
BACKENDS = ("x11", "portal")


def _source(region: Region | str | None, window: str | bool | None, backend: str | None, forget: bool,
            capture: dict) -> SteadyCapture:
    """The screen source the options ask for, once the user has chosen what to record."""
    if backend is not None:
        checks.one_of("backend", backend, BACKENDS, "a capture backend")
    wants_window = window is not None and window is not False
    if backend == "portal" or (backend is None and portal.wayland_session()):
        if forget:
            portal.forget_permission()
        if isinstance(window, str) and window:
            raise OptionError("with the portal (Wayland) its dialog picks the window; give `window` without a title")
        if region == "select":         # dragged on the stream's first frame, in its pixels
            return portal.PortalSource(CaptureOptions(**capture), window=wants_window, select=True)
        return portal.PortalSource(CaptureOptions(region=_region(region), **capture), window=wants_window)
    followed = find_window(window if isinstance(window, str) else None) if wants_window else None
    return ScreenSource(CaptureOptions(region=_region(region), window=followed, **capture))


def _region(region: Region | str | None) -> Region | None:
    """The region to record: as given, parsed, chosen with the mouse (``"select"``) or the last one (``"last"``)."""
    if region == "select":
        return select_region()
    if region == "last":
        return last_region()
    return Region.parse(region, "region") if isinstance(region, str) else region


def _count_down(seconds: float, status: bool, stop: threading.Event) -> None:
    end = time.monotonic() + seconds
    while not stop.is_set():
        left = end - time.monotonic()
        if left <= 0:
            break
        if status:
            print(f"\rrecording in {left:3.0f} s ", end="", file=sys.stderr, flush=True)
        stop.wait(min(1.0, left))
