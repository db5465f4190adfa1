"""Image sequences: a folder or a glob of PNG, JPEG, WebP, BMP or TIFF frames."""

from __future__ import annotations

import glob
import math
import os
import struct
import warnings
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError, ResourceError
from ..frames import Frame, as_pixels
from .base import (IMAGE_SUFFIXES, ClipPlan, SourceBase, SourceOptions, check_crop, cropped, decode_ahead, fit_size,
                   planned_size, resize, retime)
from .png import decode_png, png_channels, png_size

#: Frame rate of an image sequence when none is given.
DEFAULT_SEQUENCE_FPS = 10.0
#: Bytes of the first frame read to learn the clip's size and channels: enough for the chunks before a
#: PNG's image data (larger ones, a big colour profile say, leave it to Pillow).
HEADER_BYTES = 64 << 10
#: Pillow's default ``Image.MAX_IMAGE_PIXELS``: pictures larger than this are refused as decompression bombs.
PILLOW_MAX_PIXELS = 1024 * 1024 * 1024 // 4 // 3


def natural_key(path: Path) -> list:
    """Sort key that orders numbers by value: frame2 before frame10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def list_images(spec: str | os.PathLike) -> list[Path]:
    """The image files of a folder, or matching a glob pattern, in natural order."""
    text = str(spec)
    if Path(text).is_dir():
        files = [p for p in Path(text).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
        where = f"folder {text!r}"
    else:
        files = [Path(p) for p in glob.glob(text) if Path(p).is_file()]
        where = f"pattern {text!r}"
    if not files:
        raise InputError(f"no frames found in {where}; it needs PNG, JPEG, WebP, BMP or TIFF files")
    return sorted(files, key=natural_key)


def _safe_size(size: tuple[int, int]) -> bool:
    """Whether a picture of ``size`` (width, height) is within Pillow's decompression-bomb limit. Pillow is
    loaded only where a frame needs it: until then nobody can have changed its limit from the default."""
    image = sys.modules.get("PIL.Image")
    limit = PILLOW_MAX_PIXELS if image is None else image.MAX_IMAGE_PIXELS
    return limit is None or size[0] * size[1] <= limit


def _unreadable(path: Path, exc: BaseException) -> InputError:
    return InputError(f"cannot read frame {str(path)!r} ({exc}); replace or remove that file")


class ImageSequenceSource(SourceBase):
    """Frames from image files, shown at a fixed frame rate.

    Args:
        spec: a folder, or a glob pattern such as ``"shots/*.png"``.
        options: size, trim and rate; the sequence plays at ``options.fps`` (10 by default).
        resize_to_first: scale frames whose size differs from the first one's
            instead of refusing them.
    """

    def __init__(self, spec: str | os.PathLike, options: SourceOptions = SourceOptions(), *,
                 resize_to_first: bool = False) -> None:
        self.files = list_images(spec)
        self.options = options
        self.fps: float = options.fps or DEFAULT_SEQUENCE_FPS
        self.resize_to_first = resize_to_first

    def plan(self) -> ClipPlan:
        """Frames and their size from the first file's header (no image is decoded)."""
        size, channels = self._header(self.files[0])
        opts = self.options
        check_crop(opts.crop, *size)
        width, height = planned_size(size[0], size[1], opts)
        seconds = len(self.files) / self.fps
        seconds = min(seconds, opts.end) if opts.end is not None else seconds
        frames = math.ceil(max(0.0, seconds - (opts.start or 0.0)) * self.fps)
        return ClipPlan(max(1, frames), width, height, channels)

    @staticmethod
    def _header(path: Path) -> tuple[tuple[int, int], int]:
        """The first frame's (width, height) and channels (3 or 4), from its header."""
        try:
            with open(path, "rb") as file:
                start = file.read(HEADER_BYTES)
        except OSError as exc:
            raise _unreadable(path, exc) from None
        size, channels = png_size(start), png_channels(start)
        if size is not None and channels is not None and _safe_size(size):
            return size, channels
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                return image.size, 4 if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else 3
        except (OSError, UnidentifiedImageError, SyntaxError, ValueError, struct.error) as exc:
            raise _unreadable(path, exc) from None

    def _open(self, path: Path) -> Callable[[], np.ndarray]:
        """Check ``path``'s header here (safe size, readable format) and return the job that decodes it."""
        try:
            with open(path, "rb") as file:
                size = png_size(file.read(24))
        except OSError as exc:
            raise _unreadable(path, exc) from None
        if size is not None and _safe_size(size):
            return lambda: self._decode_png(path)
        from PIL import Image, UnidentifiedImageError

        try:
            with warnings.catch_warnings():       # not thread-safe: headers are checked on one thread
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path):
                    pass
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ResourceError(f"image {str(path)!r} is too large to decode safely ({exc})") from None
        except (OSError, UnidentifiedImageError, SyntaxError, ValueError, struct.error) as exc:
            raise _unreadable(path, exc) from None

        return lambda: self._decode(path)

    def _decode(self, path: Path) -> np.ndarray:
        """The frame in ``path``, decoded by Pillow (the header was checked by :meth:`_open`)."""
        from PIL import Image

        try:
            with Image.open(path) as image:
                if getattr(image, "is_animated", False) and len(self.files) > 1:
                    raise InputError(f"frame {str(path)!r} is itself an animation; convert it on its own")
                image.load()
                return as_pixels(image, what=f"image {str(path)!r}")
        except (OSError, SyntaxError, ValueError, struct.error) as exc:
            raise _unreadable(path, exc) from None

    def _decode_png(self, path: Path) -> np.ndarray:
        """The frame in PNG file ``path`` of a size Pillow would open: by :func:`decode_png` where it
        handles the file, else by Pillow."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _unreadable(path, exc) from None
        pixels = decode_png(data)
        if pixels is None:
            return self._decode(path)
        return as_pixels(pixels, what=f"image {str(path)!r}")

    def _raw(self) -> Iterator[Frame]:
        size = None
        rate = self.fps
        decoded = decode_ahead(self._open(path) for path in self.files)
        try:
            for number, (path, pixels) in enumerate(zip(self.files, decoded)):
                if size is None:
                    first = (pixels.shape[1], pixels.shape[0])
                    check_crop(self.options.crop, *first)
                    shown = cropped(pixels, self.options.crop)
                    size = fit_size(shown.shape[1], shown.shape[0], self.options.width, self.options.height)
                elif (pixels.shape[1], pixels.shape[0]) != first and not self.resize_to_first:
                    raise InputError(f"frame {str(path)!r} is {pixels.shape[1]}x{pixels.shape[0]} but the first "
                                     f"frame is {first[0]}x{first[1]}; use `resize_to_first` or give frames of one size")
                if (pixels.shape[1], pixels.shape[0]) != first:
                    pixels = resize(pixels, first)           # --resize-to-first: to the first frame's size
                yield Frame(resize(cropped(pixels, self.options.crop), size), number / rate)
        finally:
            decoded.close()

    def frames(self) -> Iterator[Frame]:
        # the sequence is already at its frame rate: only trim and speed apply
        yield from retime(self._raw(), SourceOptions(start=self.options.start, end=self.options.end,
                                                     speed=self.options.speed))
