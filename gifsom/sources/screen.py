"""The screen on X11, grabbed with mss on a steady clock.

Frames keep the time they were really taken, so a slow grab makes a frame
last longer instead of speeding the GIF up; grabs that could not happen in
time are skipped and counted.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .. import checks
from ..errors import OptionError, OptionValueError, SourceError
from ..frames import Frame
from .base import Rectangle, SourceBase, fit_size


class Region(Rectangle):
    """A rectangle of the screen, in pixels from the top-left of the virtual screen."""

    def as_mss(self) -> dict[str, int]:
        return {"left": self.left, "top": self.top, "width": self.width, "height": self.height}


def _open_mss(with_cursor: bool):
    import mss

    factory = getattr(mss, "MSS", None) or mss.mss
    try:
        return factory(with_cursor=with_cursor)
    except Exception as exc:  # mss raises several types (XError, ScreenShotError) for a missing display
        raise no_screen() from exc


def no_screen() -> SourceError:
    """The error for an X11 display that is not set or cannot be reached."""
    display = os.environ.get("DISPLAY")
    where = f"the X display {display!r} cannot be reached" if display else "DISPLAY is not set"
    return SourceError(f"no screen to record: {where}; run inside a desktop session (or start Xvfb and set DISPLAY)")


@dataclass(frozen=True)
class CaptureOptions:
    """What to grab from the screen, and how often.

    Attributes:
        region: what to grab; None grabs the whole of ``monitor`` (or the window).
        window: an X window id to record (see :mod:`gifsom.sources.window`): the grab follows the window
            when it moves, and keeps the size it had at the start; None records ``region`` or ``monitor``.
        monitor: 1-based monitor number (mss numbering; 1 is the primary).
        fps: frames per second to aim for.
        duration: seconds to record, or None until stopped or ``max_frames``.
        max_frames: stop after this many frames, or None.
        cursor: draw the mouse pointer where the platform reports it.
        width, height, scale: the size frames are kept at (one side keeps the aspect ratio; scale
            multiplies both), or None for the size grabbed. :func:`gifsom.record` scales on its
            spooling thread, off the capture loop; :class:`ScreenSource` yields frames as grabbed.
    """

    region: Region | None = None
    window: int | None = None
    monitor: int = 1
    fps: float = 10.0
    duration: float | None = None
    max_frames: int | None = None
    cursor: bool = True
    width: int | None = None
    height: int | None = None
    scale: float | None = None

    def kept_size(self, width: int, height: int) -> tuple[int, int]:
        """The size a grabbed ``width`` x ``height`` frame is kept at."""
        if self.scale is not None:
            return max(1, round(width * self.scale)), max(1, round(height * self.scale))
        return fit_size(width, height, self.width, self.height)

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            if getattr(self, name) is not None:
                checks.side(name, getattr(self, name))
        if self.scale is not None:
            checks.in_range("scale", self.scale, 0.01, 4.0, "0.01 to 4 (0.5 halves each side)")
            if self.width is not None or self.height is not None:
                raise OptionValueError("scale", self.scale, "cannot be given with a width or height; give one "
                                                            "or the other")
        if self.window is not None and self.region is not None:
            raise OptionError("give a region or a window to record, not both")
        checks.frame_rate("fps", self.fps)
        checks.in_range("monitor", self.monitor, 1, 64, "1 (the primary) or the number of another monitor")
        if self.duration is not None:
            checks.positive("duration", self.duration, "a time above 0 seconds")
        if self.max_frames is not None:
            checks.in_range("max_frames", self.max_frames, 1, 10 ** 9, "at least 1")


class SteadyCapture(SourceBase):
    """Frames grabbed on a steady clock, as an iterator: the loop shared by the X11 and Wayland sources.

    Frames keep the time they were really taken; grabs that could not happen in time are skipped
    and counted. A subclass opens its capture in :meth:`_open` and returns a callable that grabs one
    frame (uint8 (H, W, 3) RGB), and closes it in :meth:`_close`.

    Args:
        options: what to grab and how often.
        stop_event: a :class:`threading.Event` that ends the recording when set.

    After iterating, ``frames_taken``, ``late`` (grabs skipped to keep up) and
    ``elapsed`` (seconds) describe the take.
    """

    def __init__(self, options: CaptureOptions = CaptureOptions(), *,
                 stop_event: threading.Event | None = None) -> None:
        self.options = options
        self.fps: float = options.fps
        self.stop_event = stop_event or threading.Event()
        self.frames_taken = 0
        self.late = 0
        self.elapsed = 0.0
        #: The region grabbed first, once frames are taken: a window's grab keeps its size as it moves.
        self.region: Region | None = None

    def stop(self) -> None:
        """End the recording after the frame being taken."""
        self.stop_event.set()

    def _open(self) -> Callable[[], np.ndarray]:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def frames(self) -> Iterator[Frame]:
        try:
            grab = self._open()            # inside: a capture that fails half-opened is closed too
            period = 1.0 / self.fps
            start = time.monotonic()
            slot = 0
            while not self.stop_event.is_set():
                now = time.monotonic() - start
                if self.options.duration is not None and now >= self.options.duration - 1e-6 and slot > 0:
                    break
                pixels = grab()
                taken = time.monotonic() - start
                yield Frame(pixels, taken if slot else 0.0)   # the first frame opens the clip
                self.frames_taken += 1
                if self.options.max_frames is not None and self.frames_taken >= self.options.max_frames:
                    break
                slot += 1
                due = slot * period
                now = time.monotonic() - start
                if now > due + period:      # fell behind: skip the slots that passed
                    missed = int((now - due) / period)
                    self.late += missed
                    slot += missed
                    due = slot * period
                if self.options.duration is not None and due >= self.options.duration:
                    break
                self.stop_event.wait(max(0.0, due - (time.monotonic() - start)))
            self.elapsed = time.monotonic() - start
        finally:
            self._close()


class ScreenSource(SteadyCapture):
    """Timestamped frames of an X11 screen region (through mss), as an iterator; see :class:`SteadyCapture`."""

    def __init__(self, options: CaptureOptions = CaptureOptions(), *,
                 stop_event: threading.Event | None = None) -> None:
        super().__init__(options, stop_event=stop_event)
        self._screen = None

    def resolve_region(self, screen) -> Region:
        """The region to grab, checked against the monitors mss reports."""
        monitors = screen.monitors
        whole = monitors[0]
        on_screen = Rectangle(whole["left"], whole["top"], whole["width"], whole["height"])
        if self.options.window is not None:
            from .window import window_region

            seen = window_region(self.options.window).clipped(on_screen)
            if seen is None:
                raise SourceError(f"window {self.options.window} is off the screen; bring it on screen and try again")
            return seen
        if self.options.region is None:
            if not 1 <= self.options.monitor < len(monitors):
                raise OptionValueError("monitor", self.options.monitor, f"does not exist; this screen has monitors "
                                                                f"1 to {len(monitors) - 1}")
            m = monitors[self.options.monitor]
            return Region(m["left"], m["top"], m["width"], m["height"])
        region = self.options.region
        if region.width <= 0 or region.height <= 0:
            raise OptionError(f"region {region.width}x{region.height} has zero size; give a width and height above 0")
        if not on_screen.contains(region):
            raise OptionError(f"region {region.width}x{region.height}+{region.left}+{region.top} is outside the "
                              f"screen ({whole['width']}x{whole['height']}+{whole['left']}+{whole['top']}); "
                              "choose a region on the screen")
        return region

    def _open(self) -> Callable[[], np.ndarray]:
        from .window import follow, window_region     # (window.py names this module's Region)

        screen = self._screen = _open_mss(self.options.cursor)
        region = self.region = self.resolve_region(screen)
        whole = screen.monitors[0]
        on_screen = Rectangle(whole["left"], whole["top"], whole["width"], whole["height"])

        def grab() -> np.ndarray:
            box = region.as_mss()
            if self.options.window is not None:
                box = follow(region, window_region(self.options.window), on_screen).as_mss()
            try:
                shot = screen.grab(box)
            except Exception as exc:
                raise SourceError(f"cannot grab the screen region {box} ({exc}); is it still on screen?") from exc
            return np.ascontiguousarray(np.asarray(shot)[:, :, 2::-1])          # BGRA -> RGB
        return grab

    def _close(self) -> None:
        if self._screen is not None:
            self._screen.close()
            self._screen = None
