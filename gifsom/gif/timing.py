"""Frame timing in GIF's centiseconds, with rounding error carried forward."""

from __future__ import annotations

import math

#: Browsers show delays of 0 and 1 cs as about 10 cs; GIFs never use less than this.
MIN_DELAY_CS = 2


def start_cs(pts: float) -> int:
    """The centisecond at which a frame shown from ``pts`` seconds starts.

    Every start is rounded on the absolute timeline rather than every delay on
    its own, so the rounding error never accumulates: at 15 fps the delays
    come out as 7, 7, 6, 7, 7, 6, ... and 15 frames last exactly one second.
    """
    return math.ceil(round(pts * 100.0, 6))

