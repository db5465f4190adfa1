"""Frames on a byte stream: raw RGB/RGBA of a given size, or YUV4MPEG2 (y4m, detected by its header).

This is how recorders written in other languages hand frames over:

    ffmpeg -i in.mp4 -f yuv4mpegpipe - | gifsom encode - out.gif
    my-recorder | gifsom encode - out.gif --size 800x600 --fps 15
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from .. import checks
from ..errors import InputError, OptionError, OptionValueError
from ..frames import Frame
from .base import Rectangle, SourceBase, SourceOptions, check_crop, cropped, retime

Y4M_MAGIC = b"YUV4MPEG2"
RAW_FORMATS = {"rgb24": 3, "rgba": 4}


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``WxH`` into (width, height)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise OptionError(f"size {text!r} is not WIDTHxHEIGHT (for example 800x600)") from None
    return width, height


def _read_exact(stream: BinaryIO, count: int) -> bytes:
    chunks = []
    remaining = count
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, *, full_range: bool, bt709: bool) -> np.ndarray:
    """Convert planes (chroma already at luma size) to uint8 RGB (H, W, 3)."""
    y = y.astype(np.float32)
    u = u.astype(np.float32) - 128.0
    v = v.astype(np.float32) - 128.0
    if not full_range:
        y = (y - 16.0) * (255.0 / 219.0)
        u *= 255.0 / 224.0
        v *= 255.0 / 224.0
    if bt709:
        r = y + 1.5748 * v
        g = y - 0.1873 * u - 0.4681 * v
        b = y + 1.8556 * u
    else:
        r = y + 1.402 * v
        g = y - 0.344136 * u - 0.714136 * v
        b = y + 1.772 * u
    return np.clip(np.rint(np.stack([r, g, b], axis=-1)), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class PipeOptions:
    """How to read frames from a stream.

    Attributes:
        size: (width, height) of raw frames; not needed for y4m, which carries its size.
        fps: frame rate of raw frames; for y4m, an output rate to resample to.
        pix_fmt: "rgb24" or "rgba" for raw frames.
        partial_ok: when the stream ends inside a frame, keep the frames before it instead of failing.
        crop: the part of each frame to keep, or None.
    """

    size: tuple[int, int] | None = None
    fps: float | None = None
    pix_fmt: str = "rgb24"
    partial_ok: bool = False
    crop: Rectangle | None = None

    def __post_init__(self) -> None:
        if self.size is not None:
            for side in self.size:
                checks.side("size", side)
        if self.fps is not None:
            checks.frame_rate("fps", self.fps)
        checks.one_of("pix_fmt", self.pix_fmt, tuple(RAW_FORMATS), "a raw pixel format")


def _y4m_rate(text: str, name: str) -> float:
    """Frames per second of a y4m ``F`` parameter (``30000:1001``)."""
    parts = text.split(":")
    try:
        fps = float(parts[0]) / float(parts[1] if len(parts) > 1 else 1)
    except (ValueError, ZeroDivisionError):
        fps = 0.0
    if not (math.isfinite(fps) and fps > 0):
        raise InputError(f"y4m header on {name} gives frame rate {text!r}, which is not above 0; "
                         "check the program that writes it (ffmpeg: -r 15)")
    return fps


def _to_8_bits(data: bytes, depth: int) -> np.ndarray:
    """A frame's samples as uint8: as they are at 8 bits; 16-bit little-endian words of ``depth``
    bits rounded to their top 8 bits."""
    if depth == 8:
        return np.frombuffer(data, np.uint8)
    words = np.frombuffer(data, "<u2").astype(np.uint32)
    shift = depth - 8
    return np.minimum((words + (1 << (shift - 1))) >> shift, 255).astype(np.uint8)


class PipeSource(SourceBase):
    """Frames from a binary stream: raw RGB/RGBA frames of a known size and rate, or y4m.

    Args:
        stream: readable binary stream (``sys.stdin.buffer``, a pipe, a file).
        options: size, rate and layout of raw frames.
        name: how messages name the stream.
    """

    def __init__(self, stream: BinaryIO, options: PipeOptions = PipeOptions(), *, name: str = "stdin") -> None:
        self.stream = stream
        self.options = options
        self.fps = options.fps
        self.name = name

    def _truncated(self, got: int, need: int, number: int) -> None:
        if not self.options.partial_ok:
            raise InputError(f"{self.name} ended {got} bytes into frame {number} (a frame is {need} bytes); "
                             f"frames before it: {number}; pass `partial_ok` to keep them")

    def frames(self) -> Iterator[Frame]:
        head = _read_exact(self.stream, len(Y4M_MAGIC))
        if head == Y4M_MAGIC:
            frames = self._y4m()
            yield from (frames if self.fps is None else retime(frames, SourceOptions(fps=self.fps)))
        else:
            yield from self._raw(head)

    def _raw(self, head: bytes) -> Iterator[Frame]:
        if self.options.size is None:
            raise OptionValueError("size", None, f"is needed for raw frames on {self.name}: give WxH, "
                                                 "or send y4m, which carries its size")
        if self.fps is None:
            raise OptionValueError("fps", None, f"is needed for raw frames on {self.name}: give a frame rate, "
                                                "or send y4m, which carries its rate")
        width, height = self.options.size
        channels = RAW_FORMATS[self.options.pix_fmt]
        need = width * height * channels
        buffer = head
        number = 0
        while True:
            data = buffer + _read_exact(self.stream, need - len(buffer))
            buffer = b""
            if not data:
                break
            if len(data) < need:
                self._truncated(len(data), need, number)
                break
            if number == 0:
                check_crop(self.options.crop, width, height)
            pixels = np.frombuffer(data, np.uint8).reshape(height, width, channels)
            yield Frame(cropped(pixels, self.options.crop), number / self.fps)
            number += 1
        if number == 0:
            raise InputError(f"no frames arrived on {self.name}; check the program that writes them")

    def _y4m(self) -> Iterator[Frame]:
        line = self.stream.readline()
        params = {token[:1]: token[1:] for token in line.decode("ascii", "replace").split()}
        try:
            width, height = int(params["W"]), int(params["H"])
        except (KeyError, ValueError):
            raise InputError(f"y4m header on {self.name} has no valid W and H: {line[:80]!r}") from None
        if not (1 <= width <= checks.GIF_MAX_SIDE and 1 <= height <= checks.GIF_MAX_SIDE):
            raise InputError(f"y4m header on {self.name} gives a {width}x{height} picture; each side must be 1 to "
                             f"{checks.GIF_MAX_SIDE}: check the program that writes it")
        fps = _y4m_rate(params.get("F", "25:1"), self.name)
        colour = params.get("C", "420jpeg")
        full_range = "XCOLORRANGE=FULL" in line.decode("ascii", "replace").upper()
        layout = re.fullmatch(r"(420|422|444|mono)(?:jpeg|paldv|mpeg2)?(?:p?(\d+))?", colour)
        if layout is None:
            raise InputError(f"y4m colour space {colour!r} on {self.name} is not supported; "
                             "send 420, 422, 444 or mono, 8 to 16 bits (ffmpeg: -pix_fmt yuv420p)")
        subsampling, depth = layout.group(1), int(layout.group(2) or 8)
        if not 8 <= depth <= 16:
            raise InputError(f"y4m colour space {colour!r} on {self.name} has {depth}-bit samples; "
                             "send 8 to 16 bits (ffmpeg: -pix_fmt yuv420p)")
        cw, ch = {"420": ((width + 1) // 2, (height + 1) // 2), "422": ((width + 1) // 2, height),
                  "444": (width, height), "mono": (0, 0)}[subsampling]
        sample = 1 if depth == 8 else 2          # deeper samples are 16-bit little-endian words
        luma, chroma = width * height, cw * ch
        need = (luma + 2 * chroma) * sample
        bt709 = height >= 720
        number = 0
        while True:
            marker = self.stream.readline()
            if not marker:
                break
            if not marker.startswith(b"FRAME"):
                raise InputError(f"y4m stream on {self.name} is damaged before frame {number} "
                                 f"(expected FRAME, got {marker[:20]!r})")
            data = _read_exact(self.stream, need)
            if len(data) < need:
                self._truncated(len(data), need, number)
                break
            planes = _to_8_bits(data, depth)
            y = planes[:luma].reshape(height, width)
            if chroma:
                u = planes[luma:luma + chroma].reshape(ch, cw)
                v = planes[luma + chroma:].reshape(ch, cw)
                fy, fx = (2 if ch < height else 1), (2 if cw < width else 1)
                u = u.repeat(fy, axis=0).repeat(fx, axis=1)[:height, :width]
                v = v.repeat(fy, axis=0).repeat(fx, axis=1)[:height, :width]
            else:
                u = v = np.full((height, width), 128, np.uint8)
            if number == 0:
                check_crop(self.options.crop, width, height)
            yield Frame(cropped(yuv_to_rgb(y, u, v, full_range=full_range, bt709=bt709), self.options.crop),
                        number / fps)
            number += 1
        if number == 0:
            raise InputError(f"no frames arrived on {self.name}; check the program that writes them")
