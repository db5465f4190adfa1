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
without a search. The per-bin searches of a pass run on all cores; the sums
run in a fixed order, so the palette does not depend on the core count.
"""

from __future__ import annotations

import numpy as np

from ..colours.metric import to_weighted
from ..colours.nearest import POINTS_PER_THREAD, SortedPalette, assign_nearest, principal_axis
from ..colours.packed import pack_colours
from ..pages import ScratchPool
from ..threads import threads_for
from . import _refine_cy  # type: ignore[attr-defined]  # a compiled kernel

BIN_SHIFT = 2                 # 64 levels per channel
#: A histogram of up to this many colours leaves its scratch (zeroed) for the next; a larger one's is unmapped.
#: Each page of the scratch that a histogram touches costs a page fault when new. A steady camera's frames
#: learn a palette each from a few thousand to tens of thousands of pixels: with the scratch reused, the
#: 176x144 talking head's 4,980 took 0.36 ms and 37,600 of a 640x360 one 0.87 ms, where sorting their bins
#: in numpy took 0.59 and 3.46 ms (2026-12-04). A clip's sample of half a million is learned once, and may
#: touch all 8 MiB, which would stay resident while kept.
REUSED_HISTOGRAM_COLOURS = 1 << 16


def binned_histogram(pixels: np.ndarray, shift: int = BIN_SHIFT) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of uint8 (N, 3) pixels over bins ``2**shift`` levels wide (64 x 64 x 64 bins by default).

    Returns:
        ``(points, weights)``: float64 (M, 3) mean colour of each occupied bin, in bin order (red, then green,
        then blue, most significant first), and float64 (M,) its pixel count.
    """
    return _histogram(np.ascontiguousarray(pixels, dtype=np.uint8).reshape(-1, 3), np.empty(0), False, shift)


def coarser_histogram(points: np.ndarray, weights: np.ndarray, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge the bins of a finer :func:`binned_histogram` into bins ``2**shift`` levels wide.

    A bin's mean lies inside the bin, so it falls into the coarse bin that holds
    the whole fine bin, and the merged means are exact.
    """
    return _histogram(np.ascontiguousarray(points, dtype=np.float64), np.ascontiguousarray(weights, dtype=np.float64),
                      True, shift)


def _histogram(pixels: np.ndarray, weights: np.ndarray, weighted: bool, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's histogram (see ``_refine_cy.binned_histogram``) in zeroed scratch arrays of the bins'
    :class:`HistogramScratch`, which the kernel leaves zeroed for the next. Those of more than
    :data:`REUSED_HISTOGRAM_COLOURS` colours are dropped instead: their pages stay resident while kept."""
    scratch = _scratch.get(shift)
    if scratch is None:
        scratch = _scratch.setdefault(shift, HistogramScratch(shift))
    cells, touched = scratch.cells.take(), scratch.touched.take()
    histogram = _refine_cy.binned_histogram(pixels, weights, weighted, shift, cells, touched)
    if len(pixels) <= REUSED_HISTOGRAM_COLOURS:
        scratch.cells.give(cells)
        scratch.touched.give(touched)
    return histogram


class HistogramScratch:
    """The kernel's zeroed scratch arrays for bins ``2**shift`` wide, kept for reuse: float64 (4 * bins,) in
    pages of their own (see :mod:`gifsom.pages`; 8 MiB for the default bins, of which a sample touches a
    few), and uint8 (blocks,)."""

    def __init__(self, shift: int) -> None:
        self.cells = ScratchPool(4 << (3 * (8 - shift)), np.float64)
        self.touched = ScratchPool(_refine_cy.histogram_blocks(shift), np.uint8)


_scratch: dict[int, HistogramScratch] = {}


def _lloyd(points: np.ndarray, weights: np.ndarray, centres: np.ndarray, axis: np.ndarray, passes: int,
           tolerance: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted Lloyd passes with Hamerly bounds (``_refine_cy.lloyd_passes``); returns float64 (K, 3) centres,
    int64 (M,) labels, error."""
    centres = np.array(centres, dtype=np.float64)
    labels, first, second = SortedPalette.along(centres, axis).assign(points)
    upper = np.sqrt(first)
    lower = np.sqrt(second)

    def reseed(mass: np.ndarray, moved: np.ndarray) -> None:
        """Re-seed dead entries on the worst-served bins (while there are bins: fewer bins than entries
        leaves the rest where they are)."""
        dead = np.flatnonzero(mass == 0)[:len(points)]
        worst = largest_first(weights * upper * upper, len(dead))
        for t, j in enumerate(dead):
            centres[j] = points[worst[t]]
            moved[j] = 1e150

    _refine_cy.lloyd_passes(points, weights, centres, np.ascontiguousarray(axis, dtype=np.float64), labels, upper,
                            lower, passes, tolerance, threads_for(len(points), POINTS_PER_THREAD), reseed)
    return centres, labels, _refine_cy.squared_error(points, weights, labels, centres)


def largest_first(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` largest of float (M,) ``values``, largest first and equal values in index
    order: the first ``count`` of a stable descending sort, without sorting them all (a pass that leaves a
    few entries dead re-seeds them on a few of thousands of bins)."""
    if count >= len(values):
        return np.argsort(-values, kind="stable")[:count]
    if count <= 0:
        return np.empty(0, np.int64)
    threshold = np.partition(values, len(values) - count)[len(values) - count]
    # every value tied with the threshold is a candidate, so the stable sort breaks those ties by index
    candidates = np.flatnonzero(values >= threshold)
    return candidates[np.argsort(-values[candidates], kind="stable")][:count]


def _split_worst(points: np.ndarray, weights: np.ndarray, centres: np.ndarray, moves: int,
                 axis: np.ndarray) -> np.ndarray:
    """Move the ``moves`` cheapest-to-remove entries into the clusters with the largest error.

    An entry's removal cost is what its colours would pay to move to their
    runner-up; each growing cluster is cut in two along its principal axis.
    """
    size = len(centres)
    labels, first, second = SortedPalette.along(centres, axis).assign(points)
    removal, cluster_error, mass = np.zeros(size), np.zeros(size), np.zeros(size)
    count = np.zeros(size, np.int64)
    sums = np.zeros((size, 3))
    moments = np.zeros((size, 3, 3))
    _refine_cy.cluster_statistics(points, weights, labels, first, second, removal, cluster_error, count, mass,
                                  sums, moments)
    drop = np.argsort(removal, kind="stable")[:moves]
    dropped = np.zeros(size, bool)
    dropped[drop] = True
    worst_first = np.argsort(-cluster_error, kind="stable")
    grow = worst_first[~dropped[worst_first] & (count[worst_first] >= 2)][:len(drop)]
    centres = np.array(centres, dtype=np.float64)
    _refine_cy.split_clusters(sums, mass, moments, grow.astype(np.int64), np.ascontiguousarray(drop[:len(grow)],
                              dtype=np.int64), centres)
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
    axis = principal_axis(np.asarray(initial, dtype=np.float64).reshape(-1, 3))
    moves = max(1, min(moves, len(initial) // 4))
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

    Entries nearest to none of ``colours`` by the weighted distance (duplicates, or entries
    that rounding stranded) move onto the colours served worst, so a set with at least K
    distinct colours uses all K entries.

    Args:
        centres: float (K, 3) palette.
        colours: (M, 3) colours the palette must serve.
        counts: (M,) their weights.
    """
    palette = np.clip(np.rint(centres), 0, 255).astype(np.uint8)
    points = np.asarray(colours, dtype=np.float64)
    weights = np.asarray(counts, dtype=np.float64)
    scaled = to_weighted(points)
    for _ in range(8):
        labels, first, _ = assign_nearest(scaled, to_weighted(palette))
        used = np.bincount(labels, minlength=len(palette)) > 0
        unused = np.flatnonzero(~used)
        if not len(unused):
            break
        # the colours served worst first, rounded, less those the used entries hold (repeats among them stay:
        # the next round moves an entry that a repeat leaves unused)
        candidates = np.clip(np.rint(points[np.argsort(-(weights * first))]), 0, 255).astype(np.uint8)
        fresh = candidates[~np.isin(pack_colours(candidates), pack_colours(palette[used]))]
        palette[unused[:len(fresh)]] = fresh[:len(unused)]
    return palette
