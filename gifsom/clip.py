"""What the encoder reads: a clip, frames by number with their timestamps.

The collector's spool (:class:`gifsom.spool.FrameSpool`), the spool along an edited timeline
(:class:`gifsom.timeline.TimelineView`) and the fit's scaled view of a setting
(:class:`gifsom.fit.ClipView`) are all clips.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Clip(Protocol):
    """Equally sized frames in display order, each with the time it starts.

    Attributes:
        timestamps: when each frame starts showing, in seconds, non-decreasing.
    """

    timestamps: list[float]

    @property
    def shape(self) -> tuple[int, ...]:
        """(height, width, channels) of every frame; channels 3 (RGB) or 4 (RGBA)."""
        ...

    def __len__(self) -> int:
        """The number of frames."""
        ...

    def frame(self, number: int) -> np.ndarray:
        """Frame ``number`` (0-based): uint8 of :attr:`shape`."""
        ...

    def changed_box(self, number: int) -> tuple[int, int, int, int] | None:
        """The rectangle ``(top, bottom, left, right)`` outside which frame ``number`` equals frame
        ``number - 1`` (``(0, 0, 0, 0)`` where they are equal), or None where that is not known."""
        ...

    def spooled_number(self, number: int) -> int:
        """The number of the spooled frame that frame ``number`` shows: the numbering of the survey
        (:class:`gifsom.palette.clip.ClipSurvey`) taken while the frames were spooled."""
        ...
