# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled loops of the palette refinement (weighted k-means on a colour histogram).

Sums run in a fixed order on one thread, so a palette does not depend on the
number of cores; only the per-bin searches, which write one slot each, run on
several threads.
"""

from cython.parallel cimport prange
from libc.math cimport sqrt
from libc.stdint cimport int64_t, uint8_t
from libc.string cimport memset

from ..colours._search cimport nearest_two, principal_direction

cdef enum:
    BLOCK_CELLS = 8                      # the histogram's scans skip blocks of this many bins that no colour fell into

ctypedef fused colour_t:
    uint8_t
    double


def histogram_blocks(int shift):
    """How many blocks of bins :func:`binned_histogram`'s ``touched`` scratch has for bins ``2**shift`` wide."""
    return (((<Py_ssize_t>1) << (3 * (8 - shift))) + BLOCK_CELLS - 1) // BLOCK_CELLS


def binned_histogram(const colour_t[:, ::1] colours, const double[::1] weights, bint weighted, int shift,
                     double[::1] cells, uint8_t[::1] touched):
    """Histogram of colours over bins ``2**shift`` levels wide per channel.

    Args:
        colours: uint8 or float64 (N, 3) colours (0..255).
        weights: float64 (N,) weight of each colour; read only when ``weighted``
            (otherwise each counts 1).
        shift: 0..7; bins are 2**shift levels wide.
        cells: float64 (4 * bins,) zeroed scratch: per bin its weight, then its weighted red, green and blue
            sums (only the pages of occupied bins are touched). It is left zeroed, to be used again.
        touched: uint8 (:func:`histogram_blocks` (shift),) zeroed scratch: whether any colour fell into
            each block of BLOCK_CELLS bins (the scans skip the empty blocks). Also left zeroed.

    Returns:
        ``(points, totals)``: float64 (M, 3) weighted mean colour of each
        occupied bin, in bin order, and float64 (M,) its total weight.
    """
    cdef int bits = 8 - shift
    cdef Py_ssize_t size = (<Py_ssize_t>1) << (3 * bits), i, cell, block, occupied = 0, n = 0
    cdef Py_ssize_t blocks = (size + BLOCK_CELLS - 1) // BLOCK_CELLS
    cdef double w, r, g, b, m
    if cells.shape[0] != 4 * size or touched.shape[0] != blocks:
        raise ValueError("the histogram's scratch arrays do not fit its bins")
    import numpy as np
    cdef double[:, ::1] points
    cdef double[::1] totals
    with nogil:
        for i in range(colours.shape[0]):
            w = weights[i] if weighted else 1.0
            r = colours[i, 0]
            g = colours[i, 1]
            b = colours[i, 2]
            cell = ((<int64_t>r >> shift) << (2 * bits)) | ((<int64_t>g >> shift) << bits) | (<int64_t>b >> shift)
            cells[4 * cell] += w
            cells[4 * cell + 1] += w * r
            cells[4 * cell + 2] += w * g
            cells[4 * cell + 3] += w * b
            touched[cell // BLOCK_CELLS] = 1
        for block in range(blocks):
            if touched[block]:
                for cell in range(block * BLOCK_CELLS, min(size, (block + 1) * BLOCK_CELLS)):
                    if cells[4 * cell] > 0:
                        occupied += 1
    points_array = np.empty((occupied, 3), np.float64)
    totals_array = np.empty(occupied, np.float64)
    points = points_array
    totals = totals_array
    with nogil:
        for block in range(blocks):
            if touched[block]:
                for cell in range(block * BLOCK_CELLS, min(size, (block + 1) * BLOCK_CELLS)):
                    m = cells[4 * cell]
                    if m > 0:
                        points[n, 0] = cells[4 * cell + 1] / m
                        points[n, 1] = cells[4 * cell + 2] / m
                        points[n, 2] = cells[4 * cell + 3] / m
                        totals[n] = m
                        n += 1
                    if m != 0 or cells[4 * cell + 1] != 0 or cells[4 * cell + 2] != 0 or cells[4 * cell + 3] != 0:
                        memset(&cells[4 * cell], 0, 4 * sizeof(double))
                touched[block] = 0
    return points_array, totals_array


def lloyd_passes(const double[:, ::1] points, const double[::1] weights, double[:, ::1] centres,
                 const double[::1] axis, int64_t[::1] labels, double[::1] upper, double[::1] lower, int passes,
                 double tolerance, int threads, reseed):
    """Weighted Lloyd passes with Hamerly's bounds, until the error stalls or ``passes`` are done.

    Each pass sums every entry's bins (the error, sum of weight * upper**2, comes from the bounds), moves
    every entry with weight to their mean, sorts the entries along ``axis``, and re-checks each bin's entry
    after the moves, searching the sorted entries only where the bounds no longer separate (see
    :func:`_update`). Passes stop once one that moved no dead entry lowered the error by at most
    ``tolerance`` of it. Every sum runs in the order of the bins, so the entries do not depend on ``threads``.

    Args:
        points: float64 (M, 3) bin colours; weights: float64 (M,) their weights.
        centres: float64 (K, 3), K <= 256, the entries, moved in place.
        axis: float64 (3,) unit vector the entries are sorted along for the searches.
        labels: int64 (M,) each bin's entry; upper, lower: float64 (M,) its distance to that entry (an upper
            bound) and a lower bound of its distance to any other (RGB distances, not squared). Kept up to date.
        reseed: called as ``reseed(mass, moved)`` with float64 (K,) each entry's weight and (K,) how far it
            moved, after a pass that left entries without weight; it may move those entries in ``centres``
            and set how far they moved in ``moved``.
    """
    cdef Py_ssize_t k = centres.shape[0], m = points.shape[0], i, j, c, step
    cdef double error, previous = 1e300, largest, shift, new, w
    cdef int dead
    if k > 256 or axis.shape[0] != 3 or labels.shape[0] != m or upper.shape[0] != m or lower.shape[0] != m \
            or weights.shape[0] != m:
        raise ValueError("lloyd_passes: at most 256 entries, and weights, labels and bounds (M,) for (M, 3) points")
    import numpy as np
    mass_array, sums_array, moved_array = np.zeros(k), np.zeros((k, 3)), np.zeros(k)
    sorted_array, keys_array, order_array = np.zeros((k, 3)), np.zeros(k), np.arange(k, dtype=np.int64)
    cdef double[::1] mass = mass_array, moved = moved_array, keys = keys_array
    cdef double[:, ::1] sums = sums_array, colours = sorted_array
    cdef int64_t[::1] order = order_array
    cdef double key_of[256]
    for step in range(passes):
        with nogil:
            mass[:] = 0.0
            sums[:, :] = 0.0
            error = 0.0
            for i in range(m):
                j = labels[i]
                w = weights[i]
                mass[j] += w
                sums[j, 0] += w * points[i, 0]
                sums[j, 1] += w * points[i, 1]
                sums[j, 2] += w * points[i, 2]
                error += w * upper[i] * upper[i]
            dead = 0
            for j in range(k):
                if mass[j] > 0:
                    shift = 0.0
                    for c in range(3):
                        new = sums[j, c] / mass[j]
                        shift += (new - centres[j, c]) * (new - centres[j, c])
                        centres[j, c] = new
                    moved[j] = sqrt(shift)
                else:
                    moved[j] = 0.0
                    dead += 1
        if dead:
            reseed(mass_array, moved_array)
        with nogil:
            for j in range(k):
                key_of[j] = centres[j, 0] * axis[0] + centres[j, 1] * axis[1] + centres[j, 2] * axis[2]
            _sort_by_key(key_of, &order[0], k)
            for i in range(k):
                j = order[i]
                keys[i] = key_of[j]
                colours[i, 0] = centres[j, 0]
                colours[i, 1] = centres[j, 1]
                colours[i, 2] = centres[j, 2]
            largest = 0.0
            for j in range(k):
                if j == 0 or moved[j] > largest:
                    largest = moved[j]
            _update(points, centres, labels, upper, lower, moved, largest, colours, keys, axis, order, threads)
        if dead == 0 and previous - error <= tolerance * error:
            break
        previous = error


cdef void _sort_by_key(const double* key_of, int64_t* order, Py_ssize_t k) noexcept nogil:
    """Put ``order`` (K,), a permutation of the entries, in ascending order of ``key_of`` (K,), equal keys in
    ascending order of entry (as a stable sort of the entries by key). Insertion sort: from one pass to the
    next the entries move little, and the order of the pass before is nearly sorted."""
    cdef Py_ssize_t i, hole
    cdef int64_t entry
    for i in range(1, k):
        entry = order[i]
        hole = i
        while hole > 0 and (key_of[order[hole - 1]] > key_of[entry]
                            or (key_of[order[hole - 1]] == key_of[entry] and order[hole - 1] > entry)):
            order[hole] = order[hole - 1]
            hole -= 1
        order[hole] = entry


cdef void _update(const double[:, ::1] points, const double[:, ::1] centres, int64_t[::1] labels,
                  double[::1] upper, double[::1] lower, const double[::1] moved, double largest,
                  const double[:, ::1] colours, const double[::1] keys, const double[::1] axis,
                  const int64_t[::1] order, int threads) noexcept nogil:
    """Hamerly's step: re-check each bin's entry after the entries moved, searching only where the bounds allow.

    ``upper``/``lower`` (M,) bound the distance to the bin's own entry and to any
    other; each grows or shrinks by the moves (``moved`` (K,), ``largest`` its
    maximum). A bin whose bounds no longer separate is searched in the sorted
    palette (``colours``, ``keys``, ``axis``, ``order``, of ``centres``).
    """
    cdef Py_ssize_t i, j, n = keys.shape[0]
    cdef double exact, d1, d2, dr, dg, db
    cdef int64_t label
    if points.shape[0] == 0:
        return
    for i in prange(points.shape[0], num_threads=threads, schedule="static"):
        j = labels[i]
        upper[i] += moved[j]
        lower[i] -= largest
        if upper[i] <= lower[i]:
            continue
        dr = centres[j, 0] - points[i, 0]
        dg = centres[j, 1] - points[i, 1]
        db = centres[j, 2] - points[i, 2]
        exact = sqrt(dr * dr + dg * dg + db * db)
        upper[i] = exact
        if exact <= lower[i]:
            continue
        # assigned in the loop, so that each thread has its own (prange makes them private)
        label = 0
        d1 = 0.0
        d2 = 0.0
        nearest_two(points[i, 0], points[i, 1], points[i, 2], &colours[0, 0], &keys[0], n, &axis[0],
                    &order[0], &label, &d1, &d2)
        labels[i] = label
        upper[i] = sqrt(d1)
        lower[i] = sqrt(d2)


def squared_error(const double[:, ::1] points, const double[::1] weights, const int64_t[::1] labels,
                  const double[:, ::1] centres):
    """Weighted squared error of bins against their entries, exactly (squared RGB units)."""
    cdef Py_ssize_t i, j
    cdef double d, dr, dg, db, error = 0.0
    with nogil:
        for i in range(points.shape[0]):
            j = labels[i]
            dr = centres[j, 0] - points[i, 0]
            dg = centres[j, 1] - points[i, 1]
            db = centres[j, 2] - points[i, 2]
            d = dr * dr + dg * dg + db * db
            error += weights[i] * d
    return error


def cluster_statistics(const double[:, ::1] points, const double[::1] weights, const int64_t[::1] labels,
                       const double[::1] first, const double[::1] second, double[::1] removal,
                       double[::1] cluster_error, int64_t[::1] count, double[::1] mass, double[:, ::1] sums,
                       double[:, :, ::1] moments):
    """Per entry: what removing it costs, its error, bin count, weight, colour sum and second moments.

    Inputs are ``points`` (M, 3), ``weights`` and ``labels`` (M,), as for :func:`squared_error`, plus
    ``first``/``second`` (M,), squared distances to the nearest and runner-up entry. Outputs, zeroed by
    the caller: float64 (K,) ``removal``, ``cluster_error``, ``mass``; int64 (K,)
    ``count``; float64 (K, 3) ``sums``; float64 (K, 3, 3) ``moments`` (upper triangle).
    """
    cdef Py_ssize_t i, j, a, b
    cdef double w, d1, d2
    with nogil:
        for i in range(points.shape[0]):
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


def split_clusters(const double[:, ::1] sums, const double[::1] mass, const double[:, :, ::1] moments,
                   const int64_t[::1] grow, const int64_t[::1] drop, double[:, ::1] centres):
    """Cut each cluster ``grow[t]`` in two along its principal axis, moving entry ``drop[t]`` to one half.

    Args:
        sums, mass, moments: per entry, as :func:`cluster_statistics` leaves them.
        grow, drop: int64 (T,) the clusters to cut and the entries that move.
        centres: float64 (K, 3) the palette, changed in place: the two halves'
            means sit about 0.8 sigma either side of the cluster's mean, as the
            two halves of a Gaussian do.
    """
    cdef Py_ssize_t t, j, d, a, b
    cdef double mean[3]
    cdef double covariance[3][3]
    cdef double direction[3]
    cdef double value, spread
    with nogil:
        for t in range(grow.shape[0]):
            j = grow[t]
            d = drop[t]
            for a in range(3):
                mean[a] = sums[j, a] / mass[j]
            for a in range(3):
                for b in range(a, 3):
                    covariance[a][b] = moments[j, a, b] / mass[j] - mean[a] * mean[b]
                    covariance[b][a] = covariance[a][b]
            principal_direction(covariance, direction, &value)
            spread = sqrt(max(value, 0.0)) * 0.8
            for a in range(3):
                centres[j, a] = mean[a] + direction[a] * spread
                centres[d, a] = mean[a] - direction[a] * spread
