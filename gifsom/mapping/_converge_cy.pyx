# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled bookkeeping of the steady-camera mapper: which pixels a frame redraws (or may touch up), the
screen after it, and the still picture's mean that smooth video is drawn from (``still_mean``).

In numpy each step took several passes over the frame and a temporary per pass (the differences as int32,
a boolean mask's gathers and scatters): 640x360 frames of a talking head spent 12 ms a frame on them,
as long as mapping the pixels drawn.
"""

from libc.math cimport floor, sqrt
from libc.stdlib cimport free, malloc
from libc.stdint cimport int32_t, uint8_t, uint64_t

from ..colours._luma cimport luma


cdef enum:
    MARK_KEEP = 0
    MARK_MUST = 1
    MARK_TOUCH_UP = 2

#: Marks of :func:`select_redraw`: a pixel left to the screen, one the frame must redraw, and one it may touch up.
KEEP, MUST, TOUCH_UP = MARK_KEEP, MARK_MUST, MARK_TOUCH_UP


cdef inline double _activity(const double* lumas, Py_ssize_t height, Py_ssize_t width, Py_ssize_t y,
                             Py_ssize_t x) noexcept nogil:
    """How busy the picture is about pixel (y, x): the RMS of luma (0..255) about its mean over the 3 x 3
    pixels around it (those inside the frame), from the frame's lumas, float64 (height, width).

    Inside the frame the nine are summed unrolled, in the order the loop at the edges takes (row by row):
    the same sums to the last bit, in a third of the time (a camera's frames test a third of their pixels).
    """
    cdef Py_ssize_t top, bottom, left, right, i, j
    cdef double total, squares, value, count, mean
    cdef const double* row
    if 0 < y < height - 1 and 0 < x < width - 1:
        row = lumas + (y - 1) * width + x - 1
        total = row[0] + row[1]
        total += row[2]
        squares = row[0] * row[0] + row[1] * row[1]
        squares += row[2] * row[2]
        for i in range(2):
            row += width
            total += row[0]
            total += row[1]
            total += row[2]
            squares += row[0] * row[0]
            squares += row[1] * row[1]
            squares += row[2] * row[2]
        mean = total / 9.0
        return sqrt(max(squares / 9.0 - mean * mean, 0.0))
    top, bottom = max(y - 1, 0), min(y + 2, height)
    left, right = max(x - 1, 0), min(x + 2, width)
    total = squares = 0.0
    count = (bottom - top) * (right - left)
    for i in range(top, bottom):
        for j in range(left, right):
            value = lumas[i * width + j]
            total += value
            squares += value * value
    mean = total / count
    return sqrt(max(squares / count - mean * mean, 0.0))


def select_redraw(const uint8_t[:, :, ::1] shown, const uint8_t[:, :, ::1] wanted, double bound,
                  double touch_up, double busy, uint8_t[:, ::1] draw, uint8_t[:, ::1] drawn):
    """Mark the pixels whose colour on screen lies further than ``bound`` from the colour wanted, and
    gather their wanted colours; also mark, where the picture is smooth, pixels within the bound that a
    frame may touch up.

    A pixel within the bound may be touched up when its distance exceeds ``bound`` times
    ``touch_up + (1 - touch_up) * activity / busy`` (at most ``bound``), where activity is the RMS of the
    wanted frame's luma over the 3 x 3 pixels around it: on smooth parts, where the eye sees small errors,
    a frame's palette may come nearer than the screen. ``touch_up`` 1 touches up nothing.

    Args:
        shown, wanted: uint8 (H, W, 3) the screen and the frame.
        bound: RGB distance, 0..442: a pixel is redrawn where the Euclidean distance between its two colours
            is larger.
        touch_up: 0..1, the share of the bound beyond which a pixel on the smoothest parts may be touched up.
        busy: luma RMS (levels, > 0) at which a part is busy enough that nothing within the bound is touched up.
        draw: uint8 (H, W) receives :data:`MUST` where the pixel is redrawn, :data:`TOUCH_UP` where it may be,
            else :data:`KEEP`.
        drawn: uint8 (H * W, 3) receives the wanted colours of the pixels that must be redrawn, in scan
            order, in its first rows.

    Returns:
        How many pixels must be redrawn (the rows of ``drawn`` written).
    """
    cdef Py_ssize_t height = wanted.shape[0], width = wanted.shape[1], y, x, n = 0
    cdef double limit = bound * bound, lowest = touch_up * touch_up * bound * bound
    if (shown.shape[0] != height or shown.shape[1] != width or shown.shape[2] != 3 or wanted.shape[2] != 3
            or draw.shape[0] != height or draw.shape[1] != width or drawn.shape[0] < height * width
            or drawn.shape[1] != 3):
        raise ValueError("select_redraw: shown and wanted must be (H, W, 3), draw (H, W) and drawn (H * W, 3)")
    if not (0.0 <= touch_up <= 1.0 and busy > 0.0):
        raise ValueError("select_redraw: touch_up must be 0..1 and busy above 0")
    cdef double* lumas = NULL
    if touch_up < 1.0:
        # every pixel's luma once: a pixel that may be touched up reads the 9 about it (most pixels of camera
        # video near the bound are, and each luma served 9 of them)
        lumas = <double*>malloc(max(height * width, 1) * sizeof(double))
        if lumas == NULL:
            raise MemoryError()
    cdef double red[256]
    cdef double green[256]
    cdef double blue[256]
    cdef const uint8_t* pixel
    cdef int level
    with nogil:
        if lumas != NULL:
            # each channel's term of :func:`luma` by level, so that a pixel's luma is two sums of three
            # loads: the same products, summed in luma's order
            for level in range(256):
                red[level] = luma(level, 0.0, 0.0)
                green[level] = luma(0.0, level, 0.0)
                blue[level] = luma(0.0, 0.0, level)
            for y in range(height):
                pixel = &wanted[y, 0, 0]
                for x in range(width):
                    lumas[y * width + x] = red[pixel[0]] + green[pixel[1]] + blue[pixel[2]]
                    pixel += 3
        n = _select(shown, wanted, limit, lowest, touch_up, busy, lumas, draw, drawn)
    free(lumas)
    return n


cdef Py_ssize_t _select(const uint8_t[:, :, ::1] shown, const uint8_t[:, :, ::1] wanted, double limit,
                        double lowest, double touch_up, double busy, const double* lumas, uint8_t[:, ::1] draw,
                        uint8_t[:, ::1] drawn) noexcept nogil:
    """:func:`select_redraw`'s loop, with squared bounds, and the wanted frame's lumas where pixels may be
    touched up (else NULL)."""
    cdef Py_ssize_t height = wanted.shape[0], width = wanted.shape[1], y, x, n = 0
    cdef int32_t dr, dg, db
    cdef double distance, share
    for y in range(height):
        for x in range(width):
            dr = <int32_t>shown[y, x, 0] - wanted[y, x, 0]
            dg = <int32_t>shown[y, x, 1] - wanted[y, x, 1]
            db = <int32_t>shown[y, x, 2] - wanted[y, x, 2]
            distance = dr * dr + dg * dg + db * db
            if distance > limit:
                draw[y, x] = MARK_MUST
                drawn[n, 0] = wanted[y, x, 0]
                drawn[n, 1] = wanted[y, x, 1]
                drawn[n, 2] = wanted[y, x, 2]
                n += 1
            elif distance > lowest and touch_up < 1.0:
                share = min(touch_up + (1.0 - touch_up) * _activity(lumas, height, width, y, x) / busy, 1.0)
                draw[y, x] = MARK_TOUCH_UP if distance > share * share * limit else MARK_KEEP
            else:
                draw[y, x] = MARK_KEEP
    return n


def paint_drawn(uint8_t[:, :, ::1] screen, uint8_t[:, ::1] draw, const uint8_t[:, ::1] indices,
                const uint8_t[:, ::1] palette, const uint8_t[:, :, ::1] wanted, double gain=1.0,
                bint nearer_only=False):
    """Show on ``screen`` the palette colours a frame draws, and settle its touch-ups (and, with
    ``nearer_only``, its other pixels).

    Args:
        screen: uint8 (H, W, 3), changed where the frame draws to the colour of the pixel's index.
        draw: uint8 (H, W) marks as :func:`select_redraw` gives them (any other nonzero mark draws). A pixel
            marked :data:`TOUCH_UP` is drawn only where the squared RGB distance from its index's colour to its
            wanted colour, times ``gain``, is below the screen's; its mark becomes :data:`MUST` where it is
            drawn, else :data:`KEEP`.
        indices: uint8 (H, W) the frame's palette indices.
        palette: uint8 (K, 3); every index drawn must be below K.
        wanted: uint8 (H, W, 3) the frame.
        gain: at least 1, how many times nearer (in squared distance) a touch-up must bring a pixel.
        nearer_only: a pixel marked :data:`MUST` is drawn only where its index's colour lies nearer its wanted
            colour than the screen's (its mark becomes :data:`KEEP` elsewhere); else every one is drawn.
    """
    cdef Py_ssize_t height = screen.shape[0], width = screen.shape[1], y, x, k = palette.shape[0], index, c
    cdef int32_t now, then, d
    if not gain >= 1.0:
        raise ValueError("paint_drawn: gain must be at least 1")
    if (screen.shape[2] != 3 or draw.shape[0] != height or draw.shape[1] != width or indices.shape[0] != height
            or indices.shape[1] != width or palette.shape[1] != 3 or wanted.shape[0] != height
            or wanted.shape[1] != width or wanted.shape[2] != 3):
        raise ValueError("paint_drawn: screen and wanted must be (H, W, 3), draw and indices (H, W), palette (K, 3)")
    with nogil:
        for y in range(height):
            for x in range(width):
                if draw[y, x]:
                    index = indices[y, x]
                    if index >= k:
                        with gil:
                            raise ValueError(f"paint_drawn: index {index} is outside a palette of {k}")
                    if draw[y, x] == MARK_TOUCH_UP or nearer_only:
                        now = 0
                        then = 0
                        for c in range(3):
                            d = <int32_t>palette[index, c] - wanted[y, x, c]
                            now += d * d
                            d = <int32_t>screen[y, x, c] - wanted[y, x, c]
                            then += d * d
                        if now * (gain if draw[y, x] == MARK_TOUCH_UP else 1.0) >= then:
                            draw[y, x] = MARK_KEEP
                            continue
                        draw[y, x] = MARK_MUST
                    screen[y, x, 0] = palette[index, 0]
                    screen[y, x, 1] = palette[index, 1]
                    screen[y, x, 2] = palette[index, 2]


#: Runs of up to this many frames divide their sums by a multiply and a shift (exact for sums of 8-bit values
#: over at most this many frames, checked for every sum); longer ones divide.
cdef enum:
    MOST_MAGIC_FRAMES = 256


def still_mean(const uint8_t[:, :, :, ::1] ring, Py_ssize_t first, Py_ssize_t count, double bound,
               uint8_t[:, :, ::1] out):
    """Each pixel's mean colour over the frames from ``first`` on while it stays within ``bound`` of its
    colour there: what a pixel that only flickers shows on average.

    Frame t of the run (t = 0 .. count - 1) is ``ring[(first + t) % K]``. A pixel's run ends before the
    first frame whose colour lies further than ``bound`` (Euclidean RGB distance) from its colour in frame
    0, or after ``count`` frames; its mean over the run is rounded to the nearest level (halves up).

    Args:
        ring: uint8 (K, H, W, 3) frames in a ring buffer.
        first: 0 .. K - 1, the slot of frame 0.
        count: 1 .. K, the frames of the run at most.
        bound: RGB distance, 0..442.
        out: uint8 (H, W, 3) receives the means.
    """
    cdef Py_ssize_t slots = ring.shape[0], height = ring.shape[1], width = ring.shape[2], at, t, n, end
    cdef int32_t dr, dg, db, red, green, blue, reach
    cdef double limit = bound * bound
    if (ring.shape[3] != 3 or out.shape[0] != height or out.shape[1] != width or out.shape[2] != 3
            or not 0 <= first < slots or not 1 <= count <= slots):
        raise ValueError("still_mean: ring must be (K, H, W, 3) and out (H, W, 3), with 0 <= first < K and "
                         "1 <= count <= K")
    # each frame of the run where it lies in the ring, and for each length of run n the multiplier whose
    # product, shifted down 32 bits, is a sum over n frames (doubled, plus n) divided by 2n
    cdef const uint8_t** frames = <const uint8_t**>malloc(count * sizeof(uint8_t*))
    cdef uint64_t* magic = <uint64_t*>malloc((count + 1) * sizeof(uint64_t))
    cdef const uint8_t* here
    cdef const uint8_t* there
    cdef uint8_t* mean
    if frames == NULL or magic == NULL:
        free(frames)
        free(magic)
        raise MemoryError()
    with nogil:
        for t in range(count):
            frames[t] = &ring[(first + t) % slots, 0, 0, 0]
        for n in range(1, count + 1):
            magic[n] = ((<uint64_t>1) << 32) // (2 * n) + 1
        end = height * width * 3
        mean = &out[0, 0, 0]
        reach = <int32_t>floor(limit) if limit < 1e9 else 1000000000   # distances are whole: d > limit, d > reach
        for at in range(0, end, 3):
            here = frames[0] + at
            red = here[0]
            green = here[1]
            blue = here[2]
            n = 1
            for t in range(1, count):
                there = frames[t] + at
                dr = <int32_t>there[0] - here[0]
                dg = <int32_t>there[1] - here[1]
                db = <int32_t>there[2] - here[2]
                if dr * dr + dg * dg + db * db > reach:
                    break
                red += there[0]
                green += there[1]
                blue += there[2]
                n += 1
            if count <= MOST_MAGIC_FRAMES:
                mean[at] = <uint8_t>(((2 * red + n) * magic[n]) >> 32)
                mean[at + 1] = <uint8_t>(((2 * green + n) * magic[n]) >> 32)
                mean[at + 2] = <uint8_t>(((2 * blue + n) * magic[n]) >> 32)
            else:
                mean[at] = <uint8_t>((2 * red + n) // (2 * n))
                mean[at + 1] = <uint8_t>((2 * green + n) // (2 * n))
                mean[at + 2] = <uint8_t>((2 * blue + n) // (2 * n))
    free(frames)
    free(magic)
