"""What smooth video that flickers shows without its flicker: each pixel's mean over the frames it stays.

A codec's and a sensor's noise move a smooth sky's pixels by a level or a few from frame to frame. A steady
camera's mapper (:class:`gifsom.mapping.converge.SteadyCameraMapper`) draws such a pixel once and leaves it,
so the screen keeps the noise of the frame that drew it, and every later frame differs from it by the noise
of both. Drawn from the mean of the frames the pixel stays in, the screen lies within one frame's noise of
each, and fewer pixels stray past the bound.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

import numpy as np

from ._converge_cy import still_mean

#: Frames a pixel's mean runs over at most: the frame itself and those after it. On the held-out dusk clip
#: (2026-12-04, quality 90, bytes / SSIMULACRA 2 / FLIP; gifski 1.7 q90: 251,324 / 85.14 / 0.0260): without
#: means 256,733 / 85.46 / 0.0264; over 8 frames 241,709 / 86.18 / 0.0257, over 16 240,694 / 86.19 / 0.0255,
#: over 32 240,211 / 86.35 / 0.0251. Sixteen frames of 240x180 take 2 MB. A first version that showed the
#: mean in the first frame alone took 254,856 bytes (over 32 frames), and on the camera clips (grain, not
#: flicker) every mean cost SSIMULACRA 2 and FLIP: the car 79.58 to 79.07, FLIP 0.0410 to 0.0435, for 14%
#: fewer bytes, so only smooth video takes them (:func:`gifsom.encoder.steady_mapper`).
STILL_MEAN_FRAMES = 16
#: The frames kept for the means take at most this many bytes: fewer frames where frames are large (a 1080p
#: frame is 6 MB).
STILL_MEAN_BYTES = 32 << 20


def still_means(frames: Iterable[np.ndarray], bound: float, most_frames: int = STILL_MEAN_FRAMES
                ) -> Iterator[np.ndarray]:
    """Each frame of ``frames`` with every pixel set to its mean colour over the frames from this one on, for
    as long as it stays within ``bound`` of its colour here (see ``_converge_cy.still_mean``).

    Args:
        frames: uint8 (H, W, 3) frames of one size, in order; read up to the window's length ahead.
        bound: RGB distance, 0..442, within which a pixel stays.
        most_frames: the window: frames a mean runs over at most (fewer where they would take more than
            :data:`STILL_MEAN_BYTES`), at least 1.

    Yields:
        uint8 (H, W, 3) a new array per frame.
    """
    if most_frames < 1:
        raise ValueError("still_means: the window needs at least one frame")
    pending = iter(frames)
    first = next(pending, None)
    if first is None:
        return
    window = int(max(1, min(most_frames, STILL_MEAN_BYTES // max(first.nbytes, 1))))
    ring = np.empty((window, *first.shape), np.uint8)
    head, held = 0, 0                   # the ring's slot of the next frame out, and the frames it holds
    for frame in itertools.chain([first], pending):
        if held == window:
            yield _mean(ring, head, held, bound)
            head, held = (head + 1) % window, held - 1
        ring[(head + held) % window] = frame
        held += 1
    while held:
        yield _mean(ring, head, held, bound)
        head, held = (head + 1) % window, held - 1


def _mean(ring: np.ndarray, head: int, held: int, bound: float) -> np.ndarray:
    """The still mean of the ``held`` frames from slot ``head`` of uint8 (K, H, W, 3) ``ring``: uint8 (H, W, 3)."""
    out = np.empty(ring.shape[1:], np.uint8)
    still_mean(ring, head, held, bound, out)
    return out
