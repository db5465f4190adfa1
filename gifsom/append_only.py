"""Memory that is written once, front to back: what has been handed out of it never changes."""

from __future__ import annotations

import mmap


class AppendOnlyMemory(mmap.mmap):
    """An anonymous mapping (``AppendOnlyMemory(-1, size)``) that its one writer fills from the front, handing
    out read-only views of what it has written and never writing there again. Arrays over those views may be
    kept without a copy (:func:`gifsom.frames.unchangeable`), as those over ``bytes`` are; its pages come as
    the writer first touches them, and go once the last view is gone."""
