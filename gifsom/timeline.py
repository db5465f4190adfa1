"""Editing a clip's timeline: reverse, boomerang, idle cap and a longer last frame.

A timeline is the order in which spooled frames are shown and how long each
lasts. The edits never touch pixels, so they apply to the spool as it is, after
decoding and before encoding, and every frame keeps its exact duration except
where an edit says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import checks


@dataclass(frozen=True)
class TimelineEdits:
    """What to do to the order and timing of a clip.

    Attributes:
        reverse: play the clip backwards.
        boomerang: play it forwards, then backwards, without showing the two turning frames
            twice, so that it loops seamlessly.
        max_idle: seconds; a picture shown unchanged for longer is cut to this, or None.
        hold_last: seconds the last frame is shown for longer, before the loop restarts, or None.
    """

    reverse: bool = False
    boomerang: bool = False
    max_idle: float | None = None
    hold_last: float | None = None

    def __post_init__(self) -> None:
        if self.max_idle is not None:
            checks.in_range("max_idle", self.max_idle, 0.02, 86400.0, "0.02 to 86400 seconds")
        if self.hold_last is not None:
            checks.in_range("hold_last", self.hold_last, 0.0, 86400.0, "0 to 86400 seconds")

    @property
    def any(self) -> bool:
        return self.reverse or self.boomerang or self.max_idle is not None or bool(self.hold_last)


class Timeline(NamedTuple):
    """Which spooled frames are shown, in order, and when.

    Attributes:
        numbers: spool frame numbers, in display order (a number may appear twice).
        timestamps: when each starts, in seconds from the start.
        end_time: when the last one stops showing, in seconds.
    """

    numbers: list[int]
    timestamps: list[float]
    end_time: float

    @classmethod
    def of(cls, numbers: list[int], durations: list[float]) -> "Timeline":
        starts = np.concatenate([[0.0], np.cumsum(durations)]).tolist()
        return cls(list(numbers), starts[:-1], starts[-1])


def edit(timestamps: list[float], end_time: float, repeats: list[bool], edits: TimelineEdits) -> Timeline:
    """The timeline of a spooled clip after ``edits``.

    Args:
        timestamps: when each spooled frame starts, seconds, non-decreasing.
        end_time: when the last stops showing, seconds.
        repeats: for each frame, whether its picture equals the previous frame's.
        edits: what to do.
    """
    durations = [b - a for a, b in zip(timestamps, list(timestamps[1:]) + [end_time])]
    numbers = list(range(len(timestamps)))
    if edits.max_idle is not None:
        numbers, durations = _cap_idle(numbers, durations, repeats, edits.max_idle)
    if edits.reverse:
        numbers, durations = numbers[::-1], durations[::-1]
    if edits.boomerang and len(numbers) > 2:
        numbers = numbers + numbers[-2:0:-1]
        durations = durations + durations[-2:0:-1]
    if edits.hold_last:
        durations = durations[:-1] + [durations[-1] + edits.hold_last]
    return Timeline.of(numbers, durations)


def _cap_idle(numbers: list[int], durations: list[float], repeats: list[bool],
              cap: float) -> tuple[list[int], list[float]]:
    """Join each run of equal pictures into its first frame, lasting at most ``cap`` seconds."""
    kept_numbers: list[int] = []
    kept_durations: list[float] = []
    for number, duration in zip(numbers, durations):
        if kept_numbers and repeats[number]:
            kept_durations[-1] += duration
        else:
            kept_numbers.append(number)
            kept_durations.append(duration)
    return kept_numbers, [min(duration, cap) for duration in kept_durations]


class TimelineView:
    """A spooled clip shown along a timeline: what :func:`gifsom.encoder.write_clip` reads.

    Args:
        spool: the decoded frames (a :class:`gifsom.spool.FrameSpool`).
        numbers: which of them to show, in order (as :attr:`Timeline.numbers`).
        timestamps: when each starts, in seconds.
    """

    def __init__(self, spool, numbers: list[int], timestamps: list[float]) -> None:
        self.spool = spool
        self.shape = spool.shape
        self.numbers = numbers
        self.timestamps = timestamps

    def __len__(self) -> int:
        return len(self.numbers)

    def frame(self, number: int) -> np.ndarray:
        return self.spool.frame(self.numbers[number])

    def spooled_number(self, number: int) -> int:
        """The spooled frame that frame ``number`` shows, through every view this one is a view of."""
        return self.spool.spooled_number(self.numbers[number])

    def changed_box(self, number: int) -> tuple[int, int, int, int] | None:
        """As :meth:`gifsom.spool.FrameSpool.changed_box`, along the timeline: known where it shows a
        spooled frame again or the one after."""
        if number <= 0:
            return None
        here, before = self.numbers[number], self.numbers[number - 1]
        if here == before:
            return (0, 0, 0, 0)
        return self.spool.changed_box(here) if here == before + 1 else None
