# Nearest-colour search against a palette sorted along its principal axis, shared by
# the palette refinement and the mapping stage. Pointers rather than memoryviews:
# these run once per colour inside nogil loops.

from libc.stdint cimport int64_t


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
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
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
