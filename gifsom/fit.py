"""Fitting a clip under a size: the best-looking GIF of at most so many bytes.

The clip is decoded once, into the spool. Each try re-encodes the spooled
frames with one :class:`FitSetting` from a ladder of settings, best to
smallest. Which knob comes first depends on the clip: scaling costs a smooth video
little and a screen recording much, lossy LZW the reverse, few colours band
gradients, and dropping frames costs most everywhere. So the fitter measures,
on a sample of the clip, how much each knob lowers the perceptual score
(:mod:`gifsom.perceptual`, on SSIMULACRA 2's scale) per halving of the bytes,
and builds the ladder by always turning the knob whose next halving should cost
least (:func:`build_ladder`); frames are dropped last. PSNR is not used: it is
blind to the banding of a small palette, so it let the fit choose 16 colours
where scaling down looks far better. Lossy LZW goes no further than
:data:`gifsom.options.MAX_KNOB_LOSSY`, past which it smears. The learned palette
is kept across tries. After the ladder's answer, a few settings around it are
judged on the sample too (:meth:`Fitter._rebalanced`): colours and lossy LZW
eased back, and on clips that are not flat the quality's dither dropped, each
paid for by scale.

Sizes are predicted from a sample of the clip (a few runs of consecutive
frames spread over it), scaled by what the last full encode measured, so that
most clips need two or three full encodes; only a full encode that fits is
ever kept, so the result is never over the limit.
"""

from __future__ import annotations

import io
import math
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from .clip import Clip
from .encoder import write_clip
from .errors import ResourceError
from .fit_terms import FitResult, FitSetting
from .options import MAX_KNOB_LOSSY, EncodeOptions
from .palette.clip import ClipSurvey
from .sources.base import decode_ahead, resize
from .threads import available_cores
from .timeline import TimelineView


#: Each notch of the scale is this share of the one before.
SCALE_STEP = 0.92
#: The notches of each knob, mildest first.
NOTCHES = {
    "lossy": tuple(value for value in (10, 15, 20, 25, 30, 40) if value <= MAX_KNOB_LOSSY),
    "scale": tuple(round(SCALE_STEP ** k, 3) for k in range(1, 24)),   # 0.92 down to 0.15, about 15% fewer bytes each
    "colors": (192, 128, 96, 64, 48, 32, 24, 16),
    "frame_step": (2, 3, 4),
}
#: The most lossy LZW the fit turns to on each kind of content (:data:`gifsom.options.CONTENT_KINDS`). On
#: drawn text and lines, lossy LZW past 15 smears glyph edges: on the bench's screen recording, at the same
#: bytes, lossy 20 to 40 (with the scale that fits) scored 10 to 27 points below lossy 0 to 15 with any
#: palette of 16 to 64 colours, where 16 colours cost at most a point or two.
FIT_MAX_LOSSY = {"flat": 15, "clean": MAX_KNOB_LOSSY, "noisy": MAX_KNOB_LOSSY}


def knob_notches(content: str) -> dict[str, tuple[float, ...]]:
    """:data:`NOTCHES` for a clip of ``content`` (one of :data:`gifsom.options.CONTENT_KINDS`)."""
    most = FIT_MAX_LOSSY[content]
    return {**NOTCHES, "lossy": tuple(value for value in NOTCHES["lossy"] if value <= most)}


#: A probed notch that saves fewer halvings of the bytes than this saved nothing.
MIN_HALVINGS = 0.05
#: The least score a probed notch is taken to lose, in points.
MIN_POINTS_LOST = 0.05
#: The notch of each knob whose cost in quality per byte saved is measured on the sample.
PROBE_NOTCH = {"lossy": 20, "scale": 0.7, "colors": 64}
#: A deeper notch, measured where the first saved (next to) nothing: scaling anti-aliased text to 0.7
#: can add bytes (the bench's screen recording: 29,523 against 28,938), where 0.5 saves a third. A flat
#: clip's scale is probed at this notch from the start.
DEEP_PROBE_NOTCH = {"lossy": 40, "scale": 0.5, "colors": 16}


@dataclass(frozen=True)
class KnobCost:
    """What turning a knob costs on a clip, measured on its sample.

    Attributes:
        points_per_halving: perceptual score lost per halving of the bytes (inf when the knob saved nothing).
        halvings_per_notch: halvings of the bytes one notch brings, on average.
    """

    points_per_halving: float
    halvings_per_notch: float


def _notch_scale(start: FitSetting, value: float) -> float:
    """The scale of scale notch ``value`` below ``start``, rounded as every try's scale is (tries at one
    scale share their scaled frames)."""
    return round(start.scale * value, 4)


def _notch(setting: FitSetting, start: FitSetting, knob: str, value: float) -> FitSetting | None:
    """``setting`` with ``knob`` at notch ``value`` (relative to ``start`` for scale and frame step), or
    None where the notch goes no further than ``start`` already does."""
    if knob == "scale":
        return replace(setting, scale=_notch_scale(start, value))
    if knob == "frame_step":
        return replace(setting, frame_step=start.frame_step * int(value))
    if knob == "lossy":
        return replace(setting, lossy=int(value)) if value > start.lossy else None
    return replace(setting, colors=int(value)) if value < start.colors else None


def build_ladder(costs: dict[str, KnobCost], start: FitSetting = FitSetting(),
                 notches: dict[str, tuple[float, ...]] = NOTCHES) -> list[FitSetting]:
    """Settings from ``start`` (the best) to the smallest, along ``notches`` (by knob, mildest first).

    Each step turns one knob one notch: the knob whose next halving of the bytes is predicted
    to cost least. A knob's cost per halving is taken to grow with the halvings it has already
    given (its first notches are its cheapest), so knobs interleave: a smooth video scales
    down for several notches before the palette shrinks; a screen recording shrinks its palette
    first. Knobs that saved nothing on the sample, and dropping frames, come last.
    """
    steps = [start]
    taken = {knob: 0 for knob in costs}
    depth = {knob: 0.0 for knob in costs}
    useful = [knob for knob in costs if math.isfinite(costs[knob].points_per_halving)]
    while True:
        open_knobs = [knob for knob in useful if taken[knob] < len(notches[knob])]
        if not open_knobs:
            break
        knob = min(open_knobs, key=lambda k: costs[k].points_per_halving * (1 + depth[k]))
        turned = _notch(steps[-1], start, knob, notches[knob][taken[knob]])
        taken[knob] += 1
        depth[knob] += costs[knob].halvings_per_notch
        if turned is not None:
            steps.append(turned)
    for knob in ["frame_step"] + [knob for knob in costs if knob not in useful]:
        for value in notches[knob][taken.get(knob, 0):]:
            turned = _notch(steps[-1], start, knob, value)
            if turned is not None:
                steps.append(turned)
    return steps


def expected_halvings(ladder: list[FitSetting], costs: dict[str, KnobCost]) -> list[float]:
    """For each step of ``ladder``, the halvings of the bytes the knob costs predict since its first step."""
    total, found = 0.0, [0.0]
    for before, after in zip(ladder, ladder[1:]):
        for knob in ("scale", "lossy", "colors", "frame_step"):
            if getattr(before, knob) != getattr(after, knob):
                total += costs[knob].halvings_per_notch if knob in costs else FRAME_STEP_HALVINGS
        found.append(total)
    return found


#: Halvings of the bytes one more frame-step notch brings, about (measured on the fixtures: 2 frames
#: in 3 dropped leaves 0.34 to 0.81 of the bytes).
FRAME_STEP_HALVINGS = 0.3


#: Frames of at most this many bytes have their knob probes run at once (1280x720 RGB is 2.8 MB).
PARALLEL_PROBE_BYTES = 1 << 21
#: The most bytes of scaled sample frames kept between tries (at least one size is always kept).
SCALED_SAMPLE_BYTES = 128 << 20


class ScaledSample:
    """The sample's frames at each size a try asks for, scaled once and kept while they fit in
    :data:`SCALED_SAMPLE_BYTES` (the oldest sizes go first). Safe to use from several threads.

    Args:
        spool: the decoded clip.
        numbers: the sample's frame numbers.
    """

    def __init__(self, spool: Clip, numbers: list[int]) -> None:
        self.spool, self.numbers = spool, numbers
        self._sizes: dict[tuple[int, int], dict[int, np.ndarray]] = {}
        self._lock = threading.Lock()

    def kept(self, number: int, size: tuple[int, int]) -> np.ndarray | None:
        """Frame ``number`` at ``size`` where a try has scaled it already, else None (nothing is scaled)."""
        with self._lock:
            return self._sizes.get(size, {}).get(number)

    def frame(self, number: int, size: tuple[int, int]) -> np.ndarray:
        """Frame ``number`` of the sample at ``size`` = (width, height): uint8 (height, width, C)."""
        if size == (self.spool.shape[1], self.spool.shape[0]):
            return self.spool.frame(number)        # nothing to scale: no copy to keep
        with self._lock:
            frames = self._sizes.get(size)
        if frames is None:
            # the whole sample at once, on all cores (Pillow frees the GIL while it scales)
            with ThreadPoolExecutor(max_workers=available_cores(), thread_name_prefix="gifsom-scale") as pool:
                frames = dict(zip(self.numbers, pool.map(lambda n: resize(self.spool.frame(n), size), self.numbers)))
            with self._lock:
                self._sizes[size] = frames
                while len(self._sizes) > 1 and sum(frame.nbytes for kept in self._sizes.values()
                                                   for frame in kept.values()) > SCALED_SAMPLE_BYTES:
                    del self._sizes[next(iter(self._sizes))]
        return frames[number]


class ClipView(TimelineView):
    """The spooled clip as a setting shows it, for :func:`gifsom.encoder.write_clip`: a timeline of
    its frames (a sample, thinned by the setting's frame step), scaled.

    Args:
        spool: the decoded clip (a spool, or a spool along an edited timeline).
        setting: scale and frame step.
        numbers: the clip's frames to use (a sample), or None for all.
        sample: the sample's frames kept scaled between views, or None. A view of the sample takes all its
            frames from it (scaling them once); a view of the clip takes those a sample try has scaled.
    """

    def __init__(self, spool: Clip, setting: FitSetting, numbers: list[int] | None = None,
                 sample: ScaledSample | None = None) -> None:
        chosen = range(len(spool)) if numbers is None else numbers
        kept = [n for n in chosen if n % setting.frame_step == 0] or [0]
        super().__init__(spool, kept, [spool.timestamps[n] for n in kept])
        height, width, channels = spool.shape
        self.size = setting.size(width, height)
        self.shape = (self.size[1], self.size[0], channels)
        self.sample = sample
        # a view of the sample takes every frame from it
        self._whole_from: ScaledSample | None = (sample if sample is not None and numbers is not None
                                                 and set(kept) <= set(sample.numbers) else None)
        self._ahead: Iterator[np.ndarray] | None = None
        self._next = 0

    def _scaling_job(self, source: int) -> Callable[[], np.ndarray]:
        # read and scaled on a worker: the queue ahead then holds only scaled frames
        def scaled() -> np.ndarray:
            kept = self.sample.kept(source, self.size) if self.sample is not None else None
            return kept if kept is not None else resize(self.spool.frame(source), self.size)
        return scaled

    def changed_box(self, number: int) -> tuple[int, int, int, int] | None:
        """As :meth:`TimelineView.changed_box` where frames keep their size; unknown where they are scaled."""
        height, width = self.spool.shape[:2]
        return super().changed_box(number) if self.size == (width, height) else None

    def frame(self, number: int) -> np.ndarray:
        source = self.numbers[number]
        if self._whole_from is not None:
            return self._whole_from.frame(source, self.size)
        # frames are read in order: scale the next ones on other cores meanwhile (Pillow frees the GIL)
        if self._ahead is None or number != self._next:
            self._ahead = decode_ahead(self._scaling_job(n) for n in self.numbers[number:])
        self._next = number + 1
        return next(self._ahead)


#: Frames in the sample that predicts sizes: runs of this many consecutive frames...
SAMPLE_RUN = 4
#: ... this many runs, spread over the clip (the whole clip when it is no longer).
SAMPLE_RUNS = 4
#: The perceptual score judges this many frames of the sample, the middle one of each equal part: one a
#: run for a sample of runs (a frame costs about 15 ms at 480x320, scaled back to size and judged: on a
#: 30-frame screen clip, whose sample is the whole clip, judging every 4th frame instead took scoring to
#: two fifths of the fit's work, for the same choices at half and a quarter of its bytes).
SCORED_FRAMES = SAMPLE_RUNS
#: The size search bisects after this many tries running that each left more than half of its range
#: (see :meth:`Fitter._predict`). On the ladders of seven clips (the bench's and held-out ones) at 24
#: limits each, it made 2.5 sample tries a search on average with 3, and 2.7 with 2 (the search before
#: the Illinois rule: 3.0). Without bisecting, crafted sizes took more than twice a bisection's tries.
SEARCH_SLOW_TRIES = 3
#: How many notches the fit eases colours and lossy LZW back, each time taking the bytes back by scaling
#: (see :meth:`Fitter._rebalanced`). It costs about a fifth of a screen clip's fit (0.13 to 0.15 s of
#: 0.67 to 0.73 s on 2 cores, 2026-12-03), and easing picks nothing on the fit bench's screen and 176x144 clips,
#: but it won 6 of the 15 fits where it ran on the other bench and held-out clips, by up to 10 points
#: (the web page at a quarter of its bytes: 24.6 to 34.5 on the sample). Skipping it where the answer
#: scored at least what the knob costs predicted would have lost 3 of those 6, that one among them.
REBALANCE_NOTCHES = (2, 4)

#: The kinds of content (:data:`gifsom.options.CONTENT_KINDS`) on which the rebalancing also tries the
#: answer without dither, with lossy LZW a notch harsher and the bytes that saves spent on scale: the
#: dither's noise makes lossy LZW cost the eye more, so at a few dozen pixels wide a clip can look better
#: undithered. By SSIMULACRA 2 (every 10th frame, 2026-12-03), it won on the 176x144 clip under 128 KB
#: (61.51 against 59.49) and a quarter of its bytes (67.53 against 66.45), and on the web page at a quarter
#: (24.55 against 23.84). On flat content the sample's score misjudged it (the moving plot at an eighth of
#: its bytes: -42.72 against -37.11), and on the screen recording it never won; there it is not tried.
UNDITHERED_CONTENT = frozenset({"clean", "noisy"})


class Fitter:
    """Finds the first setting of a ladder whose GIF fits in ``limit`` bytes.

    Args:
        spool, survey: the decoded clip and what was learned while decoding it.
        options: encoding options; the ladder's settings replace ``lossy`` and ``colors``,
            unless the caller chose them (``fixed``: the knobs the ladder leaves as they are).
        end_time: when the last frame stops showing, in seconds.
        limit: the most bytes the GIF may have.
        ladder: the settings to try, best first; None measures the knobs' order on a sample, when first needed.

    Making a fitter only stores its arguments (and picks the sample's frame numbers); the work is done by
    :meth:`fit`, or :meth:`knob_costs` on its own.
        max_frames: at most this many frames, or None (a share of the clip's frames is kept by
            starting the ladder at the frame step that meets it).
        max_side: (width, height) the GIF may not exceed, or None.
        report: called with a line about each try, sample probe and knob measured (for a progress
            bar, or tracing), or None; it may be called from worker threads.
    """

    def __init__(self, spool: Clip, survey: ClipSurvey, options: EncodeOptions, end_time: float, limit: int,
                 *, ladder: list[FitSetting] | None = None, fixed: frozenset[str] = frozenset(),
                 max_frames: int | None = None, max_side: tuple[int, int] | None = None,
                 report: Callable[[str], None] | None = None) -> None:
        self.spool, self.survey, self.options = spool, survey, options.for_clip(survey.content)
        self.end_time = end_time
        self.limit = limit
        self.fixed = fixed
        self.palettes: dict = {}
        self.frames_of: dict[FitSetting, int] = {}
        self._frame_sizes: dict[FitSetting, list[int]] = {}
        self._lock = threading.Lock()
        self.sample = self._sample_numbers()
        self._scaled_sample = ScaledSample(spool, self.sample)
        self._references: dict[int, list[np.ndarray]] = {}
        self._references_lock = threading.Lock()
        parts = min(SCORED_FRAMES, len(self.sample))
        self._scored = [self.sample[int((part + 0.5) * len(self.sample) / parts)] for part in range(parts)]
        self._sampled: dict[FitSetting, bytes] = {}
        #: scores started ahead of need: a full try's, while it encodes (see :meth:`fit`)
        self._scores_ahead: dict[FitSetting, Future[float]] = {}
        self.report = report or (lambda text: None)
        self.probes = 0
        self.start = self._first_allowed(max_frames, max_side)
        self.notches = knob_notches(self.options.content or "clean")
        self._ladder = ladder
        self._halvings: list[float] | None = None

    @property
    def ladder(self) -> list[FitSetting]:
        """The settings to try, best first: as given, or built when first asked for from the knob costs
        measured on the sample (:meth:`knob_costs`, which encodes and scores a few sample GIFs)."""
        if self._ladder is None:
            costs = self.knob_costs()
            self._ladder = build_ladder(costs, self.start, self.notches)
            self._halvings = expected_halvings(self._ladder, costs)
        return self._ladder

    @property
    def halvings(self) -> list[float] | None:
        """The bytes each ladder step is expected to halve away, from the knob costs (None for a given ladder)."""
        self.ladder
        return self._halvings

    def _first_allowed(self, max_frames: int | None, max_side: tuple[int, int] | None) -> FitSetting:
        """The best setting within the frame-count and size caps (a preset's)."""
        start = FitSetting(lossy=self.options.lossy_level, colors=self.options.palette_colors)
        height, width = self.spool.shape[:2]
        if max_side is not None and (width > max_side[0] or height > max_side[1]):
            start = replace(start, scale=min(max_side[0] / width, max_side[1] / height))
        if max_frames is not None and len(self.spool) > max_frames:
            start = replace(start, frame_step=math.ceil(len(self.spool) / max_frames))
        return start

    def knob_costs(self) -> dict[str, KnobCost]:
        """What each knob the caller left free costs on the sample: the perceptual score it loses per
        halving of the bytes at its :data:`PROBE_NOTCH`, and the halvings each notch brings. For frames up to
        :data:`PARALLEL_PROBE_BYTES` the probes run at once on worker threads (the kernels and Pillow
        release the GIL)."""
        base = self.start
        # lossy LZW is probed no further than the clip's kind of content lets the ladder go
        most_lossy = self.notches["lossy"][-1]
        probe_notch = {**PROBE_NOTCH, "lossy": min(PROBE_NOTCH["lossy"], most_lossy)}
        deep_notch = {**DEEP_PROBE_NOTCH, "lossy": min(DEEP_PROBE_NOTCH["lossy"], most_lossy)}
        if self.options.content == "flat":
            # drawn text and lines scaled a little gain colours at their anti-aliased edges and can grow:
            # their scale is probed at the deeper notch at once, beside the other probes
            probe_notch["scale"] = deep_notch["scale"]
        notched = {knob: _notch(base, base, knob, notch) for knob, notch in probe_notch.items()
                   if knob not in self.fixed}
        probes = {knob: probe for knob, probe in notched.items() if probe is not None}

        def saved_halvings(size: int) -> float:
            return math.log2(base_bytes / size) if size < base_bytes else 0.0

        # at once for small frames, where fixed costs dominate; one by one for large ones, to bound memory
        with ThreadPoolExecutor(max_workers=self._probe_workers(), thread_name_prefix="gifsom-fit") as pool:
            tried = {"": base, **probes}
            encoding = {knob: pool.submit(self._sample_bytes, setting) for knob, setting in tried.items()}
            sizes = {"": encoding[""].result()}
            base_bytes = sizes[""]
            notch_of = dict(probe_notch)
            # each probe is judged or probed deeper as soon as its bytes are known, so that no worker waits
            # for the slowest probe: only knobs that saved bytes need their look judged (the others cost
            # infinitely much per halving), and a knob that saved too little is probed at its deeper notch
            judging = {"": pool.submit(self._sample_score, base)}
            deeper: dict[str, FitSetting] = {}
            probing = {}
            for knob in probes:
                sizes[knob] = encoding[knob].result()
                saved = saved_halvings(sizes[knob])
                if saved <= MIN_HALVINGS and deep_notch[knob] != probe_notch[knob] \
                        and (deep := _notch(base, base, knob, deep_notch[knob])) is not None:
                    deeper[knob] = deep
                    probing[knob] = pool.submit(self._sample_bytes, deep)
                elif saved > MIN_HALVINGS:
                    judging[knob] = pool.submit(self._sample_score, tried[knob])
            for knob, job in probing.items():
                tried[knob], sizes[knob], notch_of[knob] = deeper[knob], job.result(), deep_notch[knob]
                if saved_halvings(sizes[knob]) > MIN_HALVINGS:
                    judging[knob] = pool.submit(self._sample_score, tried[knob])
            scores = {knob: job.result() for knob, job in judging.items()}
        costs = {}
        for knob in probes:
            size, notch = sizes[knob], notch_of[knob]
            saved = saved_halvings(size)
            # a knob that cost nothing on the sample still costs something: with a cost of 0 it would be
            # turned to its last notch before any other knob moved
            lost = max(scores[""] - scores[knob], MIN_POINTS_LOST) if knob in scores else math.inf
            # the notches up to the probed one: lossy grows notch by notch, scale and colours shrink
            notches = sum(1 for value in self.notches[knob] if (value <= notch if knob == "lossy" else value >= notch))
            costs[knob] = KnobCost(lost / saved if saved > MIN_HALVINGS else math.inf, saved / max(1, notches))
            self.report(f"{knob} {notch}: {size:,} bytes on the sample, {lost:.2f} points lost, "
                        f"{costs[knob].points_per_halving:.2f} points per halving")
        return costs

    def _sample_numbers(self) -> list[int]:
        count = len(self.spool)
        if count <= SAMPLE_RUN * SAMPLE_RUNS:
            return list(range(count))
        starts = np.linspace(0, count - SAMPLE_RUN, SAMPLE_RUNS).astype(int)
        return sorted({int(s) + k for s in starts for k in range(SAMPLE_RUN)})

    def encode(self, setting: FitSetting, numbers: list[int] | None = None) -> bytes:
        """The GIF of the clip (or of frames ``numbers``) with ``setting``."""
        view = ClipView(self.spool, setting, numbers, self._scaled_sample)
        # a fit keeps one palette per scene where the quality would follow drifting colours: its tries
        # predict the clip from samples and small scales, which drift palettes serve less well (with them,
        # small's fit for Slack scored 57.39 against 60.73 and took 1.83 against 1.24 s; SSIMULACRA 2 on
        # every 10th frame, 2026-12-04)
        scope = "scene" if self.options.palette_scope == "drift" else self.options.palette
        options = replace(self.options, lossy=setting.lossy, colors=setting.colors,
                          dither=self.options.dither if setting.dithered else "none", palette=scope)
        out = io.BytesIO()
        # a sample that is the whole clip stands for the clip's GIF (see _full_gif): its last frame lasts as long
        whole = numbers is None or len(numbers) == len(self.spool)
        end = self.end_time if whole else view.timestamps[-1] + self._frame_period() * setting.frame_step
        writer = write_clip(out, view, self.survey, options, end, palettes=self.palettes, every_way=True)
        self.frames_of[setting] = writer.frames_written
        if numbers is not None:
            self._frame_sizes[setting] = writer.frame_sizes
        return out.getvalue()

    def _frame_period(self) -> float:
        times = self.spool.timestamps
        return (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else 0.1

    def _sample_gif(self, setting: FitSetting) -> bytes:
        if setting not in self._sampled:
            data = self.encode(setting, self.sample)
            with self._lock:
                self._sampled[setting] = data
                self.probes += 1
                self.report(f"probe {setting}: {len(data):,} bytes on the sample")
        return self._sampled[setting]

    def _full_per_sample(self, setting: FitSetting) -> float:
        """Full-clip bytes per sample byte with ``setting``, estimated from its sample GIF before any full encode:
        the sample's runs each open with a whole frame where the clip has one, so the frames after the first
        stand for the rest. Measured per setting: the share of the first frame, and of each frame's fixed costs,
        grows as the frames shrink (on the screen recording, 1.17 at full size and 1.26 at 0.368 of it)."""
        count, sample = len(self.spool), len(self.sample)
        data = self._sample_gif(setting)
        sizes = self._frame_sizes.get(setting)
        if sample == count or sizes is None or len(sizes) != sample:
            return count / max(1, sample)
        starts = set(range(0, sample, SAMPLE_RUN))
        following = [size for number, size in enumerate(sizes) if number not in starts]
        header = len(data) - sum(sizes)
        estimate = header + sizes[0] + (count - 1) * (sum(following) / max(1, len(following)))
        return estimate / len(data)

    def _full_gif(self, setting: FitSetting) -> bytes:
        """The whole clip's GIF (the sample's, when the sample is the whole clip)."""
        if len(self.sample) == len(self.spool):
            return self._sample_gif(setting)
        return self.encode(setting)

    def _sample_bytes(self, setting: FitSetting) -> int:
        """The bytes of the sample's GIF with ``setting``."""
        return len(self._sample_gif(setting))

    def _ladder_bytes(self, index: int) -> int:
        """The bytes of the sample's GIF with the ladder's step ``index``."""
        return self._sample_bytes(self.ladder[index])

    def _sample_score(self, setting: FitSetting) -> float:
        """The perceptual score (:func:`gifsom.perceptual.perceived_score`) of the sample's GIF with ``setting``
        against the sample's frames, at the clip's size and on its timeline, judged on :data:`SCORED_FRAMES`
        frames spread over the sample."""
        from .gif.reader import GifReader
        from .perceptual import perceived_score, pyramid

        height, width = self.spool.shape[:2]
        first = self.spool.timestamps[self.sample[0]]
        period = self._frame_period()
        # the scored frames' times on the GIF's clock (centiseconds): each is judged against the GIF frame
        # on screen then, the last frame starting at or before it (the first where none does)
        moments = [(self.spool.timestamps[number] - first + period / 2) * 100 for number in self._scored]
        shown: dict[float, np.ndarray] = {}
        clock, canvas = 0, None
        for canvas, delay in GifReader(self._sample_gif(setting), "sample").frames():
            for at in moments:
                if at not in shown and at < clock + delay:      # on screen while this frame shows
                    shown[at] = canvas[:, :, :3].copy()         # only the frames judged are copied
            clock += delay
        for at in moments:
            if at not in shown and canvas is not None:          # after the last frame's delay: it stays
                shown[at] = canvas[:, :, :3].copy()
        sources, pictures = [], []
        for number, at in zip(self._scored, moments):
            picture = shown[at]
            if picture.shape[:2] != (height, width):
                picture = resize(picture, (width, height))
            with self._references_lock:          # made once, though scores run on several threads
                if number not in self._references:
                    self._references[number] = pyramid(self.spool.frame(number)[:, :, :3])
            sources.append(self._references[number])
            pictures.append(picture)
        return perceived_score(sources, pictures)

    def fit(self) -> FitResult:
        """The best GIF of at most ``limit`` bytes.

        Raises:
            ResourceError: even the ladder's last setting does not fit (nothing is kept).
        """
        full = 0
        # with no full encode yet, each setting's sample frames stand for the clip's (scale None)
        scale: float | None = None
        best: tuple[int, bytes] | None = None          # the best fitting try: (ladder index, bytes)
        smallest = math.inf
        low, high = 0, len(self.ladder) - 1            # the answer lies in low..high, which shrinks each try
        # a full try mostly keeps one core busy: meanwhile another scores its setting on the sample, the
        # first thing the rebalancing asks for if that try is the answer (where frames are small enough for
        # sample work to run beside other work, see _probe_workers)
        ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gifsom-fit-ahead")
        score_ahead = self._probe_workers() > 1
        try:
            while low <= high:
                index = self._predict(low, high, scale)
                tried = self.ladder[index]
                if score_ahead and self._may_rebalance(tried) and tried not in self._scores_ahead:
                    self._scores_ahead[tried] = ahead.submit(self._sample_score, tried)
                data = self._full_gif(tried)
                full += 1
                smallest = min(smallest, len(data))
                self.report(f"try {full}: {tried} -> {len(data):,} bytes")
                scale = len(data) / self._ladder_bytes(index)
                if len(data) <= self.limit:
                    best = (index, data)
                    high = index - 1
                    # stop when the prediction says the next better setting would not fit either
                    if high < low or self._ladder_bytes(high) * scale > self.limit:
                        break
                else:
                    low = index + 1
        finally:
            ahead.shutdown(wait=False, cancel_futures=True)     # a score still running finishes on its own
        if best is None:
            raise ResourceError(f"the smallest GIF reached is {smallest:,.0f} bytes, over the {self.limit:,}-byte "
                                "limit; trim the clip (`start`/`end`), or allow more bytes")
        setting, data = self.ladder[best[0]], best[1]
        milder = self._rebalanced(setting, len(data) / self._ladder_bytes(best[0]))
        if milder is not None:
            full += 1
            candidate = self._full_gif(milder)
            self.report(f"rebalanced: {milder} -> {len(candidate):,} bytes")
            if len(candidate) <= self.limit:
                setting, data = milder, candidate
        height, width = self.spool.shape[:2]
        fps = round(1.0 / self._frame_period(), 2) if len(self.spool) > 1 else None
        return FitResult(data, self.frames_of[setting], setting, full, self.probes,
                         setting.describe(width, height, fps))

    def _rebalanced(self, setting: FitSetting, scale: float) -> FitSetting | None:
        """A setting that looks better than ``setting`` on the sample and is predicted to fit (full-clip bytes
        are ``scale`` times the sample's), or None.

        The ladder turns one knob at a time, each while its measured cost is lowest, and a knob's last
        notches cost more than its first ones promise: 16 colours posterise where 64 barely show. So the
        colours and lossy LZW of the answer are each eased back :data:`REBALANCE_NOTCHES` notches, and the
        bytes that costs are taken back by scaling (the largest scale predicted to fit). On clips judged
        clean or noisy, where the quality chose the dither, the most eased setting is also tried without it
        and with lossy LZW a notch harsher, at the largest scale that fits (:data:`UNDITHERED_CONTENT`).
        The best of these by the perceptual score on the sample is kept.
        """
        if not self._may_rebalance(setting):
            return None
        # the ladder's own scale notches, so that the sample scaled for the ladder's tries serves again
        grid = [_notch_scale(self.start, value) for value in self.notches["scale"]]
        scales = [setting.scale] + [value for value in grid if value < setting.scale]

        def eased(value: int, knob: str, notches: int) -> int:
            if knob in self.fixed:
                return value                     # as the caller gave it
            ladder = [getattr(self.start, knob)] + [v for v in self.notches[knob]
                                                   if (v < self.start.colors if knob == "colors"
                                                       else v > self.start.lossy)]
            place = ladder.index(value) if value in ladder else 0
            return int(ladder[max(0, place - notches)])

        def fits(candidate: FitSetting) -> bool:
            return self._sample_bytes(candidate) * scale <= self.limit

        exponent = self._scale_exponent(setting)

        def scaled_to_fit(knobs: FitSetting, choices: list[float], label: str) -> tuple[FitSetting, float] | None:
            """``knobs`` at the scale that takes back the bytes they add (or spends what they save), by how
            bytes grew with scale on the sample: the largest of ``choices`` (scales, largest first) under
            that, checked on the sample a notch smaller at a time; with its score on the sample, or None
            where even the smallest does not fit."""
            wanted = setting.scale * (self._sample_bytes(knobs) * scale / self.limit) ** (-1 / exponent)
            low = next((k for k, value in enumerate(choices) if value <= wanted), len(choices) - 1)
            while low < len(choices) - 1 and not fits(replace(knobs, scale=choices[low])):
                low += 1
            candidate = replace(knobs, scale=choices[low])
            if not fits(candidate):
                return None
            found = self._sample_score(candidate)
            self.report(f"{label}: {candidate} scores {found:.2f} on the sample")
            return candidate, found

        def try_eased(notches: int) -> tuple[FitSetting, float] | None:
            milder = replace(setting, colors=eased(setting.colors, "colors", notches),
                             lossy=eased(setting.lossy, "lossy", notches))
            # easing adds bytes: the answer's scale or smaller
            return None if milder == setting else scaled_to_fit(milder, scales, f"eased {notches}")

        def try_undithered() -> tuple[FitSetting, float] | None:
            # without the dither's noise, lossy LZW costs the eye less: from the mildest easing, the dither
            # dropped and lossy LZW a notch harsher, at the largest scale (up to the start's) that fits
            notches = max(REBALANCE_NOTCHES, default=0)
            lossy = eased(setting.lossy, "lossy", notches)
            if "lossy" not in self.fixed:
                lossy = int(next((value for value in self.notches["lossy"] if value > lossy), lossy))
            plain = replace(setting, dithered=False, lossy=lossy, colors=eased(setting.colors, "colors", notches))
            return scaled_to_fit(plain, sorted({self.start.scale, *grid}, reverse=True), "undithered")

        # each easing on a worker of its own where the frames are small (see knob_costs)
        with ThreadPoolExecutor(max_workers=self._probe_workers(), thread_name_prefix="gifsom-fit") as pool:
            answer = self._scores_ahead.get(setting)
            if answer is None or answer.cancelled():
                answer = pool.submit(self._sample_score, setting)
            roads = [pool.submit(try_eased, notches) for notches in REBALANCE_NOTCHES]
            if self._may_drop_dither():
                roads.append(pool.submit(try_undithered))
            tried = [found for found in (road.result() for road in roads) if found is not None]
            best_score = answer.result()
        better = [(found, candidate) for candidate, found in tried if found > best_score]
        return max(better, key=lambda pair: pair[0])[1] if better else None

    def _may_rebalance(self, setting: FitSetting) -> bool:
        """Whether :meth:`_rebalanced` tries milder settings for the answer ``setting``: only where the ladder
        turned colours down or lossy LZW up, and scale is the ladder's to change."""
        return "scale" not in self.fixed and (setting.colors < self.start.colors or setting.lossy > self.start.lossy)

    def _may_drop_dither(self) -> bool:
        """Whether :meth:`_rebalanced` also tries the answer without dither (see :data:`UNDITHERED_CONTENT`):
        only where the quality chose the dither, and on those kinds of content."""
        return ("dither" not in self.fixed and self.options.content in UNDITHERED_CONTENT
                and self.options.dither_mode != "none" and self.options.dither_level > 0)

    def _probe_workers(self) -> int:
        """Sample tries to run at once: all cores for frames up to :data:`PARALLEL_PROBE_BYTES`, else one
        (to bound memory)."""
        height, width, channels = self.spool.shape
        return available_cores() if height * width * channels <= PARALLEL_PROBE_BYTES else 1

    def _scale_exponent(self, setting: FitSetting) -> float:
        """How the sample's bytes grow with scale near ``setting``: the slope of log bytes against log scale
        between the two sample tries nearest it that differ from it only in scale (anti-aliased text: about
        1.3; video: nearer 2), within 1 and 2; 2 (bytes as pixels) where there are no such tries."""
        with self._lock:
            points = {tried.scale: len(data) for tried, data in self._sampled.items()
                      if replace(tried, scale=setting.scale) == setting}
        near = sorted(points.items(), key=lambda point: abs(math.log(point[0] / setting.scale)))[:2]
        if len(near) < 2:
            return 2.0
        (scale_a, bytes_a), (scale_b, bytes_b) = near
        return min(max(math.log(bytes_a / bytes_b) / math.log(scale_a / scale_b), 1.0), 2.0)

    def _predict(self, low: int, high: int, scale: float | None) -> int:
        """The best index in ``low..high`` whose predicted size fits under the limit, searched
        on the sample, whose sizes fall along the ladder.

        Each try goes where the sizes seen so far, laid along the ladder by the knob costs' halvings, say the
        limit is crossed: before any step fits, by the halvings seen per halving predicted; after, by
        interpolating between the nearest steps on either side of the limit (regula falsi). Where one side
        has stayed in place for two tries running, its distance from the limit counts half in the
        interpolation (the Illinois rule), so that the tries do not creep up on the crossing from one side
        a step at a time. After :data:`SEARCH_SLOW_TRIES` tries running that each left more than half the
        range, the search bisects, so a poor model costs at most about twice a bisection's tries.

        A step's full-clip bytes are its sample's times ``scale`` (full bytes per sample byte at the last full
        try), or, before any full try (``scale`` None), times the step's own estimate
        (:meth:`_full_per_sample`)."""
        # no margin under the limit: a full try that misses costs as much as one that lands a step short of the
        # best fit. Each step's own estimate over-predicted the screen recording by 0.5% to 2.8%; one estimate
        # for every step, from the ladder's first, under-predicted its small sizes by up to 7%
        goal = math.log2(self.limit)
        halvings = self.halvings or [float(index) for index in range(len(self.ladder))]

        def logged(index: int) -> float:
            per_sample = self._full_per_sample(self.ladder[index]) if scale is None else scale
            return math.log2(self._ladder_bytes(index) * per_sample)

        if logged(low) <= goal:
            return low
        bad, good = low, high              # ``bad`` does not fit; the answer lies in bad + 1 .. good
        over = logged(bad) - goal          # halvings from ``bad`` down to the limit (> 0)
        under: float | None = None         # from the best fit seen down to the limit (<= 0), once one is seen
        rate = 1.0                         # halvings seen per halving the knob costs predict
        stayed = ""                        # the side the last try left in place: "bad" or "good"
        slow = 0                           # tries running that left more than half the range
        while good - bad > 1:
            span = good - bad
            if slow >= SEARCH_SLOW_TRIES:
                guess = (bad + good) // 2
            elif under is not None:
                wanted = halvings[bad] + over / (over - under) * (halvings[good] - halvings[bad])
                guess = next((i for i in range(bad + 1, good) if halvings[i] >= wanted), good - 1)
            else:
                wanted = halvings[bad] + over / rate
                guess = next((i for i in range(bad + 1, good + 1) if halvings[i] >= wanted), good)
            found = logged(guess) - goal
            if found <= 0:
                if stayed == "bad":
                    over /= 2
                good, under, stayed = guess, found, "bad"
            else:
                # before any fit, ``over`` is still bad's whole distance from the limit (only halved after one)
                seen, predicted = over - found, halvings[guess] - halvings[bad]
                if under is None and seen > 0 and predicted > 1e-9:   # (a vanishing prediction would overflow)
                    rate = seen / predicted
                if stayed == "good" and under is not None:
                    under /= 2
                bad, over, stayed = guess, found, "good"
            slow = slow + 1 if good - bad > span / 2 else 0
        return good
