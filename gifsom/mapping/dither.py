"""Dither modes and their parameters: threshold maps for ordered dither, taps for error diffusion.

The loop that applies them is the one mapping kernel (``_map_cy.pyx``). Its
temporal state: ``reference`` holds, per pixel, the source colour for which
``previous`` (the palette index shown there) was chosen. A pixel whose colour
is still within the motion threshold of its reference on every channel is
*still*: it keeps its index, and error diffusion neither reads nor spreads
error through it. So an unchanged area gives unchanged indices, frame after
frame, and dither noise does not crawl.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..median import median
from ..threads import threads_for
from ._dither_cy import dither_weights

#: Error-diffusion kernels as (dx, dy, weight) rows; weights sum to at most 1.
DIFFUSION_KERNELS: dict[str, np.ndarray] = {
    "floyd-steinberg": np.array([[1, 0, 7], [-1, 1, 3], [0, 1, 5], [1, 1, 1]], np.float64) / [1, 1, 16],
    "sierra-lite": np.array([[1, 0, 2], [-1, 1, 1], [0, 1, 1]], np.float64) / [1, 1, 4],
    "atkinson": np.array([[1, 0, 1], [2, 0, 1], [-1, 1, 1], [0, 1, 1], [1, 1, 1], [0, 2, 1]], np.float64) / [1, 1, 8],
}

ORDERED_MODES = ("bayer2", "bayer4", "bayer8", "blue-noise")
#: Error diffusion that follows the picture: Floyd-Steinberg where it is smooth, fading to none at
#: edges and on busy texture (see :data:`ADAPTIVE_SMOOTH` and :data:`ADAPTIVE_BUSY`).
ADAPTIVE = "adaptive"
DITHER_MODES = ("none",) + ORDERED_MODES + tuple(DIFFUSION_KERNELS) + (ADAPTIVE,)
#: Luma range (0..255) over a pixel's 3x3 neighbourhood up to which ``adaptive`` diffuses in full:
#: a gradient, or a flat area with a codec's faint noise, where a palette's steps show as bands.
ADAPTIVE_SMOOTH = 6
#: Luma range from which ``adaptive`` does not diffuse at all: an edge or busy texture, which hides
#: the palette's error, and where dither noise would only cost LZW bytes.
ADAPTIVE_BUSY = 96
#: Pixels per thread below which the adaptive weights are computed on one thread.
WEIGHT_PIXELS_PER_THREAD = 1 << 17


def adaptive_weights(pixels: np.ndarray) -> np.ndarray:
    """How much error diffusion ``adaptive`` gives each pixel of uint8 (H, W, C >= 3) ``pixels``: uint8 (H, W),
    255 (all) where the 3x3 luma range is at most :data:`ADAPTIVE_SMOOTH`, 0 (none) from :data:`ADAPTIVE_BUSY`."""
    height, width = pixels.shape[:2]
    weights = np.empty((height, width), np.uint8)
    dither_weights(np.ascontiguousarray(pixels), weights, ADAPTIVE_SMOOTH, ADAPTIVE_BUSY,
                   threads_for(height * width, WEIGHT_PIXELS_PER_THREAD))
    return weights


def bayer_matrix(size: int) -> np.ndarray:
    """Bayer threshold map of side ``size`` (a power of two), values in (0, 1), float64."""
    matrix = np.zeros((1, 1))
    while matrix.shape[0] < size:
        matrix = np.block([[4 * matrix, 4 * matrix + 2], [4 * matrix + 3, 4 * matrix + 1]])
    return (matrix + 0.5) / matrix.size


@lru_cache(maxsize=None)
def blue_noise_matrix(size: int = 64, seed: int = 1994) -> np.ndarray:
    """A tileable blue-noise threshold map, float64 (size, size), values uniform in (0, 1).

    White noise is high-pass filtered a few times on the torus (so it tiles) and
    then ranked, which leaves a map whose low frequencies are weak: the
    thresholds of neighbouring pixels differ, as in a void-and-cluster map.
    """
    rng = np.random.default_rng(seed)
    noise = rng.random((size, size))
    freq = np.fft.fftfreq(size)
    radius2 = freq[:, None] ** 2 + freq[None, :] ** 2
    high_pass = 1.0 - np.exp(-radius2 / (2 * 0.12 ** 2))
    for _ in range(4):
        noise = np.real(np.fft.ifft2(np.fft.fft2(noise) * high_pass))
        ranks = np.argsort(np.argsort(noise.ravel())).reshape(size, size)
        noise = (ranks + 0.5) / noise.size
    return noise


def threshold_map(mode: str) -> np.ndarray:
    """The threshold map of an ordered dither mode, centred on zero (values in -0.5..0.5)."""
    if mode == "blue-noise":
        return blue_noise_matrix() - 0.5
    return bayer_matrix(int(mode[len("bayer"):])) - 0.5


def palette_spread(palette: np.ndarray) -> float:
    """Typical gap between palette colours: the median distance to the nearest other entry."""
    colours = palette.astype(np.float64)
    if len(colours) < 2:
        return 0.0
    d = ((colours[:, None, :] - colours[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return median(np.sqrt(d.min(axis=1)))
