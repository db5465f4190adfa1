"""gifsom as a matplotlib animation writer.

After ``import gifsom``, ``anim.save("out.gif", writer="gifsom", fps=20)`` uses it
(gifsom adds itself to matplotlib's writer registry when matplotlib.animation is
imported). For options, pass an instance::

    from gifsom.matplotlib import GifWriter
    anim.save("out.gif", writer=GifWriter(fps=20, colors=128, dither="blue-noise"))

Frames stream into :class:`gifsom.GifWriter` as matplotlib draws them (spooled
to disk beyond a small memory budget), so a long animation does not pile up in
memory. A figure saved with ``savefig_kwargs={"transparent": True}`` keeps its
transparency (alpha below 128 is transparent).
"""

from __future__ import annotations

import contextlib
import os
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

try:
    import matplotlib as mpl
    from matplotlib import animation
except ImportError as exc:       # pragma: no cover - depends on the environment
    raise ImportError('gifsom.matplotlib needs matplotlib: pip install "gifsom[matplotlib]"') from exc

from . import writer as gif_writer
from .options import EncodeOptions

#: savefig arguments the writer sets itself.
_RESERVED = ("dpi", "bbox_inches", "format")


class GifWriter(animation.AbstractMovieWriter):
    """A matplotlib movie writer that makes the GIF with gifsom.

    Args:
        fps: frames per second; each frame lasts exactly 1/fps, centisecond
            rounding carried from frame to frame.
        codec, bitrate, extra_args: accepted because matplotlib passes them to
            every writer; GIF has neither codec nor bitrate, so they are ignored.
        metadata: a ``"comment"`` (or else ``"title"``) entry is stored in the GIF.
        colors, quality, dither, dither_strength, lossy, loop, palette: as for
            :func:`gifsom.encode` (checked here, before anything is drawn).
    """

    def __init__(self, fps: float = 5, codec: str | None = None, bitrate: int | None = None,
                 extra_args: list[str] | None = None, metadata: dict[str, str] | None = None, *,
                 colors: int | None = None, quality: int | None = None, dither: str | None = None,
                 dither_strength: float | None = None, lossy: int | None = None, loop: int = 0,
                 palette: str | None = None) -> None:
        # matplotlib's stubs say int, but it passes any number through (animation.save(fps=12.5))
        super().__init__(fps=fps, metadata=metadata, codec=codec, bitrate=bitrate)  # type: ignore[arg-type]
        comment = (metadata or {}).get("comment") or (metadata or {}).get("title")
        self.options = EncodeOptions(colors=colors, quality=quality, dither=dither, dither_strength=dither_strength,
                                     lossy=lossy, loop=loop, palette=palette, comment=comment)
        self._writer: gif_writer.GifWriter | None = None

    @classmethod
    def isAvailable(cls) -> bool:  # noqa: N802 - matplotlib's name
        """gifsom needs no external program."""
        return True

    def _supports_transparency(self) -> bool:
        """GIF has transparency: matplotlib then leaves a transparent figure transparent."""
        return True

    def setup(self, fig: Any, outfile: str | os.PathLike, dpi: float | None = None) -> None:
        """Open the GIF at ``outfile`` for frames of ``fig`` drawn at ``dpi`` (the figure's own by default)."""
        super().setup(fig, Path(outfile), dpi=dpi)
        self._writer = gif_writer.GifWriter(outfile, fps=float(self.fps), options=self.options)

    def grab_frame(self, **savefig_kwargs: Any) -> None:
        """Draw the figure and hand the frame to gifsom; ``savefig_kwargs`` go to ``savefig``."""
        _check_grab_kwargs(savefig_kwargs)
        if self._writer is None:
            raise RuntimeError("grab_frame() before setup(); use anim.save() or writer.saving()")
        buffer = BytesIO()
        self.fig.savefig(buffer, **{**savefig_kwargs, "format": "rgba", "dpi": self.dpi})
        width, height = self.frame_size
        frame = np.frombuffer(buffer.getbuffer(), np.uint8).reshape(height, width, 4)
        if frame[:, :, 3].min() == 255:
            frame = frame[:, :, :3]          # an opaque figure: no alpha to carry
        self._writer.append(frame)

    def finish(self) -> None:
        """Encode the frames and move the GIF into place."""
        if self._writer is not None:
            self._writer.close()

    @contextlib.contextmanager
    def saving(self, fig: Any, outfile: str | os.PathLike, dpi: float | None, *args: Any, **kwargs: Any):
        """As matplotlib's, except that a failure while drawing writes nothing (and keeps an existing file)."""
        self.setup(fig, outfile, dpi, *args, **kwargs)
        with mpl.rc_context({"savefig.bbox": None}):
            try:
                yield self
            except BaseException:
                if self._writer is not None:
                    self._writer.abort()
                raise
            self.finish()


def _check_grab_kwargs(savefig_kwargs: dict[str, Any]) -> None:
    """Refuse what matplotlib's own writers refuse, with their words (matplotlib's tests match them):
    ``dpi``, ``bbox_inches`` and ``format``, which the writer sets, and a tight bounding box."""
    validate = getattr(animation, "_validate_grabframe_kwargs", None)
    if validate is not None:
        validate(savefig_kwargs)
        return
    for key in _RESERVED:
        if key in savefig_kwargs:
            raise TypeError(f"grab_frame got an unexpected keyword argument {key!r}")


def register() -> None:
    """Add :class:`GifWriter` to matplotlib's writer registry as ``"gifsom"``."""
    if "gifsom" not in animation.writers.list():
        animation.writers.register("gifsom")(GifWriter)


register()     # when this module is imported first, before the hook could run
