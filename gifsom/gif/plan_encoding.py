"""Encoding frame plans: several ways to write each rectangle, the smallest kept, on worker threads.

Every candidate of a plan shows the same picture (without lossy LZW), so the
candidates can be encoded while the screen model moves on; :class:`PlanEncoder`
runs them on a thread pool, one thread per CPU, up to 64 frames ahead, and hands
the chunks back in frame order. The compiled encoders release the GIL. Lossy
plans come one at a time, in frame order; for large rectangles a
:class:`WayHistory` skips the ways that lost by far in recent frames.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import NamedTuple

import numpy as np

from ..frames import same_pixels
from ..threads import available_cores, run_together
from . import blocks
from ._plan_encoding_cy import continue_runs as _continue_runs, fill_hidden as _fill_hidden, hide as _hide
from .palette_order import DrawnIndices, drawn_indices, uses_global_table
from .screen_model import FramePlan, as_bytes


def _flat(*arrays: np.ndarray) -> list[np.ndarray]:
    """Each (h, w) array (uint8 indices, or a bool mask read as uint8) as the contiguous (h * w,) one the
    kernels take."""
    return [np.ascontiguousarray(as_bytes(a)).reshape(-1) for a in arrays]


def hide(indices: np.ndarray, hidden: np.ndarray, transparent: int) -> np.ndarray:
    """Write every hidden pixel (bool (h, w)) of uint8 (h, w) ``indices`` as ``transparent``: a new uint8 (h, w)."""
    return _hide(*_flat(indices, hidden), transparent).reshape(indices.shape)


def continue_runs(indices: np.ndarray, hidden: np.ndarray, unchanged: np.ndarray, transparent: int) -> np.ndarray:
    """Write hidden pixels as transparent, except unchanged ones that continue a run in their own colour.

    The greedy counterpart of :func:`fill_hidden`; all arrays (h, w), uint8 indices and bool masks.
    """
    return _continue_runs(*_flat(indices, hidden, unchanged), transparent).reshape(indices.shape)


def fill_hidden(indices: np.ndarray, hidden: np.ndarray, unchanged: np.ndarray, transparent: int) -> np.ndarray:
    """Write hidden pixels (bool (h, w)) so that the scan has as few value changes as possible.

    Unchanged pixels (bool (h, w)) may be written as ``transparent`` or as their
    own index; other hidden pixels must be transparent. Returns uint8 (h, w).
    """
    return _fill_hidden(*_flat(indices, hidden, unchanged), transparent).reshape(indices.shape)


class Candidate(NamedTuple):
    """One way to write a plan's rectangle: its name (one of :data:`WAYS`), the uint8 (h, w) indices and the
    transparent index (None: none)."""

    way: str
    indices: np.ndarray
    transparent: int | None


#: The ways :func:`candidates` writes a rectangle: every pixel as it is; hidden pixels transparent;
#: unchanged pixels that continue a run kept in their colour (:func:`continue_runs`); hidden pixels written
#: for the fewest changes of value (:func:`fill_hidden`).
WAYS = ("whole", "transparent", "continued runs", "fewest changes")


def candidates(plan: FramePlan, worth_trying: Callable[[str], bool] | None = None) -> list[Candidate]:
    """Ways to write the plan's rectangle that show the same picture, none repeating another. With
    ``worth_trying`` (a way's name -> whether to try it), only the ways it accepts are made, or every way
    where it accepts none that applies."""
    if worth_trying is not None:
        found = _candidates(plan, worth_trying)
        if found:
            return found
    return _candidates(plan, lambda way: True)


def _candidates(plan: FramePlan, worth_trying: Callable[[str], bool]) -> list[Candidate]:
    hidden, keep, spare = plan.hidden, plan.keep, plan.spare
    # some frames name a transparent index even when they draw every pixel (see FramePlan)
    whole_transparent = spare if plan.names_transparent else None
    found: list[Candidate] = []
    kept, hidden_count = np.count_nonzero(keep), np.count_nonzero(hidden)
    mostly_unchanged = 2 * kept > keep.size
    hides = spare is not None and hidden_count > 0
    # exact LZW: writing every pixel only pays where most of the rectangle changed (it never
    # won otherwise on the fixture clips; with lossy LZW it does). Impossible when some pixel
    # must stay transparent (a hidden pixel that is not kept: ``keep`` is within ``hidden``).
    # Without a spare index to hide pixels with, every pixel is written.
    if (((plan.lossy or not mostly_unchanged) and hidden_count == kept) or not hides) and worth_trying("whole"):
        found.append(Candidate("whole", plan.indices, whole_transparent))
    if hides and spare is not None:
        if worth_trying("transparent"):
            found.append(Candidate("transparent", hide(plan.indices, hidden, spare), spare))
        if mostly_unchanged:      # worth more tries only where much of the rectangle is unchanged
            for way, write in (("continued runs", continue_runs), ("fewest changes", fill_hidden)):
                if not worth_trying(way):
                    continue
                written = write(plan.indices, hidden, keep, spare)
                # the same pixels and transparent index as an earlier try encode to the same bytes
                if not any(earlier.transparent == spare and same_pixels(written, earlier.indices)
                           for earlier in found):
                    found.append(Candidate(way, written, spare))
    return found


#: How fast the ways of writing a rectangle may gain on each other from one frame to the next, as a share of
#: the smallest's bytes: a way that lost by 3% is tried again 4 frames later. Lossy plans come in frame order
#: and each candidate is a whole lossy LZW pass, so one that lost by far is skipped until it could have
#: caught up. On 21 lossy runs (the six camera clips at quality 50, 70 and 90; the cartoon at 50; the screen
#: and page clips with lossy 20) this encoded 51% of the candidates, for at most 0.36% more bytes (cartoon
#: at quality 50) and at most 0.12% on the camera clips (2026-12-03).
WAY_GAIN_PER_FRAME = 0.0075
#: Every way is tried at least this often, in frames.
LONGEST_SKIP = 16
#: Every way is tried where the rectangle grew or shrank by more than this factor since the last frame (a
#: cut, or a change of what moves): what lost there says little here.
NEW_RECTANGLE_FACTOR = 1.5


#: In an encode of a clip's consecutive frames, lossy rectangles from this many pixels have their ways
#: tracked (:class:`WayHistory`). On the bench's 176x144 camera clip (25,344 pixels a frame), the ways that
#: lost by far were skipped: ``gifsom convert`` took 0.82 s against 0.95 s (medians of 7 interleaved runs,
#: 2 cores, 2026-12-04) for 56 more bytes (0.006%). The fit's tries track from
#: :data:`PARALLEL_CANDIDATE_PIXELS` only (see :func:`encode_plan`).
TRACKED_WAY_PIXELS = 1 << 14


class WayHistory:
    """How far behind the smallest each way of writing a rectangle was when last tried, for lossy plans
    in frame order: :meth:`may_lead` skips the ways that cannot have caught up yet.

    Args:
        smallest: rectangles of fewer pixels are not tracked: every way is tried.
    """

    def __init__(self, smallest: int) -> None:
        self.smallest = smallest
        self.frame = 0
        self.last_pixels = 0
        #: way -> (share of bytes over the smallest when last tried, the frame it was tried in)
        self.behind: dict[str, tuple[float, int]] = {}

    def next_rectangle(self, pixels: int) -> None:
        """Start a frame whose rectangle has ``pixels`` pixels."""
        if pixels > NEW_RECTANGLE_FACTOR * self.last_pixels or self.last_pixels > NEW_RECTANGLE_FACTOR * pixels:
            self.behind.clear()
        self.last_pixels = pixels

    def may_lead(self, way: str) -> bool:
        """Whether ``way`` may be the smallest in this frame: untried, or close enough behind when last tried,
        given the frames since."""
        if way not in self.behind:
            return True
        share, frame = self.behind[way]
        since = self.frame - frame
        return since >= LONGEST_SKIP or share <= WAY_GAIN_PER_FRAME * since

    def tried(self, sizes: dict[str, int]) -> None:
        """Record the bytes of each way tried in this frame, and move on to the next frame."""
        smallest = min(sizes.values())
        for way, size in sizes.items():
            self.behind[way] = (size / smallest - 1.0, self.frame)
        self.frame += 1


#: Rectangles of at least this many pixels have their candidates encoded on the pool at once; smaller ones
#: one after another on the calling thread, where handing each to a worker costs more than it saves. A
#: 162x108 screen recording's sample (the fit's probes): 10 encodes of 16 frames took 0.108 to 0.185 s
#: inline against 0.171 to 0.300 s on the pool (2 cores, 2026-12-03); 640x360 video was no slower inline.
PARALLEL_CANDIDATE_PIXELS = 1 << 16


def encode_plan(plan: FramePlan, pool: ThreadPoolExecutor | None = None, history: WayHistory | None = None,
                lookahead_only: bool = False) -> tuple[bytes, np.ndarray, int | None]:
    """The plan's graphic control extension and its smallest image block:
    ``(bytes, indices a decoder shows, transparent index)``.

    With a ``pool``, the candidates of a rectangle of at least :data:`PARALLEL_CANDIDATE_PIXELS` are encoded
    at once, the first on the calling thread and the others on the pool's (:func:`run_together`). With a
    ``history`` (plans given in frame order), a rectangle of at least its ``smallest`` pixels has only the
    candidates the history finds worth trying encoded, and their sizes go into it. The fit's tries track
    from :data:`PARALLEL_CANDIDATE_PIXELS` only: tracked from 16,384 pixels, its tries at small scales saw
    another GIF (on the bench's 176x144 clip its sample scores moved by up to 1.1 points, and its answer
    for a Slack emoji fell from 34.97 to 26.83 on the sample), and its prediction from a sample to the
    clip broke on the screen recording.

    An exact rectangle is parsed greedily in each way, and the smallest parsed again with one step of lookahead
    (kept where that is smaller); with ``lookahead_only``, one that has a single way is parsed with lookahead
    alone (for camera video, see :class:`PlanEncoder`).
    """
    large = plan.indices.size >= PARALLEL_CANDIDATE_PIXELS
    tracked = history if history is not None and plan.indices.size >= history.smallest else None
    if tracked is not None:
        tracked.next_rectangle(plan.indices.size)
    found = candidates(plan, None if tracked is None else tracked.may_lead)
    alone = lookahead_only and not plan.lossy and len(found) == 1

    def image(c: Candidate) -> tuple[bytes, np.ndarray]:
        return blocks.image(c.indices, plan.left, plan.top, plan.bits, plan.local, palette=plan.palette,
                            lossy=plan.lossy, transparent=c.transparent, lookahead=alone, source=plan.source,
                            pool=pool)

    encoded = run_together(pool if large else None, [partial(image, c) for c in found])
    if tracked is not None:
        tracked.tried({c.way: len(data) for c, (data, _) in zip(found, encoded)})
    best = min(range(len(encoded)), key=lambda n: len(encoded[n][0]))
    data, shown = encoded[best]
    if not plan.lossy and not alone:
        # the same pixels parsed with one step of lookahead: kept when that is smaller
        parsed, _ = blocks.image(found[best].indices, plan.left, plan.top, plan.bits, plan.local, lookahead=True)
        if len(parsed) < len(data):
            data = parsed
    transparent_index = found[best].transparent
    return blocks.graphic_control(plan.delay_cs, plan.disposal, transparent_index) + data, shown, transparent_index


def _encoded(plan: FramePlan, pool: ThreadPoolExecutor | None = None, history: WayHistory | None = None,
             lookahead_only: bool = False) -> tuple[bytes, DrawnIndices | None, np.ndarray, int | None]:
    """:func:`encode_plan`, with what the frame draws of the global colour table (None for a frame with a
    table of its own, or whose codes cannot be read), worked out on the same thread."""
    chunk, shown, transparent = encode_plan(plan, pool, history, lookahead_only)
    return chunk, (drawn_indices(chunk, 1 << plan.bits) if uses_global_table(chunk) else None), shown, transparent


#: Exact plans handed to the pool and not yet emitted: at most this many, and beyond two per worker, at
#: most :data:`AHEAD_PIXELS` pixels of rectangles in all (a plan holds about 3 bytes a pixel). Room to run
#: ahead lets the caller map and plan frames while the workers catch up on a burst of large rectangles:
#: on the bench's screen-x10 the caller waited 80 ms for them with 4 plans ahead, and not at all with 64
#: (0.541 against 0.499 s, median of 15 in-process runs, 2 cores, 2026-12-03).
MOST_PLANS_AHEAD = 64
AHEAD_PIXELS = 1 << 23


class Slots:
    """How many jobs may run at once: ``limit``, raised for a while by :meth:`widened`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0
        #: Jobs waiting for a slot.
        self.held_back = 0
        self.changed = threading.Condition()

    @contextmanager
    def taken(self) -> Iterator[None]:
        """Run the ``with`` block in a slot, once one is free."""
        with self.changed:
            if self.running >= self.limit:
                self.held_back += 1
                self.changed.notify_all()
                self.changed.wait_for(lambda: self.running < self.limit)
                self.held_back -= 1
            self.running += 1
        try:
            yield
        finally:
            with self.changed:
                self.running -= 1
                self.changed.notify_all()

    @contextmanager
    def widened(self, limit: int) -> Iterator[None]:
        """``limit`` slots for the ``with`` block."""
        with self.changed:
            saved, self.limit = self.limit, limit
            self.changed.notify_all()
        try:
            yield
        finally:
            with self.changed:
                self.limit = saved


class PlanEncoder:
    """Encodes plans on a thread pool and passes their chunks, in frame order, to ``emit``.

    Exact plans are encoded on all but one core while the caller maps and plans the next frames, and on
    every core while it waits for them (:class:`Slots`). Two workers and the caller on two cores cost
    more in switching than the second worker brought: on the bench's screen-x10 ``gifsom convert`` took
    0.764 s against 0.820 s (2 cores, median of 7 interleaved runs, 2026-12-03). The web page, whose LZW
    work outweighs the caller's, keeps both workers while the caller waits: 1.680 against 1.677 s.

    Args:
        emit: called with each frame's bytes and what it draws of the global colour table
            (:func:`gifsom.gif.palette_order.drawn_indices`; None for a frame with a table of its own),
            in the order the plans came.
        every_way: try every way of writing lossy rectangles under :data:`PARALLEL_CANDIDATE_PIXELS` (the
            fit's tries); else those from :data:`TRACKED_WAY_PIXELS` skip the ways that lost by far in recent
            frames (:class:`WayHistory`).
        lossy_on_caller: encode lossy plans on the thread that calls :meth:`start`, for a caller with nothing
            to do before :meth:`finish` (its frames are mapped on a thread of their own). Else on a thread of
            the encoder's own, while the caller maps the next frame.
        lookahead_only: parse an exact rectangle that has one way of being written with lookahead alone, not
            greedily as well to keep the smaller (see :func:`encode_plan`): for camera video, whose dithered
            frames greedy parsing nearly never writes smaller. On the seven steady cameras' clips (2026-12-05,
            every frame parsed both ways) it did on 2 frames of 380 (11 bytes on the sky, of 360,962, and 1 on
            the portrait), and it was half the LZW's work there (22 of 44 ms of CPU on the sky), on the core
            beside the mapping's. It did on 5 frames of 50 (0.07%) of smooth dusk, and on screen recordings and
            still pictures by up to 1% (a 16-colour photo), which keep both parses.
    """

    def __init__(self, emit: Callable[[bytes, DrawnIndices | None], None], every_way: bool = False,
                 lossy_on_caller: bool = False, lookahead_only: bool = False) -> None:
        self.emit = emit
        self.lossy_on_caller = lossy_on_caller
        self.lookahead_only = lookahead_only
        workers = available_cores()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gifsom-lzw")
        self.workers = workers
        self.slots = Slots(max(1, workers - 1))
        self.ahead = 2 * workers               # plans always let ahead (see MOST_PLANS_AHEAD)
        self.waiting: deque[tuple[Future, int]] = deque()    # each plan's job and its rectangle's pixels
        self.pixels_ahead = 0
        # lossy plans: one at a time, on the caller's thread or one of their own (their candidates go to ``pool``)
        self.lossy_pool: ThreadPoolExecutor | None = None
        self.started: Future | None = None
        # lossy plans come one at a time, in frame order
        self.lossy_ways = WayHistory(PARALLEL_CANDIDATE_PIXELS if every_way else TRACKED_WAY_PIXELS)

    def start(self, plan: FramePlan) -> None:
        """Start encoding ``plan`` with lossy LZW, whose choices decide what is shown, so the next plan
        needs them (:meth:`finish`); meanwhile the caller can map the next frame (else, with
        ``lossy_on_caller``, the plan is encoded before this returns)."""
        self.flush()
        if self.started is not None:
            raise RuntimeError("finish the lossy plan started before starting another")
        if self.lossy_on_caller:
            self.started = Future()
            self.started.set_result(_encoded(plan, self.pool, self.lossy_ways))
            return
        if self.lossy_pool is None:
            self.lossy_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gifsom-lossy")
        self.started = self.lossy_pool.submit(_encoded, plan, self.pool, self.lossy_ways)

    def finish(self) -> tuple[np.ndarray, int | None]:
        """Wait for the plan given to :meth:`start` and emit it; returns the indices a decoder shows and the
        transparent index."""
        assert self.started is not None, "a lossy plan was started"
        job, self.started = self.started, None
        chunk, drawn, shown, transparent = job.result()
        self.emit(chunk, drawn)
        return shown, transparent

    def later(self, plan: FramePlan) -> None:
        """Queue ``plan`` (exact LZW: every candidate shows its indices) and emit what is finished."""
        self.waiting.append((self.pool.submit(self._exact, plan), plan.indices.size))
        self.pixels_ahead += plan.indices.size
        while self.waiting and (len(self.waiting) > MOST_PLANS_AHEAD or self.waiting[0][0].done()
                                or (len(self.waiting) > self.ahead and self.pixels_ahead > AHEAD_PIXELS)):
            self._emit_first()

    def flush(self) -> None:
        """Emit every queued plan."""
        while self.waiting:
            self._emit_first()

    def _exact(self, plan: FramePlan) -> tuple[bytes, DrawnIndices | None, np.ndarray, int | None]:
        with self.slots.taken():
            return _encoded(plan, lookahead_only=self.lookahead_only)

    def _emit_first(self) -> None:
        job, pixels = self.waiting.popleft()
        self.pixels_ahead -= pixels
        if job.done():
            found = job.result()
        else:
            with self.slots.widened(self.workers):      # the caller waits: its core is free
                found = job.result()
        self.emit(*found[:2])

    def close(self) -> None:
        self.flush()
        if self.lossy_pool is not None:
            self.lossy_pool.shutdown()
        self.pool.shutdown()

    def abandon(self) -> None:
        """Drop the queued plans after a failure."""
        if self.lossy_pool is not None:
            self.lossy_pool.shutdown(cancel_futures=True)
        self.started = None
        self.pool.shutdown(cancel_futures=True)
        self.waiting.clear()
        self.pixels_ahead = 0
