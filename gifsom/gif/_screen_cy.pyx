# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled loops of the screen model (``screen_model.py``): what a frame changes on screen, and
painting the screen model.

The screen model is uint32 (H, W): packed colours ``r << 16 | g << 8 | b``, and
``EMPTY`` (1 << 24, above every packed colour) where nothing shows.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t

import numpy as np

cdef uint32_t EMPTY_PIXEL = 1 << 24
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
    cdef int32_t limit = <int32_t>min(<int64_t>tolerance * tolerance, 3 * 255 * 255), gap, dr, dg, db
    cdef uint32_t value, on_screen
    cdef uint8_t differs, row_changed
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
            row_changed = 0
            # without branches on the pixels' values, which mispredict where the tolerance decides whether a
            # pixel changed: 480x270 frames of close, dark colours drawn at random took 0.80 ms with branches
            # and take 0.40; the star field's own 40 frames (as its encode compares them) 17.5 and 16.4 ms in
            # all (fastest of 20 each, 2 cores, 2026-12-05)
            for x in range(left, right):
                value = colours[index_row[x]]
                if has_mask:
                    value = value if opaque_row[x] else EMPTY_PIXEL
                on_screen = screen_row[x]
                dr = <int32_t>((value >> 16) & 255) - <int32_t>((on_screen >> 16) & 255)
                dg = <int32_t>((value >> 8) & 255) - <int32_t>((on_screen >> 8) & 255)
                db = <int32_t>(value & 255) - <int32_t>(on_screen & 255)
                gap = dr * dr + dg * dg + db * db
                # an empty pixel, shown or covered, differs from any colour whatever the tolerance
                differs = (value != on_screen) & ((gap > limit) | (value == EMPTY_PIXEL) | (on_screen == EMPTY_PIXEL))
                if alone != NULL:
                    differs &= alone[y * width + x] == 0
                changed_row[x] = differs
                row_changed |= differs
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
    cdef uint8_t value, shown, alone, kept, hide, every_shown = 1
    cdef uint8_t may_keep = 0 if draw_all else 1
    cdef const uint8_t* index_row
    cdef const uint8_t* changed_row
    cdef const uint8_t* opaque_row
    cdef const uint8_t* alone_row = NULL
    cdef int k
    for k in range(256):
        counts[k] = 0
    with nogil:
        # bitwise on 0/1 bytes, without branches: the masks are often noise, which branches mispredict
        for y in range(height):
            index_row = &indices[top + y, left]
            changed_row = &changed[top + y, left]
            opaque_row = &opaque[top + y, left]
            if has_left_alone:
                alone_row = &left_alone[top + y, left]
            for x in range(width):
                value = index_row[x]
                shown = opaque_row[x] != 0
                alone = (alone_row[x] != 0) if has_left_alone else 0
                kept = shown & may_keep & (alone ^ 1) & (changed_row[x] == 0)
                hide = kept | alone | (shown ^ 1)
                out[y, x] = value
                keep[y, x] = kept
                hidden[y, x] = hide
                counts[value] += hide ^ 1
                every_shown &= shown
        for k in range(256):
            used[k] = counts[k] != 0
    cdef bint all_opaque = every_shown != 0
    return out_array, hidden_array, keep_array, used_array, all_opaque
