"""A frame spool: frames kept in memory up to a budget, then on disk.

The global palette must be known before the first frame is written, so the
encoder sees every frame twice: once on the way in (to sample training pixels
and find scene cuts) and once on the way out. The spool holds the frames in
between without holding a long clip in memory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zlib
from typing import BinaryIO

import numpy as np

from .errors import InputError, ResourceError
from .frames import same_pixels

#: Frames are kept in memory until they use this many bytes, then spill to disk (the
#: operating system caches the file, and what it caches does not count against the process).
DEFAULT_MEMORY_BUDGET = 16 << 20
#: The spool stops with an error rather than leave less than this free in its folder.
DISK_RESERVE = 64 << 20
#: Free space in the spool's folder is looked at again each time the file has grown by this much.
DISK_CHECK_EVERY = 16 << 20
#: With adaptive compression, a deflated frame must be at most this share of its raw bytes to be kept
#: so; after one that is not, frames are stored raw and deflate is tried again :data:`RETRY_AFTER` frames on.
#: Screen content and GIF canvases shrink 10 to 1000 times; video shrinks by a third or so, which is not
#: worth 10 ms a frame each way (the operating system caches the raw file well).
WORTH_COMPRESSING = 0.25
RETRY_AFTER = 32


class FrameSpool:
    """Stores equally sized uint8 frames and their timestamps.

    Args:
        width, height: frame size in pixels.
        channels: 3 (RGB) or 4 (RGBA). An RGBA frame added to an RGB spool makes it an
            RGBA spool: its earlier frames are then read back with opaque alpha, so a clip
            whose transparency starts late keeps it.
        memory_budget: bytes kept in memory before frames go to a temporary file.
        directory: folder for the temporary file (the system's by default).
        compress: deflate frames on disk (level 1: fast, and screen content shrinks many times
            over): True always, False never, None where it pays (a frame is kept deflated when
            that shrinks it to a quarter or less; after one that does not, deflate rests for
            :data:`RETRY_AFTER` frames). A GIF input of one-pixel changes on a large screen
            spools a few kilobytes a frame instead of megabytes.

    A frame equal to the one before it is stored once, on disk and in memory. The free
    space of the folder is checked as the file grows: the spool stops with
    :class:`gifsom.errors.ResourceError` rather than leave less than :data:`DISK_RESERVE`.
    """

    def __init__(self, width: int, height: int, channels: int, *, memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 directory: str | None = None, compress: bool | None = None) -> None:
        self.shape = (height, width, channels)
        self.frame_bytes = height * width * channels
        self.memory_budget = memory_budget
        self.directory = directory
        self.compress = compress
        self.timestamps: list[float] = []
        #: For each frame, whether its pixels equal the previous frame's.
        self.repeats: list[bool] = []
        self._memory: list[np.ndarray] = []
        self._file: BinaryIO | None = None
        self._disk: list[tuple[int, int, int, bool]] = []   # (offset, length, channels, deflated) on disk
        self._disk_bytes = 0
        self._checked_at = -DISK_CHECK_EVERY          # file size when free space was last looked at
        self._rest_until = 0                          # adaptive deflate: frames stored raw until this many
        self._last: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def bytes_on_disk(self) -> int:
        """Bytes the spool file holds."""
        return self._disk_bytes

    def append(self, pixels: np.ndarray, pts: float) -> None:
        """Store one frame: uint8 (H, W, 3 or 4) array of the spool's size; ``pts`` in seconds."""
        if pixels.shape[:2] != self.shape[:2] or pixels.shape[2] not in (3, 4):
            raise InputError(
                f"frame {len(self)} is {pixels.shape[1]}x{pixels.shape[0]} but the clip is "
                f"{self.shape[1]}x{self.shape[0]}; give frames of one size (or resize them first)")
        if pixels.shape[2] > self.shape[2]:
            self.shape = pixels.shape
            self.frame_bytes = pixels.size
        repeat = self._last is not None and same_pixels(pixels, self._last)
        if self._file is None and (len(self._memory) + 1) * self.frame_bytes > self.memory_budget:
            self._file = tempfile.TemporaryFile(prefix="gifsom-spool-", dir=self.directory)
        if self._file is None:
            self._memory.append(self._memory[-1] if repeat else np.ascontiguousarray(pixels).copy())
        elif repeat and self._disk:
            self._disk.append(self._disk[-1])
        else:
            data, deflated = self._packed(np.ascontiguousarray(pixels).tobytes())
            self._make_room(len(data))
            try:
                self._file.write(data)
            except OSError as exc:
                raise ResourceError(f"cannot spool frame {len(self)} to disk ({exc.strerror}); "
                                    "free some space in the temporary folder or set TMPDIR") from exc
            self._disk.append((self._disk_bytes, len(data), pixels.shape[2], deflated))
            self._disk_bytes += len(data)
        self._last = self._memory[-1] if self._file is None else np.array(pixels)
        self.timestamps.append(float(pts))
        self.repeats.append(bool(repeat))

    def frame(self, number: int) -> np.ndarray:
        """Frame ``number`` (0-based) as a uint8 array of the spool's shape."""
        if number < len(self._memory):
            return self._with_spool_channels(self._memory[number])
        assert self._file is not None            # frames past the memory budget are on disk
        self._file.flush()
        offset, length, channels, deflated = self._disk[number - len(self._memory)]
        data = os.pread(self._file.fileno(), length, offset)
        if deflated:
            data = zlib.decompress(data)
        return self._with_spool_channels(np.frombuffer(data, np.uint8).reshape(self.shape[:2] + (channels,)))

    def _packed(self, raw: bytes) -> tuple[bytes, bool]:
        """The bytes to store for a frame, and whether they are deflated (see ``compress``)."""
        if self.compress is False or (self.compress is None and len(self) < self._rest_until):
            return raw, False
        deflated = zlib.compress(raw, 1)
        if self.compress is None and len(deflated) > WORTH_COMPRESSING * len(raw):
            self._rest_until = len(self) + RETRY_AFTER
            return raw, False
        return deflated, True

    def _make_room(self, size: int) -> None:
        """Refuse to write ``size`` more bytes when that would leave the folder under :data:`DISK_RESERVE` free."""
        if self._disk_bytes + size - self._checked_at < DISK_CHECK_EVERY:
            return
        self._checked_at = self._disk_bytes
        folder = self.directory or tempfile.gettempdir()
        free = shutil.disk_usage(folder).free
        if free - size < DISK_RESERVE:
            raise ResourceError(
                f"the temporary folder {folder!r} is nearly full ({free >> 20} MiB free) after {len(self)} frames "
                f"({self._disk_bytes >> 20} MiB spooled); free some space, point TMPDIR at a bigger disk, "
                "or make the clip smaller (fps, width, start/end)")

    def _with_spool_channels(self, pixels: np.ndarray) -> np.ndarray:
        """An RGB frame stored before the spool became RGBA, with opaque alpha added."""
        if pixels.shape[2] == self.shape[2]:
            return pixels
        opaque = np.full(self.shape[:2] + (1,), 255, np.uint8)
        return np.concatenate([pixels, opaque], axis=2)

    def close(self) -> None:
        """Drop the frames and remove the temporary file."""
        self._memory.clear()
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "FrameSpool":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
