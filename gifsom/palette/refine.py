"""Refinement of a trained palette: weighted k-means on a colour histogram.

NeuQuant's map ends in a good but not locally optimal place. Lloyd passes
(assign every colour bin to its nearest entry, move every entry to the
weighted mean of its bins) lower the squared error until they stall in a local
optimum; rounds of "drop the entries whose removal costs least, split the
clusters with the largest error along their principal axis" then get it out of
that optimum. Everything works on a histogram (exact colours, or bins of 32 or
64 levels per channel that keep the exact mean colour of each bin), so a pass
costs in proportion to the occupied bins, not the pixels, and centroids stay
exact.

Passes use Hamerly's bounds: a bin whose distance to its own entry (an upper
bound, grown by how far that entry moved) stays below the distance to any
other entry (a lower bound, shrunk by the largest move) keeps its entry
without a search. The per-bin work of a pass runs on all cores (numba prange).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..mapping.nearest import PARALLEL_LOCK, SortedPalette, assign_nearest, assign_two, nearest_two

BIN_SHIFT = 2                 # 64 levels per channel


@njit(cache=True)
def _binned_histogram(colours: np.ndarray, weights: np.ndarray, weighted: bool, shift: int):
    bits = 8 - shift
    size = 1 << (3 * bits)
    mass = np.zeros(size)
    sums = np.zeros((size, 3))
    for i in range(colours.shape[0]):
        w = weights[i] if weighted else 1.0
        r = colours[i, 0]
        g = colours[i, 1]
        b = colours[i, 2]
        cell = ((np.int64(r) >> shift) << (2 * bits)) | ((np.int64(g) >> shift) << bits) | (np.int64(b) >> shift)
        mass[cell] += w
        sums[cell, 0] += w * r
        sums[cell, 1] += w * g
        sums[cell, 2] += w * b
    occupied = 0
    for cell in range(size):
        if mass[cell] > 0:
            occupied += 1
    points = np.empty((occupied, 3), np.float64)
    totals = np.empty(occupied, np.float64)
    n = 0
    for cell in range(size):
        m = mass[cell]
        if m > 0:
            for c in range(3):
                points[n, c] = sums[cell, c] / m
            totals[n] = m
            n += 1
    return points, totals


def binned_histogram(pixels: np.ndarray, shift: int = BIN_SHIFT) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of uint8 (N, 3) pixels over bins ``2**shift`` levels wide (64 x 64 x 64 bins by default).

    Returns:
        ``(points, weights)``: float64 (M, 3) mean colour of each occupied bin and
        float64 (M,) its pixel count.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(-1, 3)
    return _binned_histogram(pixels, np.empty(0), False, shift)


def coarser_histogram(points: np.ndarray, weights: np.ndarray, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge the bins of a finer :func:`binned_histogram` into bins ``2**shift`` levels wide.

    A bin's mean lies inside the bin, so it falls into the coarse bin that holds
    the whole fine bin, and the merged means are exact.
    """
    return _binned_histogram(np.ascontiguousarray(points, dtype=np.float64),
                             np.ascontiguousarray(weights, dtype=np.float64), True, shift)


@njit(cache=True)
def _sort_by_axis(centres, axis):
    # written out: numba's ``@`` needs SciPy's BLAS, which gifsom does not depend on
    keys = centres[:, 0] * axis[0] + centres[:, 1] * axis[1] + centres[:, 2] * axis[2]
    order = np.argsort(keys)
    return np.ascontiguousarray(centres[order]), keys[order].copy(), order


@njit(cache=True, parallel=True)
def _lloyd(points, weights, centres, axis, passes, tolerance):
    """Weighted Lloyd passes with Hamerly bounds; returns centres, labels, error."""
    m = points.shape[0]
    k = centres.shape[0]
    centres = centres.copy()
    labels = np.empty(m, np.int64)
    first = np.empty(m, np.float64)
    second = np.empty(m, np.float64)
    colours, keys, order = _sort_by_axis(centres, axis)
    assign_two(points, colours, keys, axis, order, labels, first, second)
    upper = np.sqrt(first)
    lower = np.sqrt(second)
    previous = 1e300
    for _ in range(passes):
        mass = np.zeros(k)
        sums = np.zeros((k, 3))
        error = 0.0
        for i in range(m):
            j = labels[i]
            w = weights[i]
            mass[j] += w
            for c in range(3):
                sums[j, c] += w * points[i, c]
            error += w * upper[i] * upper[i]
        moved = np.zeros(k)
        dead = 0
        for j in range(k):
            if mass[j] > 0:
                shift = 0.0
                for c in range(3):
                    new = sums[j, c] / mass[j]
                    shift += (new - centres[j, c]) ** 2
                    centres[j, c] = new
                moved[j] = np.sqrt(shift)
            else:
                dead += 1
        if dead:    # re-seed dead entries on the worst-served bins
            cost = np.empty(m)
            for i in range(m):
                cost[i] = -weights[i] * upper[i] * upper[i]
            worst = np.argsort(cost)
            t = 0
            for j in range(k):
                if mass[j] == 0:
                    i = worst[t]
                    t += 1
                    for c in range(3):
                        centres[j, c] = points[i, c]
                    moved[j] = 1e150
        largest = moved.max()
        colours, keys, order = _sort_by_axis(centres, axis)
        for i in prange(m):
            j = labels[i]
            upper[i] += moved[j]
            lower[i] -= largest
            if upper[i] <= lower[i]:
                continue
            exact = np.sqrt((centres[j, 0] - points[i, 0]) ** 2 + (centres[j, 1] - points[i, 1]) ** 2
                            + (centres[j, 2] - points[i, 2]) ** 2)
            upper[i] = exact
            if exact <= lower[i]:
                continue
            j, d1, d2 = nearest_two(points[i, 0], points[i, 1], points[i, 2], colours, keys, axis, order)
            labels[i] = j
            upper[i] = np.sqrt(d1)
            lower[i] = np.sqrt(d2)
        if dead == 0 and previous - error <= tolerance * error:
            break
        previous = error
    error = 0.0
    for i in range(m):
        j = labels[i]
        d = (centres[j, 0] - points[i, 0]) ** 2 + (centres[j, 1] - points[i, 1]) ** 2 + (centres[j, 2] - points[i, 2]) ** 2
        error += weights[i] * d
    return centres, labels, error


@njit(cache=True)
def _principal_axis(covariance):
    """Unit eigenvector of the largest eigenvalue of a 3 x 3 covariance, and that eigenvalue.

    Power iteration from the column of the largest variance, in scalars (no
    array allocation in the loop).
    """
    start = 0
    for a in range(1, 3):
        if covariance[a, a] > covariance[start, start]:
            start = a
    x = covariance[0, start]
    y = covariance[1, start]
    z = covariance[2, start]
    value = 0.0
    for _ in range(32):
        nx = covariance[0, 0] * x + covariance[0, 1] * y + covariance[0, 2] * z
        ny = covariance[1, 0] * x + covariance[1, 1] * y + covariance[1, 2] * z
        nz = covariance[2, 0] * x + covariance[2, 1] * y + covariance[2, 2] * z
        norm = np.sqrt(nx * nx + ny * ny + nz * nz)
        if norm == 0.0:
            return 0.0, 0.0, 0.0, 0.0
        x = nx / norm
        y = ny / norm
        z = nz / norm
        value = norm
    return x, y, z, value


@njit(cache=True)
def _split_worst(points, weights, centres, moves, axis):
    """Move the ``moves`` cheapest-to-remove entries into the clusters with the largest error.

    An entry's removal cost is what its colours would pay to move to their
    runner-up; each growing cluster is cut in two along its principal axis.
    """
    size = centres.shape[0]
    colours, keys, order = _sort_by_axis(centres, axis)
    removal = np.zeros(size)
    cluster_error = np.zeros(size)
    count = np.zeros(size, np.int64)
    mass = np.zeros(size)
    sums = np.zeros((size, 3))
    moments = np.zeros((size, 3, 3))
    m = points.shape[0]
    labels = np.empty(m, np.int64)
    first = np.empty(m)
    second = np.empty(m)
    assign_two(points, colours, keys, axis, order, labels, first, second)
    for i in range(m):
        j = labels[i]
        d1 = first[i]
        d2 = second[i]
        w = weights[i]
        removal[j] += w * (d2 - d1)
        cluster_error[j] += w * d1
        count[j] += 1
        mass[j] += w
        for a in range(3):
            sums[j, a] += w * points[i, a]
            for b in range(a, 3):
                moments[j, a, b] += w * points[i, a] * points[i, b]
    drop = np.argsort(removal, kind="mergesort")[:moves]
    dropped = np.zeros(size, np.bool_)
    dropped[drop] = True
    grow = np.empty(moves, np.int64)
    grown = 0
    for j in np.argsort(-cluster_error, kind="mergesort"):
        if grown == len(drop):
            break
        if not dropped[j] and count[j] >= 2:
            grow[grown] = j
            grown += 1
    centres = centres.copy()
    covariance = np.empty((3, 3))
    mean = np.empty(3)
    for t in range(grown):
        j = grow[t]
        for a in range(3):
            mean[a] = sums[j, a] / mass[j]
        for a in range(3):
            for b in range(a, 3):
                covariance[a, b] = covariance[b, a] = moments[j, a, b] / mass[j] - mean[a] * mean[b]
        x, y, z, value = _principal_axis(covariance)
        # two halves of a Gaussian have their means about 0.8 sigma from the centre
        spread = np.sqrt(max(value, 0.0)) * 0.8
        for a, direction in enumerate((x, y, z)):
            centres[j, a] = mean[a] + direction * spread
            centres[drop[t], a] = mean[a] - direction * spread
    return centres


def refine_palette(points: np.ndarray, weights: np.ndarray, initial: np.ndarray, *,
                   passes: int = 12, rounds: int = 2, moves: int = 16) -> np.ndarray:
    """Improve ``initial`` as a palette for a weighted set of colours.

    Args:
        points: float64 (M, 3) colours (for example bin means from :func:`binned_histogram`).
        weights: float64 (M,) weight of each colour (its pixel count).
        initial: (K, 3) starting palette.
        passes: Lloyd passes in the first phase (fewer when the error stalls).
        rounds: drop-and-split rounds after it; each is kept only if it lowers the error
            (and the first that does not ends them).
        moves: entries moved per round (at most a quarter of the palette).

    Returns:
        float64 (K, 3) refined palette, not yet rounded.
    """
    points = np.ascontiguousarray(points, dtype=np.float64)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    axis = SortedPalette(initial).axis
    moves = max(1, min(moves, len(initial) // 4))
    with PARALLEL_LOCK:
        centres, _, error = _lloyd(points, weights, np.asarray(initial, np.float64), axis, passes, 1e-3)
        if len(initial) <= 2 or len(points) <= len(initial):
            return centres
        for _ in range(rounds):
            trial, _, trial_error = _lloyd(points, weights, _split_worst(points, weights, centres, moves, axis),
                                           axis, max(3, passes // 2), 1e-3)
            if trial_error >= error:
                break
            centres, error = trial, trial_error
    return centres


def round_palette(centres: np.ndarray, colours: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Round a float palette to uint8 so that every entry serves at least one colour.

    Entries nearest to none of ``colours`` (duplicates, or entries that rounding
    stranded) move onto the colours served worst, so a set with at least K
    distinct colours uses all K entries.

    Args:
        centres: float (K, 3) palette.
        colours: (M, 3) colours the palette must serve.
        counts: (M,) their weights.
    """
    palette = np.clip(np.rint(centres), 0, 255).astype(np.uint8)
    points = np.asarray(colours, dtype=np.float64)
    weights = np.asarray(counts, dtype=np.float64)
    for _ in range(8):
        labels, first, _ = assign_nearest(points, palette)
        used = np.bincount(labels, minlength=len(palette)) > 0
        unused = np.flatnonzero(~used)
        if not len(unused):
            break
        taken = {tuple(c) for c in palette[used].tolist()}
        candidates = (np.clip(np.rint(points[i]), 0, 255).astype(np.uint8) for i in np.argsort(-(weights * first)))
        fresh = [c for c in candidates if tuple(c.tolist()) not in taken]
        for slot, colour in zip(unused, fresh):
            palette[slot] = colour
    return palette
