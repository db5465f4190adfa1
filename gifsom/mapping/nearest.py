"""Exact nearest-colour search (squared Euclidean RGB distance).

The palette is sorted along its principal axis. A colour's distance to an
entry is at least the distance between their projections on that axis, so a
search that starts at the colour's projection and walks outwards can stop as
soon as the projection gap alone exceeds the best distance found. On top of
that, :class:`ColourCache` maps pixels through lazily filled tables, so a
frame's pixels cost a table load each rather than a palette scan.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import njit, prange


#: One caller at a time in gifsom's parallel kernels: numba's fallback threading
#: layer (workqueue, used where neither OpenMP nor TBB is installed) aborts the
#: process when two threads enter parallel code at once.
PARALLEL_LOCK = threading.Lock()


class SortedPalette:
    """A palette prepared for pruned nearest search.

    Attributes:
        colours: float64 (K, 3) palette entries sorted by ``keys``.
        keys: float64 (K,) projection of each sorted entry on ``axis``.
        axis: float64 (3,) unit vector, the palette's principal axis.
        order: int64 (K,) original palette index of each sorted entry.
    """

    def __init__(self, palette: np.ndarray) -> None:
        colours = np.asarray(palette, dtype=np.float64).reshape(-1, 3)
        centred = colours - colours.mean(axis=0)
        axis = np.array([0.299, 0.587, 0.114])
        if len(colours) > 2:
            _, vectors = np.linalg.eigh(centred.T @ centred)
            principal = vectors[:, -1]
            if np.abs(principal).sum() > 0:
                axis = principal
        axis = axis / np.linalg.norm(axis)
        keys = colours @ axis
        self.order = np.argsort(keys, kind="stable").astype(np.int64)
        self.colours = np.ascontiguousarray(colours[self.order])
        self.keys = np.ascontiguousarray(keys[self.order])
        self.axis = np.ascontiguousarray(axis)


CELL_SHIFT = 3                       # candidate cells are 8 x 8 x 8 colour values
CELL_BITS = 8 - CELL_SHIFT
CELL_COUNT = 1 << (3 * CELL_BITS)
COARSE_SHIFT = 2                     # the coarse table for error diffusion: 4 x 4 x 4
COARSE_BITS = 8 - COARSE_SHIFT
COARSE_COUNT = 1 << (3 * COARSE_BITS)


@njit(cache=True)
def _fill_cell(cell: int, palette: np.ndarray, counts: np.ndarray, candidates: np.ndarray) -> None:
    """List the entries that can be nearest to some colour of ``cell``.

    An entry qualifies when its distance to the nearest point of the cell's box
    is no larger than the smallest, over all entries, farthest-point distance.
    """
    size = 1 << CELL_SHIFT
    lo_r = ((cell >> (2 * CELL_BITS)) & ((1 << CELL_BITS) - 1)) << CELL_SHIFT
    lo_g = ((cell >> CELL_BITS) & ((1 << CELL_BITS) - 1)) << CELL_SHIFT
    lo_b = (cell & ((1 << CELL_BITS) - 1)) << CELL_SHIFT
    n = palette.shape[0]
    near = np.empty(n, np.int64)
    bound = 1 << 62
    for j in range(n):
        dmin = 0
        dmax = 0
        for c in range(3):
            lo = lo_r if c == 0 else (lo_g if c == 1 else lo_b)
            hi = lo + size - 1
            v = np.int64(palette[j, c])
            if v < lo:
                dmin += (lo - v) * (lo - v)
            elif v > hi:
                dmin += (v - hi) * (v - hi)
            far = max(v - lo, hi - v)
            dmax += far * far
        near[j] = dmin
        if dmax < bound:
            bound = dmax
    k = 0
    base = cell * n
    for j in range(n):
        if near[j] <= bound:
            candidates[base + k] = j
            k += 1
    counts[cell] = k


@njit(cache=True)
def _cell_nearest(r: int, g: int, b: int, palette: np.ndarray, counts: np.ndarray, candidates: np.ndarray) -> int:
    cell = ((r >> CELL_SHIFT) << (2 * CELL_BITS)) | ((g >> CELL_SHIFT) << CELL_BITS) | (b >> CELL_SHIFT)
    k = counts[cell]
    if k < 0:
        _fill_cell(cell, palette, counts, candidates)
        k = counts[cell]
    base = cell * palette.shape[0]
    best = candidates[base]
    best_d = 1 << 62
    for i in range(k):
        j = candidates[base + i]
        dr = np.int64(palette[j, 0]) - r
        dg = np.int64(palette[j, 1]) - g
        db = np.int64(palette[j, 2]) - b
        d = dr * dr + dg * dg + db * db
        if d < best_d:
            best_d = d
            best = j
    return best


@njit(cache=True)
def resolve_colour(r: int, g: int, b: int, exact: np.ndarray, palette: np.ndarray,
                   counts: np.ndarray, candidates: np.ndarray) -> int:
    """Palette index nearest to the colour (r, g, b), each 0..255, remembered in ``exact``.

    ``exact`` holds index + 1 per 24-bit colour, 0 for "not looked up yet" (so
    a zero-filled table, which the OS hands out lazily, is an empty one).
    Kernels look a colour up as ``exact[(r << 16) | (g << 8) | b] - 1``
    themselves and call this only on a miss (-1): keeping the hit path in the
    caller's loop lets LLVM keep it tight.
    """
    index = _cell_nearest(r, g, b, palette, counts, candidates)
    exact[(r << 16) | (g << 8) | b] = index + 1
    return index


@njit(cache=True)
def resolve_coarse(cell: int, coarse: np.ndarray, palette: np.ndarray, counts: np.ndarray,
                   candidates: np.ndarray) -> int:
    """Palette index nearest to the centre of coarse ``cell`` (a 4 x 4 x 4 box), remembered in ``coarse``.

    Within two levels of exact, from a table small enough to stay in cache:
    for dithering, whose targets are scattered over millions of colours and
    already moved by more than that. Kernels compute the cell as
    :func:`coarse_cell` does, look ``coarse[cell]`` up themselves and call
    this only on a miss (a negative entry).
    """
    half = 1 << (COARSE_SHIFT - 1)
    r = ((cell >> (2 * COARSE_BITS)) << COARSE_SHIFT) + half
    g = (((cell >> COARSE_BITS) & ((1 << COARSE_BITS) - 1)) << COARSE_SHIFT) + half
    b = ((cell & ((1 << COARSE_BITS) - 1)) << COARSE_SHIFT) + half
    index = _cell_nearest(r, g, b, palette, counts, candidates)
    coarse[cell] = index
    return index


@njit(cache=True, inline="always")
def coarse_cell(r: int, g: int, b: int) -> int:
    """The coarse-table cell of the colour (r, g, b)."""
    return ((r >> COARSE_SHIFT) << (2 * COARSE_BITS)) | ((g >> COARSE_SHIFT) << COARSE_BITS) | (b >> COARSE_SHIFT)


@njit(cache=True, inline="always")
def is_still(pixels, reference, y, x, threshold):
    """True when the pixel at (y, x) is within ``threshold`` of its reference colour on every channel."""
    for c in range(3):
        if abs(np.int64(pixels[y, x, c]) - np.int64(reference[y, x, c])) > threshold:
            return False
    return True


@njit(cache=True, nogil=True)
def map_plain(pixels, out, reference, previous, threshold, stateful, record, exact, palette, counts, candidates):
    """Nearest colour, no dither."""
    height, width = out.shape
    for y in range(height):
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
            out[y, x] = index
            if record:
                for c in range(3):
                    reference[y, x, c] = pixels[y, x, c]


class ColourCache:
    """Exact nearest-colour lookups for one palette, built lazily and kept across frames.

    Tables filled on demand: one answer per 24-bit colour (32 MiB, so a colour
    seen before costs one load); for the RGB cube cut into 8 x 8 x 8 cells, the
    few palette entries that can be nearest to any colour in the cell, so a
    new colour is compared with a handful of entries; and a coarse table for
    dithering (see :func:`resolve_coarse`).
    """

    def __init__(self, palette: np.ndarray) -> None:
        palette = np.ascontiguousarray(palette, dtype=np.uint8).reshape(-1, 3)
        if not 1 <= len(palette) <= 256:
            raise ValueError(f"palette has {len(palette)} entries; expected 1..256")
        self.palette = palette
        self.exact = np.zeros(1 << 24, np.int16)       # index + 1; pages are only touched when used
        self.coarse = np.full(COARSE_COUNT, -1, np.int16)
        self.counts = np.full(CELL_COUNT, -1, np.int32)
        self.candidates = np.empty(CELL_COUNT * len(palette), np.uint8)

    @property
    def kernel_args(self) -> tuple:
        """The arrays a numba kernel passes to :func:`resolve_colour`, in order."""
        return (self.exact, self.palette, self.counts, self.candidates)

    def map(self, pixels: np.ndarray) -> np.ndarray:
        """Map uint8 (H, W, 3+) pixels to uint8 (H, W) indices of the nearest palette entry."""
        out = np.empty(pixels.shape[:2], np.uint8)
        no_state = np.empty((1, 1, 3), np.uint8)
        map_plain(pixels, out, no_state, out, 0, False, False, *self.kernel_args)
        return out


@njit(cache=True)
def nearest_two(r: float, g: float, b: float, colours, keys, axis, order):
    """Nearest entry of a :class:`SortedPalette` (its original index) and the two smallest squared distances.

    Walks outwards from the colour's projection on the principal axis and stops
    once the projection gap alone exceeds the runner-up distance.
    """
    n = keys.shape[0]
    key = r * axis[0] + g * axis[1] + b * axis[2]
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    best = 1e300
    runner_up = 1e300
    best_pos = 0
    up = lo
    down = lo - 1
    while up < n or down >= 0:
        if up < n:
            gap = keys[up] - key
            if gap * gap >= runner_up:
                up = n
            else:
                d = (colours[up, 0] - r) ** 2 + (colours[up, 1] - g) ** 2 + (colours[up, 2] - b) ** 2
                if d < best:
                    runner_up = best
                    best = d
                    best_pos = up
                elif d < runner_up:
                    runner_up = d
                up += 1
        if down >= 0:
            gap = key - keys[down]
            if gap * gap >= runner_up:
                down = -1
            else:
                d = (colours[down, 0] - r) ** 2 + (colours[down, 1] - g) ** 2 + (colours[down, 2] - b) ** 2
                if d < best:
                    runner_up = best
                    best = d
                    best_pos = down
                elif d < runner_up:
                    runner_up = d
                down -= 1
    return order[best_pos], best, runner_up


@njit(cache=True, parallel=True)
def assign_two(points, colours, keys, axis, order, labels, first, second) -> None:
    """For every float64 (M, 3) point, :func:`nearest_two` against a sorted palette, on all cores.

    Writes the nearest entry's original index to ``labels`` and the squared
    distances to it and to the runner-up to ``first`` and ``second`` (all (M,)).
    Callers outside a compiled kernel hold :data:`PARALLEL_LOCK`.
    """
    for i in prange(points.shape[0]):
        labels[i], first[i], second[i] = nearest_two(points[i, 0], points[i, 1], points[i, 2], colours, keys, axis, order)


def assign_nearest(points: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest and second-nearest squared distances of each point to a (float) palette.

    Args:
        points: float64 (M, 3) colours.
        palette: (K, 3) entries, any numeric dtype.

    Returns:
        ``(labels, first, second)``: int64 (M,) index of the nearest entry, float64
        (M,) squared distance to it and to the runner-up (inf when K == 1).
    """
    sorted_palette = SortedPalette(palette)
    count = points.shape[0]
    labels = np.empty(count, np.int64)
    first = np.empty(count, np.float64)
    second = np.empty(count, np.float64)
    with PARALLEL_LOCK:
        assign_two(np.ascontiguousarray(points, dtype=np.float64), sorted_palette.colours, sorted_palette.keys,
                   sorted_palette.axis, sorted_palette.order, labels, first, second)
    return labels, first, second
