"""gifsom as an imageio v3 plugin: ``plugin="gifsom"``.

After ``import gifsom`` (gifsom adds itself to imageio's plugin table when
imageio is imported; imageio's own plugins and its choice for ``.gif`` are
left as they are)::

    import imageio.v3 as iio
    iio.imwrite("out.gif", frames, plugin="gifsom", fps=15, colors=128)

    with iio.imopen("out.gif", "w", plugin="gifsom") as file:    # frame by frame
        for frame in frames:
            file.write(frame, fps=15)

    frames = iio.imread("in.gif", plugin="gifsom")                # (N, H, W, 3 or 4)

Writing streams every frame into :class:`gifsom.GifWriter`; the GIF is
encoded when the file is closed. Reading decodes with gifsom's GIF reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

try:
    from imageio.config.plugins import PluginConfig, known_plugins
    from imageio.core.request import URI_FILENAME, InitializationError, IOMode, Request
    from imageio.core.v3_plugin_api import ImageProperties, PluginV3
except ImportError as exc:       # pragma: no cover - imageio is a dependency
    raise ImportError('gifsom.imageio needs imageio: pip install imageio') from exc

from .errors import OptionError
from .options import EncodeFields, EncodeOptions, with_fields
from .writer import GifWriter

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: Writing options that ``write`` takes as keywords, besides ``fps`` and ``duration``.
ENCODE_KEYWORDS = ("colors", "dither", "dither_strength", "lossy", "loop", "palette", "quality", "motion_threshold")


class GifsomPlugin(PluginV3):
    """imageio v3 plugin that writes (and reads) GIFs with gifsom.

    Args:
        request: imageio's request; writing needs a ``.gif`` name or ``extension=".gif"``.
    """

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self._writer: GifWriter | None = None
        self._options: tuple[float | None, EncodeOptions] | None = None
        self._pts = 0.0
        self._end_time: float | None = None
        self._gif = None                 # the GIF's blocks, read once when reading asks for them
        if request.mode.io_mode == IOMode.write:
            if (request.extension or "").lower() != ".gif":
                raise InitializationError("gifsom writes GIF only: give a .gif name or extension='.gif'")
            self._path = request.get_local_filename()
        else:
            path = request.get_local_filename()
            with open(path, "rb") as file:
                if file.read(6) not in (b"GIF87a", b"GIF89a"):
                    raise InitializationError(f"{request.raw_uri!r} is not a GIF")
            self._path = path

    # writing

    # imageio's PluginV3.write takes only the image; plugins add their own keywords, as this one does
    def write(self, ndimage: np.ndarray | list[np.ndarray], *, is_batch: bool | None = None,  # type: ignore[override]
              fps: float | None = None, duration: float | list[float] | None = None,
              **options: Unpack[EncodeFields]) -> bytes | None:
        """Append frames to the GIF.

        Args:
            ndimage: one uint8 (H, W, 3|4) frame, a batch (N, H, W, 3|4) or a list of frames.
            is_batch: whether ``ndimage`` holds several frames (guessed from its shape when None).
            fps: frame rate (10 when neither this nor ``duration`` is given).
            duration: milliseconds each frame shows, one number or one per frame (as
                imageio's Pillow plugin takes it); not together with ``fps``.
            **options: ``colors``, ``dither``, ``dither_strength``, ``lossy``, ``loop``,
                ``palette``, ``quality``, ``motion_threshold`` (see :func:`gifsom.encode`). Given
                on the first write; a later write must give the same or none.

        Returns:
            The GIF's bytes when writing to ``"<bytes>"`` (one write only), else None.
        """
        if self.request.mode.io_mode != IOMode.write:
            raise OptionError(f"{self.request.raw_uri!r} was opened for reading; open it with mode 'w' to write a GIF")
        try:
            return self._write(ndimage, is_batch, fps, duration, options)
        except BaseException:
            # nothing half-made is written, and closing must not hide this error behind "no frames"
            if self._writer is not None:
                self._writer.abort()
            raise

    def _write(self, ndimage: np.ndarray | list[np.ndarray], is_batch: bool | None, fps: float | None,
               duration: float | list[float] | None, options: EncodeFields) -> bytes | None:
        frames = _as_frames(ndimage, is_batch)
        unknown = sorted(set(options) - set(ENCODE_KEYWORDS))
        if unknown:
            raise OptionError(f"unknown option {unknown[0]!r} for the gifsom plugin; use {', '.join(ENCODE_KEYWORDS)}, "
                              "fps or duration")
        if fps is not None and duration is not None:
            raise OptionError("give fps or duration, not both")
        chosen = (fps, with_fields(None, options))
        if self._writer is None:
            self._options = chosen
            self._writer = GifWriter(self._path, fps=fps, options=chosen[1])
        elif options or fps is not None:
            if chosen != self._options:
                raise OptionError("options changed after the first write; give them on the first write only")
        durations = _durations(duration, len(frames))
        for frame, shown_ms in zip(frames, durations):
            if shown_ms is None:
                self._writer.append(frame)
            else:
                self._writer.append(frame, pts=self._pts)
                self._pts += shown_ms / 1000.0
        if durations and durations[-1] is not None:
            self._end_time = self._pts
        if self._request._uri_type != URI_FILENAME:
            # imageio hands the bytes back only from this call: finish the GIF now
            self._writer.close(end_time=self._end_time)
            with open(self._path, "rb") as file:
                return file.read()
        return None

    # reading: frames as browsers show them; the count, size and timing come from the GIF's
    # blocks, so improps and immeta decode no image

    def _reader(self):
        from .gif.reader import GifReader

        if self._gif is None:
            with open(self._path, "rb") as file:
                self._gif = GifReader(file.read(), str(self.request.raw_uri))
        return self._gif

    def _channels(self) -> int:
        """4 when the GIF may show transparency (every frame is then RGBA), else 3."""
        return 4 if self._reader().may_show_transparency else 3

    def read(self, *, index: int | None = None, **_: Any) -> np.ndarray:
        """All frames as one (N, H, W, C) array (``index`` None or ...), or frame ``index`` as (H, W, C).

        C is 4 (RGBA) for a GIF that may show transparency, else 3, for every frame alike.
        """
        if index is None or index is Ellipsis:
            return np.stack(list(self.iter()))
        count = self._reader().frame_count
        if not -count <= index < count:
            raise IndexError(f"index {index} is out of range for a GIF of {count} frames")
        index %= count
        for number, frame in enumerate(self.iter()):
            if number == index:
                return frame
        raise IndexError(f"index {index} is past the last frame that decodes")

    def iter(self) -> Iterator[np.ndarray]:
        """Each frame as a browser shows it: uint8 (H, W, C), C as for :meth:`read`."""
        channels = self._channels()
        for canvas, _delay in self._reader().frames():
            yield canvas[:, :, :channels].copy()

    def properties(self, index: int | None = None) -> ImageProperties:
        """Shape and dtype of frame ``index``, or of the whole stack when ``index`` is None or ...
        (read from the GIF's blocks: no image is decoded)."""
        reader = self._reader()
        shape = (reader.height, reader.width, self._channels())
        if index is None or index is Ellipsis:
            return ImageProperties(shape=(reader.frame_count, *shape), dtype=np.dtype(np.uint8),
                                   n_images=reader.frame_count, is_batch=True)
        return ImageProperties(shape=shape, dtype=np.dtype(np.uint8))

    def metadata(self, index: int | None = None, exclude_applied: bool = True) -> dict[str, Any]:
        """``loop`` (0 forever, N repeats, -1 once), ``duration`` in milliseconds and ``pts`` in
        seconds as browsers play them: lists for the whole GIF (``index`` None or ...), numbers
        for frame ``index``. Read from the GIF's blocks: no image is decoded."""
        reader = self._reader()
        durations = [delay * 10 for delay in reader.shown_delays]
        starts = [sum(durations[:number]) / 1000.0 for number in range(len(durations))]
        if index is None or index is Ellipsis:
            return {"loop": reader.loop, "duration": durations, "pts": starts}
        if not -len(durations) <= index < len(durations):
            raise IndexError(f"index {index} is out of range for a GIF of {len(durations)} frames")
        return {"loop": reader.loop, "duration": durations[index], "pts": starts[index]}

    def close(self) -> None:
        """Finish the GIF (when writing) and release the request."""
        try:
            if self._writer is not None:
                self._writer.close(end_time=self._end_time)
        finally:
            super().close()


def _as_frames(ndimage: np.ndarray | list[np.ndarray], is_batch: bool | None) -> list[np.ndarray]:
    if isinstance(ndimage, (list, tuple)):
        return [np.asarray(frame) for frame in ndimage]
    array = np.asarray(ndimage)
    if is_batch is None:
        is_batch = array.ndim == 4 or (array.ndim == 3 and array.shape[-1] not in (3, 4))
    if is_batch:
        return list(array)
    return [array]


def _durations(duration: float | list[float] | None, count: int) -> list[float | None]:
    """Per-frame milliseconds, or None for each frame when no duration was given."""
    if duration is None:
        return [None] * count
    if isinstance(duration, (int, float)) or np.ndim(duration) == 0:
        return [float(duration)] * count       # type: ignore[arg-type]  # a number, or a 0-d array
    values: list[float | None] = [float(d) for d in duration]
    if len(values) != count:
        raise OptionError(f"duration has {len(values)} values for {count} frames; give one per frame or one for all")
    return values


def register() -> None:
    """Add the plugin to imageio's plugin table as ``"gifsom"`` (imageio's defaults stay as they are)."""
    if "gifsom" not in known_plugins:
        known_plugins["gifsom"] = PluginConfig(name="gifsom", class_name="GifsomPlugin", module_name="gifsom.imageio",
                                               install_name="gifsom")


register()     # when this module is imported first, before the hook could run
