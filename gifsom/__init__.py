"""gifsom: animated GIFs with a self-organizing-map palette.

The public surface:

- :func:`learn_palette` and :func:`quantize` for palettes and still images;
- :func:`encode` and :class:`GifWriter` to make GIFs from frames (or from a :class:`FrameSource`,
  such as :func:`gifsom.sources.open_source` gives);
- :func:`read_frames` to decode videos, image sequences and GIFs into frames;
- :func:`record` to record the screen (and :class:`gifsom.sources.screen.ScreenSource`
  for timestamped screen frames on their own);
- :class:`GifsomError`, the root of every error gifsom raises;
- the types the functions above take and give: :class:`EncodeOptions` and its keywords
  (:class:`EncodeFields`), :class:`SizeLimit`, :class:`TimelineEdits`, :class:`GifPath`,
  :class:`Region`, :class:`Frame`, :class:`EncodeResult`, :class:`FitResult`, :class:`RecordingReport`;
- :mod:`gifsom.matplotlib` (``anim.save(..., writer="gifsom")``) and :mod:`gifsom.imageio`
  (``iio.imwrite(..., plugin="gifsom")``), registered when matplotlib or imageio is imported;
- :mod:`gifsom.errors` (the exception hierarchy), :mod:`gifsom.sources` (``open_source``,
  ``SourceOptions``) and :mod:`gifsom.sources.screen` (``ScreenSource``, ``CaptureOptions``).

Every other module is internal: the pipeline's parts (collector, spool, encoder, live encoder,
palette, mapping, gif, fit) may change their names and signatures between versions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from . import _post_import
from .errors import GifsomError
from .fit import FitResult, SizeLimit
from .frames import Frame
from .output import GifPath
from .options import EncodeFields, EncodeOptions
from .palette.learn import learn_palette
from .quantize import quantize
from .recorder import RecordingReport, record
from .sources.base import FrameSource
from .sources.screen import Region
from .timeline import TimelineEdits
from .writer import EncodeResult, GifWriter, encode

__version__ = "0.1.0"

# writer="gifsom" in matplotlib and plugin="gifsom" in imageio, once those are imported
_post_import.install()

__all__ = ["EncodeFields", "EncodeOptions", "EncodeResult", "FitResult", "Frame", "FrameSource", "GifPath", "GifWriter",
           "GifsomError", "RecordingReport", "Region", "SizeLimit", "TimelineEdits", "__version__", "encode",
           "learn_palette", "quantize", "read_frames", "record"]


def read_frames(path_or_uri: str | os.PathLike, fps: float | None = None, size: tuple[int, int] | None = None,
                start: float | None = None, end: float | None = None) -> Iterator[Frame]:
    """Decode a video, GIF, image, folder or glob of images into timestamped frames.

    Args:
        path_or_uri: the input.
        fps: resample to this frame rate; None keeps the input's timing.
        size: (width, height) to scale to; a 0 or None side keeps the aspect ratio.
        start, end: trim, in seconds of the input.

    Yields:
        :class:`Frame` objects: uint8 (H, W, 3|4) pixels, pts in seconds from the first frame.
    """
    from .sources import read_frames as _read_frames

    return _read_frames(path_or_uri, fps=fps, size=size, start=start, end=end)


