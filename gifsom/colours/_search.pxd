# Nearest-colour search against a palette sorted along its principal axis, shared by
# the palette refinement and the mapping stage, and the power iteration that finds such an
# axis (the refinement also cuts clusters along theirs). Pointers rather than memoryviews:
# these run once per colour inside nogil loops.

from libc.math cimport sqrt
from libc.stdint cimport int64_t


cdef inline void principal_direction(double[3][3] covariance, double* direction, double* value) noexcept nogil:
    """Unit eigenvector of the largest eigenvalue of a 3 x 3 covariance, and that eigenvalue.

    Power iteration (32 steps) from the column of the largest variance; all zero
    when the covariance is.
    """
    cdef int start = 0, a, step
    cdef double x, y, z, nx, ny, nz, norm
    for a in range(1, 3):
        if covariance[a][a] > covariance[start][start]:
            start = a
    x = covariance[0][start]
    y = covariance[1][start]
    z = covariance[2][start]
    value[0] = 0.0
    for step in range(32):
        nx = covariance[0][0] * x + covariance[0][1] * y + covariance[0][2] * z
        ny = covariance[1][0] * x + covariance[1][1] * y + covariance[1][2] * z
        nz = covariance[2][0] * x + covariance[2][1] * y + covariance[2][2] * z
        norm = sqrt(nx * nx + ny * ny + nz * nz)
        if norm == 0.0:
            direction[0] = direction[1] = direction[2] = 0.0
            value[0] = 0.0
            return
        x = nx / norm
        y = ny / norm
        z = nz / norm
        value[0] = norm
    direction[0] = x
    direction[1] = y
    direction[2] = z


cdef inline double _distance(const double* colours, Py_ssize_t pos, double r, double g, double b) noexcept nogil:
    """Squared distance from (r, g, b) to the sorted entry at ``pos``."""
    cdef double dr = colours[3 * pos] - r, dg = colours[3 * pos + 1] - g, db = colours[3 * pos + 2] - b
    return dr * dr + dg * dg + db * db


cdef inline void nearest_two(double r, double g, double b, const double* colours, const double* keys,
                             Py_ssize_t n, const double* axis, const int64_t* order,
                             int64_t* label, double* first, double* second) noexcept nogil:
    """Nearest entry of a sorted palette (its original index) and the two smallest squared distances.

    colours: float64 (n, 3) entries sorted by keys; keys: float64 (n,) their
    projections on axis (3,); order: int64 (n,) original index of each. Walks
    outwards from the colour's projection and stops once the projection gap
    alone exceeds the runner-up distance (squared RGB units).
    """
    cdef double key = r * axis[0] + g * axis[1] + b * axis[2]
    # the first position whose key is not below the colour's (n where none is), found without branches: which
    # half a step takes is unpredictable. With the refinement's insertion sort in place, the sky's 49 steady-frame
    # palettes were refined in 39.2 against 45.4 ms (one thread, medians of 15 runs, 2026-12-05; the same palettes)
    cdef Py_ssize_t lo = 0, length = n, half
    while length > 1:
        half = length >> 1
        lo = lo + half if keys[lo + half - 1] < key else lo
        length -= half
    if n > 0:
        lo += keys[lo] < key
    cdef double best = 1e300, runner_up = 1e300, gap, d
    cdef Py_ssize_t best_pos = 0, up = lo, down = lo - 1
    while up < n or down >= 0:
        if up < n:
            gap = keys[up] - key
            if gap * gap >= runner_up:
                up = n
            else:
                d = _distance(colours, up, r, g, b)
                # kept as the best or the runner-up without branches, since which one a distance replaces
                # is unpredictable: a steady camera's palettes' colours were searched in 168 against 181 ns
                # each with branches (one thread, 2026-12-04; the same answers)
                runner_up = min(runner_up, max(best, d))
                best_pos = up if d < best else best_pos
                best = min(best, d)
                up += 1
        if down >= 0:
            gap = key - keys[down]
            if gap * gap >= runner_up:
                down = -1
            else:
                d = _distance(colours, down, r, g, b)
                runner_up = min(runner_up, max(best, d))
                best_pos = down if d < best else best_pos
                best = min(best, d)
                down -= 1
    label[0] = order[best_pos]
    first[0] = best
    second[0] = runner_up
