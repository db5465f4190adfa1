# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""GIF's LZW, compiled: a greedy parse (exact or lossy), a parse with one step of lookahead, and a lossy
parse that searches for the longest strings within bounds measured against the pixels' source colours.

Both take the caller's string table, ``table`` (int16, 4096 * 256: prefix code *
256 + pixel -> the code's bitwise complement, 0 when absent: see :func:`_code_at`),
and ``assigned`` (int64, 4096: the slots given codes), and leave the table empty
(zeroed) again when they return, so one table per thread serves every image.
Both also take ``runs`` (int16, :data:`RUNS_SIZE`), scratch space where they
keep the codes of strings that repeat one pixel: through a run of one index
they jump to the longest such string that the run covers, instead of walking
the table one dependent load per pixel. The codes are the same; flat screen
content is mostly runs.

The lossy greedy parse also takes ``near`` (int32, :data:`NEAR_SIZE`): for each
index value, the other values whose colours lie within the tolerance, nearest
first, listed the first time the value needs them. Where the string has no exact
continuation, the parse looks those values up in the table's row for the string,
nearest first, where that list is no longer than twice the string's continuations,
and walks the continuations otherwise: both find the same one.

The longest-string parse (``encode_longest``) keeps the table as a tree instead
(for each code a row of its first 16 continuations and their values, and the
length of its longest continuation) and searches it depth first for each code.
Only a string with more continuations than its row holds has them in ``table``
and in a 256-bit set of their values, both written when its row overflows. It
encodes one part of a stream from an empty table, and ``join_parts`` puts the
parts together, a clear code between them, so that parts of one image can be
encoded at once.
"""

from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, qsort

from ._packing cimport Packer, flush as _flush, put_code as _put, start_packing, sub_blocks as _sub_blocks

import numpy as np

cdef enum:
    MAX_CODE = 4095
    MATCH_ROW = 4097
    LONGEST = 4096        # a string is never longer than the number of codes
    TREE_SETS = 4096 * 8 + 8    # where the ``tree`` scratch's sets begin: past 4096 nodes and the room to align them

#: int16 elements of the ``runs`` scratch array: for each pixel value, the codes of its runs by length
#: (256 * 4096); for each code, the length of the run it stands for (0: not a run) and its pixel value
#: (2 * 4096); for each pixel value, the longest run with a code (256).
RUNS_SIZE = 256 * LONGEST + 2 * 4096 + 256
#: int32 elements of the ``near`` scratch array: for each index value, how many other values have colours
#: within the tolerance (-1: not listed yet) (256); then for each index value, those values as keys
#: ``squared distance * 256 + value``, in ascending order (256 * 256).
NEAR_SIZE = 256 + 256 * 256
#: uint64 elements of the ``near`` scratch array of the longest-string parse: for each index value, a 256-bit
#: set of the values whose colours lie within the drift of its colour.
NEAR_SETS_SIZE = 256 * 4
#: uint64 elements of the ``tree`` scratch array of the longest-string parse: its string table as a tree, one
#: 64-byte node a code (with room to start the nodes on a cache line), then for each code a 256-bit set of
#: the values that continue it. Nothing in it is read before the parse writes it.
TREE_SIZE = TREE_SETS + 4096 * 4


cdef struct Runs:
    int16_t* code_of          # [pixel * LONGEST + length]: the code of ``length`` repeats of ``pixel``
    int16_t* length_of        # [code]: how many repeats of one pixel the code's string is; 0 if it is not a run
    int16_t* pixel_of         # [code]: that pixel
    int16_t* longest          # [pixel]: the longest run of ``pixel`` with a code
    bint jump                 # jump through runs (False: walk the table, as a check on the jumps)


cdef int _runs_view(Runs* r, int16_t[::1] runs, bint jump) except -1:
    """Point ``r`` into the caller's scratch array (int16, :data:`RUNS_SIZE`)."""
    if runs.shape[0] < RUNS_SIZE:
        raise ValueError("runs scratch array too small")
    r.code_of = &runs[0]
    r.length_of = r.code_of + 256 * LONGEST
    r.pixel_of = r.length_of + 4096
    r.longest = r.pixel_of + 4096
    r.jump = jump
    return 0


cdef inline void _runs_restart(Runs* r, int64_t clear) noexcept nogil:
    """After a clear code: every pixel value is a run of one, and no longer run has a code."""
    cdef int64_t pixel
    for pixel in range(clear):
        r.code_of[pixel * LONGEST + 1] = <int16_t>pixel
        r.length_of[pixel] = 1
        r.pixel_of[pixel] = <int16_t>pixel
        r.longest[pixel] = 1
    r.length_of[clear] = 0
    r.length_of[clear + 1] = 0


cdef inline void _runs_add(Runs* r, int64_t code, int64_t prefix, int64_t pixel) noexcept nogil:
    """Note the new ``code`` for the string of ``prefix`` followed by ``pixel``."""
    cdef int64_t length = r.length_of[prefix]
    if length and r.pixel_of[prefix] == pixel:
        length += 1
        r.code_of[pixel * LONGEST + length] = <int16_t>code
        r.longest[pixel] = <int16_t>length
        r.length_of[code] = <int16_t>length
        r.pixel_of[code] = <int16_t>pixel
    else:
        r.length_of[code] = 0


cdef struct Near:
    int32_t* count            # [pixel]: how many values are listed for ``pixel``; -1 until they are
    int32_t* keys             # [pixel * 256 + k]: squared distance * 256 + value, ascending
    const int64_t* colours    # (256, 3) the colour of each index value
    int64_t tolerance2
    int64_t values            # values 0 .. values - 1 are listed (the pixels' range: 2 ** min_code_size)


cdef int _near_view(Near* n, int32_t[::1] near, const int64_t[:, ::1] colours, int64_t tolerance2,
                    int64_t values, bint listed) except -1:
    """Point ``n`` into the caller's scratch array (int32, :data:`NEAR_SIZE`) for pixels ``0 .. values - 1``;
    ``listed``: the lists in it were made for these very colours, tolerance and values, and are kept (else
    every list is made again)."""
    cdef Py_ssize_t pixel
    if near.shape[0] < NEAR_SIZE or colours.shape[0] < 256 or colours.shape[1] != 3:
        raise ValueError("near scratch array too small, or colours not (256, 3)")
    if tolerance2 >= (1 << 23):
        raise ValueError("tolerance too large")
    n.count = &near[0]
    n.keys = n.count + 256
    n.colours = &colours[0, 0]
    n.tolerance2 = tolerance2
    n.values = values
    if not listed:
        for pixel in range(256):
            n.count[pixel] = -1
    return 0


cdef inline int64_t _distance2(const int64_t* colours, int64_t a, int64_t b) noexcept nogil:
    """Squared RGB distance between the colours (``colours``: (256, 3)) of index values ``a`` and ``b``."""
    cdef int64_t dr = colours[3 * a] - colours[3 * b]
    cdef int64_t dg = colours[3 * a + 1] - colours[3 * b + 1]
    cdef int64_t db = colours[3 * a + 2] - colours[3 * b + 2]
    return dr * dr + dg * dg + db * db


cdef int _compare_keys(const void* a, const void* b) noexcept nogil:
    cdef int32_t x = (<const int32_t*>a)[0], y = (<const int32_t*>b)[0]
    return (x > y) - (x < y)


cdef int32_t _near_list(Near* n, int64_t pixel) noexcept nogil:
    """List the values other than ``pixel`` whose colours are within the tolerance of its colour, nearest
    first (equal distances: lower value first); returns how many."""
    cdef int32_t* keys = n.keys + pixel * 256
    cdef int32_t k = 0
    cdef int64_t s, d
    for s in range(n.values):
        d = _distance2(n.colours, s, pixel)
        if s != pixel and d <= n.tolerance2:
            keys[k] = <int32_t>(d * 256 + s)
            k += 1
    qsort(keys, k, sizeof(int32_t), _compare_keys)
    n.count[pixel] = k
    return k


cdef inline int32_t _near_count(Near* n, int64_t pixel) noexcept nogil:
    """How many values are listed as near ``pixel`` (listing them the first time)."""
    cdef int32_t count = n.count[pixel]
    return count if count >= 0 else _near_list(n, pixel)


cdef inline int64_t _near_continuation(Near* n, const int16_t* row, int64_t pixel, int64_t transparent,
                                       int64_t* value) noexcept nogil:
    """The code of the nearest continuation in ``row`` (the table's row of the string: value -> code, as
    :func:`_code_at` reads it) whose colour is within the tolerance of ``pixel``'s, never ``transparent``; of equally
    near ones the newest (highest code). -1 when there is none; else its value goes to ``value``."""
    cdef int32_t count = _near_count(n, pixel), i, key, found = -1
    cdef const int32_t* keys = n.keys + pixel * 256
    cdef int64_t best = -1, code, s
    for i in range(count):
        key = keys[i]
        if found >= 0 and (key >> 8) != found:
            break                 # every value left is farther than the one found
        s = key & 255
        code = _code_at(row, s)
        if code > best and s != transparent:
            best = code
            value[0] = s
            found = key >> 8
    return best


cdef inline int64_t _walked_continuation(const int16_t* first_child, const int16_t* next_sibling,
                                         const int64_t* suffix, const int64_t* colours, int64_t tolerance2,
                                         int64_t prefix, int64_t pixel, int64_t transparent,
                                         int64_t* value) noexcept nogil:
    """What :func:`_near_continuation` finds, found by walking every continuation of the string ``prefix``
    (newest first, through ``first_child`` and ``next_sibling``; ``suffix``: each code's last value)."""
    cdef int64_t best = -1, best_d = tolerance2 + 1, child = first_child[prefix], s, d
    while child >= 0:
        s = suffix[child]
        if s != transparent:
            d = _distance2(colours, s, pixel)
            if d < best_d:
                best_d = d
                best = child
        child = next_sibling[child]
    if best >= 0:
        value[0] = suffix[best]
    return best


cdef inline int64_t _code_at(const int16_t* table, int64_t slot) noexcept nogil:
    """The code a string table holds at ``slot``, -1 when none. A code is held as its bitwise complement,
    so that an empty table is all zeros: a new one comes from zeroed pages that are faulted in only where a
    code is written. Filled with -1, each new table (2 MiB) faulted in all of its 512 pages at once, three
    or four tables at the start of a lossy clip (each page 3.5 to 5 us on the 2-core machine), where the
    lossy parse writes few."""
    return ~(<int64_t>table[slot])


cdef inline void _hold_code(int16_t* table, int64_t slot, int64_t code) noexcept nogil:
    """Hold ``code`` at ``slot`` of a string table (see :func:`_code_at`)."""
    table[slot] = <int16_t>(~code)


cdef struct Table:
    int16_t* codes
    int64_t* assigned
    Py_ssize_t n_assigned
    int64_t next_code
    int bits
    int min_code_size


cdef inline void _restart(Table* t) noexcept nogil:
    """Forget the strings given codes since the last clear; codes start again after clear and end."""
    cdef Py_ssize_t j
    for j in range(t.n_assigned):
        t.codes[t.assigned[j]] = 0
    t.n_assigned = 0
    t.bits = t.min_code_size + 1
    t.next_code = (1 << t.min_code_size) + 2


cdef inline void _give_code(Table* t, int64_t slot, bint store) noexcept nogil:
    """Take the next code for the string at ``slot`` (remembered only when ``store``); the code
    size grows once the next code no longer fits (up to 12 bits), as every decoder does."""
    if store:
        _hold_code(t.codes, slot, t.next_code)
        t.assigned[t.n_assigned] = slot
        t.n_assigned += 1
    t.next_code += 1
    if t.next_code > (1 << t.bits) and t.bits < 12:
        t.bits += 1


cdef inline int _closing_width(Table* t) noexcept nogil:
    """The size of the code that follows the last one put (a clear or end code). A decoder adds the entry
    the last code completes before it reads the next code, and grows the code size then; the encoder
    gives that entry only once it knows the next string's first pixel, which a last code has none of."""
    if t.next_code >= (1 << t.bits) and t.bits < 12:
        return t.bits + 1
    return t.bits


cdef int _begin(Packer* p, Table* t, int16_t[::1] table, int64_t[::1] assigned, int min_code_size,
                Py_ssize_t count) except -1:
    """Allocate the output for ``count`` pixels and start with an empty table."""
    cdef uint8_t* buffer = <uint8_t*>malloc(count * 2 + 64)
    if buffer == NULL:
        raise MemoryError()
    start_packing(p, buffer)
    t.codes = &table[0]
    t.assigned = &assigned[0]
    t.n_assigned = 0
    t.min_code_size = min_code_size
    t.bits = min_code_size + 1
    t.next_code = (1 << min_code_size) + 2
    return 0


def encode_greedy(const uint8_t[::1] pixels, int min_code_size, const int64_t[:, ::1] colours, int64_t tolerance2,
                  int transparent, int16_t[::1] table, int64_t[::1] assigned, int16_t[::1] runs,
                  int32_t[::1] near, bint near_listed, bint jump_runs=True, bint near_first=True):
    """Greedy LZW of a flat uint8 (N,) index stream, exact or lossy.

    Lossy (``tolerance2`` > 0): where the string being matched has no exact
    continuation with the next pixel, a continuation whose colour (``colours``,
    int64 (256, 3)) is within squared RGB distance ``tolerance2`` is taken and
    the pixel is shown in that colour; ``transparent`` (-1: none) is never
    traded for a colour or back. Of several, the nearest is taken, and of equally
    near ones the newest code. It is found by looking up the values near the
    pixel's colour (``near`` and ``near_listed``: see ``_near_view``) where the
    string has at least half as many continuations as the pixel has near values,
    else by walking the string's continuations. ``near_first`` False always walks
    (the same codes: a check on the lists).

    Returns:
        ``(data, shown)``: the image data as sub-blocks with the terminator, and
        uint8 (N,) the indices a decoder will show.
    """
    cdef Py_ssize_t count = pixels.shape[0], i
    cdef int64_t clear = 1 << min_code_size, end = clear + 1, prefix, pixel, slot, code, best, s
    cdef int64_t length, longest, repeats, wanted
    cdef const int64_t* palette = &colours[0, 0]
    cdef bint lossy = tolerance2 > 0
    cdef Runs r
    cdef Near n
    _runs_view(&r, runs, jump_runs)
    if lossy and near_first:
        _near_view(&n, near, colours, tolerance2, clear, near_listed)
    shown_array = np.array(pixels, dtype=np.uint8)
    cdef uint8_t[::1] shown = shown_array
    cdef Packer p
    cdef Table t
    cdef int16_t* first_child = NULL
    cdef int16_t* next_sibling = NULL
    cdef int16_t* children = NULL        # [code]: how many continuations the string has
    cdef int64_t* suffix = NULL
    p.packed = NULL
    if lossy:
        first_child = <int16_t*>malloc(4096 * sizeof(int16_t))
        next_sibling = <int16_t*>malloc(4096 * sizeof(int16_t))
        children = <int16_t*>malloc(4096 * sizeof(int16_t))
        suffix = <int64_t*>malloc(4096 * sizeof(int64_t))
    try:
        if lossy and (first_child == NULL or next_sibling == NULL or children == NULL or suffix == NULL):
            raise MemoryError()
        _begin(&p, &t, table, assigned, min_code_size, count)
        with nogil:
            if lossy:
                for i in range(4096):
                    first_child[i] = -1
                    next_sibling[i] = -1
                    children[i] = 0
                    suffix[i] = 0
            _put(&p, clear, t.bits)
            _runs_restart(&r, clear)
            prefix = pixels[0] if count else -1
            i = 0
            while True:
                i += 1
                if i >= count:
                    break
                pixel = pixels[i]
                length = r.length_of[prefix]
                if r.jump and length and r.pixel_of[prefix] == pixel:
                    # the string so far repeats ``pixel``: count the repeats ahead (no further than one
                    # past the longest run with a code) and jump to the longest run code they reach
                    longest = r.longest[pixel]
                    wanted = longest - length + 1
                    repeats = 1
                    while repeats < wanted and i + repeats < count and pixels[i + repeats] == pixel:
                        repeats += 1
                    if length + repeats <= longest:
                        prefix = r.code_of[pixel * LONGEST + length + repeats]
                        i += repeats - 1
                        continue
                    prefix = r.code_of[pixel * LONGEST + longest]       # the next repeat has no code yet
                    i += longest - length
                slot = prefix * 256 + pixel
                code = _code_at(t.codes, slot)
                if code >= 0:
                    prefix = code
                    continue
                if lossy and pixel != transparent:
                    # whichever finds the same continuation with fewer steps: looking up the values near the
                    # pixel (stopping at the nearest found), or walking every continuation of the string
                    if near_first and _near_count(&n, pixel) <= 2 * children[prefix]:
                        best = _near_continuation(&n, t.codes + prefix * 256, pixel, transparent, &s)
                    else:
                        best = _walked_continuation(first_child, next_sibling, suffix, palette, tolerance2, prefix,
                                                    pixel, transparent, &s)
                    if best >= 0:
                        shown[i] = <uint8_t>s
                        prefix = best
                        continue
                _put(&p, prefix, t.bits)
                if t.next_code >= MAX_CODE:
                    _put(&p, clear, t.bits)
                    _restart(&t)
                    _runs_restart(&r, clear)
                    if lossy:
                        for code in range(4096):
                            first_child[code] = -1
                            children[code] = 0
                else:
                    if lossy:
                        suffix[t.next_code] = pixel
                        next_sibling[t.next_code] = first_child[prefix]
                        first_child[prefix] = <int16_t>t.next_code
                        children[prefix] += 1
                    _runs_add(&r, t.next_code, prefix, pixel)
                    _give_code(&t, slot, True)
                prefix = pixel
            if prefix >= 0:
                _put(&p, prefix, t.bits)
            _put(&p, end, _closing_width(&t))
            _restart(&t)      # leave the table empty for the next image
        return _sub_blocks(&p), shown_array
    finally:
        free(p.packed)
        free(first_child)
        free(next_sibling)
        free(children)
        free(suffix)


cdef inline Py_ssize_t _extend_match(const uint8_t* pixels, Py_ssize_t count, Py_ssize_t start, Py_ssize_t length,
                                     const int16_t* table, int64_t* codes, Runs* r) noexcept nogil:
    """Lengthen a match of ``pixels[start:start + length]`` (code ``codes[length]``) as far as the table allows.

    ``codes[l]`` receives the code of the first l pixels for every l it adds;
    returns the new length. A length of 1 starts from the pixel itself.
    """
    cdef int64_t code = codes[length], following, pixel, run, more, repeats
    while start + length < count:
        pixel = pixels[start + length]
        run = r.length_of[code]
        if r.jump and run and r.pixel_of[code] == pixel and r.longest[pixel] > run:
            # the match so far repeats ``pixel``: take the repeats ahead that longer run codes cover
            more = r.longest[pixel] - run
            repeats = 0
            while repeats < more and start + length < count and pixels[start + length] == pixel:
                repeats += 1
                length += 1
                codes[length] = r.code_of[pixel * LONGEST + run + repeats]
            code = codes[length]
            continue
        following = _code_at(table, code * 256 + pixel)
        if following < 0:
            break
        code = following
        length += 1
        codes[length] = code
    return length


def encode_lookahead(const uint8_t[::1] pixels, int min_code_size, int16_t[::1] table, int64_t[::1] assigned,
                     int16_t[::1] runs, bint jump_runs=True):
    """Exact LZW of a flat uint8 (N,) index stream with one step of lookahead ("flexible parsing").

    Where the longest match has length L, a match of L - 1 is taken instead
    when the match that follows it reaches further. The decoder needs no
    change: it adds a table entry per code whatever the parse, and the encoder
    counts an entry whose string is already in the table without storing it.
    The match looked at beyond the chosen one is where the next step starts, so
    it is kept: the one table entry added since can only lengthen it.

    Returns:
        The image data as sub-blocks with the terminator.
    """
    cdef Py_ssize_t count = pixels.shape[0], i = 0, take, longest, known = 0, reach_shorter, reach_longest
    cdef int64_t clear = 1 << min_code_size, end = clear + 1, code, slot
    cdef int64_t* here
    cdef int64_t* after_shorter
    cdef int64_t* after_longest
    cdef int64_t* chosen
    cdef int64_t* swap
    cdef Packer p
    cdef Table t
    cdef Runs r
    cdef bint fresh
    _runs_view(&r, runs, jump_runs)
    # three match buffers, codes[l]: the code of the first l pixels of a match; swapped rather than copied
    cdef int64_t* matches = <int64_t*>malloc(3 * MATCH_ROW * sizeof(int64_t))
    p.packed = NULL
    try:
        if matches == NULL:
            raise MemoryError()
        _begin(&p, &t, table, assigned, min_code_size, count)
        here, after_shorter, after_longest = matches, matches + MATCH_ROW, matches + 2 * MATCH_ROW
        with nogil:
            _put(&p, clear, t.bits)
            _runs_restart(&r, clear)
            while i < count:
                if known:
                    longest = _extend_match(&pixels[0], count, i, known, t.codes, here, &r)
                else:
                    here[1] = pixels[i]
                    longest = _extend_match(&pixels[0], count, i, 1, t.codes, here, &r)
                take = longest
                chosen = here
                known = 0
                if longest > 1 and i + longest < count:
                    after_shorter[1] = pixels[i + longest - 1]
                    reach_shorter = _extend_match(&pixels[0], count, i + longest - 1, 1, t.codes, after_shorter, &r)
                    after_longest[1] = pixels[i + longest]
                    reach_longest = _extend_match(&pixels[0], count, i + longest, 1, t.codes, after_longest, &r)
                    # the match looked at where the next step starts becomes the kept one
                    if longest - 1 + reach_shorter > longest + reach_longest:
                        take = longest - 1
                        swap = here
                        here = after_shorter
                        after_shorter = swap
                        known = reach_shorter
                    else:
                        swap = here
                        here = after_longest
                        after_longest = swap
                        known = reach_longest
                code = chosen[take]
                _put(&p, code, t.bits)
                if i + take < count:
                    if t.next_code >= MAX_CODE:
                        _put(&p, clear, t.bits)
                        _restart(&t)
                        _runs_restart(&r, clear)
                        known = 0       # the kept match used strings that are gone
                    else:
                        # a string already in the table still takes a code, as the decoder's does
                        slot = code * 256 + pixels[i + take]
                        fresh = _code_at(t.codes, slot) < 0
                        if fresh:
                            _runs_add(&r, t.next_code, code, pixels[i + take])
                        else:
                            r.length_of[t.next_code] = 0      # never found in the table: no run
                        _give_code(&t, slot, fresh)
                i += take
            _put(&p, end, _closing_width(&t))
            _restart(&t)      # leave the table empty for the next image
        return _sub_blocks(&p)
    finally:
        free(p.packed)
        free(matches)


cdef enum:
    # lossy search: a string's first continuations, kept in a row of its own and matched 16 at once; a
    # string with more is looked up in the table. Against walking a linked list of them: the dark star
    # field's lossy frames in 88 against 96 ns a pixel, the cat's in 54 against 63 (the same bytes;
    # 2 cores, 2026-12-03)
    LISTED_CHILDREN = 16
    SEARCH_DEPTH = 256         # lossy search: beyond this many pixels, only exact continuations are followed


cdef extern from *:
    """
    static inline int gifsom_lowest_bit(unsigned long long bits) { return __builtin_ctzll(bits); }
    static inline int gifsom_highest_bit(unsigned int bits) { return 31 - __builtin_clz(bits); }
    /* the positions (bit k: values[k]) among 16 bytes that hold value */
    #if defined(__SSE2__)
    #include <emmintrin.h>
    static inline unsigned int gifsom_match16(const unsigned char* values, int value) {
        __m128i row = _mm_loadu_si128((const __m128i*)values);
        return (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(row, _mm_set1_epi8((char)value)));
    }
    #else
    static inline unsigned int gifsom_match16(const unsigned char* values, int value) {
        unsigned int found = 0;
        for (int k = 0; k < 16; k++) found |= (unsigned int)(values[k] == (unsigned char)value) << k;
        return found;
    }
    #endif
    """
    int _lowest_bit "gifsom_lowest_bit"(uint64_t bits) noexcept nogil
    int _highest_bit "gifsom_highest_bit"(uint32_t bits) noexcept nogil
    uint32_t _match16 "gifsom_match16"(const uint8_t* values, int value) noexcept nogil


cdef inline int64_t _source_distance2(const int64_t* colours, int64_t value, const uint8_t* source) noexcept nogil:
    """Squared RGB distance between index ``value``'s colour and the colour ``source`` (3 bytes)."""
    cdef int64_t dr = colours[3 * value] - source[0]
    cdef int64_t dg = colours[3 * value + 1] - source[1]
    cdef int64_t db = colours[3 * value + 2] - source[2]
    return dr * dr + dg * dg + db * db


cdef inline uint64_t _in_set(const uint64_t* words, int64_t value) noexcept nogil:
    """1 where ``value`` (0..255) is in the 256-bit set ``words`` (4 words), else 0."""
    return (words[value >> 6] >> (value & 63)) & 1


cdef inline void _add_to_set(uint64_t* words, int64_t value) noexcept nogil:
    """Put ``value`` (0..255) into the 256-bit set ``words``."""
    words[value >> 6] |= (<uint64_t>1) << (value & 63)


cdef void _near_sets(uint64_t* near, const int64_t* colours, int64_t values, int64_t drift2) noexcept nogil:
    """For each index value below ``values``, the 256-bit set (``near[value * 4 + word]``) of the other
    values whose colours lie within squared RGB distance ``drift2`` of its colour."""
    cdef int64_t value, other
    for value in range(256 * 4):
        near[value] = 0
    for value in range(values):
        for other in range(values):
            if other != value and _distance2(colours, value, other) <= drift2:
                _add_to_set(near + value * 4, other)


cdef struct Node:
    # a string of the lossy parse's table as a node of its tree, all in one 64-byte cache line. Against
    # its fields in arrays of their own, one array a field: the dark star field's lossy frames in 460 against
    # 489 ms, the pan's in 1,478 against 1,539 ms (medians of 5 interleaved rounds, one thread, 2026-12-04;
    # the same bytes). A node's continuations are forgotten when its code is given, and the first pixels' at
    # each clear code, rather than the whole tree's at each clear.
    int16_t children              # how many continuations it has
    int16_t height                # its longest continuation, in pixels
    int16_t parent                # the string it continues (-1: a first pixel)
    int16_t suffix                # its last pixel
    uint8_t values[LISTED_CHILDREN]   # its first continuations' last pixels, oldest first
    int16_t codes[LISTED_CHILDREN]    # and their codes
    uint8_t spare[8]


cdef inline void _new_node(Node* nodes, int64_t code, int64_t parent, int64_t suffix) noexcept nogil:
    """Code ``code`` names a new string, ``parent`` followed by ``suffix``, not continued yet."""
    nodes[code].children = 0
    nodes[code].height = 0
    nodes[code].parent = <int16_t>parent
    nodes[code].suffix = <int16_t>suffix


cdef void _forget_tree(Node* nodes, int64_t first_pixels) noexcept nogil:
    """Forget the first pixels' continuations (at the start, and after a clear code); the codes after them
    forget theirs as they are given (:func:`_new_node`)."""
    cdef int64_t k
    for k in range(first_pixels):
        _new_node(nodes, k, -1, k)


cdef struct Search:
    # one lossy LZW search: the stream, the bounds, the string table as a tree, and the strings found
    const uint8_t* pixels
    const uint8_t* sources        # (N, 3)
    const int64_t* colours        # (256, 3)
    const uint64_t* near          # (256, 4): for each value, the set of values within the drift
    Py_ssize_t count
    int64_t tolerance2
    int64_t transparent
    const int16_t* codes          # the table (see _code_at): prefix code * 256 + value -> code, where the
                                  # string's row is full
    const Node* nodes             # per code: its string as a node of the tree
    const uint64_t* continued_by  # per code whose row is full: the set of values that continue it (256 bits)
    int64_t best_code             # the best string found: its code (its pixels: the parents' values)
    int64_t best_length           # and its length after the first pixel
    int64_t best_error            # the squared error the best string adds to its pixels
    int64_t visits
    int64_t budget


cdef inline int64_t _continuation(Search* s, int64_t node, int64_t value) noexcept nogil:
    """The code of string ``node`` followed by ``value``, or -1. A string with few continuations finds it in
    its row (the newest, where a string was given two codes); one with more asks its set whether there is
    one before it reads the table (2 MiB, mostly out of cache), which holds the oldest. Asking the set first
    for every string took 2.5% longer on the dark star field's lossy frames (2026-12-04)."""
    cdef uint32_t found
    cdef const Node* n = &s.nodes[node]
    cdef int64_t children = n.children
    if children > LISTED_CHILDREN:
        if not _in_set(s.continued_by + node * 4, value):
            return -1
        return _code_at(s.codes, node * 256 + value)
    found = _match16(n.values, value) & ((1u << children) - 1)
    if not found:
        return -1
    return n.codes[_highest_bit(found)]


cdef inline bint _follow(Search* s, int64_t child, int64_t value, const uint8_t* source, int64_t own,
                         Py_ssize_t position, int64_t depth, int64_t error) noexcept nogil:
    """Show the pixel at ``position`` (source colour ``source``, at squared distance ``own`` from its index's
    colour) as ``value``, the string ``child``, and search on from there, if that could reach further than
    the best string found and keeps the pixel's error within the bound; returns whether the budget is spent."""
    cdef int64_t added
    # a continuation that could only tie with the best string is not followed: searched for too (to keep the
    # tie adding the least error), hubble's 129 lossy parts took 247 against 227 ms (medians of 5 alternated
    # runs, one thread, 2026-12-05) for 1,282 fewer bytes of 2,631,354 and 0.35% less squared error against
    # the source colours
    if depth + 1 + s.nodes[child].height <= s.best_length:
        return False
    added = _source_distance2(s.colours, value, source) - own
    if added > s.tolerance2:
        return False
    s.visits += 1
    _search(s, child, position + 1, depth + 1, error + added)
    return s.visits >= s.budget


cdef void _search(Search* s, int64_t node, Py_ssize_t position, int64_t depth, int64_t error) noexcept nogil:
    """Follow the continuations of the string ``node`` (``depth`` pixels after its first) from the pixel at
    ``position``: the exact one first, then those within the bounds, noting the
    furthest reaching string."""
    cdef int64_t pixel, child, value, own, word, k
    cdef uint64_t bits
    cdef uint32_t listed
    cdef uint64_t near_ones[4]          # the string's continuations near the pixel, as a 256-bit set
    cdef const uint64_t* near_pixel     # the values near the pixel, as a 256-bit set
    cdef const uint8_t* source
    cdef const Node* here
    while True:
        if depth > s.best_length or (depth == s.best_length and error < s.best_error):
            s.best_length = depth
            s.best_error = error
            s.best_code = node
        if position >= s.count:
            return
        pixel = s.pixels[position]
        child = _continuation(s, node, pixel)
        if depth < SEARCH_DEPTH:
            break
        if child < 0:                   # deep in a long string (a run): exact continuations only
            return
        node = child
        position += 1
        depth += 1
    if child >= 0:
        _search(s, child, position + 1, depth + 1, error)
    here = &s.nodes[node]
    if pixel == s.transparent or s.visits >= s.budget or depth + here.height <= s.best_length:
        return
    near_pixel = s.near + pixel * 4
    if here.children <= LISTED_CHILDREN:
        # few continuations, listed in the string's row: each one's value looked up in the pixel's set
        listed = 0
        for k in range(here.children):
            value = here.values[k]
            listed |= <uint32_t>(_in_set(near_pixel, value) & (value != s.transparent)) << k
        if not listed:
            return                      # no continuation near the pixel: nothing to walk
        source = s.sources + 3 * position
        own = _source_distance2(s.colours, pixel, source)
        # followed oldest first. An older string has had longer to be continued, so it tends to lead furthest:
        # found early, the best string's length then cuts the younger ones by their heights. Against newest
        # first, hubble's 129 lossy parts took 325 against 372 ms (medians of 5 alternated runs, one thread,
        # 2026-12-05), for 118 fewer bytes of 2,630,190; following the tallest first was slower (it reads
        # every one's node first)
        while listed:
            k = _lowest_bit(listed)
            listed ^= 1u << k
            if _follow(s, here.codes[k], here.values[k], source, own, position, depth, error):
                return
        return
    # many continuations (a first pixel's): those near the pixel, from the sets
    bits = 0
    for word in range(4):
        near_ones[word] = s.continued_by[node * 4 + word] & near_pixel[word]
        bits |= near_ones[word]
    if not bits:
        return
    source = s.sources + 3 * position
    own = _source_distance2(s.colours, pixel, source)
    for word in range(4):
        bits = near_ones[word]
        while bits:
            value = word * 64 + _lowest_bit(bits)
            bits &= bits - 1
            if value == s.transparent:
                continue
            if _follow(s, _code_at(s.codes, node * 256 + value), value, source, own, position, depth, error):
                return


cdef object _packed_bits(Packer* p):
    """The codes packed so far, as ``(data, bits)``: bytes, the last one filled up to ``bits`` in all."""
    cdef Py_ssize_t bits = p.length * 8 + p.pending_bits
    _flush(p)
    return (<char*>p.packed)[:p.length], bits


def join_parts(list parts, int min_code_size):
    """GIF image data (sub-blocks with the terminator) from parts of one index stream encoded apart.

    Args:
        parts: ``((data, bits), width)`` for each part in order, as :func:`encode_longest` returns them: its
            codes, packed least significant bit first into ``data`` (``bits`` of it used), each part
            begun with an empty table, and the size of the code that follows it. A clear code opens the
            stream and comes between parts; an end code closes it.
        min_code_size: the LZW minimum code size, 2..8.
    """
    cdef int64_t clear = 1 << min_code_size
    cdef Py_ssize_t total = 8, k, full, n, bits, rest
    cdef const uint8_t[::1] data
    cdef int width
    cdef Packer p
    for (packed, bits), width in parts:
        total += len(packed) + 2
    cdef uint8_t* buffer = <uint8_t*>malloc(total)
    if buffer == NULL:
        raise MemoryError()
    start_packing(&p, buffer)
    try:
        _put(&p, clear, min_code_size + 1)
        for n, ((packed, bits), width) in enumerate(parts):
            data = packed
            full = bits >> 3
            rest = bits & 7
            with nogil:
                for k in range(full):
                    _put(&p, data[k], 8)
                if rest:
                    _put(&p, data[full] & ((1 << rest) - 1), <int>rest)
            _put(&p, clear if n + 1 < len(parts) else clear + 1, width)
        return _sub_blocks(&p)
    finally:
        free(p.packed)


def encode_longest(const uint8_t[::1] pixels, const uint8_t[:, ::1] sources, int min_code_size,
                 const int64_t[:, ::1] colours, int64_t tolerance2, int64_t drift2, int transparent,
                 int16_t[::1] table, int64_t[::1] assigned, uint64_t[::1] tree, uint64_t[::1] near,
                 bint near_listed, int budget):
    """Lossy LZW of a flat uint8 (N,) index stream, or one part of it: each code the longest string within
    the bounds, from an empty table.

    A pixel may be shown as another index value whose colour (``colours``, int64
    (256, 3)) lies at most ``tolerance2`` further from the pixel's source colour
    (``sources``, uint8 (N, 3)) in squared RGB distance than its own index's
    colour, and within squared distance ``drift2`` of that colour, so that a
    dither pattern is moved, not wiped out. ``transparent`` (-1: none) is never
    traded for a colour or back.

    Each code is found by a depth-first search of the string table from the
    string's first pixel (kept exact): at each step the exact continuation
    first, then the others within the bounds. The string reaching furthest is
    taken. A continuation whose longest string cannot reach further than the
    best found is not followed; of equally long strings met on the way, the one
    adding the least squared error is kept. Exact continuations are free; every
    other step counts against ``budget``, after which the best string found so
    far is taken. Beyond ``SEARCH_DEPTH`` pixels only exact continuations are
    followed. ``near`` (uint64, :data:`NEAR_SETS_SIZE`) holds, for each value,
    the set of values within ``drift2`` of its colour; ``near_listed``: they
    were made for these very colours, drift and code size, and are kept (else
    they are made again). ``tree`` (uint64, :data:`TREE_SIZE`) is scratch space
    for the string table's tree, kept by the caller from one part to the next:
    allocated anew for each part, its 96 pages were often faulted in afresh
    (in a replay of hubble's 129 lossy parts on one thread, 5,200 faults, 23 ms
    of 250, 2026-12-05).

    The codes come without the clear code that opens the part and without the
    code that closes it, which :func:`join_parts` writes, as it knows what
    comes before and after.

    Returns:
        ``(bits, width, shown)``: the part's codes packed (see :func:`join_parts`),
        the size in bits of the code that follows them, and uint8 (N,) the
        indices a decoder will show.
    """
    cdef Py_ssize_t count = pixels.shape[0], start, k
    cdef int64_t clear = 1 << min_code_size, code, slot, pixel, last, up, length, listed_slot, value
    cdef int width
    cdef bint store
    cdef uint64_t* words
    cdef Search s
    if sources.shape[0] != count or (count and sources.shape[1] != 3):
        raise ValueError("sources must be (N, 3), one colour per pixel")
    if near.shape[0] < NEAR_SETS_SIZE or tree.shape[0] < TREE_SIZE or colours.shape[0] < 256 \
            or colours.shape[1] != 3:
        raise ValueError("near or tree scratch array too small, or colours not (256, 3)")
    if not near_listed:
        _near_sets(&near[0], &colours[0, 0], clear, drift2)
    shown_array = np.array(pixels, dtype=np.uint8)
    cdef uint8_t[::1] shown = shown_array
    cdef Packer p
    cdef Table t
    cdef Node* nodes = <Node*>((<size_t>&tree[0] + 63) & ~(<size_t>63))     # each node in a cache line
    cdef uint64_t* continued_by = &tree[TREE_SETS]
    cdef Node* node
    p.packed = NULL
    try:
        _begin(&p, &t, table, assigned, min_code_size, count)
        s.pixels = &pixels[0] if count else NULL
        s.sources = &sources[0, 0] if count else NULL
        s.colours = &colours[0, 0]
        s.near = &near[0]
        s.count = count
        s.tolerance2 = tolerance2
        s.transparent = transparent
        s.codes = t.codes
        s.nodes = nodes
        s.continued_by = continued_by
        s.budget = budget
        with nogil:
            _forget_tree(nodes, clear)
            start = 0
            while start < count:
                s.best_length = -1
                s.visits = 0
                s.best_error = 0
                _search(&s, pixels[start], start + 1, 0, 0)
                length = s.best_length
                last = s.best_code
                code = last
                for k in range(length - 1, -1, -1):      # the string's pixels, last first, up its parents
                    shown[start + 1 + k] = <uint8_t>nodes[code].suffix
                    code = nodes[code].parent
                _put(&p, last, t.bits)
                start += 1 + length
                if start >= count:
                    break
                if t.next_code >= MAX_CODE:
                    _put(&p, clear, t.bits)
                    _restart(&t)
                    _forget_tree(nodes, clear)
                    continue
                # the decoder's next entry: the string taken, then the next string's first pixel
                pixel = pixels[start]
                slot = last * 256 + pixel
                code = t.next_code
                _new_node(nodes, code, last, pixel)
                node = &nodes[last]
                # a string with room in its row keeps its continuations there alone (a string the table has
                # already, where the budget ran out before the search tried it, is listed twice, and found
                # newest first). Only once the row is full do its continuations go into the set and the
                # table, its row's first (the oldest of a value listed twice). The table is 2 MiB and the sets
                # 128 KiB, touched per code where every string's went there: the lossy LZW's three threads
                # and the mapping's beside them on two cores, sharing their caches, took hubble from 0.644 to
                # 0.604 s, chelsea from 0.634 to 0.576 and the pan from 2.111 to 1.951 (medians of 9
                # interleaved runs, 2026-12-05; the same bytes), where a replay on one thread alone moved
                # within noise
                store = False
                if node.children < LISTED_CHILDREN:
                    node.codes[node.children] = <int16_t>code
                    node.values[node.children] = <uint8_t>pixel
                else:
                    words = &continued_by[last * 4]
                    if node.children == LISTED_CHILDREN:
                        words[0] = words[1] = words[2] = words[3] = 0
                        for k in range(LISTED_CHILDREN):
                            value = node.values[k]
                            _add_to_set(words, value)
                            listed_slot = last * 256 + value
                            if _code_at(t.codes, listed_slot) < 0:
                                _hold_code(t.codes, listed_slot, node.codes[k])
                                t.assigned[t.n_assigned] = listed_slot
                                t.n_assigned += 1
                    store = not _in_set(words, pixel)    # counted, not stored, if known
                    _add_to_set(words, pixel)
                node.children += 1
                up = 1
                while last >= 0 and nodes[last].height < up:
                    nodes[last].height = <int16_t>up
                    last = nodes[last].parent
                    up += 1
                _give_code(&t, slot, store)
            width = _closing_width(&t)
            _restart(&t)      # leave the table empty for the next image
        return _packed_bits(&p), width, shown_array
    finally:
        free(p.packed)
