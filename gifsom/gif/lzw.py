"""GIF's variable-length-code LZW (compiled in ``_lzw_cy.pyx``), with an optional lossy mode.

Codes are packed least significant bit first. The code size grows when the
next free code no longer fits, up to 12 bits; when code 4095 would be taken,
a clear code restarts the table (as giflib does, so that every decoder copes).
Exact mode can also parse with one step of lookahead (see
``encode_lookahead``). The output is already cut into GIF data
sub-blocks (a length byte, then up to 255 bytes) and ends with the
zero-length block terminator.

Lossy mode: when the string being matched has no exact continuation with the
next pixel, a continuation whose colour is within ``tolerance`` (Euclidean
RGB distance) of that pixel's colour is taken instead, and the pixel is shown
in that colour. Longer matches mean fewer codes; the transparent index is
never traded for a colour or back.

Lossy mode with the pixels' source colours (``source``, the frame before
mapping) bounds the error a pixel gains instead: it may be shown in another
palette colour whose squared distance from its source colour exceeds its own
index's by at most ``lossy ** 2``, and that lies within :data:`DRIFT` times
``lossy`` of its own index's colour (so that dither is moved, not wiped out).
Each code is then the longest string the table holds within those bounds,
found by a search of the table (``encode_longest``) rather than greedily.
A large image is cut into parts (:func:`part_bounds`), each begun from an empty
table, which a pool encodes at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from functools import partial

import numpy as np

from ..pages import ScratchPool
from ..threads import available_cores, run_together
from ._lzw_cy import (NEAR_SETS_SIZE, NEAR_SIZE, RUNS_SIZE, TREE_SIZE, encode_greedy, encode_longest, encode_lookahead,
                      join_parts)

def min_code_size(table_size: int) -> int:
    """LZW minimum code size for a colour table of ``table_size`` entries (at least 2, as GIF requires)."""
    return max(2, (int(table_size) - 1).bit_length())


_NO_COLOURS = np.zeros((256, 3), np.int64)
#: With source colours: how far lossy LZW may move a pixel from its own index's colour, as a multiple of
#: ``lossy``. Measured on the held-out camera clips at lossy 5 (2026-12-03, a prototype of the search): with
#: no bound the dither goes wherever it costs bytes, and hopper's FLIP was 0.0527, above gifski's 0.0514; a
#: bound at 1 kept it at 0.0498 but took 10% more bytes on the dark star field than no bound (2,705,043
#: against 2,456,433, over gifski's 2,482,541); at sqrt(3), hopper 0.0507 and the star field 2,478,462.
DRIFT = 3 ** 0.5
#: With source colours: the steps each code's search may take beyond exact continuations. On the dark star
#: field's lossy frames 16 took 0.12% more bytes than 64, and 128 and 1024 none fewer (2026-12-03). Since the
#: search follows the oldest continuations first, 16 takes 0.005% more there, for 3.5% less time on its lossy
#: parts alone and none on the cat's or the pan's (2026-12-05): too little either way to move it.
SEARCH_BUDGET = 64
#: With source colours: a stream is cut into parts of about this many pixels (at most :data:`MOST_PARTS`),
#: each encoded from an empty table, so that the threads of a pool can share one image. On the dark star
#: field (480x270, two parts) ``gifsom convert`` took 1.035 against 1.094 s with one part (median of 7
#: interleaved runs, 2 cores, 2026-12-03), for 0.2% more bytes. Since the writer's thread encodes one part
#: while the mapping thread runs beside it, a third part keeps both cores busier (2 cores, 2026-12-04,
#: medians of interleaved runs): the star field 0.755 against 0.821 s in three parts (15 runs; 0.803 in
#: four), for 0.08% more bytes; chelsea (480x270) 0.677 against 0.710 s, 0.33% more; the 640x360 pan 2.255
#: against 2.417 s (5 runs; 2.231 in four), 0.15% more (0.32% in four). Parts smaller than this are
#: slower: small (176x144) took 0.473 against 0.461 s in two parts.
PART_PIXELS = 40_000
MOST_PARTS = 3
_NO_NEAR = np.zeros(1, np.int32)
_THREAD_TABLES = threading.local()
#: The encoders' string tables (prefix code * 256 + pixel -> code, zeroed when empty, see ``_lzw_cy``; 2 MiB
#: each), handed from encode to encode. The encoders clear the slots they took before returning, so a table
#: is made once, not once per image; a new one's pages are faulted in only where codes are written. The
#: writer's LZW threads, which take exact frames one at a time, share one rather than fault in one each. As
#: many are kept as encodes may run at once: a lossy frame's parts and candidates run on the writer's pool,
#: one a core, and on the thread that hands them out (:func:`gifsom.threads.run_together`), which takes the
#: first. Kept one a core, the table given back last was dropped and a new one filled nearly every frame: 23
#: times a run on the held-out star field (50 ms of CPU), 90 on the pan (195 ms); one more took the star field
#: from 0.722 to 0.671 s and the cat photo from 0.672 to 0.596 s (2 cores, medians of 9 interleaved runs,
#: 2026-12-05; the same bytes).
_STRING_TABLES = ScratchPool(4096 * 256, np.int16, keep=available_cores() + 1)


@contextmanager
def _string_table() -> Iterator[np.ndarray]:
    """A string table from the pool, given back once the encoder using it has returned (one that raised may
    not have cleared it, and its table is dropped)."""
    table = _STRING_TABLES.take()
    yield table
    _STRING_TABLES.give(table)


def _thread_scratch() -> tuple[np.ndarray, np.ndarray]:
    """This thread's list of a string table's taken slots (int64, 4096), and the encoders' scratch space for
    runs (int16, ``RUNS_SIZE``; see ``_lzw_cy``)."""
    scratch = getattr(_THREAD_TABLES, "scratch", None)
    if scratch is None:
        scratch = _THREAD_TABLES.scratch = (np.empty(4096, np.int64), np.empty(RUNS_SIZE, np.int16))
    return scratch


def _search_tree() -> np.ndarray:
    """This thread's scratch space for the longest-string parse's tree of strings (uint64, ``TREE_SIZE``; see
    ``_lzw_cy``), kept from one part to the next so that its pages are faulted in once."""
    tree = getattr(_THREAD_TABLES, "tree", None)
    if tree is None:
        tree = _THREAD_TABLES.tree = np.empty(TREE_SIZE, np.uint64)
    return tree


def _near_lists(colours: np.ndarray, tolerance2: int, code_size: int, sets: bool = False
                ) -> tuple[np.ndarray, bool]:
    """This thread's scratch space for the lossy parse's lists of near colours (int32, ``NEAR_SIZE``; see
    ``_lzw_cy``), and whether the lists in it were made for these colours (int64 (256, 3)), squared
    tolerance and code size, so can be kept: the frames of a clip share their palette. ``sets``: the
    longest-string parse's sets instead (uint64, ``NEAR_SETS_SIZE``)."""
    name = "near_sets" if sets else "near"
    near = getattr(_THREAD_TABLES, name, None)
    if near is None:
        near = np.empty(NEAR_SETS_SIZE, np.uint64) if sets else np.empty(NEAR_SIZE, np.int32)
        setattr(_THREAD_TABLES, name, near)
    key = (colours.tobytes(), tolerance2, code_size)
    listed = getattr(_THREAD_TABLES, name + "_for", None) == key
    setattr(_THREAD_TABLES, name + "_for", key)
    return near, listed


def part_bounds(count: int, part_pixels: int = PART_PIXELS) -> list[int]:
    """Where the longest-string parse cuts a stream of ``count`` pixels: parts of about ``part_pixels``, at
    most :data:`MOST_PARTS`, as a list of their bounds (0 first, ``count`` last).

    The cuts depend on the size alone, never on the cores, so a GIF is the same on every machine.
    """
    parts = min(MOST_PARTS, max(1, round(count / part_pixels)))
    return [count * k // parts for k in range(parts + 1)]


def lzw_encode(indices: np.ndarray, code_size: int, *, palette: np.ndarray | None = None, lossy: int = 0,
               transparent: int | None = None, lookahead: bool = False, source: np.ndarray | None = None,
               jump_runs: bool = True, near_first: bool = True, search_budget: int = SEARCH_BUDGET,
               pool: Executor | None = None, part_pixels: int = PART_PIXELS) -> tuple[bytes, np.ndarray]:
    """Compress palette indices into GIF image data.

    Args:
        indices: uint8 array of any shape (read in C order); every value < 2**code_size.
        code_size: the LZW minimum code size, 2..8 (see :func:`min_code_size`).
        palette: uint8 (K, 3) colours of the indices; needed when ``lossy`` > 0.
        lossy: 0 for exact; otherwise the largest RGB distance a pixel may be moved by (with ``source``:
            by which its error may grow, see the module's docstring).
        transparent: the transparent index, which lossy mode never substitutes.
        lookahead: parse with one step of lookahead instead of greedily (exact mode
            only): often a little smaller, sometimes a little larger.
        source: lossy: uint8 (..., 3) the colours the indices stand for, the shape of ``indices`` with a
            channel axis, or None.
        jump_runs: jump through runs of one index to the longest run string the table holds (False:
            walk the table a pixel at a time; the same bytes, 2 to 5 times slower on screen content).
        near_first: lossy: look up the values near a pixel's colour among the string's continuations where
            that takes fewer steps than walking them (False: always walk; the same bytes, about twice as
            slow on video).
        search_budget: lossy with ``source``: the steps each code's search may take beyond exact
            continuations.
        pool: lossy with ``source``: threads that encode the parts of a large image (:func:`part_bounds`)
            at once, the calling thread taking one; without it they are encoded one after another. The
            bytes are the same either way.
        part_pixels: lossy with ``source``: the size of the parts (see :func:`part_bounds`).

    Returns:
        ``(data, shown)``: the bytes that follow the LZW minimum code size byte in
        a GIF image (data sub-blocks and the block terminator), and the indices a
        decoder will show, with the shape of ``indices`` (equal to it when exact).
    """
    flat = np.ascontiguousarray(indices, dtype=np.uint8).reshape(-1)
    if lookahead and not lossy:
        with _string_table() as table:
            return encode_lookahead(flat, int(code_size), table, *_thread_scratch(), jump_runs), np.asarray(indices)
    colours = _NO_COLOURS
    if lossy and palette is not None:
        colours = np.zeros((256, 3), np.int64)
        colours[: len(palette)] = palette
    else:
        lossy = 0
    transparent_index = -1 if transparent is None else int(transparent)
    tolerance2 = int(lossy) ** 2
    if tolerance2 and source is not None:
        drift2 = int(DRIFT * DRIFT * tolerance2 + 0.5)
        sources = np.ascontiguousarray(source, dtype=np.uint8).reshape(-1, 3)

        def part(start: int, stop: int) -> tuple[tuple[bytes, int], int, np.ndarray]:
            # on whichever thread runs it: the scratch space is that thread's
            sets, listed = _near_lists(colours, drift2, int(code_size), sets=True)
            with _string_table() as table:
                return encode_longest(flat[start:stop], sources[start:stop], int(code_size), colours, tolerance2,
                                      drift2, transparent_index, table, _thread_scratch()[0], _search_tree(), sets,
                                      listed, int(search_budget))

        bounds = part_bounds(flat.size, part_pixels)
        parts = run_together(pool, [partial(part, a, b) for a, b in zip(bounds, bounds[1:])])
        data = join_parts([(bits, width) for bits, width, _ in parts], int(code_size))
        shown = np.concatenate([part_shown for _, _, part_shown in parts])
        return data, shown.reshape(np.shape(indices))
    near, listed = _near_lists(colours, tolerance2, int(code_size)) if tolerance2 else (_NO_NEAR, False)
    with _string_table() as table:
        data, shown = encode_greedy(flat, int(code_size), colours, tolerance2, transparent_index, table,
                                    *_thread_scratch(), near, listed, jump_runs, near_first)
    return data, shown.reshape(np.shape(indices))
