# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled colour histogram: an open-addressing hash of 24-bit colours."""

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc

import numpy as np

cdef uint32_t EMPTY_KEY = 0xFFFFFFFF
cdef uint64_t HASH_MULTIPLIER = 2654435761


cdef inline Py_ssize_t _home(uint32_t key, Py_ssize_t mask) noexcept nogil:
    return <Py_ssize_t>(((<uint64_t>key * HASH_MULTIPLIER) >> 8) & <uint64_t>mask)


cdef int _allocate(Py_ssize_t capacity, uint32_t** keys, int64_t** counts) noexcept nogil:
    cdef Py_ssize_t s
    keys[0] = <uint32_t*>malloc(capacity * sizeof(uint32_t))
    counts[0] = <int64_t*>malloc(capacity * sizeof(int64_t))
    if keys[0] == NULL or counts[0] == NULL:
        return -1
    for s in range(capacity):
        keys[0][s] = EMPTY_KEY
        counts[0][s] = 0
    return 0


def histogram(const uint8_t[:, ::1] pixels, int64_t limit):
    """Distinct colours of uint8 (N, 3) pixels and how often each occurs.

    Returns:
        ``(colours, counts)``: uint8 (M, 3) and int64 (M,), in hash-table order;
        or None as soon as more than ``limit`` distinct colours appear.
    """
    if pixels.shape[0] == 0:
        return _count(NULL, 0, 3, NULL, 3, limit)
    return _count(&pixels[0, 0], pixels.shape[0], 3, NULL, 3, limit)


def changed_histogram(const uint8_t[:, :, ::1] pixels, previous, int64_t limit):
    """Distinct colours, and how often each occurs, of the pixels of a frame that are new on screen.

    ``pixels`` is uint8 (H, W, 3) or (H, W, 4); ``previous``, the frame before (the same height and
    width, 3 or 4 channels) or None. A pixel counts when it is opaque (no alpha, or alpha at least 128)
    and either there is no previous frame, its colour differs from the previous frame's there, or the
    previous frame was transparent there. Returns as :func:`histogram` does.
    """
    cdef const uint8_t[:, :, ::1] before
    cdef const uint8_t* before_start = NULL
    cdef int before_channels = 3
    if pixels.shape[2] not in (3, 4):
        raise ValueError("frames have 3 or 4 channels")
    if previous is not None:
        before = previous
        if before.shape[0] != pixels.shape[0] or before.shape[1] != pixels.shape[1] or before.shape[2] not in (3, 4):
            raise ValueError("the previous frame has another shape")
        before_channels = before.shape[2]
        if before.shape[0] * before.shape[1]:
            before_start = &before[0, 0, 0]
    if pixels.shape[0] * pixels.shape[1] == 0:
        return _count(NULL, 0, pixels.shape[2], NULL, before_channels, limit)
    return _count(&pixels[0, 0, 0], pixels.shape[0] * pixels.shape[1], pixels.shape[2], before_start, before_channels,
                  limit)


cdef object _count(const uint8_t* pixels, Py_ssize_t count, int channels, const uint8_t* previous,
                   int previous_channels, int64_t limit):
    """The colour histogram of ``count`` pixels of ``channels`` bytes each, skipping those that are transparent
    or that ``previous`` (NULL: none) already shows (see :func:`changed_histogram`)."""
    cdef Py_ssize_t capacity = 1024, mask, slot, previous_slot = 0, s, t, i
    cdef const uint8_t* pixel
    cdef const uint8_t* before
    cdef Py_ssize_t new_capacity, new_mask
    cdef int64_t distinct = 0, run = 0
    cdef uint32_t key, previous_key = EMPTY_KEY, k
    cdef uint32_t* keys = NULL
    cdef int64_t* counts = NULL
    cdef uint32_t* new_keys = NULL
    cdef int64_t* new_counts = NULL
    cdef bint complete = True, failed = False
    while capacity < 2 * min(count, max(limit, 1)) + 16:
        capacity <<= 1
    try:
        with nogil:
            if _allocate(capacity, &keys, &counts) < 0:
                failed = True
            mask = capacity - 1
            # runs of one colour (flat screen content) skip the hash and are counted in a register
            i = 0
            while i < count and not failed:
                pixel = pixels + i * channels
                if channels == 4 and pixel[3] < 128:
                    i += 1
                    continue                          # transparent: no colour
                if previous != NULL:
                    before = previous + i * previous_channels
                    if pixel[0] == before[0] and pixel[1] == before[1] and pixel[2] == before[2] \
                            and (previous_channels == 3 or before[3] >= 128):
                        i += 1
                        continue                      # already on screen
                key = (<uint32_t>pixel[0] << 16) | (<uint32_t>pixel[1] << 8) | <uint32_t>pixel[2]
                i += 1
                if key == previous_key:
                    run += 1
                    continue
                if run:
                    counts[previous_slot] += run
                    run = 0
                slot = _home(key, mask)
                while True:
                    if keys[slot] == key:
                        counts[slot] += 1
                        previous_key = key
                        previous_slot = slot
                        break
                    if keys[slot] == EMPTY_KEY:
                        if distinct >= limit:
                            complete = False
                            break
                        keys[slot] = key
                        counts[slot] = 1
                        distinct += 1
                        previous_key = EMPTY_KEY     # the slot may move if the table grows
                        if 2 * distinct > capacity:  # grow: rehash into a table twice the size
                            new_capacity = capacity * 2
                            if _allocate(new_capacity, &new_keys, &new_counts) < 0:
                                failed = True
                                break
                            new_mask = new_capacity - 1
                            for s in range(capacity):
                                k = keys[s]
                                if k != EMPTY_KEY:
                                    t = _home(k, new_mask)
                                    while new_keys[t] != EMPTY_KEY:
                                        t = (t + 1) & new_mask
                                    new_keys[t] = k
                                    new_counts[t] = counts[s]
                            free(keys)
                            free(counts)
                            keys, counts, capacity, mask = new_keys, new_counts, new_capacity, new_mask
                            new_keys = NULL
                            new_counts = NULL
                        break
                    slot = (slot + 1) & mask
                if not complete:
                    break
            if run and complete and not failed:
                counts[previous_slot] += run
        if failed:
            raise MemoryError()
        if not complete:
            return None
        colours_array = np.empty((distinct, 3), np.uint8)
        weights_array = np.empty(distinct, np.int64)
        _collect(keys, counts, capacity, colours_array, weights_array)
        return colours_array, weights_array
    finally:
        free(keys)
        free(counts)
        free(new_keys)
        free(new_counts)


cdef void _collect(const uint32_t* keys, const int64_t* counts, Py_ssize_t capacity, uint8_t[:, ::1] colours,
                   int64_t[::1] weights) noexcept:
    cdef Py_ssize_t s, n = 0
    cdef uint32_t k
    with nogil:
        for s in range(capacity):
            k = keys[s]
            if k != EMPTY_KEY:
                colours[n, 0] = (k >> 16) & 255
                colours[n, 1] = (k >> 8) & 255
                colours[n, 2] = k & 255
                weights[n] = counts[s]
                n += 1


#: uint64 words of the bitmap :func:`count_distinct` takes: one bit per 24-bit colour (2 MiB).
BITMAP_WORDS = 1 << 18


def count_distinct(const uint8_t[:, :, ::1] pixels, int64_t limit, uint64_t[::1] bitmap, uint32_t[::1] touched):
    """How many distinct colours the opaque pixels (no alpha, or alpha at least 128) of uint8 (H, W, 3) or
    (H, W, 4) ``pixels`` have, or -1 as soon as there are more than ``limit``.

    ``bitmap`` (uint64, :data:`BITMAP_WORDS`, all zero) marks the colours seen, and ``touched`` (uint32, at
    least one more than ``limit`` or the number of pixels, whichever is smaller) lists them, so that the bits
    set are cleared again before returning: the caller keeps one bitmap and reuses it.
    """
    cdef Py_ssize_t count = pixels.shape[0] * pixels.shape[1], channels = pixels.shape[2], i, n = 0
    cdef const uint8_t* start
    cdef const uint8_t* pixel
    cdef uint32_t key, previous_key = EMPTY_KEY
    cdef uint64_t bit
    if channels not in (3, 4):
        raise ValueError("frames have 3 or 4 channels")
    if bitmap.shape[0] < BITMAP_WORDS or touched.shape[0] < min(limit, count) + 1:
        raise ValueError("bitmap or list of touched colours too small")
    if count == 0:
        return 0
    start = &pixels[0, 0, 0]
    with nogil:
        for i in range(count):
            pixel = start + i * channels
            if channels == 4 and pixel[3] < 128:
                continue
            key = (<uint32_t>pixel[0] << 16) | (<uint32_t>pixel[1] << 8) | <uint32_t>pixel[2]
            if key == previous_key:
                continue
            previous_key = key
            bit = (<uint64_t>1) << (key & 63)
            if bitmap[key >> 6] & bit:
                continue
            bitmap[key >> 6] |= bit
            touched[n] = key
            n += 1
            if n > limit:
                break
        for i in range(n):
            bitmap[touched[i] >> 6] = 0
    return -1 if n > limit else n
