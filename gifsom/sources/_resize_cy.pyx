# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The compiled resampling loop: an RGB frame scaled by a separable filter, columns first, then rows.

The filter's taps come from Python (:func:`gifsom.sources.resample.taps`): for each output row or column
the first input row or column it reads and one float32 weight per input row or column from there on
(zero past the window's end). Both passes sum whole contiguous lines, which the compiler
vectorises: the first filters along columns, one output row of W x 3 values at a time, and stores its
rows transposed; the second then filters along rows, one output column of h x 3 values at a time.
"""

from cython.parallel cimport prange, threadid
from libc.stdint cimport int32_t, uint8_t
from libc.stdlib cimport free, malloc


cdef inline uint8_t _to_level(float value) noexcept nogil:
    """A filtered value rounded to the nearest level in 0..255 (Lanczos overshoots at edges); halves
    round up (adding a half and truncating is inlined, where libm's lrintf was a call per value)."""
    if value <= 0.0:
        return 0
    if value >= 255.0:
        return 255
    return <uint8_t>(value + 0.5)


cdef extern from *:
    """
    /* The weighted sums of resample_rgb, in C so that GCC can compile them twice, for AVX2 and for
       the baseline, and pick one when the module loads (target_clones): the sums run across a line,
       so either gives the same floats (each value is summed in the same order; AVX2 has no fused
       multiply-add, which would round differently). target_clones needs glibc's ifunc; elsewhere (musl,
       clang, other CPUs and systems) they are compiled once. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
    #define GIFSOM_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define GIFSOM_CLONES
    #endif
    #define GIFSOM_WEIGHTED_SUM(NAME, SAMPLE) \
    GIFSOM_CLONES static void NAME(float *sums, Py_ssize_t n, const SAMPLE *lines, Py_ssize_t stride, \
                                  const float *weights, Py_ssize_t count) { \
        Py_ssize_t i, j = 0; \
        for (i = 0; i < n; i++) sums[i] = 0.0f; \
        for (; j + 4 <= count; j += 4) { \
            const SAMPLE *a = lines + j * stride, *b = a + stride, *c = b + stride, *d = c + stride; \
            float wa = weights[j], wb = weights[j + 1], wc = weights[j + 2], wd = weights[j + 3]; \
            for (i = 0; i < n; i++) \
                sums[i] = sums[i] + (wa * a[i] + wb * b[i]) + (wc * c[i] + wd * d[i]); \
        } \
        for (; j < count; j++) { \
            const SAMPLE *a = lines + j * stride; \
            float wa = weights[j]; \
            for (i = 0; i < n; i++) sums[i] = sums[i] + wa * a[i]; \
        } \
    }
    GIFSOM_WEIGHTED_SUM(gifsom_weighted_sum_bytes, unsigned char)
    GIFSOM_WEIGHTED_SUM(gifsom_weighted_sum_floats, float)
    """
    # sums[:n] = the sum over j < count of weights[j] times line j, ``lines[j * stride : j * stride + n]``;
    # four lines a sweep: a quarter of the loads and stores of ``sums``
    void _weighted_sum_bytes "gifsom_weighted_sum_bytes"(float* sums, Py_ssize_t n, const uint8_t* lines,
                                                         Py_ssize_t stride, const float* weights,
                                                         Py_ssize_t count) noexcept nogil
    void _weighted_sum_floats "gifsom_weighted_sum_floats"(float* sums, Py_ssize_t n, const float* lines,
                                                           Py_ssize_t stride, const float* weights,
                                                           Py_ssize_t count) noexcept nogil


def resample_rgb(const uint8_t[:, :, ::1] pixels, uint8_t[:, :, ::1] out,
                 const int32_t[::1] row_starts, const float[:, ::1] row_weights,
                 const int32_t[::1] column_starts, const float[:, ::1] column_weights, int threads=1):
    """Scale ``pixels`` into ``out`` with the filter taps given.

    Args:
        pixels: uint8 (H, W, 3).
        out: uint8 (h, w, 3) receives the scaled frame.
        row_starts, row_weights: int32 (h,) and float32 (h, T): output row ``r`` is the sum over ``k`` of
            ``row_weights[r, k]`` times input row ``row_starts[r] + k`` (rows past H must have weight 0).
        column_starts, column_weights: int32 (w,) and float32 (w, U): the same along each row.
        threads: output rows filtered at once.
    """
    cdef Py_ssize_t height = pixels.shape[0], width = pixels.shape[1]
    cdef Py_ssize_t out_height = out.shape[0], out_width = out.shape[1]
    cdef Py_ssize_t row_taps = row_weights.shape[1], column_taps = column_weights.shape[1]
    cdef Py_ssize_t span = 3 * width, column_span = 3 * out_height, r, x, first
    cdef Py_ssize_t scratch_stride = max(span, column_span)
    cdef int workers = max(1, threads)
    cdef float* scratch             # (workers, scratch_stride): a row or column being summed
    cdef float* columns             # (width, out_height * 3): the rows filtered, stored column by column
    cdef float* sums
    if pixels.shape[2] != 3 or out.shape[2] != 3:
        raise ValueError("resample_rgb: pixels and out must be RGB, (H, W, 3)")
    if row_starts.shape[0] != out_height or row_weights.shape[0] != out_height \
            or column_starts.shape[0] != out_width or column_weights.shape[0] != out_width:
        raise ValueError("resample_rgb: one start and one row of weights per output row and column")
    for r in range(out_height):
        if row_starts[r] < 0 or row_starts[r] >= height:
            raise ValueError("resample_rgb: a row's window starts outside the frame")
    for x in range(out_width):
        if column_starts[x] < 0 or column_starts[x] >= width:
            raise ValueError("resample_rgb: a column's window starts outside the frame")
    if out_height == 0 or out_width == 0:
        return
    scratch = <float*>malloc(workers * scratch_stride * sizeof(float))
    columns = <float*>malloc(width * column_span * sizeof(float))
    try:
        if scratch == NULL or columns == NULL:
            raise MemoryError()
        with nogil:
            # along columns: output row r, all W x 3 values at once, from input rows row_starts[r] on;
            # stored transposed, so that the second pass also sums whole contiguous lines
            for r in prange(out_height, num_threads=workers, schedule="static"):
                sums = scratch + threadid() * scratch_stride
                first = row_starts[r]
                _weighted_sum_bytes(sums, span, &pixels[first, 0, 0], span, &row_weights[r, 0],
                                    min(row_taps, height - first))
                for x in range(width):
                    columns[x * column_span + 3 * r] = sums[3 * x]
                    columns[x * column_span + 3 * r + 1] = sums[3 * x + 1]
                    columns[x * column_span + 3 * r + 2] = sums[3 * x + 2]
            # along rows: output column x, all h x 3 values at once, from the stored columns column_starts[x] on
            for x in prange(out_width, num_threads=workers, schedule="static"):
                sums = scratch + threadid() * scratch_stride
                first = column_starts[x]
                _weighted_sum_floats(sums, column_span, columns + first * column_span, column_span,
                                     &column_weights[x, 0], min(column_taps, width - first))
                for r in range(out_height):
                    out[r, x, 0] = _to_level(sums[3 * r])
                    out[r, x, 1] = _to_level(sums[3 * r + 1])
                    out[r, x, 2] = _to_level(sums[3 * r + 2])
    finally:
        free(scratch)
        free(columns)
