"""Exact nearest-colour lookups for one palette, kept across the frames of a clip.

The compiled loop lives in ``_map_cy.pyx``; this module owns its tables.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from ..colours.metric import CHANNEL_WEIGHTS
from ..errors import OptionError
from ..pages import ScratchPool, small_pages_zeroed
from ..threads import threads_for
from . import _map_cy
from ._map_cy import COARSE_COUNT, LIST_COUNT, MAX_STAMP, map_frame

#: Pixels per thread below which a frame is mapped on one thread.
PIXELS_PER_THREAD = 1 << 17
#: The same for error diffusion, which costs about three times as much a pixel (36 against 12 ns on one core),
#: and more where a frame brings a palette of its own, whose candidate lists are filled afresh (a steady
#: camera's frames: 95 ns a pixel of the frame on the talking head). At 8,192 rather than 32,768 its 176x144
#: frames are diffused in two threads: the clip in 0.67 against 0.74 s for the car, the same for the pan
#: over chelsea (interleaved runs, 2 cores, 2026-12-04; the same GIFs, as bands do not depend on threads).
DIFFUSION_PIXELS_PER_THREAD = 1 << 13
#: How the kernel maps a frame: nearest colours, ordered dither, or error diffusion.
MODE_PLAIN, MODE_ORDERED, MODE_DIFFUSION = _map_cy.MODE_PLAIN, _map_cy.MODE_ORDERED, _map_cy.MODE_DIFFUSION

_NO_OFFSETS = np.zeros((1, 1), np.int64)
_NO_TAPS = np.zeros((1, 3), np.float64)
_NO_STATE = np.empty((1, 1, 3), np.uint8)      # the temporal state of a mapping that keeps none (never read)


#: Every palette's candidate lists (any size of palette uses the front of one), reused from palette to palette:
#: what a list held before is never read, since a cell's list is read only once its count, stamped with the
#: palette's, says it is filled.
_candidate_lists = ScratchPool(LIST_COUNT * 256, np.uint8)

_tables_lock = threading.Lock()
_tables: "_SharedTables | None" = None


class _SharedTables:
    """The lookup tables that up to :data:`MAX_STAMP` palettes share, each answer marked with its palette's
    stamp (zeroed: no answers yet): ``exact``, uint16 (2 ** 24,) one per 24-bit colour; ``coarse``, uint16
    (:data:`COARSE_COUNT`,) one per 4 x 4 x 4 cell; ``counts``, int32 (:data:`LIST_COUNT`,) the length of
    each candidate list. ``last_stamp``: the last stamp given out here (0: none); a stamp is never given twice
    by one set of tables, whose entries it would read as its own."""

    def __init__(self) -> None:
        self.exact = small_pages_zeroed(1 << 24)
        self.coarse = small_pages_zeroed(COARSE_COUNT)
        self.counts = small_pages_zeroed(LIST_COUNT, np.int32)
        self.last_stamp = 0


def _shared_tables() -> tuple[_SharedTables, int]:
    """The tables a new palette uses, and its stamp there: the current ones until their :data:`MAX_STAMP`
    stamps are given out, then fresh ones (whose pages are touched as used; palettes still using the old
    ones keep them). A new palette so costs no clearing: a steady camera's frames, which bring a palette
    each, spent 0.2 ms a frame filling a coarse table and counts of their own (a 240x180 frame, 2026-12-05)."""
    global _tables
    with _tables_lock:
        if _tables is None or _tables.last_stamp == MAX_STAMP:
            _tables = _SharedTables()
        _tables.last_stamp += 1
        return _tables, _tables.last_stamp


class ColourCache:
    """Exact nearest-colour lookups for one palette, built lazily and kept across frames.

    Tables filled on demand: one answer per 24-bit colour (32 MiB of address
    space, of which only the pages of colours seen are touched, so a colour
    seen before costs one load); for the RGB cube cut into 8 x 8 x 8 cells, the
    few palette entries that can be nearest to any colour in the cell, so a new
    colour is compared with a handful of entries; and a coarse table of 4 x 4 x 4
    cells for error diffusion. All but the lists themselves are tables that up to
    127 palettes share, each answer marked with its palette's stamp: a new
    palette then costs no fresh pages (a 64x64 frame of noise touched 4,096 of
    them, 10 ms of page faults) and nothing to clear. Nearest is by the weighted
    distance of :mod:`gifsom.colours.metric`.

    Args:
        palette: uint8 (K, 3), 1 <= K <= 256.
    """

    _weights = np.array(CHANNEL_WEIGHTS, np.int32)

    def __init__(self, palette: np.ndarray) -> None:
        palette = np.ascontiguousarray(palette, dtype=np.uint8).reshape(-1, 3)
        if not 1 <= len(palette) <= 256:
            raise OptionError(f"palette has {len(palette)} entries; give 1 to 256 colours")
        self.palette = palette
        tables, self.stamp = _shared_tables()
        self.exact, self.coarse, self.counts = tables.exact, tables.coarse, tables.counts
        # small pages, each touched as a cell is listed (see gifsom.pages: from the heap, a clip of many palettes
        # kept 25 MB more resident), handed on to a later palette when this one goes
        lists = _candidate_lists.take()
        weakref.finalize(self, _candidate_lists.give, lists)
        self.candidates = lists[:LIST_COUNT * len(palette)]

    def map_into(self, pixels: np.ndarray, out: np.ndarray, reference: np.ndarray | None = None,
                 previous: np.ndarray | None = None, *,
                 threshold: int = 0, stateful: bool = False, record: bool = False, mode: int = MODE_PLAIN,
                 offsets: np.ndarray | None = None, taps: np.ndarray | None = None, strength: float = 1.0,
                 weights: np.ndarray | None = None, cores_left: int = 0, where: np.ndarray | None = None) -> None:
        """Run the mapping kernel on one frame (see ``_map_cy.map_frame`` for every argument's shape), on
        the cores not left to other work (``cores_left``).

        Args:
            pixels: uint8 (H, W, 3+); out: uint8 (H, W) receives the indices.
            reference, previous: the temporal state (uint8 (H, W, 3) and (H, W)); None for a mapping that
                keeps none (neither ``stateful`` nor ``record``).
            mode: ``MODE_PLAIN``, ``MODE_ORDERED`` (with ``offsets``, int64 (n, n)) or
                ``MODE_DIFFUSION`` (with ``taps``, float64 (T, 3), ``strength``, and optionally
                ``weights``, uint8 (H, W): how much error each pixel takes and passes on).
            where: uint8 (H, W), or None: map only the pixels marked nonzero (without temporal state).
        """
        pixels = np.asarray(pixels)
        if pixels.strides[2] != 1:
            pixels = np.ascontiguousarray(pixels)
        height, width = out.shape
        map_frame(pixels, out, _NO_STATE if reference is None else reference, out if previous is None else previous,
                  threshold, stateful, record, mode,
                  _NO_OFFSETS if offsets is None else offsets, _NO_TAPS if taps is None else taps, strength,
                  self.exact, self.stamp, self.coarse, self.palette, self.counts, self.candidates, self._weights,
                  threads_for(height * width, DIFFUSION_PIXELS_PER_THREAD if mode == MODE_DIFFUSION
                              else PIXELS_PER_THREAD, cores_left), weights, where)

    def map(self, pixels: np.ndarray) -> np.ndarray:
        """Map uint8 (H, W, 3+) pixels to uint8 (H, W) indices of the nearest palette entry."""
        out = np.empty(pixels.shape[:2], np.uint8)
        self.map_into(pixels, out)
        return out
