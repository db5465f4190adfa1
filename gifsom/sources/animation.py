"""Animated WebP and PNG (APNG) files: every frame, with its own delay and the loop count, through Pillow.

Pillow composes each frame onto the canvas (disposal and blending), so a frame
here is the whole picture a browser shows at that moment.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError, ResourceError
from ..frames import Frame
from .base import ClipPlan, SourceBase, SourceOptions, check_crop, planned_size, retime, timed_pictures

#: File name endings that may hold an animation Pillow reads.
ANIMATION_SUFFIXES = (".webp", ".png", ".apng")
#: Delay of a frame whose file gives none (milliseconds), as browsers play it.
DEFAULT_DELAY_MS = 100


def is_animated(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an animated WebP or PNG (more than one frame); False for anything unreadable."""
    if Path(path).suffix.lower() not in ANIMATION_SUFFIXES:
        return False
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                return bool(getattr(image, "is_animated", False))
    except Exception:      # Pillow raises many kinds on a broken file; the image source reports them
        return False


class AnimationSource(SourceBase):
    """The frames of an animated WebP or PNG, on the file's own timeline.

    Args:
        path: the file.
        options: size, trim and rate; without ``fps`` each frame keeps its own delay.
    """

    def __init__(self, path: str | os.PathLike, options: SourceOptions = SourceOptions()) -> None:
        from PIL import Image

        self.path = Path(path)
        self.options = options
        self.fps = options.fps
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(self.path) as image:
                    self._size = image.size
                    self._count = int(getattr(image, "n_frames", 1))
                    plays = int(image.info.get("loop", 0) or 0)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ResourceError(f"image {str(self.path)!r} is too large to decode safely ({exc})") from None
        except (OSError, SyntaxError, ValueError, struct.error) as exc:
            raise InputError(f"cannot read animation {str(self.path)!r} ({exc}); check the file") from None
        check_crop(options.crop, *self._size)
        #: WebP and APNG count plays (0 forever); GIF's loop block counts repeats.
        self.loop: int | None = 0 if plays == 0 else plays - 1 if plays > 1 else -1
        self.end_time: float | None = None

    def plan(self) -> ClipPlan:
        return ClipPlan(self._count, *planned_size(self._size[0], self._size[1], self.options), 4)

    def _pictures(self) -> Iterator[tuple[np.ndarray, float]]:
        from PIL import Image

        try:
            with Image.open(self.path) as image:
                for number in range(self._count):
                    image.seek(number)
                    pixels = np.asarray(image.convert("RGBA"))    # WebP tells a frame's delay once it is loaded
                    yield pixels, float(image.info.get("duration") or DEFAULT_DELAY_MS)
        except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
            raise InputError(f"cannot read frame {number} of {str(self.path)!r} ({exc}); check the file") from None

    def frames(self) -> Iterator[Frame]:
        yield from retime(timed_pictures(self._pictures(), self.options, self), self.options)
