# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The compiled mapping loop: a frame's pixels to palette indices, plain, ordered-dithered or error-diffused.

Nearest colours come from lazily filled tables (see :class:`gifsom.mapping.nearest.ColourCache`):
``exact`` holds, per 24-bit colour (at its slot, :func:`_exact_slot`), ``stamp << 9 | (index + 1)``, where
the stamp names the palette the answer is for (a value with another stamp is not looked up yet: palettes
share the table), ``coarse`` the same for each 4 x 4 x 4 cell, and for each 8 x 8 x 8 cell
``counts``/``candidates`` list the entries that can be nearest to any colour in it (``counts``, shared like
the others, holds ``stamp << 9 | count``; ``candidates`` is the palette's own), after them the same for each
16 x 16 x 16 box, from whose list a cell's is filled. A new palette so finds every table ready, with
nothing to clear: a steady camera's frames each bring one. Several threads may fill the tables at once:
every value a thread can write is the same whoever writes it, and a cell's
list is published with a release store after it is written. Threads mapping to
different palettes may overwrite each other's exact answers: each stamp check
then fails, and the answer is found again.
"""

from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcmp, memcpy, memset

cdef extern from *:
    """
    static inline int32_t gifsom_load_acquire_i32(const int32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
    static inline void gifsom_store_release_i32(int32_t *p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
    static inline uint16_t gifsom_load_u16(const uint16_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
    static inline void gifsom_store_u16(uint16_t *p, uint16_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
    #if defined(__GNUC__)
    static inline void gifsom_prefetch(const void *p) { __builtin_prefetch(p); }
    #else
    static inline void gifsom_prefetch(const void *p) { (void)p; }
    #endif
    /* Error diffusion's per-pixel arithmetic, on 4 floats a pixel: red, green, blue and a lane that stays
       0. With SSE2 each step is one 4-wide instruction; elsewhere the same arithmetic, lane by lane.
       gifsom_take: move a pixel's carried error out of the error rows (leaving 0 there).
       gifsom_aim: the colour to map the pixel to, its own plus the carried error (scaled by here, each
       lane clamped to +-limit), clamped to 0..255, into target, and rounded into level; returns whether
       each lane of the error is under half a level (the rounded colour is then the pixel's own).
       gifsom_spread: each tap adds (target - colour) * scale times its weight to the error of the pixel
       it lands on, at errors + targets[k] (targets[k] < 0: off the frame).
       gifsom_carry_in: a pixel's carried error under Floyd-Steinberg: what the row above left in its cell of the
       error rows (stored) plus what the pixel before passes on (carry).
       gifsom_roll: Floyd-Steinberg's spread, with the pixel's neighbours' shares held in registers rather than
       added into the error rows: left = (target - colour) * scale; done (the cell below and behind, now
       complete) = behind + left * weights[1]; behind = here + left * weights[2]; here = left * weights[3];
       carry (to the pixel ahead) = left * weights[0]. The same sums in the same order as gifsom_spread's.
       gifsom_box_distances: for entries 0..n-1 of a palette given by channels, the weighted squared distance
       to the nearest and the farthest colour of the box from low to low + side on each channel, into near and
       far; the 4-wide code reads and writes up to 3 entries past n (arrays of 256). Every value is a whole
       number under 2 ** 24 (see MAX_CHANNEL_WEIGHT), so floats hold it exactly and any order of the sums
       gives the same.
       Building with GIFSOM_NO_SSE defined takes the lane-by-lane code on any machine, to check it. */
    #if (defined(__SSE2__) || defined(_M_X64)) && !defined(GIFSOM_NO_SSE)
    #include <emmintrin.h>
    static inline void gifsom_take(float *error, float *carried) {
        _mm_storeu_ps(carried, _mm_loadu_ps(error));
        _mm_storeu_ps(error, _mm_setzero_ps());
    }
    static inline int gifsom_aim(const uint8_t *pixel, const float *carried, float here, float limit,
                                 float *target, int32_t *level) {
        __m128 e = _mm_mul_ps(_mm_loadu_ps(carried), _mm_set1_ps(here));
        __m128 half = _mm_set1_ps(0.5f);
        __m128 magnitude = _mm_andnot_ps(_mm_set1_ps(-0.0f), e);
        int calm = _mm_movemask_ps(_mm_cmplt_ps(magnitude, half)) == 15;
        e = _mm_min_ps(_mm_max_ps(e, _mm_set1_ps(-limit)), _mm_set1_ps(limit));
        __m128i own = _mm_setr_epi32(pixel[0], pixel[1], pixel[2], 0);
        __m128 v = _mm_add_ps(_mm_cvtepi32_ps(own), e);
        v = _mm_min_ps(_mm_max_ps(v, _mm_setzero_ps()), _mm_set1_ps(255.0f));
        _mm_storeu_ps(target, v);
        _mm_storeu_si128((__m128i *)level, _mm_cvttps_epi32(_mm_add_ps(v, half)));
        return calm;
    }
    static inline void gifsom_spread(const float *target, const float *colour, float scale, float *errors,
                                     const Py_ssize_t *targets, const float *weights, Py_ssize_t n) {
        __m128 left = _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(target), _mm_loadu_ps(colour)), _mm_set1_ps(scale));
        for (Py_ssize_t k = 0; k < n; k++) {
            if (targets[k] < 0) continue;
            float *e = errors + targets[k];
            _mm_storeu_ps(e, _mm_add_ps(_mm_loadu_ps(e), _mm_mul_ps(left, _mm_set1_ps(weights[k]))));
        }
    }
    static inline void gifsom_carry_in(const float *stored, const float *carry, float *carried) {
        _mm_storeu_ps(carried, _mm_add_ps(_mm_loadu_ps(stored), _mm_loadu_ps(carry)));
    }
    static inline void gifsom_roll(const float *target, const float *colour, float scale, const float *weights,
                                   float *carry, float *behind, float *here, float *done) {
        __m128 left = _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(target), _mm_loadu_ps(colour)), _mm_set1_ps(scale));
        _mm_storeu_ps(done, _mm_add_ps(_mm_loadu_ps(behind), _mm_mul_ps(left, _mm_set1_ps(weights[1]))));
        _mm_storeu_ps(behind, _mm_add_ps(_mm_loadu_ps(here), _mm_mul_ps(left, _mm_set1_ps(weights[2]))));
        _mm_storeu_ps(here, _mm_mul_ps(left, _mm_set1_ps(weights[3])));
        _mm_storeu_ps(carry, _mm_mul_ps(left, _mm_set1_ps(weights[0])));
    }
    static inline void gifsom_box_distances(const float *red, const float *green, const float *blue,
                                            Py_ssize_t n, const float *low, float side, const float *weight,
                                            float *near, float *far) {
        __m128 zero = _mm_setzero_ps();
        __m128 lo_r = _mm_set1_ps(low[0]), lo_g = _mm_set1_ps(low[1]), lo_b = _mm_set1_ps(low[2]);
        __m128 hi_r = _mm_set1_ps(low[0] + side), hi_g = _mm_set1_ps(low[1] + side);
        __m128 hi_b = _mm_set1_ps(low[2] + side);
        __m128 w_r = _mm_set1_ps(weight[0]), w_g = _mm_set1_ps(weight[1]), w_b = _mm_set1_ps(weight[2]);
        for (Py_ssize_t j = 0; j < n; j += 4) {
            __m128 r = _mm_loadu_ps(red + j), g = _mm_loadu_ps(green + j), b = _mm_loadu_ps(blue + j);
            __m128 gr = _mm_max_ps(_mm_max_ps(_mm_sub_ps(lo_r, r), _mm_sub_ps(r, hi_r)), zero);
            __m128 gg = _mm_max_ps(_mm_max_ps(_mm_sub_ps(lo_g, g), _mm_sub_ps(g, hi_g)), zero);
            __m128 gb = _mm_max_ps(_mm_max_ps(_mm_sub_ps(lo_b, b), _mm_sub_ps(b, hi_b)), zero);
            __m128 fr = _mm_max_ps(_mm_sub_ps(r, lo_r), _mm_sub_ps(hi_r, r));
            __m128 fg = _mm_max_ps(_mm_sub_ps(g, lo_g), _mm_sub_ps(hi_g, g));
            __m128 fb = _mm_max_ps(_mm_sub_ps(b, lo_b), _mm_sub_ps(hi_b, b));
            _mm_storeu_ps(near + j, _mm_add_ps(_mm_add_ps(_mm_mul_ps(w_r, _mm_mul_ps(gr, gr)),
                                                          _mm_mul_ps(w_g, _mm_mul_ps(gg, gg))),
                                               _mm_mul_ps(w_b, _mm_mul_ps(gb, gb))));
            _mm_storeu_ps(far + j, _mm_add_ps(_mm_add_ps(_mm_mul_ps(w_r, _mm_mul_ps(fr, fr)),
                                                         _mm_mul_ps(w_g, _mm_mul_ps(fg, fg))),
                                              _mm_mul_ps(w_b, _mm_mul_ps(fb, fb))));
        }
    }
    #else
    static inline void gifsom_take(float *error, float *carried) {
        for (int c = 0; c < 4; c++) { carried[c] = error[c]; error[c] = 0.0f; }
    }
    static inline int gifsom_aim(const uint8_t *pixel, const float *carried, float here, float limit,
                                 float *target, int32_t *level) {
        float own[4] = {(float)pixel[0], (float)pixel[1], (float)pixel[2], 0.0f};
        int calm = 1;
        for (int c = 0; c < 4; c++) {
            volatile float scaled = carried[c] * here;      /* rounded as the 4-wide multiply rounds it */
            float e = scaled;
            calm &= (e < 0.5f) & (e > -0.5f);
            e = e < -limit ? -limit : (e > limit ? limit : e);
            float v = own[c] + e;
            v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
            target[c] = v;
            level[c] = (int32_t)(v + 0.5f);
        }
        return calm;
    }
    static inline void gifsom_spread(const float *target, const float *colour, float scale, float *errors,
                                     const Py_ssize_t *targets, const float *weights, Py_ssize_t n) {
        float left[4];
        for (int c = 0; c < 4; c++) { volatile float l = (target[c] - colour[c]) * scale; left[c] = l; }
        for (Py_ssize_t k = 0; k < n; k++) {
            if (targets[k] < 0) continue;
            float *e = errors + targets[k];
            for (int c = 0; c < 4; c++) { volatile float add = left[c] * weights[k]; e[c] += add; }
        }
    }
    static inline void gifsom_carry_in(const float *stored, const float *carry, float *carried) {
        for (int c = 0; c < 4; c++) { volatile float sum = stored[c] + carry[c]; carried[c] = sum; }
    }
    static inline void gifsom_roll(const float *target, const float *colour, float scale, const float *weights,
                                   float *carry, float *behind, float *here, float *done) {
        for (int c = 0; c < 4; c++) {
            volatile float l = (target[c] - colour[c]) * scale;
            float left = l;
            volatile float d = left * weights[1], b = left * weights[2], h = left * weights[3];
            volatile float a = left * weights[0];
            float done_c = d, behind_c = b;
            volatile float done_sum = behind[c] + done_c, behind_sum = here[c] + behind_c;
            done[c] = done_sum;
            behind[c] = behind_sum;
            here[c] = h;
            carry[c] = a;
        }
    }
    static inline void gifsom_box_distances(const float *red, const float *green, const float *blue,
                                            Py_ssize_t n, const float *low, float side, const float *weight,
                                            float *near, float *far) {
        const float *channels[3] = {red, green, blue};
        for (Py_ssize_t j = 0; j < n; j++) {
            float in = 0.0f, out = 0.0f;
            for (int c = 0; c < 3; c++) {
                float v = channels[c][j], lo = low[c], hi = low[c] + side;
                float gap = lo - v > v - hi ? lo - v : v - hi;
                float reach = v - lo > hi - v ? v - lo : hi - v;
                gap = gap > 0.0f ? gap : 0.0f;
                in += weight[c] * (gap * gap);
                out += weight[c] * (reach * reach);
            }
            near[j] = in;
            far[j] = out;
        }
    }
    #endif
    """
    int32_t load_acquire_i32 "gifsom_load_acquire_i32"(const int32_t* p) noexcept nogil
    void store_release_i32 "gifsom_store_release_i32"(int32_t* p, int32_t v) noexcept nogil
    uint16_t load_u16 "gifsom_load_u16"(const uint16_t* p) noexcept nogil
    void store_u16 "gifsom_store_u16"(uint16_t* p, uint16_t v) noexcept nogil
    void prefetch "gifsom_prefetch"(const void* p) noexcept nogil
    void take "gifsom_take"(float* error, float* carried) noexcept nogil
    int aim "gifsom_aim"(const uint8_t* pixel, const float* carried, float here, float limit, float* target,
                         int32_t* level) noexcept nogil
    void spread "gifsom_spread"(const float* target, const float* colour, float scale, float* errors,
                                const Py_ssize_t* targets, const float* weights, Py_ssize_t n) noexcept nogil
    void carry_in "gifsom_carry_in"(const float* stored, const float* carry, float* carried) noexcept nogil
    void roll "gifsom_roll"(const float* target, const float* colour, float scale, const float* weights,
                            float* carry, float* behind, float* here, float* done) noexcept nogil
    void box_distances "gifsom_box_distances"(const float* red, const float* green, const float* blue,
                                              Py_ssize_t n, const float* low, float side, const float* weight,
                                              float* near, float* far) noexcept nogil

cdef enum:
    CELL_SHIFT = 3                       # candidate cells are 8 x 8 x 8 colour values
    CELL_BITS = 8 - CELL_SHIFT
    PARENT_SHIFT = CELL_SHIFT + 1        # their lists are filled from those of 16 x 16 x 16 boxes
    PARENT_BITS = 8 - PARENT_SHIFT
    CELLS = 1 << (3 * CELL_BITS)         # the first slots of the candidate lists are the cells'
    COARSE_SHIFT = 2                     # the coarse table for error diffusion: 4 x 4 x 4
    COARSE_BITS = 8 - COARSE_SHIFT
    PALETTE_HASH_BITS = 16               # the palette's colours as a 65536-bit filter (8 KB, in L1 cache)
    PALETTE_FILTER_BYTES = 1 << (PALETTE_HASH_BITS - 3)

#: How a frame is mapped.
MODE_PLAIN = 0
MODE_ORDERED = 1
MODE_DIFFUSION = 2
#: Palettes that can share a set of tables: stamps run from 1 to this (a 16-bit entry keeps 9 bits for the index).
MAX_STAMP = (1 << 7) - 1
cdef enum:
    STAMP_SHIFT = 9                     # an entry is stamp << STAMP_SHIFT | value
    STAMP_VALUE = (1 << STAMP_SHIFT) - 1
#: Slots of ``counts`` and ``candidates``: the 8 x 8 x 8 cells', then the 16 x 16 x 16 boxes'.
LIST_COUNT = CELLS + (1 << (3 * PARENT_BITS))
#: Cells of the coarse table.
COARSE_COUNT = 1 << (3 * COARSE_BITS)

#: The largest weight of a channel's squared difference: a weighted squared distance, three of 255 ** 2 times
#: at most this, stays under 2 ** 24, where floats hold every whole number exactly.
MAX_CHANNEL_WEIGHT = 64

#: Error carried into a pixel is clamped to this many levels per channel.
cdef float MAX_CARRIED_ERROR = 48.0


cdef struct Tables:
    uint16_t* exact
    uint16_t stamp
    uint16_t* coarse
    const uint8_t* palette      # (n, 3)
    float red[256]              # the palette's channels, one array each, 0 past the last entry, as floats for
    float green[256]            # the candidate lists' 4-wide tests (SSE2 multiplies floats 4 at once, 32-bit
    float blue[256]             # integers not); their distances are whole numbers under 2 ** 24, held exactly
    int32_t weight[3]           # the weights of the squared red, green and blue differences
    float float_weight[3]       # the same, as floats
    int32_t* counts
    uint8_t* candidates         # (LIST_COUNT, n)
    Py_ssize_t n
    const uint8_t* palette_bits # (PALETTE_FILTER_BYTES,): the bit of each palette colour's hash is set
    const float* colours        # (n, 4) the palette as floats, for error diffusion: red, green, blue, 0


cdef struct Frame:
    const uint8_t* pixels       # (height, width, channels >= 3) with strides
    Py_ssize_t row_stride, pixel_stride
    uint8_t* out                # (height, width) contiguous
    uint8_t* reference          # (height, width, 3) contiguous
    const uint8_t* previous     # (height, width) contiguous
    Py_ssize_t height, width
    int threshold
    bint stateful, record
    const uint8_t* where        # (height, width) contiguous: only pixels marked nonzero are mapped, or NULL


cdef int32_t _fill_parent(const Tables* t, Py_ssize_t parent) noexcept nogil:
    """List the entries that can be nearest to some colour of the 16 x 16 x 16 box ``parent``; returns how many.

    An entry qualifies when its distance to the nearest point of the box is no
    larger than the smallest, over all entries, farthest-point distance.
    """
    cdef float low[3]
    low[0] = ((parent >> (2 * PARENT_BITS)) & ((1 << PARENT_BITS) - 1)) << PARENT_SHIFT
    low[1] = ((parent >> PARENT_BITS) & ((1 << PARENT_BITS) - 1)) << PARENT_SHIFT
    low[2] = (parent & ((1 << PARENT_BITS) - 1)) << PARENT_SHIFT
    cdef float near[256]
    cdef float far[256]
    cdef Py_ssize_t j, k, slot = CELLS + parent, base = slot * t.n
    box_distances(t.red, t.green, t.blue, t.n, low, (1 << PARENT_SHIFT) - 1, t.float_weight, near, far)
    cdef float bound = _least(far, t.n)
    cdef uint8_t chosen[256]
    k = 0
    for j in range(t.n):
        chosen[k] = <uint8_t>j          # kept only where it qualifies: k then moves on
        k += near[j] <= bound
    memcpy(t.candidates + base, chosen, k)   # (another thread filling the box too writes the same list)
    store_release_i32(&t.counts[slot], <int32_t>((t.stamp << STAMP_SHIFT) | k))
    return <int32_t>k


cdef int32_t _fill_cell(const Tables* t, Py_ssize_t cell) noexcept nogil:
    """List the entries that can be nearest to some colour of the 8 x 8 x 8 ``cell``; returns how many.

    The same test as :func:`_fill_parent`, run over the entries listed for the
    16 x 16 x 16 box that holds the cell (filled first where it is not): an entry
    that cannot be nearest anywhere in the box cannot be in the cell, and the
    smallest farthest-point distance among the box's entries still bounds the
    nearest distance. The list may hold a few more entries than a test over the
    whole palette would give, never fewer, and keeps ascending order, so the
    nearest entry found (the first of equals) is the same.
    """
    cdef int32_t cell_r = (cell >> (2 * CELL_BITS)) & ((1 << CELL_BITS) - 1)
    cdef int32_t cell_g = (cell >> CELL_BITS) & ((1 << CELL_BITS) - 1)
    cdef int32_t cell_b = cell & ((1 << CELL_BITS) - 1)
    cdef float low[3]
    low[0] = cell_r << CELL_SHIFT
    low[1] = cell_g << CELL_SHIFT
    low[2] = cell_b << CELL_SHIFT
    cdef Py_ssize_t parent = (((cell_r >> 1) << (2 * PARENT_BITS)) | ((cell_g >> 1) << PARENT_BITS)
                              | (cell_b >> 1))
    cdef int32_t among = _listed(t, CELLS + parent)
    if among < 0:
        among = _fill_parent(t, parent)
    cdef const uint8_t* listed = t.candidates + (CELLS + parent) * t.n
    cdef float red[256]
    cdef float green[256]
    cdef float blue[256]
    cdef float near[256]
    cdef float far[256]
    cdef Py_ssize_t i, j, k, base = cell * t.n
    for i in range(among):
        j = listed[i]
        red[i] = t.red[j]
        green[i] = t.green[j]
        blue[i] = t.blue[j]
    for i in range(among, min(among + 3, 256)):    # the lanes the 4-wide test reads past the list
        red[i] = green[i] = blue[i] = 0.0
    box_distances(red, green, blue, among, low, (1 << CELL_SHIFT) - 1, t.float_weight, near, far)
    cdef float bound = _least(far, among)
    cdef uint8_t chosen[256]
    k = 0
    for i in range(among):
        chosen[k] = listed[i]
        k += near[i] <= bound
    memcpy(t.candidates + base, chosen, k)
    store_release_i32(&t.counts[cell], <int32_t>((t.stamp << STAMP_SHIFT) | k))
    return <int32_t>k


cdef inline int32_t _listed(const Tables* t, Py_ssize_t slot) noexcept nogil:
    """How many entries this palette's list at ``slot`` holds, or -1 where it has not listed them yet."""
    cdef int32_t found = load_acquire_i32(&t.counts[slot])
    return found & STAMP_VALUE if (found >> STAMP_SHIFT) == t.stamp else -1


cdef inline Py_ssize_t _stored_answer(const Tables* t, const uint16_t* answers, Py_ssize_t slot) noexcept nogil:
    """The palette index this palette's answer table (``exact`` or ``coarse``) holds at ``slot``, or -1 where
    it holds none of this palette's."""
    cdef uint16_t found = load_u16(&answers[slot])
    return (found & STAMP_VALUE) - 1 if (found >> STAMP_SHIFT) == t.stamp else -1


cdef inline void _store_answer(const Tables* t, uint16_t* answers, Py_ssize_t slot, Py_ssize_t index) noexcept nogil:
    """Remember palette ``index`` at ``slot`` of an answer table, stamped with this palette's stamp."""
    store_u16(&answers[slot], <uint16_t>((t.stamp << STAMP_SHIFT) | (index + 1)))


cdef inline float _least(const float* values, Py_ssize_t n) noexcept nogil:
    """The smallest of ``values[:n]`` (n >= 1)."""
    cdef float least = values[0]
    cdef Py_ssize_t j
    for j in range(1, n):
        least = min(least, values[j])
    return least


cdef Py_ssize_t _cell_nearest(const Tables* t, int64_t r, int64_t g, int64_t b) noexcept nogil:
    """Index of the palette entry nearest to (r, g, b) by the weighted distance, from the candidates of its cell."""
    cdef Py_ssize_t cell = ((r >> CELL_SHIFT) << (2 * CELL_BITS)) | ((g >> CELL_SHIFT) << CELL_BITS) | (b >> CELL_SHIFT)
    cdef int32_t k = _listed(t, cell)
    if k < 0:
        k = _fill_cell(t, cell)
    cdef Py_ssize_t base = cell * t.n, i, j, best = t.candidates[base]
    cdef int64_t best_d = (<int64_t>1) << 62, d, dr, dg, db
    for i in range(k):
        j = t.candidates[base + i]
        dr = <int64_t>t.palette[3 * j] - r
        dg = <int64_t>t.palette[3 * j + 1] - g
        db = <int64_t>t.palette[3 * j + 2] - b
        d = t.weight[0] * dr * dr + t.weight[1] * dg * dg + t.weight[2] * db * db
        # without a branch: which candidate is nearer is unpredictable (the first of equals stays). The sky's 49
        # steady frames, each with a palette of its own, were mapped in 53 to 55 against 56 to 59 ms (one thread,
        # the fastest of 15 runs, three alternated pairs, 2026-12-05; the same indices)
        best = j if d < best_d else best
        best_d = min(best_d, d)
    return best


cdef inline Py_ssize_t _exact_slot(int64_t r, int64_t g, int64_t b) noexcept nogil:
    """Where the exact table holds the colour (r, g, b), each 0..255: in blocks of 16 x 16 x 8 levels (red,
    green, blue), one 4 KiB page each, rather than in the packed colour's order.

    A page of the table is faulted in the first time a colour in it is looked up. In the order of the
    packed colour a page spans one red level, 8 green and every blue, so a clip's colours, which gather
    in a few parts of the cube, spread over many pages. Counted over every pixel of the bench's camera
    clips (2026-12-05): the talking head's 86,708 colours lie on 3,493 pages so and on 984 in blocks,
    the sky's 45,112 on 2,095 and 827, the car's 83,228 on 3,689 and 1,608; a fault took about 3.5 us
    on the 2-core machine, and nearby colours then also share cache lines and TLB entries.
    """
    return ((((r >> 4) << 20) | ((g >> 4) << 16) | ((b >> 3) << 11))
            | ((r & 15) << 7) | ((g & 15) << 3) | (b & 7))


cdef inline Py_ssize_t _exact(const Tables* t, int64_t r, int64_t g, int64_t b) noexcept nogil:
    """Nearest index of the colour (r, g, b), each 0..255, remembered in the exact table."""
    cdef Py_ssize_t key = _exact_slot(r, g, b)
    cdef Py_ssize_t index = _stored_answer(t, t.exact, key)
    if index < 0:
        index = _cell_nearest(t, r, g, b)
        _store_answer(t, t.exact, key, index)
    return index


cdef inline Py_ssize_t _coarse(const Tables* t, int64_t r, int64_t g, int64_t b) noexcept nogil:
    """Index nearest to the centre of the 4 x 4 x 4 cell of (r, g, b), remembered in the coarse table.

    Within two levels of exact, from a table small enough to stay in cache: for
    dithering, whose targets are scattered over millions of colours and already
    moved by more than that.
    """
    cdef Py_ssize_t cell = ((r >> COARSE_SHIFT) << (2 * COARSE_BITS)) | ((g >> COARSE_SHIFT) << COARSE_BITS) | (b >> COARSE_SHIFT)
    cdef int64_t half = 1 << (COARSE_SHIFT - 1)
    cdef Py_ssize_t index = _stored_answer(t, t.coarse, cell)
    if index < 0:
        index = _cell_nearest(t, ((r >> COARSE_SHIFT) << COARSE_SHIFT) + half,
                              ((g >> COARSE_SHIFT) << COARSE_SHIFT) + half,
                              ((b >> COARSE_SHIFT) << COARSE_SHIFT) + half)
        _store_answer(t, t.coarse, cell, index)
    return index


cdef inline bint _is_palette_colour(const Tables* t, Py_ssize_t index, int64_t r, int64_t g, int64_t b) noexcept nogil:
    return t.palette[3 * index] == r and t.palette[3 * index + 1] == g and t.palette[3 * index + 2] == b


cdef inline uint32_t _colour_hash(int64_t r, int64_t g, int64_t b) noexcept nogil:
    """PALETTE_HASH_BITS bits of (r, g, b): the top bits of the 24-bit colour times Knuth's multiplier."""
    return (<uint32_t>((r << 16) | (g << 8) | b) * <uint32_t>2654435761u) >> (32 - PALETTE_HASH_BITS)


cdef inline Py_ssize_t _palette_colour(const Tables* t, int64_t r, int64_t g, int64_t b) noexcept nogil:
    """The index of (r, g, b) where it is exactly a palette colour, else -1. The palette's hash filter
    answers most colours that are not without the exact table (16 M entries: a cache miss a pixel)."""
    cdef uint32_t h = _colour_hash(r, g, b)
    cdef Py_ssize_t index
    if not (t.palette_bits[h >> 3] >> (h & 7)) & 1:
        return -1
    index = _exact(t, r, g, b)
    return index if _is_palette_colour(t, index, r, g, b) else -1


cdef inline bint _keep_previous(const Frame* f, Py_ssize_t y, Py_ssize_t x, const uint8_t* pixel) noexcept nogil:
    """In a clip, a pixel within the threshold of its reference colour on every channel keeps its index;
    where only some pixels are mapped (``where``), a pixel not marked is left, with index 0."""
    cdef const uint8_t* ref
    cdef int c
    if f.where != NULL:
        if f.where[y * f.width + x]:
            return False
        f.out[y * f.width + x] = 0
        return True
    if not f.stateful:
        return False
    ref = f.reference + 3 * (y * f.width + x)
    for c in range(3):
        if abs(<int>pixel[c] - <int>ref[c]) > f.threshold:
            return False
    f.out[y * f.width + x] = f.previous[y * f.width + x]
    return True


cdef inline bint _row_is_still(const Frame* f, Py_ssize_t y) noexcept nogil:
    """True when a whole RGB row equals its reference exactly, and so keeps its indices; copies them.

    For screen content most rows do not change from frame to frame: one memcmp
    and one memcpy a row instead of a test a pixel. Only for exact stillness
    (threshold 0) of packed RGB; otherwise the pixels are tested one by one. Where only some pixels are
    mapped (``where``), a row with none marked is left whole, with indices 0.
    """
    cdef Py_ssize_t x
    if f.where != NULL:
        for x in range(f.width):
            if f.where[y * f.width + x]:
                return False
        memset(f.out + y * f.width, 0, f.width)
        return True
    if not f.stateful or f.threshold != 0 or f.pixel_stride != 3:
        return False
    if memcmp(f.pixels + y * f.row_stride, f.reference + 3 * y * f.width, 3 * f.width) != 0:
        return False
    memcpy(f.out + y * f.width, f.previous + y * f.width, f.width)
    return True


cdef inline void _remember(const Frame* f, Py_ssize_t y, Py_ssize_t x, const uint8_t* pixel) noexcept nogil:
    cdef uint8_t* ref
    if f.record:
        ref = f.reference + 3 * (y * f.width + x)
        ref[0] = pixel[0]
        ref[1] = pixel[1]
        ref[2] = pixel[2]


cdef struct Dither:
    const int64_t* offsets      # ordered: (side, side) integer offsets, or NULL
    Py_ssize_t side
    const double* taps          # error diffusion: (n_taps, 3) rows of dx, dy, weight, or NULL
    Py_ssize_t n_taps
    double strength
    const uint8_t* weights      # error diffusion: (H, W) how much of the error a pixel takes and passes on
                                # (0..255 for 0..1), or NULL for everywhere alike
    float* errors               # error diffusion: (rows, width + 2 * PAD, ERROR_LANES) ring buffer, zeroed
    Py_ssize_t rows
    Py_ssize_t* tap_targets     # error diffusion: (n_taps,) scratch: where in ``errors`` each tap of pixel 0
                                # of the row lands (add ERROR_LANES x for pixel x), or -1 below the frame
    float* tap_weights          # error diffusion: (n_taps,) each tap's weight
    bint floyd_steinberg        # the taps are Floyd-Steinberg's (see FLOYD_STEINBERG_TAPS), in this order


cdef enum:
    PAD = 2                     # columns either side of the error rows that absorb taps falling off
    BAND_ROWS = 64              # error diffusion's bands (see DIFFUSION_BAND_ROWS)
    PREFETCH_AHEAD = 8          # pixels ahead in the row whose exact-table entry is fetched early (see _map_rows)
    WARM_ROWS = 8               # rows above a band that error diffusion runs through, writing nothing, to
                                # carry into the band's first row an error like the one the rows above leave
    ERROR_LANES = 4             # floats of carried error a pixel: red, green, blue and a 0, so that each step
                                # of a pixel's diffusion is one 4-wide instruction (gifsom_take, gifsom_aim,
                                # gifsom_spread). Floyd-Steinberg at 0.25 on the held-out hubble clip's
                                # frames, one core, interleaved rounds (2026-12-04): 54 ns a pixel with
                                # three doubles a pixel, 50 with the spread alone 4-wide, 46 with every step

#: Where Floyd-Steinberg's taps land, as (dx, dy), in the order its weights are given (7, 3, 5 and 1
#: sixteenths): error diffusion with taps at these places, whatever their weights, passes their shares on in
#: registers (see _map_rows).
FLOYD_STEINBERG_TAPS = ((1, 0), (-1, 1), (0, 1), (1, 1))

#: Error diffusion cuts a frame into bands of this many rows, diffused at once on worker threads; the bands
#: depend on the frame's height alone, so the result does not depend on the number of threads.
DIFFUSION_BAND_ROWS = BAND_ROWS


# The mode as a type: Cython compiles _map_rows once per mode with the other modes' branches
# left out, so the one loop below runs as fast as four hand-specialised ones. FloydSteinberg is error
# diffusion with Floyd-Steinberg's taps, whose shares for the pixel ahead and the row below are passed on
# in registers (see _map_rows).
cdef struct Plain:
    char unused
cdef struct Ordered:
    char unused
cdef struct Diffusion:
    char unused
cdef struct FloydSteinberg:
    char unused
ctypedef fused Mode:
    Plain
    Ordered
    Diffusion
    FloydSteinberg


cdef void _map_rows(const Mode* mode, const Frame* frame, const Tables* tables, Dither* dither,
                    Py_ssize_t first_row, Py_ssize_t end_row) noexcept nogil:
    """Map rows ``first_row:end_row``: the one per-pixel loop of every mode.

    A still pixel keeps its index; a pixel that is exactly a palette colour is
    shown as it is (never dithered, and it absorbs diffused error). Any other
    pixel is mapped as it is (plain), with the integer ``offsets[y % side, x %
    side]`` added to each channel (ordered), or with the error carried to it
    (error diffusion, serpentine: rows run right to left every other line).
    A pixel carrying no error is mapped exactly; one that does is mapped
    through the coarse table.

    Error diffusion adds each tap's share of a pixel's error into the error
    rows. With Floyd-Steinberg's taps the shares for the pixel ahead and for
    the three cells below stay in registers instead, passed on from pixel to
    pixel (``carry``, ``behind``, ``here``), and each cell of the row below is
    written once, when complete: the same sums in the same order, without the
    stores and loads of every share, nor the zeroing of each cell once taken.
    Floyd-Steinberg at 0.25 on the held-out hubble clip's 40 frames, with
    temporal state, on one thread (2 cores, 2026-12-05, medians of 9 runs of
    three alternated builds): 153, 159 and 175 ms before, 142, 141 and 146
    after; the same indices.

    The exact table (32 MiB) misses the cache on nearly every pixel of video.
    Its entry for the colour :data:`PREFETCH_AHEAD` pixels ahead is fetched
    while this one is worked on (not from a still pixel: most of a changed row
    of a screen recording is still, and needs no entry). Mapping the bench's
    small clip took 0.89 of the time (error diffusion), 0.91 with no dither,
    the pan 0.94 and screen-x10 0.96 (medians of paired runs, 2 cores, 2026-12-03).
    """
    # local copies: the byte stores to ``out`` could otherwise alias the structs' fields, and
    # the compiler would reload every field after each pixel
    cdef Frame local_frame = frame[0]
    cdef Tables local_tables = tables[0]
    cdef Dither local_dither = dither[0]
    cdef const Frame* f = &local_frame
    cdef const Tables* t = &local_tables
    cdef Dither* d = &local_dither
    cdef bint leftward = False
    cdef Py_ssize_t y, x, i, k, index, ahead, mask = d.side - 1, slot = 0, row, xx, padded = f.width + 2 * PAD
    cdef int64_t r, g, b, delta
    cdef float carried[4]
    cdef float target[4]
    cdef int32_t level[4]
    cdef float here = 1.0
    cdef const uint8_t* pixel
    cdef const uint8_t* coming
    # Floyd-Steinberg: the carry to the pixel ahead, the shares gathered so far for the cells below the pixel
    # behind and below this one, the taps' weights (ahead, below behind, below, below ahead), the row's cells
    # and those of the row below
    cdef float carry[4]
    cdef float behind[4]
    cdef float below_here[4]
    cdef float fs_weights[4]
    cdef float* row_errors = NULL
    cdef float* below_errors = NULL
    cdef Py_ssize_t step = 1
    if Mode is FloydSteinberg:
        for k in range(4):
            fs_weights[k] = d.tap_weights[k]
    for y in range(first_row, end_row):
        if Mode is Diffusion or Mode is FloydSteinberg:
            leftward = y % 2 == 1
            slot = y % d.rows
        if Mode is FloydSteinberg:
            row_errors = d.errors + ERROR_LANES * (slot * padded + PAD)
            below_errors = d.errors + ERROR_LANES * ((y + 1) % d.rows * padded + PAD)
            step = -1 if leftward else 1
        if _row_is_still(f, y):
            # still pixels neither read nor spread error: the row's error is used up, the row below gets none
            if Mode is Diffusion:
                memset(d.errors + ERROR_LANES * (slot * padded + PAD), 0, ERROR_LANES * f.width * sizeof(float))
            elif Mode is FloydSteinberg:
                memset(below_errors, 0, ERROR_LANES * f.width * sizeof(float))
            continue
        if Mode is FloydSteinberg:
            memset(carry, 0, sizeof(carry))
            memset(behind, 0, sizeof(behind))
            memset(below_here, 0, sizeof(below_here))
        if Mode is Diffusion:
            for k in range(d.n_taps):   # where each tap lands in the ring buffer, -1 below the frame
                row = <Py_ssize_t>d.taps[3 * k + 1]
                xx = <Py_ssize_t>d.taps[3 * k]
                d.tap_targets[k] = ERROR_LANES * ((y + row) % d.rows * padded + PAD + (-xx if leftward else xx)) \
                    if y + row < f.height else -1
        for i in range(f.width):
            if Mode is Diffusion:
                x = f.width - 1 - i if leftward else i
                take(d.errors + ERROR_LANES * (slot * padded + x + PAD), carried)
            elif Mode is FloydSteinberg:
                x = f.width - 1 - i if leftward else i
                carry_in(row_errors + ERROR_LANES * x, carry, carried)
            else:
                x = i
            pixel = f.pixels + y * f.row_stride + x * f.pixel_stride
            if _keep_previous(f, y, x, pixel):
                if Mode is FloydSteinberg:
                    _pass_on_nothing(carry, behind, below_here, below_errors + ERROR_LANES * (x - step))
                continue
            if Mode is not Ordered:
                ahead = x - PREFETCH_AHEAD if leftward else x + PREFETCH_AHEAD
                if 0 <= ahead < f.width:
                    coming = f.pixels + y * f.row_stride + ahead * f.pixel_stride
                    prefetch(&t.exact[_exact_slot(coming[0], coming[1], coming[2])])
            r = pixel[0]
            g = pixel[1]
            b = pixel[2]
            if Mode is Plain:
                index = _exact(t, r, g, b)
            else:
                index = _palette_colour(t, r, g, b)
            if Mode is Plain:
                pass
            elif index >= 0:
                if Mode is FloydSteinberg:
                    _pass_on_nothing(carry, behind, below_here, below_errors + ERROR_LANES * (x - step))
            elif Mode is Ordered:
                delta = d.offsets[(y & mask) * d.side + (x & mask)]
                index = _exact(t, min(max(r + delta, 0), 255), min(max(g + delta, 0), 255),
                               min(max(b + delta, 0), 255))
            else:
                if d.weights != NULL:
                    # an edge or busy texture hides the error: it neither takes nor passes much on
                    here = d.weights[y * f.width + x] * <float>(1.0 / 255.0)
                if aim(pixel, carried, here, MAX_CARRIED_ERROR, target, level):
                    index = _exact(t, level[0], level[1], level[2])
                else:
                    index = _coarse(t, level[0], level[1], level[2])
                if Mode is FloydSteinberg:
                    roll(target, t.colours + 4 * index, <float>d.strength * here, fs_weights, carry, behind,
                         below_here, below_errors + ERROR_LANES * (x - step))
                else:
                    spread(target, t.colours + 4 * index, <float>d.strength * here, d.errors + ERROR_LANES * x,
                           d.tap_targets, d.tap_weights, d.n_taps)
            f.out[y * f.width + x] = <uint8_t>index
            _remember(f, y, x, pixel)
        if Mode is FloydSteinberg:      # the cell below the row's last pixel is complete (the one past is off it)
            memcpy(below_errors + ERROR_LANES * (0 if leftward else f.width - 1), behind, sizeof(behind))


cdef inline void _pass_on_nothing(float* carry, float* behind, float* below_here, float* done) noexcept nogil:
    """Floyd-Steinberg past a pixel that spreads no error (still, or a palette colour): the cell below and
    behind it is complete, and the shares move on by one cell (see gifsom_roll)."""
    memcpy(done, behind, 4 * sizeof(float))
    memcpy(behind, below_here, 4 * sizeof(float))
    memset(below_here, 0, 4 * sizeof(float))
    memset(carry, 0, 4 * sizeof(float))


cdef void _diffuse_band(const Frame* frame, const Frame* warm, const Tables* tables, const Dither* dither,
                        Py_ssize_t band) noexcept nogil:
    """Error-diffuse band ``band`` of the frame with its own error rows (see :func:`_band_rows`)."""
    cdef Diffusion diffusion
    cdef FloydSteinberg floyd_steinberg
    cdef Dither local = dither[0]
    local.errors = dither.errors + band * dither.rows * (frame.width + 2 * PAD) * ERROR_LANES
    local.tap_targets = dither.tap_targets + band * dither.n_taps
    if dither.floyd_steinberg:
        _band_rows(&floyd_steinberg, frame, warm, tables, &local, band)
    else:
        _band_rows(&diffusion, frame, warm, tables, &local, band)


cdef inline void _band_rows(const Mode* mode, const Frame* frame, const Frame* warm, const Tables* tables,
                            Dither* dither, Py_ssize_t band) noexcept nogil:
    """Map band ``band``'s rows in error-diffusion ``mode``: its first :data:`WARM_ROWS` rows above, through
    ``warm`` (the frame writing to scratch, read-only state), then its own rows."""
    cdef Py_ssize_t first = band * BAND_ROWS
    if band > 0:
        _map_rows(mode, warm, tables, dither, max(first - WARM_ROWS, 0), first)
    _map_rows(mode, frame, tables, dither, first, min(first + BAND_ROWS, frame.height))


cdef int _diffuse(const Frame* f, const Tables* t, Dither* d, int threads) except -1:
    """Error-diffuse a frame in bands of :data:`DIFFUSION_BAND_ROWS` rows, up to ``threads`` at once.

    Each band has error rows of its own. Before its first row, a band runs
    through the :data:`WARM_ROWS` rows above it as the band above does, so
    that no seam shows where bands meet, but writes nothing there: indices go
    to scratch, and those rows' still test reads a copy of the reference taken
    before any band starts, since the band above records into it meanwhile.
    """
    cdef Py_ssize_t bands = (f.height + BAND_ROWS - 1) // BAND_ROWS, band, first
    cdef Py_ssize_t padded = f.width + 2 * PAD
    cdef Frame warm = f[0]
    cdef uint8_t* scratch_out = NULL
    cdef uint8_t* scratch_reference = NULL
    cdef int workers = <int>max(1, min(<Py_ssize_t>threads, bands))
    cdef Py_ssize_t k
    d.errors = <float*>calloc(bands * d.rows * padded * ERROR_LANES, sizeof(float))
    d.tap_targets = <Py_ssize_t*>calloc(bands * d.n_taps, sizeof(Py_ssize_t))
    d.tap_weights = <float*>calloc(d.n_taps, sizeof(float))
    try:
        if d.errors == NULL or d.tap_targets == NULL or d.tap_weights == NULL:
            raise MemoryError()
        for k in range(d.n_taps):
            d.tap_weights[k] = <float>d.taps[3 * k + 2]
        if bands > 1:
            scratch_out = <uint8_t*>calloc(f.height * f.width, 1)
            if scratch_out == NULL:
                raise MemoryError()
            warm.out = scratch_out
            warm.record = False
            if f.stateful:
                scratch_reference = <uint8_t*>calloc(f.height * f.width * 3, 1)
                if scratch_reference == NULL:
                    raise MemoryError()
                for band in range(1, bands):
                    first = max(band * BAND_ROWS - WARM_ROWS, 0)
                    memcpy(scratch_reference + 3 * first * f.width, f.reference + 3 * first * f.width,
                           3 * (band * BAND_ROWS - first) * f.width)
                warm.reference = scratch_reference
        with nogil:
            for band in prange(bands, num_threads=workers, schedule="dynamic"):
                _diffuse_band(f, &warm, t, d, band)
    finally:
        free(d.errors)
        free(d.tap_targets)
        free(d.tap_weights)
        free(scratch_out)
        free(scratch_reference)
    return 0


def map_frame(const uint8_t[:, :, ::1] pixels, uint8_t[:, ::1] out, uint8_t[:, :, ::1] reference,
              const uint8_t[:, ::1] previous, int threshold, bint stateful, bint record, int mode,
              const int64_t[:, ::1] offsets, const double[:, ::1] taps, double strength,
              uint16_t[::1] exact, int stamp, uint16_t[::1] coarse, const uint8_t[:, ::1] palette, int32_t[::1] counts,
              uint8_t[::1] candidates, const int32_t[::1] channel_weights, int threads=1,
              const uint8_t[:, ::1] weights=None, const uint8_t[:, ::1] where=None):
    """Map one frame to palette indices.

    Args:
        pixels: uint8 (H, W, C >= 3) RGB(A); rows may be strided, channels contiguous.
        out: uint8 (H, W) receives the indices.
        reference: uint8 (H, W, 3) per pixel the colour its previous index was chosen for;
            read when ``stateful``, updated when ``record``.
        previous: uint8 (H, W) the indices of the previous frame (read when ``stateful``).
        threshold: 0..255 per-channel change under which a pixel keeps its previous index.
        mode: :data:`MODE_PLAIN`, :data:`MODE_ORDERED` (``offsets``: int64 (n, n), n a power
            of two, added to each channel) or :data:`MODE_DIFFUSION` (``taps``: float64 (T, 3)
            rows of dx, dy, weight; ``strength`` 0..1 scales the spread error).
        weights: uint8 (H, W) or None: for error diffusion, how much of the carried error each
            pixel takes and passes on (255: all, 0: none; see ``_dither_cy.dither_weights``).
        exact, coarse, palette, counts, candidates: the lookup tables (see the module docstring): exact is
            uint16 (2 ** 24,), coarse uint16 (:data:`COARSE_COUNT`,) and counts int32 (:data:`LIST_COUNT`,), all
            three shared by palettes, where ``stamp`` (1 .. :data:`MAX_STAMP`) names this palette's answers;
            palette uint8 (n, 3); candidates uint8 (:data:`LIST_COUNT` * n,), the palette's own.
        channel_weights: int32 (3,) weights of the squared red, green and blue differences in the
            nearest-colour distance, each 1..:data:`MAX_CHANNEL_WEIGHT` (see ``gifsom.colours.metric``); the tables
            hold answers for one set of weights.
        threads: row bands mapped at once. Error diffusion runs in bands of :data:`DIFFUSION_BAND_ROWS` rows
            whatever the number of threads (see ``_diffuse``), so its result does not depend on it.
        where: uint8 (H, W) or None: map only the pixels marked nonzero, as if alone in the frame (the others
            get index 0, and neither take nor pass on diffused error); without temporal state.
    """
    cdef Frame f
    cdef Tables t
    cdef Dither d
    cdef Plain plain
    cdef Ordered ordered
    cdef Py_ssize_t band, bands, rows_per_band, j, k
    cdef uint8_t palette_bits[PALETTE_FILTER_BYTES]
    cdef float colours[4 * 256]
    cdef uint32_t h
    if out.shape[0] == 0 or out.shape[1] == 0:
        return
    if pixels.shape[0] != out.shape[0] or pixels.shape[1] != out.shape[1] or pixels.shape[2] < 3:
        raise ValueError("map_frame: pixels must be (H, W, 3 or more) for out (H, W)")
    if (stateful or record) and (reference.shape[0] != out.shape[0] or reference.shape[1] != out.shape[1]
                                 or previous.shape[0] != out.shape[0] or previous.shape[1] != out.shape[1]):
        raise ValueError("map_frame: reference and previous must share the frame's (H, W)")
    if palette.shape[0] > 256 or palette.shape[0] < 1:
        raise ValueError("map_frame: the palette needs 1 to 256 entries")
    f.pixels = &pixels[0, 0, 0]
    f.row_stride = pixels.strides[0]
    f.pixel_stride = pixels.strides[1]
    f.out = &out[0, 0]
    f.reference = &reference[0, 0, 0]
    f.previous = &previous[0, 0]
    f.height = out.shape[0]
    f.width = out.shape[1]
    f.threshold = threshold
    f.stateful = stateful
    f.record = record
    f.where = NULL
    if where is not None:
        if where.shape[0] != out.shape[0] or where.shape[1] != out.shape[1] or stateful or record:
            raise ValueError("map_frame: where must be (H, W) like out, and maps without temporal state")
        f.where = &where[0, 0]
    if (exact.shape[0] != (1 << 24) or coarse.shape[0] != COARSE_COUNT or counts.shape[0] != LIST_COUNT
            or candidates.shape[0] < LIST_COUNT * palette.shape[0] or not 1 <= stamp <= MAX_STAMP):
        raise ValueError("map_frame: exact, coarse, counts and candidates must have their sizes, and stamp be "
                         "1 to MAX_STAMP")
    t.exact = &exact[0]
    t.stamp = <uint16_t>stamp
    t.coarse = &coarse[0]
    t.palette = &palette[0, 0]
    t.counts = &counts[0]
    t.candidates = &candidates[0]
    t.n = palette.shape[0]
    if channel_weights.shape[0] != 3 or min(channel_weights[0], channel_weights[1], channel_weights[2]) < 1 \
            or max(channel_weights[0], channel_weights[1], channel_weights[2]) > MAX_CHANNEL_WEIGHT:
        raise ValueError(f"map_frame: channel_weights must be three weights from 1 to {MAX_CHANNEL_WEIGHT}")
    for j in range(3):
        t.weight[j] = channel_weights[j]
        t.float_weight[j] = channel_weights[j]
    memset(palette_bits, 0, sizeof(palette_bits))
    memset(t.red, 0, sizeof(t.red))
    memset(t.green, 0, sizeof(t.green))
    memset(t.blue, 0, sizeof(t.blue))
    for j in range(t.n):
        t.red[j] = palette[j, 0]
        t.green[j] = palette[j, 1]
        t.blue[j] = palette[j, 2]
        colours[4 * j] = palette[j, 0]
        colours[4 * j + 1] = palette[j, 1]
        colours[4 * j + 2] = palette[j, 2]
        colours[4 * j + 3] = 0.0
        h = _colour_hash(palette[j, 0], palette[j, 1], palette[j, 2])
        palette_bits[h >> 3] |= <uint8_t>(1 << (h & 7))
    t.palette_bits = palette_bits
    t.colours = colours
    d.offsets = &offsets[0, 0] if mode == MODE_ORDERED else NULL
    d.side = offsets.shape[0]
    d.taps = NULL
    d.n_taps = 0
    d.strength = strength
    d.weights = NULL
    if weights is not None and mode == MODE_DIFFUSION:
        if weights.shape[0] != out.shape[0] or weights.shape[1] != out.shape[1]:
            raise ValueError("map_frame: weights must be (H, W) like out")
        d.weights = &weights[0, 0]
    d.errors = NULL
    d.rows = 1
    d.tap_targets = NULL
    d.tap_weights = NULL
    d.floyd_steinberg = False
    if mode == MODE_DIFFUSION:
        d.taps = &taps[0, 0]
        d.n_taps = taps.shape[0]
        d.floyd_steinberg = d.n_taps == len(FLOYD_STEINBERG_TAPS) and all(
            taps[k, 0] == FLOYD_STEINBERG_TAPS[k][0] and taps[k, 1] == FLOYD_STEINBERG_TAPS[k][1]
            for k in range(d.n_taps))
        for k in range(d.n_taps):
            d.rows = max(d.rows, <Py_ssize_t>taps[k, 1] + 1)
            if taps[k, 1] > WARM_ROWS or taps[k, 1] < 0 or (taps[k, 1] == 0 and taps[k, 0] <= 0):
                raise ValueError("map_frame: taps must point to later pixels, at most WARM_ROWS rows down")
        _diffuse(&f, &t, &d, threads)
        return
    bands = max(1, min(threads, f.height))
    rows_per_band = (f.height + bands - 1) // bands
    cdef bint is_ordered = mode == MODE_ORDERED
    with nogil:
        for band in prange(bands, num_threads=bands, schedule="static"):
            if is_ordered:
                _map_rows(&ordered, &f, &t, &d, band * rows_per_band, min(f.height, (band + 1) * rows_per_band))
            else:
                _map_rows(&plain, &f, &t, &d, band * rows_per_band, min(f.height, (band + 1) * rows_per_band))
