"""What every frame source provides, and helpers they share."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, Protocol, TypeVar, runtime_checkable

import numpy as np

from .. import checks
from ..checks import DEFAULT_MAX_PIXELS
from ..errors import OptionValueError
from ..frames import Frame
from ..threads import available_cores, run_ahead


_R = TypeVar("_R", bound="Rectangle")


@dataclass(frozen=True)
class Rectangle:
    """A rectangle in pixels: ``left``, ``top`` from the top-left corner, ``width`` x ``height``."""

    left: int
    top: int
    width: int
    height: int

    @classmethod
    def parse(cls, text: str, field: str):
        """``X,Y,W,H`` or X11's ``WxH+X+Y``; ``field`` names the option in the error (``region``, ``crop``)."""
        text = text.strip()
        match = re.fullmatch(r"(-?\d+),(-?\d+),(\d+),(\d+)", text)
        if match:
            x, y, w, h = (int(v) for v in match.groups())
            return cls(x, y, w, h)
        match = re.fullmatch(r"(\d+)x(\d+)([+-]\d+)([+-]\d+)", text)
        if match:
            w, h, x, y = (int(v) for v in match.groups())
            return cls(x, y, w, h)
        raise OptionValueError(field, text, "is not X,Y,W,H or WxH+X+Y (for example 100,200,640,480)")

    def __str__(self) -> str:
        return f"{self.left},{self.top},{self.width},{self.height}"

    def contains(self, other: "Rectangle") -> bool:
        """Whether ``other`` lies within this rectangle."""
        return (other.left >= self.left and other.top >= self.top and other.left + other.width <= self.left + self.width
                and other.top + other.height <= self.top + self.height)

    def clipped(self: _R, other: "Rectangle") -> "_R | None":
        """The part of this rectangle inside ``other``, of this rectangle's type, or None when they do not meet."""
        left, top = max(self.left, other.left), max(self.top, other.top)
        right = min(self.left + self.width, other.left + other.width)
        bottom = min(self.top + self.height, other.top + other.height)
        if right <= left or bottom <= top:
            return None
        return type(self)(left, top, right - left, bottom - top)

    def inside(self, width: int, height: int) -> bool:
        """Whether the rectangle has an area and lies within a ``width`` x ``height`` frame."""
        return self.width > 0 and self.height > 0 and Rectangle(0, 0, width, height).contains(self)


def check_crop(crop: Rectangle | None, width: int, height: int) -> None:
    """Refuse a crop that is not inside a ``width`` x ``height`` frame (the message gives the frame's size)."""
    if crop is not None and not crop.inside(width, height):
        raise OptionValueError("crop", crop, f"is outside the {width}x{height} frame; give X,Y,W,H inside it")


def cropped(pixels: np.ndarray, crop: Rectangle | None) -> np.ndarray:
    """``pixels`` (H, W, C) cut to ``crop`` (checked with :func:`check_crop`), or as they are."""
    if crop is None:
        return pixels
    return np.ascontiguousarray(pixels[crop.top:crop.top + crop.height, crop.left:crop.left + crop.width])


@dataclass(frozen=True)
class SourceOptions:
    """How a source trims, resamples and scales what it reads.

    Attributes:
        fps: output frame rate (frames are dropped or repeated on the source's
            timeline), or None to keep the source's own timing.
        width, height: output size in pixels; give one to keep the aspect ratio.
        start, end: trim, in seconds of the source; None for its start or end.
        speed: playback speed factor (2.0 plays twice as fast).
        max_pixels: refuse a GIF whose screen has more pixels than this (a decompression-bomb guard).
        partial_ok: from a damaged or cut-short GIF, keep the frames before the damage instead of failing.
        crop: the part of each frame to keep, before scaling, or None.
    """

    fps: float | None = None
    width: int | None = None
    height: int | None = None
    start: float | None = None
    end: float | None = None
    speed: float = 1.0
    max_pixels: int = DEFAULT_MAX_PIXELS
    partial_ok: bool = False
    crop: Rectangle | None = None

    def __post_init__(self) -> None:
        if self.fps is not None:
            checks.frame_rate("fps", self.fps)
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None:
                checks.side(name, value)
        checks.in_range("speed", self.speed, checks.MIN_SPEED, checks.MAX_SPEED,
                        f"{checks.MIN_SPEED:g} to {checks.MAX_SPEED:g}")
        if self.start is not None and self.start < 0:
            raise OptionValueError("start", self.start, "is negative; give a time from the start of the input")
        if self.end is not None and self.end <= (self.start or 0.0):
            raise OptionValueError("end", self.end, f"is not after the start ({self.start or 0:g} s); "
                                                    "give an end after the start")
        checks.positive("max_pixels", self.max_pixels, "a positive number of pixels")
        if self.crop is not None and not self.crop.inside(checks.GIF_MAX_SIDE, checks.GIF_MAX_SIDE):
            raise OptionValueError("crop", self.crop, "is not a rectangle with an area at X,Y >= 0; give X,Y,W,H")


class ClipPlan(NamedTuple):
    """What a source knows of its clip before decoding it, to refuse a clip too big to spool.

    Attributes:
        frames: expected number of frames (an estimate from the container's duration).
        width, height: frame size in pixels, after scaling.
        channels: 3 (RGB) or 4 (RGBA).
        compressible: whether the frames deflate well (a GIF's palette pictures do), so that the
            spool's free-disk check is made as frames arrive rather than on their raw size.
    """

    frames: int
    width: int
    height: int
    channels: int = 3
    compressible: bool = False


@runtime_checkable
class FrameSource(Protocol):
    """A source of timestamped frames: one class per kind of input.

    Everything a caller may use is declared here; :class:`SourceBase` gives the
    defaults for sources that have no loop count, end time or plan.
    """

    @property
    def fps(self) -> float | None:
        """Frames per second the source delivers, or None when its timing varies."""
        ...

    @property
    def loop(self) -> int | None:
        """Loop count the output should inherit (0 forever, N repeats, -1 once: GIF inputs), or None."""
        ...

    @property
    def end_time(self) -> float | None:
        """When the last frame stops showing (seconds of output), once :meth:`frames` is exhausted; or None."""
        ...

    @property
    def warning(self) -> str | None:
        """Something the user should know once the frames are read (frames dropped from a damaged input), or None."""
        ...

    def frames(self) -> Iterator[Frame]:
        """Yield frames in display order, pts in seconds from the first one."""
        ...

    def plan(self) -> ClipPlan | None:
        """The clip's size before decoding, when the source can tell cheaply; else None."""
        ...


class SourceBase:
    """Defaults for :class:`FrameSource`: no loop count, end time, warning or plan."""

    fps: float | None = None
    loop: int | None = None
    end_time: float | None = None
    warning: str | None = None

    def plan(self) -> ClipPlan | None:
        return None


#: Suffixes of the still images a sequence (or a single image) is read from.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
#: Decoded frames waiting for the consumer, at most this many bytes (and :data:`MAX_AHEAD` frames).
AHEAD_BYTES = 64 << 20
MAX_AHEAD = 64


def decode_ahead(jobs: Iterable[Callable[[], np.ndarray]], *,
                 workers: int | None = None) -> Generator[np.ndarray, None, None]:
    """Run frame-decoding ``jobs`` on a thread pool and yield their frames in order.

    The pool keeps working while the consumer is busy (decoders such as
    Pillow's release the GIL), up to :data:`AHEAD_BYTES` of finished frames
    ahead. ``jobs`` is advanced on the calling thread, so it may open files
    there; a job's exception is raised when its frame's turn comes. Closing
    the generator cancels the jobs not yet started.

    Args:
        jobs: callables, each returning one uint8 (H, W, C) frame.
        workers: threads (default: one per available core, see :mod:`gifsom.threads`); 1 decodes inline.
    """
    workers = workers or available_cores()
    if workers < 2:
        for job in jobs:
            yield job()
        return
    # two frames a worker until the first frame tells how large frames are
    yield from run_ahead(jobs, 2 * workers, workers=workers, name="gifsom-decode",
                         deepen=lambda frame: max(2 * workers, min(MAX_AHEAD, AHEAD_BYTES // max(1, frame.nbytes))))


def planned_size(width: int, height: int, options: SourceOptions) -> tuple[int, int]:
    """The (width, height) of output frames from ``width`` x ``height`` pictures: the crop's size
    when there is one, then scaled as ``options.width`` and ``options.height`` ask."""
    if options.crop is not None:
        width, height = options.crop.width, options.crop.height
    return fit_size(width, height, options.width, options.height)


def trimmed_seconds(seconds: float, options: SourceOptions) -> float:
    """How long ``seconds`` of a source last as output: cut to ``start``/``end``, at ``speed``."""
    end = seconds if options.end is None else min(seconds, options.end)
    return max(0.0, end - (options.start or 0.0)) / options.speed


def fit_size(width: int, height: int, target_width: int | None, target_height: int | None) -> tuple[int, int]:
    """Output size for a ``width`` x ``height`` picture, keeping the aspect ratio when one side is given."""
    if target_width and target_height:
        return target_width, target_height
    if target_width:
        return target_width, max(1, round(height * target_width / width))
    if target_height:
        return max(1, round(width * target_height / height)), target_height
    return width, height


def resize(pixels: np.ndarray, size: tuple[int, int], *, area_average: bool = False) -> np.ndarray:
    """Resize uint8 (H, W, C) pixels to ``size`` = (width, height) with a Lanczos filter, or, with
    ``area_average``, by averaging the pixels each output pixel covers (a box filter: three times
    faster on a 1080p frame, 13 against 36 ms, and no ringing around text).

    RGB frames go through gifsom's own Lanczos kernel (:func:`gifsom.sources.resample.lanczos`, two to
    three times as fast as Pillow's); RGBA, whose colours Pillow weighs by their alpha, through Pillow's."""
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels
    if pixels.shape[2] == 3 and not area_average:
        from .resample import lanczos
        return lanczos(pixels, size)
    from PIL import Image

    mode = "RGBA" if pixels.shape[2] == 4 else "RGB"
    kind = Image.Resampling.BOX if area_average else Image.Resampling.LANCZOS
    return np.asarray(Image.fromarray(pixels, mode).resize(size, kind))


def _taken(frame: Frame) -> float:
    """When a source's frame was taken, in seconds (a source gives every frame a timestamp)."""
    if frame.pts is None:
        raise ValueError("a source frame without a timestamp")
    return frame.pts


def retime(frames: Iterator[Frame], options: SourceOptions) -> Iterator[Frame]:
    """Apply trim, speed and frame-rate resampling to frames with source timestamps.

    With a frame rate, output frame k is shown at k / fps and holds the newest
    source frame that started at or before that time, so frames are dropped or
    repeated as needed; the frame on screen when the trim starts opens the clip.
    """
    start = options.start or 0.0
    end = math.inf if options.end is None else options.end
    speed = options.speed
    eps = 1e-9
    if options.fps is None:
        for frame in frames:
            taken = _taken(frame)
            if taken >= end:
                break
            if taken >= start:
                yield Frame(frame.pixels, (taken - start) / speed)
        return
    step = 1.0 / options.fps
    number = 0
    held: Frame | None = None
    held_time = 0.0
    for frame in frames:
        taken = _taken(frame)
        if taken >= end:
            break
        t = (taken - start) / speed
        while held is not None and t > 0 and number * step < t - eps:
            yield Frame(held.pixels, number * step)
            number += 1
        held, held_time = frame, t
    if held is None:
        return
    while number * step <= max(held_time, 0.0) + eps:
        yield Frame(held.pixels, number * step)
        number += 1


def timed_pictures(pictures: Iterator[tuple[np.ndarray, float]], options: SourceOptions,
                   source: SourceBase) -> Iterator[Frame]:
    """Frames of an animation file (a GIF, an animated WebP or PNG) on its own timeline, before retiming.

    Args:
        pictures: each frame as uint8 (H, W, 4) RGBA (it may be reused after the next one) and the
            milliseconds it shows (summed exactly, then divided: 7 cs gives the same pts as 7 / 100).
        options: the crop and size to apply; trims and speed set ``source.end_time``.
        source: gets ``end_time``, when the last frame stops showing in seconds of output,
            once every picture is read (None when the frames are resampled to a rate).

    Yields:
        Frames with pts in seconds of the file: RGB where a frame is wholly opaque, else RGBA.
    """
    shown_ms: float = 0
    size = None
    for canvas, milliseconds in pictures:
        canvas = cropped(canvas, options.crop)
        pixels = canvas[:, :, :3].copy() if bool((canvas[:, :, 3] == 255).all()) else canvas.copy()
        if size is None:
            size = fit_size(pixels.shape[1], pixels.shape[0], options.width, options.height)
        yield Frame(resize(pixels, size), shown_ms / 1000)
        shown_ms += milliseconds
    if options.fps is None:
        source.end_time = trimmed_seconds(shown_ms / 1000, options)
