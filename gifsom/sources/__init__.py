"""Frame sources: one module per kind of input, chosen from what the input looks like.

Every source yields :class:`gifsom.frames.Frame` objects (uint8 H x W x 3 or 4
pixels, pts in seconds) in display order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError
from ..frames import Frame
from .base import IMAGE_SUFFIXES, FrameSource, SourceOptions

__all__ = ["FrameSource", "SourceOptions", "open_source", "read_frames"]


def _is_gif(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(6) in (b"GIF87a", b"GIF89a")
    except OSError:
        return False


def open_source(spec: str | os.PathLike, options: SourceOptions = SourceOptions(), *,
                resize_to_first: bool = False) -> FrameSource:
    """The source for ``spec``: a GIF, an animated WebP or PNG, a single image, a folder or glob of images,
    or a video.

    Raises:
        InputError: when nothing exists at ``spec``.
    """
    text = str(spec)
    path = Path(text)
    if path.is_dir() or any(ch in text for ch in "*?["):
        from .images import ImageSequenceSource

        return ImageSequenceSource(text, options, resize_to_first=resize_to_first)
    if not path.exists():
        raise InputError(f"input {text!r} does not exist; check the path")
    if not path.is_file():
        raise InputError(f"input {text!r} is not a file or folder")
    if path.stat().st_size == 0:
        raise InputError(f"input {text!r} is empty (0 bytes); check that it was downloaded or written completely")
    if _is_gif(path) or path.suffix.lower() == ".gif":
        from .gif import GifSource

        return GifSource(path, options)
    from .animation import AnimationSource, is_animated

    if is_animated(path):
        return AnimationSource(path, options)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        from .images import ImageSequenceSource

        return ImageSequenceSource(text, options)
    from .video import VideoSource

    return VideoSource(path, options)


def read_frames(path_or_uri: str | os.PathLike, fps: float | None = None, size: tuple[int, int] | None = None,
                start: float | None = None, end: float | None = None) -> Iterator[Frame]:
    """Decode any input gifsom reads into timestamped frames.

    Args:
        path_or_uri: a video file, a GIF, an image, a folder or a glob of images.
        fps: resample to this frame rate; None keeps the input's timing.
        size: (width, height) to scale to; a 0 or None side keeps the aspect ratio.
        start, end: trim, in seconds of the input.

    Yields:
        :class:`Frame` objects: uint8 (H, W, 3|4) pixels, pts in seconds from the first frame.
    """
    width, height = (size or (None, None))
    options = SourceOptions(fps=fps, width=width or None, height=height or None, start=start, end=end)
    yield from open_source(path_or_uri, options).frames()
