"""Large zeroed scratch arrays whose memory is taken a page at a time and given back whole.

A palette's lookup lists and the refinement's histogram are large (8 to 32 MiB), sparsely used, and made
again for every new palette. From the heap, after the first was freed the allocator kept such blocks
instead of returning them, and zeroed the whole of each again: on the bench's 176x144 camera clip, with a
palette every 11 frames, peak memory rose from 74 to 98 MB. Anonymous mappings cost only the pages touched,
and are unmapped when the array goes.
"""

from __future__ import annotations

import mmap

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
