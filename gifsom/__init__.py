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

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from . import _post_import
from .errors import GifsomError

if TYPE_CHECKING:
    from .fit_terms import FitResult, SizeLimit
    from .frames import Frame
    from .output import GifPath
    from .options import EncodeFields, EncodeOptions
    from .palette.learn import learn_palette
    from .recorder import RecordingReport, record
    from .sources import read_frames
    from .sources.base import FrameSource
    from .sources.screen import Region
    from .still import quantize
    from .timeline import TimelineEdits
    from .writer import EncodeResult, GifWriter, encode

__version__ = "0.1.0"

#: Where each public name lives. They are imported when first used, so that ``import gifsom`` does not
#: load numpy and every stage of the pipeline (the command line sets numpy's threads before numpy loads).
_PUBLIC = {
    "FitResult": "fit_terms", "SizeLimit": "fit_terms", "Frame": "frames", "GifPath": "output",
    "EncodeFields": "options", "EncodeOptions": "options", "learn_palette": "palette.learn",
    "RecordingReport": "recorder", "record": "recorder", "read_frames": "sources", "FrameSource": "sources.base",
    "Region": "sources.screen", "quantize": "still", "TimelineEdits": "timeline", "EncodeResult": "writer",
    "GifWriter": "writer", "encode": "writer",
}

# writer="gifsom" in matplotlib and plugin="gifsom" in imageio, once those are imported
_post_import.install()

__all__ = ["EncodeFields", "EncodeOptions", "EncodeResult", "FitResult", "Frame", "FrameSource", "GifPath", "GifWriter",
           "GifsomError", "RecordingReport", "Region", "SizeLimit", "TimelineEdits", "__version__", "encode",
           "learn_palette", "quantize", "read_frames", "record"]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use; or a submodule, such as ``gifsom.sources``."""
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    elif not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

