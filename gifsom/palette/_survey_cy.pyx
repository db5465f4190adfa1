# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled statistics of the clip survey (see :mod:`gifsom.palette.clip`)."""

from libc.math cimport sqrt
from libc.stdlib cimport free, malloc

from ..colours._luma cimport luma

import numpy as np


def grain_count(const unsigned char[:, :, :] pixels):
    """How many pixels of uint8 (H, W, C >= 3) ``pixels`` (any strides) have a non-zero response to the
    separable second difference of their luma, ``(77 R + 150 G + 29 B) >> 8``: the 3x3 filter that is a
    horizontal second difference followed by a vertical one, over the (H - 2) x (W - 2) places where it
    fits. It is 0 on flat areas and on smooth (linear) gradients."""
    cdef Py_ssize_t height = pixels.shape[0], width = pixels.shape[1], y, x, row
    cdef long found = 0
    cdef int *across          # three rows of horizontal second differences, a ring indexed by y % 3
    cdef int *luma
    cdef int *r0
    cdef int *r1
    cdef int *r2
    if height < 3 or width < 3:
        return 0
    across = <int *>malloc(3 * (width - 2) * sizeof(int))
    luma = <int *>malloc(width * sizeof(int))
    if across == NULL or luma == NULL:
        free(across)
        free(luma)
        raise MemoryError()
    with nogil:
        for y in range(height):
            for x in range(width):
                luma[x] = (77 * pixels[y, x, 0] + 150 * pixels[y, x, 1] + 29 * pixels[y, x, 2]) >> 8
            row = (y % 3) * (width - 2)
            for x in range(width - 2):
                across[row + x] = luma[x] - 2 * luma[x + 1] + luma[x + 2]
            if y >= 2:
                r0 = across + ((y - 2) % 3) * (width - 2)
                r1 = across + ((y - 1) % 3) * (width - 2)
                r2 = across + row
                for x in range(width - 2):
                    if r0[x] - 2 * r1[x] + r2[x] != 0:
                        found += 1
    free(across)
    free(luma)
    return found


def coarse_bins(const unsigned char[:, :, :] pixels, Py_ssize_t every, short[::1] bins, long long[::1] counts,
                Py_ssize_t top, Py_ssize_t bottom, Py_ssize_t left, Py_ssize_t right):
    """Keep the colour bins of every ``every``-th pixel of uint8 (H, W, C >= 3) ``pixels`` in reading order
    (pixel ``i`` is row ``i // W``, column ``i % W``), at 16 levels a channel: bin
    ``(R >> 4) << 8 | (G >> 4) << 4 | B >> 4``.

    ``bins``, int16 (ceil(H W / every),), holds each sampled pixel's bin (-1: none yet), and ``counts``,
    int64 (4096,), how many sampled pixels each bin holds. Only the pixels in rows ``top:bottom`` and
    columns ``left:right`` are looked at: elsewhere the frame is taken to be the one ``bins`` was kept
    for. Each sampled pixel there that is in another bin now moves its count.
    """
    cdef Py_ssize_t height = pixels.shape[0], width = pixels.shape[1], y, x, k
    cdef short found, before
    if every < 1 or counts.shape[0] != 4096 or bins.shape[0] != (height * width + every - 1) // every:
        raise ValueError("coarse_bins takes every >= 1, 4096 counts and a bin for each sampled pixel")
    if not (0 <= top <= bottom <= height and 0 <= left <= right <= width):
        raise ValueError("coarse_bins: the rectangle must lie within the frame")
    with nogil:
        for y in range(top, bottom):
            # the first sampled pixel of the row at or after column ``left``, and its number
            k = (y * width + left + every - 1) // every
            x = k * every - y * width
            while x < right:
                found = ((pixels[y, x, 0] >> 4) << 8) | ((pixels[y, x, 1] >> 4) << 4) | (pixels[y, x, 2] >> 4)
                before = bins[k]
                if found != before:
                    if before >= 0:
                        counts[before] -= 1
                    counts[found] += 1
                    bins[k] = found
                x += every
                k += 1


def probe_changes(const unsigned char[:, :, :] pixels, Py_ssize_t step, unsigned char[:, :, ::1] probe,
                  int flicker_levels, Py_ssize_t top, Py_ssize_t bottom, Py_ssize_t left, Py_ssize_t right):
    """Compare every ``step``-th pixel of every ``step``-th row of uint8 (H, W, C) ``pixels`` with
    uint8 (ceil(H / step), ceil(W / step), C) ``probe``, the same pixels of the frame before, and leave
    this frame's in ``probe``. Returns ``(changed, flickered)``: how many probed pixels changed at all
    (largest channel change above 0), and how many by 1 to ``flicker_levels`` levels. Only the probed
    pixels in rows ``top:bottom`` and columns ``left:right`` are looked at: the caller knows the frame
    equals the one before elsewhere."""
    cdef Py_ssize_t rows = probe.shape[0], cols = probe.shape[1], depth = probe.shape[2], y, x, c
    cdef long changed = 0, flickered = 0
    cdef int change, largest
    if rows != (pixels.shape[0] + step - 1) // step or cols != (pixels.shape[1] + step - 1) // step \
            or depth != pixels.shape[2]:
        raise ValueError("the probe does not fit the frame")
    if not (0 <= top <= bottom <= pixels.shape[0] and 0 <= left <= right <= pixels.shape[1]):
        raise ValueError("probe_changes: the rectangle must lie within the frame")
    with nogil:
        for y in range((top + step - 1) // step, (bottom + step - 1) // step):
            for x in range((left + step - 1) // step, (right + step - 1) // step):
                largest = 0
                for c in range(depth):
                    change = <int>pixels[y * step, x * step, c] - <int>probe[y, x, c]
                    if change < 0:
                        change = -change
                    if change > largest:
                        largest = change
                    probe[y, x, c] = pixels[y * step, x * step, c]
                if largest > 0:
                    changed += 1
                    if largest <= flicker_levels:
                        flickered += 1
    return changed, flickered


def every_nth_opaque(const unsigned char[:, ::1] pixels, Py_ssize_t offset, Py_ssize_t stride):
    """The colours of pixels ``offset``, ``offset + stride``, ... of uint8 (N, 3) or (N, 4) ``pixels``, leaving
    out those with alpha under 128: uint8 (M, 3)."""
    cdef Py_ssize_t count = pixels.shape[0], channels = pixels.shape[1], i, n = 0
    if channels not in (3, 4) or stride < 1 or offset < 0:
        raise ValueError("pixels of 3 or 4 channels, a positive stride and an offset of at least 0")
    out_array = np.empty(((count - offset + stride - 1) // stride if count > offset else 0, 3), np.uint8)
    cdef unsigned char[:, ::1] out = out_array
    with nogil:
        i = offset
        while i < count:
            if channels == 3 or pixels[i, 3] >= 128:
                out[n, 0] = pixels[i, 0]
                out[n, 1] = pixels[i, 1]
                out[n, 2] = pixels[i, 2]
                n += 1
            i += stride
    return out_array if n == out_array.shape[0] else out_array[:n].copy()


def joined_rows(list chunks):
    """The rows of uint8 (N_k, 3) arrays ``chunks``, one after another: uint8 (sum of N_k, 3), C-ordered.

    A chunk's rows may lie apart (every other row of one, as the sampler's halving leaves them); each row's
    3 channels are contiguous. numpy joined such chunks a 3-byte row at a time: hubble's sample of 648,000
    pixels in 40 chunks, every 8th of each frame, took 5.1 to 5.6 ms.
    """
    cdef Py_ssize_t total = 0, n = 0, i, count, step
    cdef const unsigned char[:, :] rows
    cdef const unsigned char* source
    cdef unsigned char* target
    for chunk in chunks:
        total += len(chunk)
    out_array = np.empty((total, 3), np.uint8)
    if total == 0:
        return out_array
    cdef unsigned char[:, ::1] out = out_array
    for chunk in chunks:
        rows = chunk
        count = rows.shape[0]
        if count == 0:
            continue
        if rows.shape[1] != 3 or rows.strides[1] != 1:
            raise ValueError("joined_rows: chunks of (N, 3) rows with contiguous channels")
        source = &rows[0, 0]
        step = rows.strides[0]
        target = &out[n, 0]
        with nogil:
            for i in range(count):
                target[3 * i] = source[i * step]
                target[3 * i + 1] = source[i * step + 1]
                target[3 * i + 2] = source[i * step + 2]
        n += count
    return out_array


cdef inline double _block_luma_spread(const unsigned char[:, :, ::1] probe, Py_ssize_t top, Py_ssize_t left,
                                      Py_ssize_t side, double* lumas) noexcept nogil:
    """The standard deviation of the luma (0.299 R + 0.587 G + 0.114 B) of the ``side`` x ``side`` block of
    ``probe`` at (``top``, ``left``); ``lumas`` is scratch of ``side * side`` doubles."""
    cdef Py_ssize_t i, j, n = side * side
    cdef double mean = 0.0, spread = 0.0, d
    for i in range(side):
        for j in range(side):
            lumas[i * side + j] = luma(probe[top + i, left + j, 0], probe[top + i, left + j, 1],
                                       probe[top + i, left + j, 2])
            mean += lumas[i * side + j]
    mean /= n
    for i in range(n):
        d = lumas[i] - mean
        spread += d * d
    return sqrt(spread / n)


def steady_blocks(const unsigned char[:, :, ::1] now, const unsigned char[:, :, ::1] before, Py_ssize_t side,
                  double textured, double steady_levels):
    """Compare blocks of ``side`` x ``side`` pixels of two probes of consecutive frames, uint8 (h, w, C >= 3)
    each (C-ordered), at the same places: a block is *textured* when its luma's standard deviation is
    over ``textured`` in both, and *stays* when its mean colour moves by at most ``steady_levels`` on every
    channel.

    Returns:
        ``(textured, staying, moved, pixels)``: how many blocks are textured, how many of those stay, and in
        those, the sum of the RGB distances their pixels moved and how many pixels that is.
    """
    cdef Py_ssize_t rows = now.shape[0] // side, cols = now.shape[1] // side, y, x, i, j, c
    cdef long textured_count = 0, staying = 0, pixels = 0
    cdef double moved = 0.0, sum_now, sum_before, d, distance
    cdef bint stays
    cdef double* lumas
    if (now.shape[0] != before.shape[0] or now.shape[1] != before.shape[1] or now.shape[2] < 3
            or before.shape[2] < 3 or side < 1):
        raise ValueError("steady_blocks: two probes of one shape, of 3 channels or more, and a side of 1 or more")
    lumas = <double*>malloc(side * side * sizeof(double))
    if lumas == NULL:
        raise MemoryError()
    try:
        with nogil:
            for y in range(rows):
                for x in range(cols):
                    if (_block_luma_spread(now, y * side, x * side, side, lumas) <= textured
                            or _block_luma_spread(before, y * side, x * side, side, lumas) <= textured):
                        continue
                    textured_count += 1
                    stays = True
                    for c in range(3):
                        sum_now = 0.0
                        sum_before = 0.0
                        for i in range(side):
                            for j in range(side):
                                sum_now = sum_now + now[y * side + i, x * side + j, c]
                                sum_before = sum_before + before[y * side + i, x * side + j, c]
                        if abs(sum_now - sum_before) > steady_levels * side * side:
                            stays = False
                    if not stays:
                        continue
                    staying += 1
                    for i in range(side):
                        for j in range(side):
                            distance = 0.0
                            for c in range(3):
                                d = <double>now[y * side + i, x * side + j, c] - before[y * side + i, x * side + j, c]
                                distance = distance + d * d
                            moved += sqrt(distance)
                    pixels += side * side
    finally:
        free(lumas)
    return textured_count, staying, moved, pixels
