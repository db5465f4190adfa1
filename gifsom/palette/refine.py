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

from ..colours.metric import AXIS_SCALE, from_weighted, to_weighted
from ..colours.nearest import POINTS_PER_THREAD, assign_nearest, principal_axis
from ..colours.packed import among, pack_colours
from ..pages import ScratchPool
from ..threads import threads_for
from . import _refine_cy  # type: ignore[attr-defined]  # a compiled kernel

BIN_SHIFT = 2                 # 64 levels per channel
#: Lloyd passes stop once one lowers the error by at most this share of it.
STALL = 1e-3
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


def refine_palette(points: np.ndarray, weights: np.ndarray, initial: np.ndarray, *,
                   passes: int = 12, rounds: int = 2, moves: int = 16) -> np.ndarray:
    """Improve ``initial`` as a palette for a weighted set of colours (``_refine_cy.refine``).

    Args:
        points: float64 (M, 3) colours (for example bin means from :func:`binned_histogram`).
        weights: float64 (M,) weight of each colour (its pixel count).
        initial: (K, 3) starting palette, K <= 256.
        passes: Lloyd passes in the first phase (fewer when the error stalls).
        rounds: drop-and-split rounds after it; each is kept only if it lowers the error
            (and the first that does not ends them).
        moves: entries moved per round (at most a quarter of the palette).

    Returns:
        float64 (K, 3) refined palette, not yet rounded.
    """
    return _refined(points, weights, initial, passes, rounds, moves, rounding=False)[0]


def refined_palette(colours: np.ndarray, weights: np.ndarray, initial: np.ndarray, *, passes: int = 12,
                    rounds: int = 2, moves: int = 16) -> np.ndarray:
    """:func:`refine_palette` on RGB ``colours`` (float64 (M, 3), weighted by float64 (M,) ``weights``; the
    refinement runs on them scaled, :func:`gifsom.colours.metric.to_weighted`), from ``initial`` (K, 3) given
    scaled, then :func:`round_palette` against the same colours: the uint8 (K, 3) palette. The kernel rounds
    the entries itself, and the numpy rounding runs only where an entry must move."""
    centres, rounded = _refined(to_weighted(colours), weights, initial, passes, rounds, moves, rounding=True)
    return rounded if rounded is not None else round_palette(from_weighted(centres), colours, weights)


def _refined(points: np.ndarray, weights: np.ndarray, initial: np.ndarray, passes: int, rounds: int, moves: int,
             rounding: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The kernel's refinement (``_refine_cy.refine``) of ``initial`` for ``points`` (see :func:`refine_palette`),
    the entries sorted along their principal axis, at most a quarter of them moved a round: the float64 (K, 3)
    entries, and with ``rounding`` the uint8 (K, 3) palette the kernel rounded them to, where no entry must
    move (else None)."""
    points = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 3)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    centres = np.array(initial, dtype=np.float64).reshape(-1, 3)
    rounded = np.empty(centres.shape, np.uint8) if rounding else None
    _, clean = _refine_cy.refine(points, weights, centres, np.ascontiguousarray(principal_axis(centres)), passes,
                                 rounds, max(1, min(moves, len(centres) // 4)), STALL,
                                 threads_for(len(points), POINTS_PER_THREAD), AXIS_SCALE if rounding else None,
                                 rounded)
    return centres, rounded if clean else None


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
        fresh = candidates[~among(pack_colours(candidates), pack_colours(palette[used]))]
        palette[unused[:len(fresh)]] = fresh[:len(unused)]
    return palette
