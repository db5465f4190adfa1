# Nearest-colour search against a palette sorted along its principal axis, shared by
# the palette refinement and the mapping stage. Pointers rather than memoryviews:
# these run once per colour inside nogil loops.

from libc.stdint cimport int64_t


cdef inline void _consider(const double* colours, Py_ssize_t pos, double r, double g, double b,
                           double* best, double* runner_up, Py_ssize_t* best_pos) noexcept nogil:
    """Keep the sorted entry at ``pos`` as the best or runner-up when it is nearer than they are."""
    cdef double dr = colours[3 * pos] - r, dg = colours[3 * pos + 1] - g, db = colours[3 * pos + 2] - b
    cdef double d = dr * dr + dg * dg + db * db
    if d < best[0]:
        runner_up[0] = best[0]
        best[0] = d
        best_pos[0] = pos
    elif d < runner_up[0]:
        runner_up[0] = d


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
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    cdef double best = 1e300, runner_up = 1e300, gap
    cdef Py_ssize_t best_pos = 0, up = lo, down = lo - 1
    while up < n or down >= 0:
        if up < n:
            gap = keys[up] - key
            if gap * gap >= runner_up:
                up = n
            else:
                _consider(colours, up, r, g, b, &best, &runner_up, &best_pos)
                up += 1
        if down >= 0:
            gap = key - keys[down]
            if gap * gap >= runner_up:
                down = -1
            else:
                _consider(colours, down, r, g, b, &best, &runner_up, &best_pos)
                down -= 1
    label[0] = order[best_pos]
    first[0] = best
    second[0] = runner_up
