"""Large zeroed scratch arrays whose memory is taken a page at a time and given back whole.

A palette's lookup lists and the refinement's histogram are large (8 to 32 MiB), sparsely used, and made
again for every new palette. From the heap, after the first was freed the allocator kept such blocks
instead of returning them, and zeroed the whole of each again: on the bench's 176x144 camera clip, with a
palette every 11 frames, peak memory rose from 74 to 98 MB. Anonymous mappings cost only the pages touched,
and are unmapped when the array goes. Where such arrays come one after another, many a second (a steady
camera learns and maps a palette each frame), a :class:`ScratchPool` hands one on to the next user, and
each page is faulted in once.
"""

from __future__ import annotations

import mmap
import threading
import weakref

import numpy as np


def small_pages_zeroed(count: int, dtype: type = np.uint16) -> np.ndarray:
    """A zeroed array of ``count`` elements whose memory comes in small pages, each when first touched.

    With transparent huge pages, touching one element of a large array makes a whole 2 MiB page
    resident: a frame of video touched every huge page of the 32 MiB exact table (32 MiB resident,
    and tens of milliseconds of zeroing on a loaded machine), where it touches a few MiB of its
    4 KiB pages. Where the system cannot be told (not Linux), it is a plain anonymous mapping.
    """
    size = count * np.dtype(dtype).itemsize
    memory = mmap.mmap(-1, size)
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        try:
            memory.madvise(mmap.MADV_NOHUGEPAGE)
        except OSError:         # a kernel built without transparent huge pages refuses the advice: none to avoid
            pass
    return np.frombuffer(memory, dtype, count)


class ScratchPool:
    """Scratch arrays of one size from :func:`small_pages_zeroed`, given back after use and handed out again.

    A new palette's lookup lists, and each histogram of the refinement, took fresh pages, and every page a
    palette or a histogram touched cost a page fault: on a steady camera's frames, which learn and map a new
    palette each, mapping 5,000 pixels took 4.7 ms, and 2.3 ms with the lists' pages reused. An array
    given back keeps the pages it touched (its memory stays resident), so the pool keeps at most ``keep``.

    Args:
        count, dtype: each array's length and type.
        keep: arrays kept for reuse; one given back beyond that is dropped (and unmapped).
    """

    def __init__(self, count: int, dtype: type, keep: int = 1) -> None:
        self.count = count
        self.dtype = dtype
        self.keep = keep
        self._free: list[np.ndarray] = []
        self._lock = threading.Lock()
        _pools.add(self)

    def take(self) -> np.ndarray:
        """An array of the pool's size: one given back (holding what its last user left in it) or a new one,
        zeroed."""
        with self._lock:
            if self._free:
                return self._free.pop()
        return small_pages_zeroed(self.count, self.dtype)

    def give(self, array: np.ndarray) -> None:
        """Give back an array :meth:`take` handed out, once nothing uses it."""
        with self._lock:
            if len(self._free) < self.keep:
                self._free.append(array)

    @property
    def kept(self) -> int:
        """How many arrays the pool keeps now."""
        with self._lock:
            return len(self._free)

    def clear(self) -> None:
        """Drop the arrays kept: their pages go back to the system once nothing else holds them."""
        with self._lock:
            self._free.clear()


_pools: weakref.WeakSet[ScratchPool] = weakref.WeakSet()


def release_scratch() -> None:
    """Drop what every :class:`ScratchPool` keeps, when a GIF is done: a program that made one GIF kept 9 MB
    more resident without (the desk clip's, through ``gifsom.encode``)."""
    for pool in list(_pools):
        pool.clear()


def kept_scratch() -> int:
    """How many arrays every :class:`ScratchPool` keeps now, together."""
    return sum(pool.kept for pool in list(_pools))
