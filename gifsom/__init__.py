"""gifsom: animated GIFs with a self-organizing-map palette.

The public surface:

- :func:`learn_palette` and :func:`quantize` for palettes and still images;
- :func:`encode` and :class:`GifWriter` to make GIFs from frames;
- :func:`read_frames` to decode videos, image sequences and GIFs into frames;
- :func:`record` to record the screen (and :class:`gifsom.sources.screen.ScreenSource`
  for timestamped screen frames on their own);
- :class:`GifsomError`, the root of every error gifsom raises.
"""

from __future__ import annotations

from .api import GifWriter, encode, quantize
from .errors import GifsomError
from .frames import Frame
from .options import EncodeOptions
from .palette.learn import learn_palette

__version__ = "0.1.0"

__all__ = ["EncodeOptions", "Frame", "GifWriter", "GifsomError", "__version__", "encode", "learn_palette",
           "quantize", "read_frames", "record"]


def read_frames(*args, **kwargs):
    """Decode a video, image sequence or GIF into timestamped frames (see :func:`gifsom.sources.read_frames`)."""
    from .sources import read_frames as _read_frames

    return _read_frames(*args, **kwargs)


def record(*args, **kwargs):
    """Record the screen into a GIF (see :func:`gifsom.recorder.record`)."""
    from .recorder import record as _record

    return _record(*args, **kwargs)
