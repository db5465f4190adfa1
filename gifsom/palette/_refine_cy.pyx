# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled loops of the palette refinement (weighted k-means on a colour histogram): the binned histogram,
and the whole refinement in one call (:func:`refine`: Lloyd passes, re-seeds of dead entries, drop-and-split
rounds), so that a steady camera's frame palettes, a few thousand bins each, spend no time between loops.

Sums run in a fixed order on one thread, so a palette does not depend on the
number of cores; only the per-bin searches, which write one slot each, run on
several threads.
"""

from cython.parallel cimport prange
from libc.math cimport nearbyint, sqrt
from libc.stdint cimport int64_t, uint8_t
from libc.string cimport memset

from ..colours._search cimport nearest_two, principal_direction

cdef enum:
    BLOCK_CELLS = 8                      # the histogram's scans skip blocks of this many bins that no colour fell into


cdef inline Py_ssize_t _bin_slot(Py_ssize_t red, Py_ssize_t green, Py_ssize_t blue, int bits) noexcept nogil:
    """Where the histogram's ``cells`` hold bin (red, green, blue), each under ``2**bits``: in blocks of
    4 x 4 x 8 bins (red, green, blue), 128 bins of 32 bytes, one 4 KiB page each, rather than in bin order,
    where a page spans one red and two green bins. A page of the scratch is faulted in the first time a bin
    in it is used, and a picture's colours gather in a few parts of the cube: the talking head's first frame
    (176x144) fell on 820 pages of 64-level bins so and on 259 in blocks, the sky's (240x180) on 494 and
    237 (2026-12-05; a fault took about 3.5 us on the 2-core machine). The scans still run in bin order."""
    if bits < 3:
        return (red << (2 * bits)) | (green << bits) | blue
    return ((((red >> 2) << (2 * bits - 5)) | ((green >> 2) << (bits - 3)) | (blue >> 3)) << 7
            | ((red & 3) << 5) | ((green & 3) << 3) | (blue & 7))


cdef inline Py_ssize_t _cell_slot(Py_ssize_t cell, int bits) noexcept nogil:
    """:func:`_bin_slot` of the bin numbered ``cell`` in bin order (red, green, blue from the top bit down)."""
    cdef Py_ssize_t mask = ((<Py_ssize_t>1) << bits) - 1
    return _bin_slot(cell >> (2 * bits), (cell >> bits) & mask, cell & mask, bits)

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
        cells: float64 (4 * bins,) zeroed scratch: per bin (at its slot, :func:`_bin_slot`) its weight, then its
            weighted red, green and blue sums (only the pages of occupied bins are touched). It is left zeroed,
            to be used again.
        touched: uint8 (:func:`histogram_blocks` (shift),) zeroed scratch: whether any colour fell into
            each block of BLOCK_CELLS bins (the scans skip the empty blocks). Also left zeroed.

    Returns:
        ``(points, totals)``: float64 (M, 3) weighted mean colour of each
        occupied bin, in bin order, and float64 (M,) its total weight.
    """
    cdef int bits = 8 - shift
    cdef Py_ssize_t size = (<Py_ssize_t>1) << (3 * bits), i, cell, slot, block, occupied = 0, n = 0
    cdef Py_ssize_t blocks = (size + BLOCK_CELLS - 1) // BLOCK_CELLS
    cdef int64_t red, green, blue
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
            red = <int64_t>r >> shift
            green = <int64_t>g >> shift
            blue = <int64_t>b >> shift
            slot = 4 * _bin_slot(red, green, blue, bits)
            cells[slot] += w
            cells[slot + 1] += w * r
            cells[slot + 2] += w * g
            cells[slot + 3] += w * b
            touched[((red << (2 * bits)) | (green << bits) | blue) // BLOCK_CELLS] = 1
        for block in range(blocks):
            if touched[block]:
                for cell in range(block * BLOCK_CELLS, min(size, (block + 1) * BLOCK_CELLS)):
                    if cells[4 * _cell_slot(cell, bits)] > 0:
                        occupied += 1
    points_array = np.empty((occupied, 3), np.float64)
    totals_array = np.empty(occupied, np.float64)
    points = points_array
    totals = totals_array
    with nogil:
        for block in range(blocks):
            if touched[block]:
                for cell in range(block * BLOCK_CELLS, min(size, (block + 1) * BLOCK_CELLS)):
                    slot = 4 * _cell_slot(cell, bits)
                    m = cells[slot]
                    if m > 0:
                        points[n, 0] = cells[slot + 1] / m
                        points[n, 1] = cells[slot + 2] / m
                        points[n, 2] = cells[slot + 3] / m
                        totals[n] = m
                        n += 1
                    if m != 0 or cells[slot + 1] != 0 or cells[slot + 2] != 0 or cells[slot + 3] != 0:
                        memset(&cells[slot], 0, 4 * sizeof(double))
                touched[block] = 0
    return points_array, totals_array


#: Where a refinement re-seeds or drops more entries than this, it orders all the values by sorting them (the
#: selection of the few largest walks its list once per value that enters it).
cdef enum:
    SELECT_BY_INSERTION = 64


cdef class _Refinement:
    """The scratch of one refinement of K <= 256 entries over M bins: the bins' entries and bounds, the sorted
    palette of the searches, and the per-entry sums of the passes and the drop-and-split rounds."""

    cdef const double[:, ::1] points
    cdef const double[::1] weights
    cdef const double[::1] axis
    cdef int threads
    cdef Py_ssize_t k, m
    cdef int64_t[::1] labels
    cdef double[::1] upper, lower, first, second
    cdef double[:, ::1] colours, sums
    cdef double[::1] keys, key_of, mass, moved, removal, cluster_error, values
    cdef int64_t[::1] order, picked, count, merge, sorted_before
    cdef bint sorted_once
    cdef double[:, :, ::1] moments

    def __init__(self, const double[:, ::1] points, const double[::1] weights, const double[::1] axis, Py_ssize_t k,
                 int threads):
        import numpy as np
        if k > 256 or axis.shape[0] != 3 or weights.shape[0] != points.shape[0] or points.shape[1] != 3:
            raise ValueError("refine: at most 256 entries, (M, 3) points with (M,) weights and a (3,) axis")
        self.points = points
        self.weights = weights
        self.axis = axis
        self.threads = threads
        self.k = k
        self.m = points.shape[0]
        self.labels = np.zeros(self.m, np.int64)
        self.upper, self.lower = np.zeros(self.m), np.zeros(self.m)
        self.first, self.second = np.zeros(self.m), np.zeros(self.m)
        self.values = np.zeros(max(self.m, k))
        self.merge = np.zeros(max(self.m, k), np.int64)
        self.picked = np.zeros(max(self.m, k), np.int64)
        self.colours, self.sums = np.zeros((k, 3)), np.zeros((k, 3))
        self.keys, self.key_of, self.mass, self.moved = np.zeros(k), np.zeros(k), np.zeros(k), np.zeros(k)
        self.removal, self.cluster_error = np.zeros(k), np.zeros(k)
        self.order, self.count = np.zeros(k, np.int64), np.zeros(k, np.int64)
        self.sorted_before = np.zeros(k, np.int64)
        self.sorted_once = False
        self.moments = np.zeros((k, 3, 3))

    cdef void sort_palette(self, const double[:, ::1] centres) noexcept nogil:
        """Sort ``centres`` along the axis, as a stable sort of their keys does: ``order``, ``colours``, ``keys``.

        The first sort is a merge sort; later ones start from the order before (``sorted_before``) and insert
        each entry in its place, since a pass moves the entries a little and the order changes in a few places:
        the same order (by key, equal keys by entry), and the sky's 49 frame palettes refined in 45.4 against
        47.3 ms (one thread, medians of 15 runs, three alternated pairs, 2026-12-05)."""
        cdef Py_ssize_t j
        for j in range(self.k):
            self.key_of[j] = centres[j, 0] * self.axis[0] + centres[j, 1] * self.axis[1] + centres[j, 2] * self.axis[2]
        if self.sorted_once:
            _insertion_order(&self.key_of[0], &self.sorted_before[0], self.k)
        else:
            for j in range(self.k):
                self.sorted_before[j] = j
            _stable_order(&self.key_of[0], &self.sorted_before[0], &self.merge[0], self.k, 1.0)
            self.sorted_once = True
        for j in range(self.k):
            self.order[j] = self.sorted_before[j]
        for j in range(self.k):
            self.keys[j] = self.key_of[self.order[j]]
            self.colours[j, 0] = centres[self.order[j], 0]
            self.colours[j, 1] = centres[self.order[j], 1]
            self.colours[j, 2] = centres[self.order[j], 2]

    cdef void assign(self, const double[:, ::1] centres) noexcept nogil:
        """Every bin's nearest entry of ``centres`` into ``labels``, and the squared distances to it and to the
        runner-up into ``first`` and ``second``."""
        cdef Py_ssize_t i, k = self.k
        cdef const double[:, ::1] points = self.points
        cdef const double[:, ::1] colours = self.colours
        cdef const double[::1] keys = self.keys, axis = self.axis
        cdef const int64_t[::1] order = self.order
        cdef int64_t[::1] labels = self.labels
        cdef double[::1] first = self.first, second = self.second
        if self.m == 0:
            return
        self.sort_palette(centres)
        for i in prange(self.m, num_threads=self.threads, schedule="static"):
            nearest_two(points[i, 0], points[i, 1], points[i, 2], &colours[0, 0], &keys[0], k, &axis[0], &order[0],
                        &labels[i], &first[i], &second[i])

    cdef bint rounds_cleanly(self, const double[:, ::1] centres, const double[::1] scale,
                             uint8_t[:, ::1] rounded) noexcept nogil:
        """Round ``centres`` (weighted, as the points are) to RGB into ``rounded``, uint8 (K, 3), as
        :func:`gifsom.palette.refine.round_palette` rounds them (divided by ``scale``, float64 (3,), rounded
        half to even, clipped to 0..255); True where every rounded entry is the nearest of some bin and no bin
        is as near to two entries, so that rounding has nothing to move whichever of equals a search takes."""
        cdef Py_ssize_t i, j, c
        cdef double level
        cdef double[:, ::1] weighted = self.sums          # free scratch once the passes are done
        for j in range(self.k):
            for c in range(3):
                level = min(max(nearbyint(centres[j, c] / scale[c]), 0.0), 255.0)
                rounded[j, c] = <uint8_t>level
                weighted[j, c] = rounded[j, c] * scale[c]
        if self.m < self.k:
            return False
        self.assign(weighted)
        for j in range(self.k):
            self.count[j] = 0
        for i in range(self.m):
            if self.first[i] == self.second[i]:
                return False
            self.count[self.labels[i]] += 1
        for j in range(self.k):
            if self.count[j] == 0:
                return False
        return True

    cdef double lloyd(self, double[:, ::1] centres, int passes, double tolerance) noexcept nogil:
        """Weighted Lloyd passes with Hamerly's bounds on ``centres``, moved in place, until the error stalls or
        ``passes`` are done; returns the error after them (sum of weight * squared distance).

        Each pass sums every entry's bins (the error, sum of weight * upper**2, comes from the bounds), moves
        every entry with weight to their mean, re-seeds the entries left without weight on the bins served
        worst (see :meth:`reseed`), sorts the entries along the axis, and re-checks each bin's entry after the
        moves, searching the sorted entries only where the bounds no longer separate (see :func:`_update`).
        Passes stop once one that moved no dead entry lowered the error by at most ``tolerance`` of it. Every
        sum runs in the order of the bins, so the entries do not depend on the threads.
        """
        cdef Py_ssize_t i, j, c, step
        cdef double error, previous = 1e300, largest, shift, new, w
        cdef int dead
        self.assign(centres)
        for i in range(self.m):
            self.upper[i] = sqrt(self.first[i])
            self.lower[i] = sqrt(self.second[i])
        for step in range(passes):
            self.mass[:] = 0.0
            self.sums[:, :] = 0.0
            error = 0.0
            for i in range(self.m):
                j = self.labels[i]
                w = self.weights[i]
                self.mass[j] += w
                self.sums[j, 0] += w * self.points[i, 0]
                self.sums[j, 1] += w * self.points[i, 1]
                self.sums[j, 2] += w * self.points[i, 2]
                error += w * self.upper[i] * self.upper[i]
            dead = 0
            for j in range(self.k):
                if self.mass[j] > 0:
                    shift = 0.0
                    for c in range(3):
                        new = self.sums[j, c] / self.mass[j]
                        shift += (new - centres[j, c]) * (new - centres[j, c])
                        centres[j, c] = new
                    self.moved[j] = sqrt(shift)
                else:
                    self.moved[j] = 0.0
                    dead += 1
            if dead:
                self.reseed(centres)
            self.sort_palette(centres)
            largest = 0.0
            for j in range(self.k):
                if j == 0 or self.moved[j] > largest:
                    largest = self.moved[j]
            _update(self.points, centres, self.labels, self.upper, self.lower, self.moved, largest, self.colours,
                    self.keys, self.axis, self.order, self.threads)
            if dead == 0 and previous - error <= tolerance * error:
                break
            previous = error
        return _squared_error(self.points, self.weights, self.labels, centres)

    cdef void reseed(self, double[:, ::1] centres) noexcept nogil:
        """Move the entries without weight (at most one per bin) onto the bins served worst (largest weight *
        upper**2 first, ties in bin order), and mark them as moved without bound."""
        cdef Py_ssize_t i, j, t = 0, dead = 0
        for j in range(self.k):
            if self.mass[j] == 0:
                dead += 1
        dead = min(dead, self.m)
        for i in range(self.m):
            self.values[i] = self.weights[i] * self.upper[i] * self.upper[i]
        _largest_first(&self.values[0], self.m, dead, &self.picked[0], &self.merge[0], 1.0)
        for j in range(self.k):
            if t < dead and self.mass[j] == 0:
                i = self.picked[t]
                centres[j, 0] = self.points[i, 0]
                centres[j, 1] = self.points[i, 1]
                centres[j, 2] = self.points[i, 2]
                self.moved[j] = 1e150
                t += 1

    cdef void split_worst(self, double[:, ::1] centres, Py_ssize_t moves) noexcept nogil:
        """Move the ``moves`` entries of ``centres`` cheapest to remove into the clusters with the largest error.

        An entry's removal cost is what its bins would pay to move to their runner-up (cheapest first, ties in
        entry order); each growing cluster (largest error first, ties in entry order, at least two bins, not
        one of those dropped) is cut in two along its principal axis (:func:`_split_clusters`).
        """
        cdef Py_ssize_t j, t, grown = 0
        cdef bint dropped[256]
        self.assign(centres)
        self.removal[:] = 0.0
        self.cluster_error[:] = 0.0
        self.count[:] = 0
        self.mass[:] = 0.0
        self.sums[:, :] = 0.0
        self.moments[:, :, :] = 0.0
        _cluster_statistics(self.points, self.weights, self.labels, self.first, self.second, self.removal,
                            self.cluster_error, self.count, self.mass, self.sums, self.moments)
        moves = min(moves, self.k)
        # the drops: the smallest removal costs, in the first ``moves`` of ``picked``; marked by a count of -1
        _largest_first(&self.removal[0], self.k, moves, &self.picked[0], &self.merge[0], -1.0)
        # the growing clusters, largest error first, into ``order`` (the sorted palette is rebuilt before use)
        for j in range(self.k):
            self.order[j] = j
        _stable_order(&self.cluster_error[0], &self.order[0], &self.merge[0], self.k, -1.0)
        for j in range(self.k):
            dropped[j] = False
        for t in range(moves):
            dropped[self.picked[t]] = True
        for t in range(self.k):
            j = self.order[t]
            if grown < moves and not dropped[j] and self.count[j] >= 2:
                self.merge[grown] = j
                grown += 1
        _split_clusters(self.sums, self.mass, self.moments, &self.merge[0], &self.picked[0], grown, centres)


cdef void _largest_first(const double* values, Py_ssize_t m, Py_ssize_t count, int64_t* out, int64_t* scratch,
                         double sign) noexcept nogil:
    """The indices of the ``count`` largest of ``sign`` * ``values`` (M,), largest first and equal values in index
    order, into ``out`` (count,): the first ``count`` of a stable descending sort. ``scratch``: (M,)."""
    cdef Py_ssize_t i, p, n = 0
    cdef double v
    if count <= 0:
        return
    if count > SELECT_BY_INSERTION:
        for i in range(m):
            out[i] = i
        _stable_order(values, out, scratch, m, -sign)
        return
    for i in range(m):
        v = sign * values[i]
        if n < count:
            p = n
            n += 1
        elif v > sign * values[out[count - 1]]:
            p = count - 1
        else:
            continue
        while p > 0 and sign * values[out[p - 1]] < v:
            out[p] = out[p - 1]
            p -= 1
        out[p] = i


cdef void _insertion_order(const double* values, int64_t* order, Py_ssize_t n) noexcept nogil:
    """Sort ``order`` (N,), a permutation of 0..N-1 in any order, by ascending ``values`` of each, equal values
    by index: the order :func:`_stable_order` gives from 0..N-1, in time that grows with how far ``order`` is
    from it (an insertion sort)."""
    cdef Py_ssize_t i, p
    cdef int64_t moving
    cdef double value
    for i in range(1, n):
        moving = order[i]
        value = values[moving]
        p = i
        while p > 0 and (values[order[p - 1]] > value or (values[order[p - 1]] == value and order[p - 1] > moving)):
            order[p] = order[p - 1]
            p -= 1
        order[p] = moving


cdef void _stable_order(const double* values, int64_t* order, int64_t* scratch, Py_ssize_t n,
                        double sign) noexcept nogil:
    """Sort ``order`` (N,) indices, given in ascending order, by ascending ``sign`` * ``values`` of each, equal
    values in index order: a stable sort (bottom-up merges, through ``scratch`` (N,))."""
    cdef Py_ssize_t width = 1, start, middle, end, a, b, t
    cdef int64_t* source = order
    cdef int64_t* target = scratch
    cdef int64_t* swap
    while width < n:
        start = 0
        while start < n:
            middle = min(start + width, n)
            end = min(start + 2 * width, n)
            a = start
            b = middle
            t = start
            while a < middle and b < end:
                if sign * values[source[b]] < sign * values[source[a]]:
                    target[t] = source[b]
                    b += 1
                else:
                    target[t] = source[a]
                    a += 1
                t += 1
            while a < middle:
                target[t] = source[a]
                a += 1
                t += 1
            while b < end:
                target[t] = source[b]
                b += 1
                t += 1
            start += 2 * width
        swap = source
        source = target
        target = swap
        width *= 2
    if source != order:
        for t in range(n):
            order[t] = source[t]


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


cdef double _squared_error(const double[:, ::1] points, const double[::1] weights, const int64_t[::1] labels,
                          const double[:, ::1] centres) noexcept nogil:
    """Weighted squared error of bins against their entries, exactly (squared RGB units)."""
    cdef Py_ssize_t i, j
    cdef double d, dr, dg, db, error = 0.0
    for i in range(points.shape[0]):
        j = labels[i]
        dr = centres[j, 0] - points[i, 0]
        dg = centres[j, 1] - points[i, 1]
        db = centres[j, 2] - points[i, 2]
        d = dr * dr + dg * dg + db * db
        error += weights[i] * d
    return error


cdef void _cluster_statistics(const double[:, ::1] points, const double[::1] weights, const int64_t[::1] labels,
                              const double[::1] first, const double[::1] second, double[::1] removal,
                              double[::1] cluster_error, int64_t[::1] count, double[::1] mass, double[:, ::1] sums,
                              double[:, :, ::1] moments) noexcept nogil:
    """Per entry: what removing it costs, its error, bin count, weight, colour sum and second moments.

    Inputs are ``points`` (M, 3), ``weights`` and ``labels`` (M,), as for :func:`_squared_error`, plus
    ``first``/``second`` (M,), squared distances to the nearest and runner-up entry. Outputs, zeroed by
    the caller: float64 (K,) ``removal``, ``cluster_error``, ``mass``; int64 (K,)
    ``count``; float64 (K, 3) ``sums``; float64 (K, 3, 3) ``moments`` (upper triangle).
    """
    cdef Py_ssize_t i, j, a, b
    cdef double w, d1, d2
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


cdef void _split_clusters(const double[:, ::1] sums, const double[::1] mass, const double[:, :, ::1] moments,
                          const int64_t* grow, const int64_t* drop, Py_ssize_t cuts,
                          double[:, ::1] centres) noexcept nogil:
    """Cut each cluster ``grow[t]`` in two along its principal axis, moving entry ``drop[t]`` to one half.

    Args:
        sums, mass, moments: per entry, as :func:`_cluster_statistics` leaves them.
        grow, drop: (cuts,) the clusters to cut and the entries that move.
        centres: float64 (K, 3) the palette, changed in place: the two halves'
            means sit about 0.8 sigma either side of the cluster's mean, as the
            two halves of a Gaussian do.
    """
    cdef Py_ssize_t t, j, d, a, b
    cdef double mean[3]
    cdef double covariance[3][3]
    cdef double direction[3]
    cdef double value, spread
    for t in range(cuts):
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


def refine(const double[:, ::1] points, const double[::1] weights, double[:, ::1] centres, const double[::1] axis,
           int passes, int rounds, int moves, double tolerance, int threads, const double[::1] scale=None,
           uint8_t[:, ::1] rounded=None):
    """Refine the K <= 256 entries ``centres`` (float64 (K, 3), moved in place) for float64 (M, 3) ``points``
    weighted by float64 (M,) ``weights``: Lloyd passes (at most ``passes``, see :meth:`_Refinement.lloyd`), then
    up to ``rounds`` rounds that each move the ``moves`` entries cheapest to remove into the clusters with the
    largest error and run at least 3 (half of ``passes``) Lloyd passes, kept only if they lower the error (the
    first that does not ends them). The searches sort the entries along the unit float64 (3,) ``axis`` and run
    on ``threads`` threads; the result does not depend on them.

    With ``scale`` (float64 (3,), the points' scale per channel) and ``rounded`` (uint8 (K, 3)), the refined
    entries are then rounded to RGB into ``rounded`` (see :meth:`_Refinement.rounds_cleanly`), with the
    refinement's scratch and sorted searches: rounding in numpy took 0.2 ms of a steady camera's 1.2 ms frame
    palette.

    Returns:
        ``(error, clean)``: the error (sum of weight * squared distance), and whether ``rounded`` needs no
        entry moved (False without ``rounded``).
    """
    cdef _Refinement work = _Refinement(points, weights, axis, centres.shape[0], threads)
    cdef double error, trial_error
    cdef int r
    cdef bint clean = False
    import numpy as np
    cdef double[:, ::1] trial = np.empty((centres.shape[0], 3))
    if rounded is not None and (scale is None or scale.shape[0] != 3 or rounded.shape[0] != centres.shape[0]
                                or rounded.shape[1] != 3):
        raise ValueError("refine: rounded must be (K, 3), with a (3,) scale")
    with nogil:
        error = work.lloyd(centres, passes, tolerance)
        if centres.shape[0] > 2 and points.shape[0] > centres.shape[0]:
            for r in range(rounds):
                trial[:, :] = centres
                work.split_worst(trial, moves)
                trial_error = work.lloyd(trial, max(3, passes // 2), tolerance)
                if trial_error >= error:
                    break
                centres[:, :] = trial
                error = trial_error
        if rounded is not None:
            clean = work.rounds_cleanly(centres, scale, rounded)
    return error, clean


def lloyd_passes(const double[:, ::1] points, const double[::1] weights, double[:, ::1] centres,
                 const double[::1] axis, int passes, double tolerance, int threads):
    """Only the Lloyd passes of :func:`refine` (no rounds): ``centres`` moved in place; returns int64 (M,) each
    bin's entry after them and the error."""
    cdef _Refinement work = _Refinement(points, weights, axis, centres.shape[0], threads)
    cdef double error
    with nogil:
        error = work.lloyd(centres, passes, tolerance)
    import numpy as np
    return np.asarray(work.labels).copy(), error


def ordered_from(const double[::1] values, int64_t[::1] order):
    """Sort ``order``, int64 (N,), a permutation of 0..N-1, in place by ascending float64 (N,) ``values`` of each,
    equal values by index, starting from the order it has (as :meth:`_Refinement.sort_palette` sorts the
    entries after the first time)."""
    if values.shape[0] != order.shape[0]:
        raise ValueError("ordered_from: values and order must have the same length")
    if order.shape[0]:
        _insertion_order(&values[0], &order[0], order.shape[0])


def largest_first(const double[::1] values, Py_ssize_t count):
    """int64: the indices of the ``count`` largest of float64 (M,) ``values``, largest first and equal values in
    index order (the first ``count`` of a stable descending sort)."""
    import numpy as np
    cdef Py_ssize_t m = values.shape[0]
    count = max(0, min(count, m))
    out = np.zeros(max(m, 1), np.int64)
    scratch = np.zeros(max(m, 1), np.int64)
    cdef int64_t[::1] picked = out, merge = scratch
    if m:
        _largest_first(&values[0], m, count, &picked[0], &merge[0], 1.0)
    return out[:count]
