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
import threading
from typing import BinaryIO, NamedTuple

import numpy as np

from . import deflate
from .errors import InputError, ResourceError
from .frames import changed_rectangle, same_pixels, unchangeable

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
#: With adaptive compression, frames go to disk raw until the file holds this many bytes: a clip a little
#: over the memory budget (screen-x10 spools 16 MB past it) costs neither deflating nor inflating, about
#: 0.5 ms a 480x320 frame; a long recording deflates from there on, as the disk is the larger worry.
RAW_BEFORE_DEFLATE = 64 << 20
#: A frame whose changes from the frame before fit in a rectangle of at most this share of the picture
#: is stored as that rectangle alone, in memory and on disk (a screen recording: a few kilobytes a frame,
#: so that 300 480x320 frames stay in memory, where whole frames went to disk after 36 and deflating
#: them took 0.4 ms a frame), and every :data:`WHOLE_FRAME_EVERY`-th frame is stored whole, so that
#: reading a frame out of order rebuilds at most that many.
PATCH_AT_MOST = 0.5
WHOLE_FRAME_EVERY = 32


class _Stored(NamedTuple):
    """How a frame is kept: the pixels in ``memory`` (uint8 (h, w, ``channels``)), or ``length`` bytes at
    ``offset`` in the spool file, deflated or raw; the whole frame, or (``box``: top, bottom, left, right)
    the rectangle that differs from the frame before."""

    memory: np.ndarray | None
    offset: int
    length: int
    channels: int
    deflated: bool
    box: tuple[int, int, int, int] | None


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
            over): True always, False never, None where it pays (once the file holds
            ``raw_before_deflate`` bytes, a frame is kept deflated when that shrinks it to a quarter
            or less; after one that does not, deflate rests for :data:`RETRY_AFTER` frames). A GIF
            input of one-pixel changes on a large screen spools a few kilobytes a frame instead of
            megabytes.
        raw_before_deflate: bytes written raw before adaptive compression starts (see
            :data:`RAW_BEFORE_DEFLATE`).

    A frame equal to the one before it is stored once, and a frame that differs from the one before in
    a small rectangle stores that rectangle (see :data:`PATCH_AT_MOST`); the memory budget counts what
    is stored, so a screen recording stays in memory far longer than video does.
    Frames are read fastest in order, as the encoder reads them. The free
    space of the folder is checked as the file grows: the spool stops with
    :class:`gifsom.errors.ResourceError` rather than leave less than :data:`DISK_RESERVE`.
    """

    def __init__(self, width: int, height: int, channels: int, *, memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 directory: str | None = None, compress: bool | None = None,
                 raw_before_deflate: int = RAW_BEFORE_DEFLATE) -> None:
        self.shape = (height, width, channels)
        self.frame_bytes = height * width * channels
        self.memory_budget = memory_budget
        self.directory = directory
        self.compress = compress
        self.raw_before_deflate = raw_before_deflate
        self.timestamps: list[float] = []
        #: For each frame, whether its pixels equal the previous frame's.
        self.repeats: list[bool] = []
        self._stored: list[_Stored] = []
        self._memory_bytes = 0
        self._file: BinaryIO | None = None
        self._since_whole = 0                         # frames stored since the last whole one
        self._rebuilt: tuple[int, np.ndarray] | None = None   # the last frame rebuilt: (its number, pixels)
        self._reading = threading.Lock()             # frames are rebuilt from the one before, one reader at a time
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

    def append(self, pixels: np.ndarray, pts: float) -> tuple[int, int, int, int] | None:
        """Store one frame: uint8 (H, W, 3 or 4) array of the spool's size; ``pts`` in seconds.

        Returns the rectangle ``(top, bottom, left, right)`` outside which the frame equals the one before
        (``(0, 0, 0, 0)`` for a repeat), or None for the first frame and one whose channels differ from
        the frame before's."""
        if pixels.shape[:2] != self.shape[:2] or pixels.shape[2] not in (3, 4):
            raise InputError(
                f"frame {len(self)} is {pixels.shape[1]}x{pixels.shape[0]} but the clip is "
                f"{self.shape[1]}x{self.shape[0]}; give frames of one size (or resize them first)")
        if pixels.shape[2] > self.shape[2]:
            self.shape = pixels.shape
            self.frame_bytes = pixels.size
        repeat = self._last is not None and same_pixels(pixels, self._last)
        changed: tuple[int, int, int, int] | None = (0, 0, 0, 0) if repeat else None
        if repeat and self._stored and (self._stored[-1].box is None or self._since_whole + 1 < WHOLE_FRAME_EVERY):
            self._stored.append(self._stored[-1])   # a repeated rectangle is rebuilt on its frame: one more step
            self._since_whole += self._stored[-1].box is not None
        else:
            pixels = np.ascontiguousarray(pixels)
            last = self._last
            if not repeat and last is not None and last.shape == pixels.shape:
                changed = changed_rectangle(pixels, last, pixels.shape[2]) or (0, 0, 0, 0)
            box = self._patch_box(pixels, changed)
            kept = pixels if box is None else pixels[box[0]:box[1], box[2]:box[3]]
            if self._file is None and self._memory_bytes + kept.nbytes <= self.memory_budget:
                # a whole frame nothing can change is kept as it is (a patch is copied: its view would keep
                # all the memory it was cut from)
                copy = kept if box is None and unchangeable(kept) else np.array(kept)
                copy.flags.writeable = False
                self._stored.append(_Stored(copy, 0, kept.nbytes, pixels.shape[2], False, box))
                self._memory_bytes += kept.nbytes
            else:
                self._store_on_disk(kept, pixels.shape[2], box)
            self._since_whole = 0 if box is None else self._since_whole + 1
            self._last = self._compared_next(pixels, box)
        self.timestamps.append(float(pts))
        self.repeats.append(bool(repeat))
        return changed

    def _compared_next(self, pixels: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
        """The copy of the frame just stored that the next frame is compared with. Outside ``box``, the
        frame equals the one before, so where the spool owns a writable copy of that one, only the box
        is copied into it; a frame kept whole in memory is its own copy."""
        last = self._last
        if box is not None and last is not None and last.flags.writeable and last.shape == pixels.shape:
            top, bottom, left, right = box
            last[top:bottom, left:right] = pixels[top:bottom, left:right]
            return last
        whole = self._stored[-1].memory if box is None else None
        return whole if whole is not None else np.array(pixels)

    def _store_on_disk(self, kept: np.ndarray, channels: int, box: tuple[int, int, int, int] | None) -> None:
        """Write a frame's kept pixels (the whole frame, or its ``box``) to the spool file."""
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="gifsom-spool-", dir=self.directory)
        data, deflated = self._packed(kept.tobytes())
        self._make_room(len(data))
        try:
            self._file.write(data)
        except OSError as exc:
            raise ResourceError(f"cannot spool frame {len(self)} to disk ({exc.strerror}); "
                                "free some space in the temporary folder or set TMPDIR") from exc
        self._stored.append(_Stored(None, self._disk_bytes, len(data), channels, deflated, box))
        self._disk_bytes += len(data)

    def frame(self, number: int) -> np.ndarray:
        """Frame ``number`` (0-based) as a uint8 array of the spool's shape (read-only)."""
        stored = self._stored[number]
        if stored.memory is not None and stored.box is None:
            return self._with_spool_channels(stored.memory)
        if self._file is not None:
            self._file.flush()
        with self._reading:
            return self._with_spool_channels(self._read(number))

    def spooled_number(self, number: int) -> int:
        """Frame ``number`` is the spooled frame ``number`` (see :class:`gifsom.clip.Clip`)."""
        return number

    def changed_box(self, number: int) -> tuple[int, int, int, int] | None:
        """The rectangle ``(top, bottom, left, right)`` outside which frame ``number`` equals the frame
        before, as the spool found it when storing the frame (``(0, 0, 0, 0)`` for a repeat), or None where
        it stored the frame whole (the first, every :data:`WHOLE_FRAME_EVERY`-th, and large changes)."""
        if number <= 0:
            return None
        if self.repeats[number]:
            return (0, 0, 0, 0)
        return self._stored[number].box

    def _read(self, number: int) -> np.ndarray:
        """The pixels of frame ``number`` as stored (its own channels): read whole, or rebuilt from the
        frame before."""
        stored = self._stored[number]
        top, bottom, left, right = stored.box or (0, self.shape[0], 0, self.shape[1])
        if stored.memory is not None:
            data = stored.memory
        else:
            assert self._file is not None
            raw = os.pread(self._file.fileno(), stored.length, stored.offset)
            if stored.deflated:
                raw = deflate.decompress(raw)
            data = np.frombuffer(raw, np.uint8).reshape((bottom - top, right - left, stored.channels))
        if stored.box is None:
            pixels = data
        else:
            before = self._rebuilt[1] if self._rebuilt is not None and self._rebuilt[0] == number - 1 \
                else self._read(number - 1)
            pixels = before.copy()
            pixels[top:bottom, left:right] = data
            pixels.flags.writeable = False
        self._rebuilt = (number, pixels)
        return pixels

    def _patch_box(self, pixels: np.ndarray, changed: tuple[int, int, int, int] | None
                   ) -> tuple[int, int, int, int] | None:
        """The rectangle to store of a frame that differs from the one before in ``changed`` (or None where
        that is not known; see :data:`PATCH_AT_MOST`), or None to store it whole."""
        if not self._stored or self._since_whole + 1 >= WHOLE_FRAME_EVERY or changed is None:
            return None
        box = changed
        top, bottom, left, right = box
        return None if (bottom - top) * (right - left) > PATCH_AT_MOST * pixels.shape[0] * pixels.shape[1] else box

    def _packed(self, raw: bytes) -> tuple[bytes, bool]:
        """The bytes to store for a frame, and whether they are deflated (see ``compress``)."""
        if self.compress is False or (self.compress is None and (len(self) < self._rest_until
                                                                 or self._disk_bytes < self.raw_before_deflate)):
            return raw, False
        deflated = deflate.compress(raw, 1)
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
        self._stored.clear()
        self._last = self._rebuilt = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "FrameSpool":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
