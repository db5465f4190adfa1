"""Dithering kernels: ordered (threshold maps) and error diffusion, with temporal stability.

Every kernel takes the same state: ``reference`` holds, per pixel, the source
colour for which ``previous`` (the palette index shown there) was chosen;
``stateful`` says whether that state is valid for this frame, ``record``
whether to keep it up to date for the next one.
A pixel whose colour is still within ``threshold`` of its reference on every
channel is *still*: it keeps its index, and error diffusion neither reads nor
spreads error through it. So an unchanged area gives unchanged indices, frame
after frame, and dither noise does not crawl.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from .nearest import coarse_cell, is_still, resolve_coarse, resolve_colour

#: Error-diffusion kernels as (dx, dy, weight) rows; weights sum to at most 1.
DIFFUSION_KERNELS: dict[str, np.ndarray] = {
    "floyd-steinberg": np.array([[1, 0, 7], [-1, 1, 3], [0, 1, 5], [1, 1, 1]], np.float64) / [1, 1, 16],
    "sierra-lite": np.array([[1, 0, 2], [-1, 1, 1], [0, 1, 1]], np.float64) / [1, 1, 4],
    "atkinson": np.array([[1, 0, 1], [2, 0, 1], [-1, 1, 1], [0, 1, 1], [1, 1, 1], [0, 2, 1]], np.float64) / [1, 1, 8],
}

ORDERED_MODES = ("bayer2", "bayer4", "bayer8", "blue-noise")
DITHER_MODES = ("none",) + ORDERED_MODES + tuple(DIFFUSION_KERNELS)

#: Error carried into a pixel is clamped to this many levels per channel.
MAX_CARRIED_ERROR = 48.0


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
    return float(np.median(np.sqrt(d.min(axis=1))))


@njit(cache=True, nogil=True)
def map_ordered(pixels, out, offsets, reference, previous, threshold, stateful, record,
                exact, palette, counts, candidates):
    """Ordered dither: add the integer ``offsets[y % n, x % n]`` (n a power of two) to each channel, then map."""
    height, width = out.shape
    mask = offsets.shape[0] - 1
    for y in range(height):
        row = y & mask
        for x in range(width):
            if stateful and is_still(pixels, reference, y, x, threshold):
                out[y, x] = previous[y, x]
                continue
            r = np.int64(pixels[y, x, 0])
            g = np.int64(pixels[y, x, 1])
            b = np.int64(pixels[y, x, 2])
            index = exact[(r << 16) | (g << 8) | b] - 1
            if index < 0:
                index = resolve_colour(r, g, b, exact, palette, counts, candidates)
            if palette[index, 0] != r or palette[index, 1] != g or palette[index, 2] != b:
                delta = offsets[row, x & mask]
                r = min(max(r + delta, 0), 255)
                g = min(max(g + delta, 0), 255)
                b = min(max(b + delta, 0), 255)
                index = exact[(r << 16) | (g << 8) | b] - 1
                if index < 0:
                    index = resolve_colour(r, g, b, exact, palette, counts, candidates)
            out[y, x] = index
            if record:
                for c in range(3):
                    reference[y, x, c] = pixels[y, x, c]


@njit(cache=True, nogil=True)
def map_diffusion(pixels, out, kernel, strength, reference, previous, threshold, stateful, record,
                  coarse, exact, palette, counts, candidates):
    """Serpentine error diffusion with ``kernel`` rows (dx, dy, weight).

    A pixel that carries no error is mapped exactly; one that does is mapped
    through the coarse table (see :func:`resolve_coarse`). A pixel that is
    exactly a palette colour absorbs the error that reaches it.
    """
    height, width = out.shape
    taps = kernel.shape[0]
    dxs = np.empty(taps, np.int64)
    dys = np.empty(taps, np.int64)
    rows = 1
    for k in range(taps):
        dxs[k] = int(kernel[k, 0])
        dys[k] = int(kernel[k, 1])
        rows = max(rows, dys[k] + 1)
    pad = 2
    errors = np.zeros((rows, width + 2 * pad, 3), np.float32)
    limit = MAX_CARRIED_ERROR
    target_rows = np.empty(taps, np.int64)
    for y in range(height):
        leftward = y % 2 == 1
        slot = y % rows
        for k in range(taps):   # ring-buffer row of each tap, -1 below the frame
            target_rows[k] = (y + dys[k]) % rows if y + dys[k] < height else -1
        for i in range(width):
            x = width - 1 - i if leftward else i
            er = errors[slot, x + pad, 0]
            eg = errors[slot, x + pad, 1]
            eb = errors[slot, x + pad, 2]
            errors[slot, x + pad, 0] = 0.0
            errors[slot, x + pad, 1] = 0.0
            errors[slot, x + pad, 2] = 0.0
            if stateful and is_still(pixels, reference, y, x, threshold):
                out[y, x] = previous[y, x]
                continue
            r = np.int64(pixels[y, x, 0])
            g = np.int64(pixels[y, x, 1])
            b = np.int64(pixels[y, x, 2])
            index = exact[(r << 16) | (g << 8) | b] - 1
            if index < 0:
                index = resolve_colour(r, g, b, exact, palette, counts, candidates)
            if palette[index, 0] == r and palette[index, 1] == g and palette[index, 2] == b:
                # exactly a palette colour: shown as it is, and the error stops here
                out[y, x] = index
                if record:
                    for c in range(3):
                        reference[y, x, c] = pixels[y, x, c]
                continue
            tr = min(max(pixels[y, x, 0] + min(max(er, -limit), limit), 0.0), 255.0)
            tg = min(max(pixels[y, x, 1] + min(max(eg, -limit), limit), 0.0), 255.0)
            tb = min(max(pixels[y, x, 2] + min(max(eb, -limit), limit), 0.0), 255.0)
            r = np.int64(tr + 0.5)
            g = np.int64(tg + 0.5)
            b = np.int64(tb + 0.5)
            if abs(er) < 0.5 and abs(eg) < 0.5 and abs(eb) < 0.5:
                index = exact[(r << 16) | (g << 8) | b] - 1
                if index < 0:
                    index = resolve_colour(r, g, b, exact, palette, counts, candidates)
            else:
                cell = coarse_cell(r, g, b)
                index = coarse[cell]
                if index < 0:
                    index = resolve_coarse(cell, coarse, palette, counts, candidates)
            out[y, x] = index
            if record:
                for c in range(3):
                    reference[y, x, c] = pixels[y, x, c]
            dr = (tr - palette[index, 0]) * strength
            dg = (tg - palette[index, 1]) * strength
            db = (tb - palette[index, 2]) * strength
            for k in range(taps):
                row = target_rows[k]
                if row < 0:
                    continue
                # the padding absorbs taps that fall off the left or right edge
                xx = (x - dxs[k] if leftward else x + dxs[k]) + pad
                w = kernel[k, 2]
                errors[row, xx, 0] += dr * w
                errors[row, xx, 1] += dg * w
                errors[row, xx, 2] += db * w
