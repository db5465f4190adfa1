# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled loops of the screen model (``screen_model.py``): what a frame changes on screen, and
painting the screen model.

The screen model is uint32 (H, W): packed colours ``r << 16 | g << 8 | b``, and
``EMPTY`` (1 << 24, above every packed colour) where nothing shows.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t
from libc.string cimport memcpy

import numpy as np

cdef extern from *:
    """
    #include <string.h>
    /* the screen model's value for a pixel that shows nothing (EMPTY) */
    #define GIFSOM_EMPTY_PIXEL (1u << 24)
    /* changed[x] for x < n: 1 where the frame's pixel x (colours[indices[x]], or empty where opaque is given
       and opaque[x] is 0) differs from the screen's: it or the screen's is empty, or their squared RGB
       distance exceeds limit; 0 where not, and where alone is given and alone[x] is nonzero. Returns whether
       any pixel changed. Four pixels at a time with SSE2 (the colours gathered one by one, then compared
       4-wide); the rest, and every pixel where SSE2 is missing or GIFSOM_NO_SSE is defined, one by one. */
    static inline int gifsom_one_changed(uint32_t value, uint32_t on_screen, int32_t limit) {
        int32_t dr = (int32_t)((value >> 16) & 255) - (int32_t)((on_screen >> 16) & 255);
        int32_t dg = (int32_t)((value >> 8) & 255) - (int32_t)((on_screen >> 8) & 255);
        int32_t db = (int32_t)(value & 255) - (int32_t)(on_screen & 255);
        int32_t gap = dr * dr + dg * dg + db * db;
        return (value != on_screen)
               & ((gap > limit) | (value == GIFSOM_EMPTY_PIXEL) | (on_screen == GIFSOM_EMPTY_PIXEL));
    }
    #if (defined(__SSE2__) || defined(_M_X64)) && !defined(GIFSOM_NO_SSE)
    #include <emmintrin.h>
    #endif
    static inline int gifsom_changed_row(const uint8_t *indices, const uint32_t *colours, const uint8_t *opaque,
                                         const uint32_t *screen, const uint8_t *alone, int32_t limit,
                                         uint8_t *changed, Py_ssize_t n) {
        Py_ssize_t x = 0;
        int any = 0;
    #if (defined(__SSE2__) || defined(_M_X64)) && !defined(GIFSOM_NO_SSE)
        const __m128i empty = _mm_set1_epi32((int)GIFSOM_EMPTY_PIXEL), most = _mm_set1_epi32(limit);
        const __m128i zero = _mm_setzero_si128(), one = _mm_set1_epi8(1);
        for (; x + 4 <= n; x += 4) {
            __m128i value = _mm_setr_epi32((int)colours[indices[x]], (int)colours[indices[x + 1]],
                                           (int)colours[indices[x + 2]], (int)colours[indices[x + 3]]);
            if (opaque) {
                __m128i hidden = _mm_cmpeq_epi32(_mm_setr_epi32(opaque[x], opaque[x + 1], opaque[x + 2],
                                                                opaque[x + 3]), zero);
                value = _mm_or_si128(_mm_andnot_si128(hidden, value), _mm_and_si128(hidden, empty));
            }
            __m128i shown = _mm_loadu_si128((const __m128i *)(screen + x));
            /* each pixel's 4 bytes (blue, green, red, and 1 for empty) widened to 16 bits, subtracted,
               squared and summed in pairs: lanes (blue + green, red + empty) of two pixels a register */
            __m128i low = _mm_sub_epi16(_mm_unpacklo_epi8(value, zero), _mm_unpacklo_epi8(shown, zero));
            __m128i high = _mm_sub_epi16(_mm_unpackhi_epi8(value, zero), _mm_unpackhi_epi8(shown, zero));
            __m128 pairs_low = _mm_castsi128_ps(_mm_madd_epi16(low, low));
            __m128 pairs_high = _mm_castsi128_ps(_mm_madd_epi16(high, high));
            __m128i gap = _mm_add_epi32(
                _mm_castps_si128(_mm_shuffle_ps(pairs_low, pairs_high, _MM_SHUFFLE(2, 0, 2, 0))),
                _mm_castps_si128(_mm_shuffle_ps(pairs_low, pairs_high, _MM_SHUFFLE(3, 1, 3, 1))));
            /* the empty byte adds 1 to an empty pixel's gap: it differs whatever the gap */
            __m128i far = _mm_or_si128(_mm_cmpgt_epi32(gap, most),
                                       _mm_or_si128(_mm_cmpeq_epi32(value, empty), _mm_cmpeq_epi32(shown, empty)));
            __m128i differs = _mm_andnot_si128(_mm_cmpeq_epi32(value, shown), far);
            if (alone) {
                __m128i left_alone = _mm_cmpeq_epi32(_mm_setr_epi32(alone[x], alone[x + 1], alone[x + 2],
                                                                    alone[x + 3]), zero);
                differs = _mm_and_si128(differs, left_alone);
            }
            __m128i bytes = _mm_and_si128(_mm_packs_epi16(_mm_packs_epi32(differs, zero), zero), one);
            int four = _mm_cvtsi128_si32(bytes);
            memcpy(changed + x, &four, 4);
            any |= four;
        }
    #endif
        for (; x < n; x++) {
            uint32_t value = (opaque && !opaque[x]) ? GIFSOM_EMPTY_PIXEL : colours[indices[x]];
            int differs = gifsom_one_changed(value, screen[x], limit) & !(alone && alone[x]);
            changed[x] = (uint8_t)differs;
            any |= differs;
        }
        return any != 0;
    }
    """
    const uint32_t EMPTY_PIXEL "GIFSOM_EMPTY_PIXEL"
    bint _changed_in_row "gifsom_changed_row"(const uint8_t* indices, const uint32_t* colours, const uint8_t* opaque,
                                               const uint32_t* screen, const uint8_t* alone, int32_t limit,
                                               uint8_t* changed, Py_ssize_t n) noexcept nogil

#: The screen model's value for a pixel that shows nothing.
EMPTY = EMPTY_PIXEL


def changed_pixels(const uint8_t[:, ::1] indices, const uint32_t[::1] colours, const uint8_t[:, ::1] opaque,
                   bint has_mask, const uint32_t[:, ::1] screen, int tolerance, uint8_t[:, ::1] changed,
                   Py_ssize_t top, Py_ssize_t bottom, Py_ssize_t left, Py_ssize_t right,
                   const uint8_t[:, ::1] left_alone=None):
    """Where a frame changes what is on screen within rows ``top:bottom`` and columns ``left:right``, and the
    rectangle around those places.

    Args:
        indices: uint8 (H, W) the frame's palette indices.
        colours: uint32 (K,) its palette, packed.
        opaque: bool as uint8 (H, W), nonzero where the frame is opaque; read only when ``has_mask``.
        screen: uint32 (H, W) the screen model.
        tolerance: an opaque pixel within this RGB distance of the screen's counts as unchanged (0: exact).
        changed: bool as uint8 (H, W), set within the rectangle to 1 where an opaque pixel differs from
            (or covers an empty) screen pixel, or a transparent pixel covers a shown one, and to 0
            elsewhere in it; left as it is outside.
        left_alone: bool as uint8 (H, W), nonzero where the frame leaves the screen as it is (those pixels
            never count as changed), or None.

    Returns:
        ``(top, bottom, left, right)``: the smallest rectangle holding every changed pixel
        (``bottom`` is 0 when nothing changed).
    """
    cdef Py_ssize_t height = indices.shape[0], width = indices.shape[1], y, x
    cdef Py_ssize_t first = bottom, last = 0, start = right, stop = 0
    cdef int32_t limit = <int32_t>min(<int64_t>tolerance * tolerance, 3 * 255 * 255)
    cdef bint row_changed
    if (screen.shape[0] != height or screen.shape[1] != width or changed.shape[0] != height
            or changed.shape[1] != width or (has_mask and (opaque.shape[0] != height or opaque.shape[1] != width))
            or not (0 <= top <= bottom <= height and 0 <= left <= right <= width)
            or (left_alone is not None and (left_alone.shape[0] != height or left_alone.shape[1] != width))):
        raise ValueError("changed_pixels: the arrays must share the frame's shape, and hold the rectangle")
    if top == bottom or left == right:
        return 0, 0, 0, 0
    cdef const uint8_t* alone = NULL if left_alone is None else &left_alone[0, 0]
    cdef const uint8_t* opaque_row
    cdef const uint8_t* index_row
    cdef const uint32_t* screen_row
    cdef uint8_t* changed_row
    with nogil:
        for y in range(top, bottom):
            index_row = &indices[y, 0]
            screen_row = &screen[y, 0]
            changed_row = &changed[y, 0]
            opaque_row = &opaque[y, 0] if has_mask else NULL
            # without branches on the pixels' values, which mispredict where the tolerance decides whether a
            # pixel changed, and four at a time: the star field's own 40 480x270 frames, as its encode compares
            # them, took 17.5 to 19.6 ms in all a pixel at a time with branches, 16.4 to 18.5 without, and
            # take 4.7 to 5.1 (fastest of 20 each, alternated builds, 2 cores, 2026-12-05)
            row_changed = _changed_in_row(index_row + left, &colours[0], opaque_row + left if has_mask else NULL,
                                          screen_row + left, alone + y * width + left if alone != NULL else NULL,
                                          limit, changed_row + left, right - left)
            if row_changed:
                first = min(first, y)
                last = y + 1
                x = left
                while not changed_row[x]:
                    x += 1
                start = min(start, x)
                x = right - 1
                while not changed_row[x]:
                    x -= 1
                stop = max(stop, x + 1)
    if last == 0:
        return 0, 0, 0, 0
    return first, last, start, stop


def paint_screen(uint32_t[:, ::1] screen, const uint8_t[:, ::1] shown, const uint32_t[::1] colours,
                 const uint8_t[:, :] drawn_where, int transparent, Py_ssize_t top, Py_ssize_t left,
                 bint where_not=False):
    """Draw a frame's rectangle onto the screen model, in place.

    Args:
        screen: uint32 (H, W) the screen model.
        shown: uint8 (h, w) the indices a decoder shows in the rectangle at (``top``, ``left``).
        colours: uint32 (K,) their packed colours.
        drawn_where: bool as uint8 (h, w), the pixels drawn when the frame has no transparent index (with
            ``where_not``, the pixels not drawn).
        transparent: the frame's transparent index (its pixels leave the screen as it is), or -1.
    """
    cdef Py_ssize_t y, x, j
    cdef bint drawn
    with nogil:
        for y in range(shown.shape[0]):
            for x in range(shown.shape[1]):
                j = shown[y, x]
                if transparent >= 0:
                    drawn = j != transparent
                else:
                    drawn = (drawn_where[y, x] != 0) != where_not
                if drawn:
                    screen[top + y, left + x] = colours[j]


def same_colours(const uint8_t[:, ::1] first, const uint32_t[::1] first_colours, const uint8_t[:, ::1] second,
                 const uint32_t[::1] second_colours):
    """True when two frames of indices show the same colour at every pixel, each through its own palette.

    Args:
        first, second: uint8 (H, W) palette indices, of one shape.
        first_colours, second_colours: uint32 (256,) each frame's palette, packed, padded to 256 entries.

    Stops at the first pixel that differs: consecutive frames that differ mostly do so early.
    """
    cdef Py_ssize_t height = first.shape[0], width = first.shape[1], y = 0, x
    cdef bint same = True
    if second.shape[0] != height or second.shape[1] != width:
        return False
    if first_colours.shape[0] < 256 or second_colours.shape[0] < 256:
        raise ValueError("same_colours: the packed palettes must have 256 entries")
    with nogil:
        while same and y < height:
            for x in range(width):
                if first_colours[first[y, x]] != second_colours[second[y, x]]:
                    same = False
                    break
            y += 1
    return same


def rectangle_masks(const uint8_t[:, ::1] indices, const uint8_t[:, ::1] changed, const uint8_t[:, ::1] opaque,
                    const uint8_t[:, ::1] left_alone, bint has_left_alone, Py_ssize_t top, Py_ssize_t bottom,
                    Py_ssize_t left, Py_ssize_t right, bint draw_all):
    """What a frame's plan needs of its rectangle (rows ``top:bottom``, columns ``left:right``), in one pass.

    Args:
        indices: uint8 (H, W) the frame's palette indices.
        changed: bool as uint8 (H, W), nonzero where the frame changes the screen.
        opaque: bool as uint8 (H, W), nonzero where the frame is opaque.
        left_alone: bool as uint8 (H, W), nonzero where the frame leaves the screen as it is (its
            indices mean nothing there); read only when ``has_left_alone``.
        draw_all: keep nothing (the frame is cleared afterwards, so it is drawn whole).

    Returns:
        ``(indices, hidden, keep, used, all_opaque)``: uint8 (h, w) a copy of the rectangle's indices;
        bool (h, w) ``keep``, the opaque unchanged pixels that may be left to the screen (never one left
        alone); bool (h, w) ``hidden``, the pixels the frame need not draw (kept, transparent or left
        alone); bool (256,) the index values of the pixels drawn; and whether every pixel of the
        rectangle is opaque.
    """
    cdef Py_ssize_t height = bottom - top, width = right - left, y, x
    if (top < 0 or left < 0 or height < 0 or width < 0 or bottom > indices.shape[0] or right > indices.shape[1]
            or changed.shape[0] != indices.shape[0] or changed.shape[1] != indices.shape[1]
            or opaque.shape[0] != indices.shape[0] or opaque.shape[1] != indices.shape[1]
            or (has_left_alone and (left_alone.shape[0] != indices.shape[0]
                                    or left_alone.shape[1] != indices.shape[1]))):
        raise ValueError("rectangle_masks: the masks must have the frame's shape, and hold the rectangle")
    out_array = np.empty((height, width), np.uint8)
    hidden_array = np.empty((height, width), np.bool_)
    keep_array = np.empty((height, width), np.bool_)
    used_array = np.zeros(256, np.bool_)
    cdef uint8_t[:, ::1] out = out_array
    cdef uint8_t[:, ::1] hidden = hidden_array.view(np.uint8)
    cdef uint8_t[:, ::1] keep = keep_array.view(np.uint8)
    cdef uint8_t[::1] used = used_array.view(np.uint8)
    cdef uint32_t counts[256]
    cdef uint8_t shown, alone, kept, every_shown = 1
    cdef uint8_t may_keep = 0 if draw_all else 1
    cdef const uint8_t* index_row
    cdef const uint8_t* changed_row
    cdef const uint8_t* opaque_row
    cdef const uint8_t* alone_row = NULL
    cdef uint8_t* keep_row
    cdef uint8_t* hidden_row
    cdef int k
    for k in range(256):
        counts[k] = 0
    cdef const uint8_t[::1] none_alone       # without pixels left alone: every row's is this row of zeros
    if not has_left_alone:
        none_alone = np.zeros(max(width, 1), np.uint8)
        alone_row = &none_alone[0]
    with nogil:
        # bitwise on 0/1 bytes, without branches: the masks are often noise, which branches mispredict. The
        # masks' loop has no tally in it, so the compiler does it 16 pixels at a time; the tally of the drawn
        # values follows. The star field's 40 frames, as its encode plans them, took 12.6 ms in all with the
        # tally in the same loop, and take 4.3 to 4.6 (fastest of 20 each, alternated builds, 2 cores,
        # 2026-12-05), or 4.7 to 4.9 with the one loop that reads a row of zeros where no pixel is left alone
        for y in range(height):
            index_row = &indices[top + y, left]
            changed_row = &changed[top + y, left]
            opaque_row = &opaque[top + y, left]
            keep_row = &keep[y, 0]
            hidden_row = &hidden[y, 0]
            memcpy(&out[y, 0], index_row, width)
            if has_left_alone:
                alone_row = &left_alone[top + y, left]
            for x in range(width):
                shown = opaque_row[x] != 0
                alone = alone_row[x] != 0
                kept = shown & may_keep & (alone ^ 1) & (changed_row[x] == 0)
                keep_row[x] = kept
                hidden_row[x] = kept | alone | (shown ^ 1)
                every_shown &= shown
            for x in range(width):
                counts[index_row[x]] += hidden_row[x] ^ 1
        for k in range(256):
            used[k] = counts[k] != 0
    cdef bint all_opaque = every_shown != 0
    return out_array, hidden_array, keep_array, used_array, all_opaque
