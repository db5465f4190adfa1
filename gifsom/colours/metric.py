"""The colour difference gifsom learns palettes and matches colours by.

Squared sRGB distance with each channel weighted by how much a change in it
shows: the eye is more sensitive to a step in green than to one in red, and
least to one in blue. Plain RGB distance spends palette entries on blue and
red steps nobody sees and leaves visible bands in green and in skin and sky
tones. On the bench's clips (2026-12-02, one palette learned and matched both
ways) weights of 10, 20 and 9 raised SSIMULACRA 2 by 1.3 to 2.5 points on the
three larger photographic clips and lowered FLIP by 4 to 8% on all four, but
cost the screen recording (anti-aliased text in saturated UI colours) 0.15
points and 2% of FLIP. Milder weights, 12, 20 and 11, keep most of the gain on
photographs (the default GIF of the web page: SSIMULACRA 2 83.33 against 83.48)
and none of the loss on the screen recording.

Everything that chooses a colour uses it: the refinement's k-means (on
colours scaled by :data:`AXIS_SCALE`, where weighted distance is plain
Euclidean distance) and the mapping kernel (integer :data:`CHANNEL_WEIGHTS`).
Lossy LZW, the motion threshold and dither error stay per channel in RGB.
"""

from __future__ import annotations

import numpy as np

#: Weights of the squared red, green and blue differences, as integers for the mapping kernel.
CHANNEL_WEIGHTS = (12, 20, 11)
#: Per-channel scale under which weighted distance is Euclidean (green keeps its scale).
AXIS_SCALE = np.sqrt(np.array(CHANNEL_WEIGHTS, np.float64) / max(CHANNEL_WEIGHTS))


def to_weighted(colours: np.ndarray) -> np.ndarray:
    """float64 (N, 3) ``colours`` (RGB, 0..255) scaled onto :data:`AXIS_SCALE`."""
    return np.asarray(colours, dtype=np.float64) * AXIS_SCALE


def from_weighted(points: np.ndarray) -> np.ndarray:
    """float64 (N, 3) RGB of points given by :func:`to_weighted` (not rounded)."""
    return np.asarray(points, dtype=np.float64) / AXIS_SCALE


def weighted_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Weighted squared distance (int64 units of :data:`CHANNEL_WEIGHTS`) between broadcastable
    uint8 or integer (..., 3) colours."""
    diff = np.asarray(a, np.int64) - np.asarray(b, np.int64)
    return (diff * diff * np.array(CHANNEL_WEIGHTS, np.int64)).sum(axis=-1)
