# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The compiled part of the perceptual score (:mod:`gifsom.perceptual`): windowed statistics of two
pictures and the errors they give, in one pass over the pixels."""

from cython.parallel cimport prange, threadid
from libc.math cimport fabs
from libc.stdint cimport int32_t, uint32_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy

cdef enum:
    QUANTITIES = 5        # sums over the window of a, b, a*a, b*b, a*b
    KIND_COUNT = 6        # structure, added detail, lost detail; then each to the 4th power


cdef enum:
    TINY_BITS = 0x0DA24260      # the bits of 1e-30 as a float32


cdef inline float cube_root(float value) noexcept nogil:
    """The cube root of ``value`` >= 0 (about 0 for less), to float precision: a guess from the float's
    bits (its exponent divided by 3), then two Newton steps. libm's cbrtf took 3 times as long. No
    branch, so that loops over many values vectorise: values under 1e-30, and negative ones, are taken as
    1e-30 by comparing the float's bits as a signed integer (the order of non-negative floats; negative
    ones read as negative), which the compiler turns into a vector max where a float comparison, which
    may trap, kept the loop scalar (2 times as slow, same floats for every float32 but NaN)."""
    cdef int32_t bits
    cdef uint32_t guess
    cdef float root
    memcpy(&bits, &value, 4)
    if bits < TINY_BITS:
        bits = TINY_BITS
    memcpy(&value, &bits, 4)
    guess = <uint32_t>bits // 3 + 709921077
    memcpy(&root, &guess, 4)
    root = root - (root * root * root - value) / (3 * root * root)
    root = root - (root * root * root - value) / (3 * root * root)
    return root


cdef inline Py_ssize_t clamp(Py_ssize_t value, Py_ssize_t top) noexcept nogil:
    return 0 if value < 0 else (top if value > top else value)


cdef void band_errors(const float* a, const float* b, Py_ssize_t height, Py_ssize_t width, Py_ssize_t channels,
                      Py_ssize_t first, Py_ssize_t last, int radius, double c1, double c2, bint structure,
                      const unsigned char* wanted, double* column, double* sums) noexcept nogil:
    """Add the errors of rows first..last-1 to ``sums`` (channels x KIND_COUNT), for the channels whose
    ``wanted`` is not 0; without ``structure`` the structure errors stay 0, and only the window's sums of a
    and b are kept. ``column`` is scratch of channels x QUANTITIES x width doubles: for each channel and
    quantity, a row of the window's column sums, slid down row by row. Each row's errors are summed in
    locals, then added to ``sums``."""
    cdef Py_ssize_t y, x, c, k, row, stride = width * channels
    cdef Py_ssize_t top = height - 1, right = width - 1
    cdef double va, vb, ea, eb, la, lb
    cdef double* plane
    cdef double* sum_a
    cdef double* sum_b
    cdef double* sum_aa
    cdef double* sum_bb
    cdef double* sum_ab
    cdef double window_a, window_b, window_aa, window_bb, window_ab
    cdef double inverse = 1.0 / ((2 * radius + 1) * (2 * radius + 1))
    cdef double mean_a, mean_b, var_a, var_b, cov, ssim, e, above, below
    cdef double structure_sum, structure_sum4, added, added4, lost, lost4
    cdef Py_ssize_t entering, leaving, at, gone
    # the column sums for row `first`: rows first - radius .. first + radius, edges repeated
    for x in range(channels * QUANTITIES * width):
        column[x] = 0
    for c in range(channels):
        if not wanted[c]:
            continue
        plane = column + c * QUANTITIES * width
        for k in range(-radius, radius + 1):
            row = clamp(first + k, top) * stride + c
            for x in range(width):
                va = a[row + x * channels]
                vb = b[row + x * channels]
                plane[x] += va
                plane[width + x] += vb
                if structure:
                    plane[2 * width + x] += va * va
                    plane[3 * width + x] += vb * vb
                    plane[4 * width + x] += va * vb
    for y in range(first, last):
        for c in range(channels):
            if not wanted[c]:
                continue
            plane = column + c * QUANTITIES * width
            sum_a, sum_b = plane, plane + width
            sum_aa, sum_bb, sum_ab = plane + 2 * width, plane + 3 * width, plane + 4 * width
            if y > first:
                entering = clamp(y + radius, top) * stride + c
                leaving = clamp(y - radius - 1, top) * stride + c
                for x in range(width):
                    ea, la = a[entering + x * channels], a[leaving + x * channels]
                    eb, lb = b[entering + x * channels], b[leaving + x * channels]
                    sum_a[x] += ea - la
                    sum_b[x] += eb - lb
                    if structure:
                        sum_aa[x] += ea * ea - la * la
                        sum_bb[x] += eb * eb - lb * lb
                        sum_ab[x] += ea * eb - la * lb
            # the window's sums at x = 0, then slid right
            window_a = window_b = window_aa = window_bb = window_ab = 0
            for k in range(-radius, radius + 1):
                at = clamp(k, right)
                window_a += sum_a[at]
                window_b += sum_b[at]
                if structure:
                    window_aa += sum_aa[at]
                    window_bb += sum_bb[at]
                    window_ab += sum_ab[at]
            structure_sum = structure_sum4 = added = added4 = lost = lost4 = 0
            row = y * stride + c
            for x in range(width):
                if x > 0:
                    at = clamp(x + radius, right)
                    gone = clamp(x - radius - 1, right)
                    window_a += sum_a[at] - sum_a[gone]
                    window_b += sum_b[at] - sum_b[gone]
                    if structure:
                        window_aa += sum_aa[at] - sum_aa[gone]
                        window_bb += sum_bb[at] - sum_bb[gone]
                        window_ab += sum_ab[at] - sum_ab[gone]
                mean_a = window_a * inverse
                mean_b = window_b * inverse
                if structure:
                    var_a = window_aa * inverse - mean_a * mean_a
                    var_b = window_bb * inverse - mean_b * mean_b
                    cov = window_ab * inverse - mean_a * mean_b
                    ssim = (((2 * mean_a * mean_b + c1) * (2 * cov + c2))
                            / ((mean_a * mean_a + mean_b * mean_b + c1) * (var_a + var_b + c2)))
                    e = 1 - ssim
                    structure_sum += e
                    e = e * e
                    structure_sum4 += e * e
                # how much further from its window's mean the shown pixel lies than the source's:
                # added detail where positive, lost where negative (no branch: the sign is random)
                e = fabs(b[row + x * channels] - mean_b) - fabs(a[row + x * channels] - mean_a)
                above = e if e > 0 else 0.0
                below = above - e
                added += above
                lost += below
                above = above * above
                below = below * below
                added4 += above * above
                lost4 += below * below
            sums[c * KIND_COUNT] += structure_sum
            sums[c * KIND_COUNT + 1] += added
            sums[c * KIND_COUNT + 2] += lost
            sums[c * KIND_COUNT + 3] += structure_sum4
            sums[c * KIND_COUNT + 4] += added4
            sums[c * KIND_COUNT + 5] += lost4


def window_errors(const float[:, :, ::1] a, const float[:, :, ::1] b, int radius, double c1, double c2,
                  int threads=1, bint structure=True, const unsigned char[::1] wanted=None):
    """The mean errors of picture ``b`` against picture ``a``, per channel, over (2r+1)-square windows
    (edges repeated):

    - structure: one minus SSIM (with stabilising constants ``c1`` and ``c2``);
    - added detail: how much further a pixel of ``b`` lies from its window's mean than in ``a``;
    - lost detail: the reverse;

    each as its mean over the picture, and as the mean of its 4th power (which local, strong errors
    such as the edge of a band weigh more in).

    Args:
        a, b: float32 (H, W, C), C-contiguous, the same shape (pixels in any units; OkLab here).
        radius: the window's radius in pixels.
        c1, c2: SSIM's constants, in the units of the pixels squared.
        threads: row bands computed at once.
        structure: measure the structure errors (False leaves them 0, and skips SSIM's variances:
            about three times as fast).
        wanted: uint8 (C,): measure the channels whose entry is not 0 (the others read 0); None for all.

    Returns:
        A list of C lists of 6 floats: per channel, the mean structure error, added and lost detail,
        then the means of their 4th powers.
    """
    cdef Py_ssize_t height = a.shape[0], width = a.shape[1], channels = a.shape[2]
    cdef Py_ssize_t band, bands, rows_per_band, first, last, i
    if b.shape[0] != height or b.shape[1] != width or b.shape[2] != channels:
        raise ValueError("window_errors: the pictures must have the same shape")
    if height == 0 or width == 0 or radius < 0:
        raise ValueError("window_errors: empty pictures or a negative radius")
    if wanted is None:
        wanted = bytes([1]) * channels
    if wanted.shape[0] != channels:
        raise ValueError("window_errors: wanted must have one entry per channel")
    bands = max(1, min(threads, height))
    rows_per_band = (height + bands - 1) // bands
    cdef double* columns = <double*> calloc(bands * width * channels * QUANTITIES, sizeof(double))
    cdef double* sums = <double*> calloc(bands * channels * KIND_COUNT, sizeof(double))
    if columns == NULL or sums == NULL:
        free(columns)
        free(sums)
        raise MemoryError()
    cdef const float* pa = &a[0, 0, 0]
    cdef const float* pb = &b[0, 0, 0]
    cdef const unsigned char* measured = &wanted[0]
    try:
        with nogil:
            for band in prange(bands, num_threads=bands, schedule="static"):
                first = band * rows_per_band
                last = min(height, first + rows_per_band)
                if first < last:
                    band_errors(pa, pb, height, width, channels, first, last, radius, c1, c2, structure, measured,
                                columns + band * width * channels * QUANTITIES, sums + band * channels * KIND_COUNT)
        totals = [[0.0] * KIND_COUNT for _ in range(channels)]
        for band in range(bands):
            for i in range(channels * KIND_COUNT):
                totals[i // KIND_COUNT][i % KIND_COUNT] += sums[band * channels * KIND_COUNT + i]
        return [[value / (height * width) for value in kinds] for kinds in totals]
    finally:
        free(columns)
        free(sums)


def to_oklab(const unsigned char[:, :, ::1] rgb, float[:, :, ::1] out, const float[::1] linear,
             const float[:, ::1] to_lms, const float[:, ::1] to_lab, int threads=1):
    """sRGB pixels to OkLab.

    Args:
        rgb: uint8 (H, W, C >= 3) sRGB, C-contiguous (a fourth channel is ignored).
        out: float32 (H, W, 3) receives lightness (0..1), a and b.
        linear: float32 (256,): each sRGB level in linear light (0..1).
        to_lms, to_lab: float32 (3, 3): linear RGB to cone responses, and their cube roots to OkLab.
        threads: row bands computed at once.
    """
    cdef Py_ssize_t height = rgb.shape[0], width = rgb.shape[1], channels = rgb.shape[2]
    cdef Py_ssize_t y, x
    cdef int workers = max(1, threads)
    cdef float* scratch             # (workers, 3, width): a row's cone responses, then their cube roots
    cdef float* lms
    cdef const unsigned char* line
    cdef float* row
    cdef float m00, m01, m02, m10, m11, m12, m20, m21, m22, r, g, b, l, m, s
    if out.shape[0] != height or out.shape[1] != width or out.shape[2] != 3 or channels < 3:
        raise ValueError("to_oklab: rgb must be (H, W, 3 or more) and out (H, W, 3)")
    if linear.shape[0] != 256 or to_lms.shape[0] != 3 or to_lms.shape[1] != 3 or to_lab.shape[0] != 3:
        raise ValueError("to_oklab: linear must have 256 entries and the matrices be 3 x 3")
    if height == 0 or width == 0:
        return
    m00, m01, m02 = to_lms[0, 0], to_lms[0, 1], to_lms[0, 2]
    m10, m11, m12 = to_lms[1, 0], to_lms[1, 1], to_lms[1, 2]
    m20, m21, m22 = to_lms[2, 0], to_lms[2, 1], to_lms[2, 2]
    scratch = <float*>malloc(workers * 3 * width * sizeof(float))
    if scratch == NULL:
        raise MemoryError()
    try:
        with nogil:
            for y in prange(height, num_threads=workers, schedule="static"):
                # three passes over the row: cone responses, their cube roots (a plain loop over
                # contiguous floats, which the compiler vectorises), then OkLab
                lms = scratch + threadid() * 3 * width
                line = &rgb[y, 0, 0]
                for x in range(width):
                    r = linear[line[x * channels]]
                    g = linear[line[x * channels + 1]]
                    b = linear[line[x * channels + 2]]
                    lms[x] = m00 * r + m01 * g + m02 * b
                    lms[width + x] = m10 * r + m11 * g + m12 * b
                    lms[2 * width + x] = m20 * r + m21 * g + m22 * b
                for x in range(3 * width):
                    lms[x] = cube_root(lms[x])
                row = &out[y, 0, 0]
                for x in range(width):
                    l = lms[x]
                    m = lms[width + x]
                    s = lms[2 * width + x]
                    row[3 * x] = to_lab[0, 0] * l + to_lab[0, 1] * m + to_lab[0, 2] * s
                    row[3 * x + 1] = to_lab[1, 0] * l + to_lab[1, 1] * m + to_lab[1, 2] * s
                    row[3 * x + 2] = to_lab[2, 0] * l + to_lab[2, 1] * m + to_lab[2, 2] * s
    finally:
        free(scratch)


def halve(const float[:, :, ::1] values, float[:, :, ::1] out):
    """Each 2 x 2 block of ``values`` averaged, as one pass (numpy made four strided copies).

    Args:
        values: float32 (H, W, C).
        out: float32 (H // 2, W // 2, C) receives the averages; an odd last row or column is left out.

    Each average is summed top left, bottom left, top right, bottom right, in that order and in float32,
    then multiplied by 0.25, so it is the same float as numpy's ``(a + b + c + d) * np.float32(0.25)``.
    """
    cdef Py_ssize_t height = values.shape[0] // 2, width = values.shape[1] // 2, channels = values.shape[2]
    cdef Py_ssize_t y, x, c
    cdef float quarter = 0.25
    cdef float total
    if out.shape[0] != height or out.shape[1] != width or out.shape[2] != channels:
        raise ValueError("halve: out must be (H // 2, W // 2, C) for values of (H, W, C)")
    with nogil:
        for y in range(height):
            for x in range(width):
                for c in range(channels):
                    total = values[2 * y, 2 * x, c] + values[2 * y + 1, 2 * x, c]
                    total = total + values[2 * y, 2 * x + 1, c]
                    total = total + values[2 * y + 1, 2 * x + 1, c]
                    out[y, x, c] = total * quarter
