# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled bookkeeping of the steady-camera mapper: which pixels a frame redraws, and the screen after it.

In numpy each step took several passes over the frame and a temporary per pass (the differences as int32,
a boolean mask's gathers and scatters): 640x360 frames of a talking head spent 12 ms a frame on them,
as long as mapping the pixels drawn.
"""

from libc.stdint cimport int32_t, uint8_t


def select_redraw(const uint8_t[:, :, ::1] shown, const uint8_t[:, :, ::1] wanted, double bound,
                  uint8_t[:, ::1] draw, uint8_t[:, ::1] drawn):
    """Mark the pixels whose colour on screen lies further than ``bound`` from the colour wanted, and
    gather their wanted colours.

    Args:
        shown, wanted: uint8 (H, W, 3) the screen and the frame.
        bound: RGB distance, 0..442: a pixel is redrawn where the Euclidean distance between its two colours
            is larger.
        draw: uint8 (H, W) receives 1 where the pixel is redrawn, else 0.
        drawn: uint8 (H * W, 3) receives the wanted colours of the pixels redrawn, in scan order, in its
            first rows.

    Returns:
        How many pixels are redrawn (the rows of ``drawn`` written).
    """
    cdef Py_ssize_t height = wanted.shape[0], width = wanted.shape[1], y, x, n = 0
    cdef int32_t dr, dg, db
    cdef double limit = bound * bound
    if (shown.shape[0] != height or shown.shape[1] != width or shown.shape[2] != 3 or wanted.shape[2] != 3
            or draw.shape[0] != height or draw.shape[1] != width or drawn.shape[0] < height * width
            or drawn.shape[1] != 3):
        raise ValueError("select_redraw: shown and wanted must be (H, W, 3), draw (H, W) and drawn (H * W, 3)")
    with nogil:
        for y in range(height):
            for x in range(width):
                dr = <int32_t>shown[y, x, 0] - wanted[y, x, 0]
                dg = <int32_t>shown[y, x, 1] - wanted[y, x, 1]
                db = <int32_t>shown[y, x, 2] - wanted[y, x, 2]
                if dr * dr + dg * dg + db * db > limit:
                    draw[y, x] = 1
                    drawn[n, 0] = wanted[y, x, 0]
                    drawn[n, 1] = wanted[y, x, 1]
                    drawn[n, 2] = wanted[y, x, 2]
                    n += 1
                else:
                    draw[y, x] = 0
    return n


def paint_drawn(uint8_t[:, :, ::1] screen, const uint8_t[:, ::1] draw, const uint8_t[:, ::1] indices,
                const uint8_t[:, ::1] palette):
    """Show on ``screen`` the palette colours a frame draws.

    Args:
        screen: uint8 (H, W, 3), changed where ``draw`` is nonzero to the colour of the pixel's index.
        draw: uint8 (H, W) nonzero where the frame draws.
        indices: uint8 (H, W) the frame's palette indices.
        palette: uint8 (K, 3); every index drawn must be below K.
    """
    cdef Py_ssize_t height = screen.shape[0], width = screen.shape[1], y, x, k = palette.shape[0], index
    if (screen.shape[2] != 3 or draw.shape[0] != height or draw.shape[1] != width or indices.shape[0] != height
            or indices.shape[1] != width or palette.shape[1] != 3):
        raise ValueError("paint_drawn: screen must be (H, W, 3), draw and indices (H, W), palette (K, 3)")
    with nogil:
        for y in range(height):
            for x in range(width):
                if draw[y, x]:
                    index = indices[y, x]
                    if index >= k:
                        with gil:
                            raise ValueError(f"paint_drawn: index {index} is outside a palette of {k}")
                    screen[y, x, 0] = palette[index, 0]
                    screen[y, x, 1] = palette[index, 1]
                    screen[y, x, 2] = palette[index, 2]
