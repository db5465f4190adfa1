"""Where a clip's palette changes: the stretches of frames that share one, and their palettes.

A stretch is a scene (see :class:`gifsom.palette.clip.ClipSurvey`) or, where the
colours drift within a scene, the part of it up to the next drift. A scene whose
colours all fit in a palette stays whole: its exact palette serves every frame.

Stretches are numbered in spooled frames, as the survey is. A clip shown along an
edited timeline (reversed, or with frames dropped) or a fit's sample of it finds the
stretch of each frame it shows by that frame's spooled number
(:meth:`gifsom.clip.Clip.spooled_number`), in whatever order they come.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from .clip import ClipSurvey

#: A drift starts a stretch only where the stretch before it, and the one it starts, keep at least this many
#: training pixels in the clip's sample (128 for each of 256 entries): a long clip, whose sample thins out,
#: gets fewer palettes, and the number of palettes stays bounded (the sample holds 2**20 pixels).
DRIFT_SAMPLES = 1 << 15


class Stretch(NamedTuple):
    """Frames ``start`` up to (not including) ``stop`` that share a palette, learned from ``sample``
    (uint8 (N, 3) training pixels), or exactly ``colours`` (uint8 (M, 3)) where those fit in one;
    ``follows``: it starts where the colours drifted, and continues the stretch before it."""

    start: int
    stop: int
    sample: np.ndarray
    colours: np.ndarray | None
    follows: bool = False


def clip_stretches(survey: ClipSurvey, scene_colours: list[np.ndarray | None],
                   follow_drift: bool) -> list[Stretch]:
    """The stretches of the spooled frames of a survey that tracked scenes: one per scene, with the
    exact colours ``scene_colours`` gives it (None where they do not fit); with ``follow_drift``, the
    scenes that need a learned palette are cut again where their colours drifted (:attr:`ClipSurvey.drift_starts`)
    and learn from the clip's sample of their frames (see :data:`DRIFT_SAMPLES`)."""
    starts = survey.scene_starts
    ends = starts[1:] + [survey.frames]
    stretches = []
    for scene, (start, stop) in enumerate(zip(starts, ends)):
        drifts = [d for d in survey.drift_starts if start < d < stop] if follow_drift else []
        cuts = _kept_drifts(survey, start, stop, drifts) if scene_colours[scene] is None else []
        if not cuts:
            # a clip of one scene learns from the clip's sample, the larger one (as one palette for the clip does)
            sample = survey.sampler.pixels() if len(starts) == 1 else survey.scene_samplers[scene].pixels()
            stretches.append(Stretch(start, stop, sample, scene_colours[scene]))
            continue
        bounds = [start, *cuts, stop]
        stretches.extend(Stretch(first, last, survey.sampler.pixels_of(first, last), None, follows=first != start)
                         for first, last in zip(bounds, bounds[1:]))
    return stretches


def _kept_drifts(survey: ClipSurvey, start: int, stop: int, drifts: list[int]) -> list[int]:
    """The drifts of the scene from ``start`` to ``stop`` that may start a stretch: each leaves at least
    :data:`DRIFT_SAMPLES` sampled pixels on both of its sides (a drift too close to the one before is
    dropped; the last drift is dropped when too close to the scene's end)."""
    kept: list[int] = []
    for drift in drifts:
        if survey.sampler.kept(kept[-1] if kept else start, drift) >= DRIFT_SAMPLES:
            kept.append(drift)
    if kept and survey.sampler.kept(kept[-1], stop) < DRIFT_SAMPLES:
        kept.pop()
    return kept


class StretchPalettes:
    """The palettes of a clip's stretches, learned while the frames before them are mapped and written.

    The first stretch of the longest scene gives the GIF's global table (its frames need no local one), and
    is learned at once, on the calling thread; the others are learned on one worker thread, in frame order.
    A stretch that starts at a drift moves the palette of the stretch before it (``learn``'s second
    argument) rather than learning one afresh (None).

    Args:
        stretches: the clip's stretches, in frame order (see :func:`clip_stretches`).
        learn: a stretch's palette, uint8 (K, 3), given the stretch and the palette to start from or None.
    """

    def __init__(self, stretches: list[Stretch], learn: Callable[[Stretch, np.ndarray | None], np.ndarray]) -> None:
        heads = [number for number, stretch in enumerate(stretches) if not stretch.follows]
        ends = heads[1:] + [len(stretches)]
        lengths = [stretches[end - 1].stop - stretches[head].start for head, end in zip(heads, ends)]
        chosen = heads[int(np.argmax(lengths))]
        #: The first frame of each stretch, and whether its palette is exact.
        self.exact = {stretch.start: stretch.colours is not None for stretch in stretches}
        self._starts = [stretch.start for stretch in stretches]
        self._learned: dict[int, Future] = {}
        self._pool: ThreadPoolExecutor | None = None
        here: Future = Future()
        try:        # a failure, or a stop signal raised on this thread, anywhere here leaves no worker waiting
            if len(stretches) > 1:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gifsom-palette")
            for number, stretch in enumerate(stretches):
                if number == chosen:
                    self._learned[stretch.start] = here
                else:
                    assert self._pool is not None
                    before = self._learned[stretches[number - 1].start] if stretch.follows else None
                    self._learned[stretch.start] = self._pool.submit(_learn_after, learn, stretch, before)
            here.set_result(learn(stretches[chosen], None))
        except BaseException:
            here.cancel()           # a worker waiting for it gets CancelledError
            self.close()
            raise
        #: The GIF's global colour table, uint8 (K, 3).
        self.global_palette: np.ndarray = here.result()

    def stretch_start(self, frame: int) -> int:
        """The first frame of the stretch that holds spooled frame ``frame``."""
        return self._starts[max(0, bisect_right(self._starts, frame) - 1)]

    def palette(self, start: int) -> np.ndarray:
        """The palette of the stretch that starts at frame ``start``, uint8 (K, 3), waiting for it if needed."""
        return self._learned[start].result()

    def close(self) -> None:
        """Stop the worker, dropping palettes not yet begun (after the last frame, or on a failure)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _learn_after(learn: Callable[[Stretch, np.ndarray | None], np.ndarray], stretch: Stretch,
                 before: Future | None) -> np.ndarray:
    """``learn`` the palette of ``stretch``, from the palette ``before`` will hold where given."""
    return learn(stretch, None if before is None else before.result())
