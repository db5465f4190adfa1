"""Video files through the ffmpeg that imageio-ffmpeg ships."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError, SourceError
from ..frames import Frame
from .base import SourceOptions

#: Frame rate used for a video whose own rate ffmpeg cannot tell.
FALLBACK_FPS = 10.0
#: GIF cannot show more than 50 frames per second (delays are at least 2 cs).
MAX_GIF_FPS = 50.0


def _ffmpeg_reason(error: BaseException) -> str:
    """The most telling line of ffmpeg's stderr inside an imageio-ffmpeg error."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    telling = [line for line in lines if not line.startswith(("ffmpeg version", "built with", "configuration:", "lib"))
               and "===" not in line and line != "Could not load meta information"]
    return telling[-1] if telling else (lines[-1] if lines else type(error).__name__)


class VideoSource:
    """Frames of any video ffmpeg reads (mp4, webm, mkv, mov, ...).

    Trimming, speed, frame rate and scaling are done inside ffmpeg, so only
    the frames that will be used are decoded into Python.
    """

    loop = None

    def __init__(self, path: str | os.PathLike, options: SourceOptions = SourceOptions()) -> None:
        self.path = Path(path)
        self.options = options
        self.fps: float | None = options.fps
        self.size: tuple[int, int] | None = None
        self.duration: float | None = None

    def _filters(self, source_fps: float | None) -> list[str]:
        opts = self.options
        filters = []
        if opts.speed != 1.0:
            filters.append(f"setpts=PTS/{opts.speed!r}")
        fps = opts.fps or min(MAX_GIF_FPS, (source_fps or FALLBACK_FPS) * opts.speed)
        filters.append(f"fps={fps!r}")
        if opts.width or opts.height:
            filters.append(f"scale={opts.width or -1}:{opts.height or -1}:flags=lanczos")
        return filters

    def _source_fps(self) -> float | None:
        import imageio_ffmpeg

        reader = imageio_ffmpeg.read_frames(str(self.path))
        try:
            meta = next(reader)
        except (OSError, RuntimeError, StopIteration) as exc:
            raise InputError(f"cannot read video {str(self.path)!r}: {_ffmpeg_reason(exc)}; "
                             "check that the file is a complete video") from None
        finally:
            reader.close()
        fps = meta.get("fps")
        return float(fps) if fps and np.isfinite(fps) and fps > 0 else None

    def frames(self) -> Iterator[Frame]:
        import imageio_ffmpeg

        logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)
        if not self.path.is_file():
            raise InputError(f"input {str(self.path)!r} does not exist; check the path")
        opts = self.options
        source_fps = None if opts.fps else self._source_fps()
        fps = opts.fps or min(MAX_GIF_FPS, (source_fps or FALLBACK_FPS) * opts.speed)
        self.fps = fps
        input_params = []
        if opts.start:
            input_params += ["-ss", f"{opts.start:.6f}"]
        if opts.end is not None:
            input_params += ["-t", f"{opts.end - (opts.start or 0.0):.6f}"]
        output_params = ["-vf", ",".join(self._filters(source_fps)), "-an", "-sn"]
        reader = imageio_ffmpeg.read_frames(str(self.path), input_params=input_params,
                                            output_params=output_params)
        try:
            try:
                meta = next(reader)
            except (OSError, RuntimeError, StopIteration) as exc:
                raise InputError(f"cannot read video {str(self.path)!r}: {_ffmpeg_reason(exc)}; "
                                 "check that the file is a complete video") from None
            width, height = meta["size"]
            self.size = (width, height)
            self.duration = meta.get("duration")
            number = 0
            while True:
                try:
                    data = next(reader)
                except StopIteration:
                    break
                except (OSError, RuntimeError) as exc:
                    if number:
                        # a truncated file: keep what decoded, as players do
                        break
                    raise SourceError(f"ffmpeg failed on {str(self.path)!r}: {_ffmpeg_reason(exc)}") from None
                pixels = np.frombuffer(data, np.uint8).reshape(height, width, 3)
                yield Frame(pixels, number / fps)
                number += 1
            if number == 0:
                raise InputError(f"video {str(self.path)!r} has no frames in the requested range; "
                                 "check --start/--end or the file")
        finally:
            reader.close()
