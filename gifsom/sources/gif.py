"""Existing GIFs: decoded with Pillow (disposal and transparency applied), timing kept."""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError, ResourceError
from ..frames import Frame, as_pixels
from .base import SourceOptions, fit_size, resize, retime


class GifSource:
    """Frames of a GIF file with their own delays and loop count."""

    def __init__(self, path: str | os.PathLike, options: SourceOptions = SourceOptions()) -> None:
        self.path = Path(path)
        self.options = options
        self.fps = options.fps
        self.loop: int | None = None
        #: When the last frame stops showing (seconds of output), once read; None when resampled.
        self.end_time: float | None = None

    def _raw(self) -> Iterator[Frame]:
        from PIL import Image, UnidentifiedImageError

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(self.path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ResourceError(f"GIF {str(self.path)!r} is too large to decode safely ({exc})") from None
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError, struct.error) as exc:
            raise InputError(f"cannot open GIF {str(self.path)!r} ({exc}); check that the file is a GIF") from None
        with image:
            loop = image.info.get("loop")
            self.loop = -1 if loop is None else int(loop)
            pts = 0.0
            size = None
            number = 0
            while True:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("error", Image.DecompressionBombWarning)
                        image.seek(number)
                        pixels = as_pixels(image.convert("RGBA"), what=f"frame {number} of {str(self.path)!r}")
                except EOFError:
                    break
                except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                    raise ResourceError(f"GIF {str(self.path)!r} is too large to decode safely at frame {number} "
                                        f"({exc})") from None
                except (OSError, ValueError, SyntaxError, IndexError, TypeError, struct.error, ZeroDivisionError) as exc:
                    raise InputError(f"GIF {str(self.path)!r} is damaged at frame {number} ({exc}); "
                                     "re-download or re-export it") from None
                if size is None:
                    size = fit_size(pixels.shape[1], pixels.shape[0], self.options.width, self.options.height)
                yield Frame(resize(pixels, size), pts)
                pts += max(int(image.info.get("duration", 100) or 100), 20) / 1000.0
                number += 1
            if number == 0:
                raise InputError(f"GIF {str(self.path)!r} has no frames; check the file")
            if self.options.fps is None:
                end = pts if self.options.end is None else min(pts, self.options.end)
                self.end_time = max(0.0, end - (self.options.start or 0.0)) / self.options.speed

    def frames(self) -> Iterator[Frame]:
        yield from retime(self._raw(), self.options)
