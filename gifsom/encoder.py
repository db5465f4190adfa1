"""The encoding pipeline: spooled frames -> palettes -> mapping -> optimised GIF.

Stages, in the order frames meet them:

1. :class:`ClipSurvey` looks at each frame as it is spooled (training samples,
   scene cuts, exact colour census).
2. Palettes are learned: one for the clip, one per scene, or one per frame.
3. :class:`FrameMapper` maps each frame to its palette, keeping unchanged
   pixels' indices.
4. :class:`AnimationWriter` writes only what changed, with exact timing.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import closing
from functools import partial
from typing import Any, BinaryIO

import numpy as np

from .clip import Clip
from .gif.animation import AnimationWriter, IndexedFrame
from .gif.timing import start_cs
from .mapping.converge import ConvergingMapper, ScreenFollowingMapper, SteadyCameraMapper
from .mapping.stage import DEFAULT_MOTION_THRESHOLD, FrameMapper
from .mapping.still_mean import still_means
from .options import DEFAULT_COLORS, EncodeOptions
from .palette.clip import NOISY_FLICKER, ClipSurvey
from .palette.learn import FRAME, Effort, PaletteOptions, exact_palette, palette_from_pixels
from .palette.stretches import StretchPalettes, clip_stretches
from .progress import Progress, ProgressCallback
from .threads import available_cores, run_ahead


#: A palette per frame, when the quality asks for it, only for clips where at least this share of the
#: pixels changes from frame to frame. On the bench's clips: camera video 0.83 to 0.87, the scrolling
#: page 0.42, the cartoon 0.07, the screen recording 0.008.
MOSTLY_CHANGING = 0.25
#: Camera video is a steady camera's (:func:`steadies`) where at least this share of its textured places stay
#: from frame to frame (:attr:`gifsom.palette.clip.ClipSurvey.steady_share`). Measured (2026-12-04): the bench's
#: three steady clips (sensor noise through H.264) 0.79 to 0.94, a steady talking head with raw sensor noise
#: of 2 and 3 levels 0.79 and 0.68; the bench's pans and zooms 0.06 to 0.33, also with every frame doubled,
#: and a pan over a photo with a plain sky and sensor noise (scikit-image's rocket, 640x272) 0.08. That pan
#: mapped as a steady camera froze the sky's noise: SSIMULACRA 2 74.60 and FLIP 0.0334, against 77.89 and
#: 0.0302 for the same bytes. A first measure, the share of probed pixels moving by at most 4 levels, put
#: that pan at 0.67 and raw noise of 2 levels at 0.62, where steady clips through H.264 had 0.83 to 0.93.
STEADY_SHARE = 0.5
#: A steady camera's bound (:attr:`gifsom.options.SteadyKnobs.bound`) grows with the noise where its picture
#: stays (:attr:`gifsom.palette.clip.ClipSurvey.still_noise`): by this share of the noise above
#: :data:`STEADY_NOISE_FLOOR`, so that the noise alone does not redraw each frame. Measured (2026-12-04, before
#: touch-ups, with the bound at 90 then 8) on a
#: steady talking head with raw sensor noise, against gifski 1.7 q90: with noise of 2 levels a channel (still
#: noise 5.10), a bound of 8 took 517,639 bytes for SSIMULACRA 2 80.39, 10 took 366,204 for 81.12 and 12
#: took 307,864 for 80.66 (gifski: 487,860 and 80.84); with 3 levels (7.02), 8 took 943,123 for 76.18, 11
#: took 517,527 for 77.12 and 14 took 341,748 for 75.96 (gifski: 875,109 and 76.93). At this share the two
#: take 383,277 bytes for 80.97 and 547,114 for 77.33 (a share of 0.75: 367,864 for 81.11 and 481,676 for
#: 76.93). Through H.264 the bench's steady clips have still noise 0.89 to 2.22, under the floor: their
#: bound stays the quality's.
STEADY_NOISE_SHARE = 0.6
STEADY_NOISE_FLOOR = 2.5
#: Smooth video mapped as a steady camera (:func:`flickers_smoothly`) leaves a pixel on screen only within this
#: RGB distance, whatever the quality's bound: without grain to hide it, a smooth sky left 20 or 30 levels off
#: shows as bands. Measured on the held-out dusk clip (2026-12-04, bytes / SSIMULACRA 2 / FLIP; gifski 1.7 in
#: brackets): at quality 60 (the quality's bound 23.7) 123,231 / 65.33 / 0.0338, with 20 126,350 / 74.15, with
#: 16 132,793 / 76.29 / 0.0321 (gifski q60: 134,895 / 69.99); at 50 (bound 30) 93,768 / 59.24, with 16
#: 108,389 / 68.79 (gifski q50: 125,286 / 59.34); at 70 (17.3) 164,986 / 79.77, with 16 168,713 / 80.66.
#: From quality 80 up the quality's bound is under it.
SMOOTH_STEADY_BOUND = 16.0
#: Frames mapped (or being mapped) ahead of the one the writer takes: mapping runs on a thread of its own
#: while the writer plans the frames before and waits for their lossy LZW. Against mapping on the writer's
#: thread (2 cores, 2026-12-04, medians of interleaved runs, the same GIFs): the dark star field 0.901
#: against 0.939 s and 0.979 against 0.997 s (15 each), small 0.501 against 0.513 s and 0.516 against
#: 0.523 s, the pan 2.636 against 2.719 s (5). Three ahead were no faster than two. The writer then
#: encodes lossy frames on its own thread (``mapped_ahead``): it has nothing else to do meanwhile, and a
#: hand-over to a worker and back cost each frame about 0.4 ms of waiting for a thread to wake and take
#: the GIL (2 cores, 2026-12-04, medians of 15 interleaved runs, the same GIFs): the dark star field 0.854
#: against 0.879 s, small 0.471 against 0.488 s; the pan 2.419 against 2.500 s (5). Later, with the lossy
#: LZW in three parts on the writer's pool, four ahead were faster than two (2 cores, 2026-12-05, medians
#: of interleaved runs, the same GIFs; a trace showed the cores idle as long either way): the star field
#: 0.539 against 0.573 s and 0.587 against 0.600 s (15 each), the cat photo 0.509 against 0.535 s (15), the
#: pan 1.790 against 1.978 s (5); the sky and the talking head within 1%.
MAPPED_AHEAD = 4
#: The writer writes a frame once the next one is in (which sets its delay), so the first two frames are
#: mapped before any LZW runs beside the mapping, and take every core (see :meth:`FrameMapper.map`). They are
#: mapped on the writer's thread, which has nothing else to do meanwhile. Mapped on the mapping thread while
#: the writer's thread waited, the system put the mapping's second thread on the mapping thread's core and
#: left the writer's core idle for 10 to 20 ms (sched traces of the dark star field, 2 cores, 2026-12-05);
#: mapped here, the star field took 0.512 against 0.528 s (medians of 40 interleaved runs, the same GIFs).
MAPPED_ALONE = 2


def palette_size(options: EncodeOptions, animated: bool) -> int:
    """Entries to learn: one fewer than asked in animations, to leave a transparent slot."""
    colors = options.palette_colors
    return colors - 1 if animated and colors > 2 else colors


def exact_size(options: EncodeOptions, transparent: bool) -> int:
    """Most colours an exact (lossless) palette may have: all asked for, less the transparent
    index a clip with transparent pixels must keep free."""
    return options.palette_colors - 1 if transparent else options.palette_colors


def quality_asks_frame_palettes(options: EncodeOptions) -> bool:
    """Whether the palette per frame comes from the quality, not the caller: for a clip that mostly
    stays still it becomes one per scene (see :data:`MOSTLY_CHANGING`)."""
    return options.palette is None and options.palette_scope == "frame"


def new_survey(options: EncodeOptions) -> ClipSurvey:
    """A survey that gathers what ``options`` will need."""
    scenes = options.palette_scope in ("scene", "drift") or quality_asks_frame_palettes(options)
    return ClipSurvey(census_limit=options.palette_colors, track_scenes=scenes)


def learn_from(pixels: np.ndarray, census: np.ndarray | None, options: EncodeOptions, size: int,
               exact: int, start: np.ndarray | None = None, quick: dict[str, Effort] | None = None) -> np.ndarray:
    """A palette of at most ``size`` learned entries, or the exact colours when the census
    (or the pixels themselves) hold at most ``exact`` colours; a learned one moved from ``start`` where
    that is given, refined with ``quick`` where the pixels are few (see
    :func:`gifsom.palette.learn.palette_from_pixels`).

    An exact palette needs no reserved slot: each frame finds a transparent
    index among the entries it does not use. No pixels at all (a wholly transparent clip or frame)
    give a palette of black: any one colour will do.
    """
    if len(pixels) == 0:
        pixels = np.zeros((1, 3), np.uint8)
    if census is not None:
        palette = exact_palette(census, np.array(options.fixed_colors, np.uint8), exact)
        if palette is not None:
            return palette                     # in the census's order
    return palette_from_pixels(pixels, options.palette_options(size, exact), start, quick)


def _split_frames(spool: Clip, matte: tuple[int, int, int] | None,
                  work: Callable[[np.ndarray, np.ndarray | None], Any] | None = None,
                  ) -> Iterator[tuple[int, np.ndarray, np.ndarray | None, Any]]:
    """The spool's frames in order as ``(number, rgb, mask, done)`` (see :func:`split_alpha`).

    With ``work``, ``done`` is ``work(rgb, mask)``, run on worker threads (one per core) a few frames
    ahead of the caller, which must not depend on the order they run in; frames are read here, on the
    calling thread. Without, ``done`` is None.
    """
    if work is None:
        for number in range(len(spool)):
            yield (number, *split_alpha(spool.frame(number), matte), None)
        return

    def done(number: int, rgb: np.ndarray, mask: np.ndarray | None) -> tuple[int, np.ndarray, np.ndarray | None, Any]:
        return number, rgb, mask, work(rgb, mask)

    def jobs() -> Iterator[Callable[[], tuple[int, np.ndarray, np.ndarray | None, Any]]]:
        for number in range(len(spool)):
            yield partial(done, number, *split_alpha(spool.frame(number), matte))    # read on the calling thread

    workers = available_cores()
    with closing(run_ahead(jobs(), workers + 1, workers=workers, name="gifsom-frame")) as frames:
        yield from frames


def _with_still_means(items: Iterator[tuple[int, np.ndarray, np.ndarray | None, Any]], bound: float
                      ) -> Iterator[tuple[int, np.ndarray, np.ndarray | None, Any]]:
    """The items of :func:`_split_frames`, each frame replaced by its still picture's mean
    (:func:`gifsom.mapping.still_mean.still_means`): for smooth video mapped as a steady camera, whose flicker
    is noise on flat places, not grain a viewer sees as the picture's. The means are worked out on the thread
    that reads the frames, a window ahead of the mapper."""
    ahead, behind = itertools.tee(items)
    means = still_means((rgb for _, rgb, _, _ in ahead), bound)
    for (number, _, mask, done), mean in zip(behind, means):
        yield number, mean, mask, done


def own_palette(rgb: np.ndarray, mask: np.ndarray | None, options: EncodeOptions, size: int,
                exact: int) -> tuple[np.ndarray, np.ndarray]:
    """A frame mapped to a palette learned from its own opaque pixels (see :func:`learn_from`):
    uint8 (H, W) indices and the uint8 (K, 3) palette, for uint8 (H, W, 3) ``rgb`` and bool (H, W) ``mask``
    (transparent pixels) or None."""
    sample = (rgb if mask is None else rgb[~mask]).reshape(-1, 3)
    own = FrameMapper(learn_from(sample, None, options, size, exact), options.mapping_options())
    return own.map(rgb), own.palette


def converges(options: EncodeOptions, census: np.ndarray | None, channels: int) -> bool:
    """Whether a clip that mostly stays still, where the quality asks for a palette per frame, is mapped
    with a :class:`ConvergingMapper`: it must be flat (a screen recording: its stale colours are few, so it
    converges in a few frames; a photo's are thousands, and on a 160x120 photo under a moving cursor five
    frames of fixes raised PSNR by 1.7 dB for twice the bytes), opaque, written exactly, and have more
    colours than a palette holds (else its palette is exact already)."""
    return options.content == "flat" and census is None and channels == 3 and options.lossy_level == 0


def steadies(options: EncodeOptions, survey: ClipSurvey, census: np.ndarray | None, channels: int) -> bool:
    """Whether a clip is a steady camera's video, mapped with a :class:`SteadyCameraMapper`: camera video
    (``noisy``) whose textured places mostly stay from frame to frame (:data:`STEADY_SHARE`), or smooth video
    that flickers with a codec's noise (:func:`flickers_smoothly`), opaque, in more colours than a palette
    holds (``census`` None: else it is exact already), with the palette scope and lossy LZW left to the
    quality (a fit's tries set them), and temporal state as it comes (``--no-temporal`` asks for every frame
    drawn afresh, a motion threshold for pixels kept by their own change)."""
    camera = options.content == "noisy" and survey.steady_share >= STEADY_SHARE
    return (camera or flickers_smoothly(options, survey)) and census is None and channels == 3 \
        and may_steady(options)


def may_steady(options: EncodeOptions) -> bool:
    """Whether ``options`` leave a clip free to be mapped as a steady camera's (see :func:`steadies`), whatever
    the clip: the palette scope and lossy LZW left to the quality, temporal state as it comes."""
    return options.palette is None and options.lossy is None and options.temporal \
        and options.motion_threshold == DEFAULT_MOTION_THRESHOLD


def flickers_smoothly(options: EncodeOptions, survey: ClipSurvey) -> bool:
    """Whether a ``clean`` clip (smooth pictures, little grain) flickers as camera video does
    (:data:`gifsom.palette.clip.NOISY_FLICKER`: a codec's noise moves many pixels by a level or a few). Mapped
    as clean content, each frame's few-level flicker picks other dithered indices all over the still picture;
    a steady camera's mapper leaves those pixels to the screen. On the held-out dusk clip (a cat drifting
    before a smooth sky, through H.264; 2026-12-04, against gifski 1.7, bytes / SSIMULACRA 2 / FLIP): at
    quality 90 253,928 / 85.42 / 0.0266, where clean mapping took 420,926 / 86.59 / 0.0242 (gifski q90:
    251,324 / 85.14 / 0.0260); at 100 317,460 / 87.39 against 715,139 / 86.42 (gifski q100: 346,441 / 86.26).
    Clean mapping with lossy LZW absorbs the flicker too, but only from some 85 down: at 89 (lossy 1) it took
    416,150 bytes, more than the steady mapper's 90, so the steady mapper takes the whole knob; its bound is
    held to :data:`SMOOTH_STEADY_BOUND` at low qualities. Clean clips of the bench flicker far less (the
    scrolling page 0.04 against dusk's 0.21)."""
    return options.content == "clean" and survey.flicker_share >= NOISY_FLICKER


def first_frame_palette(pixels: np.ndarray, options: EncodeOptions, animated: bool = True) -> np.ndarray:
    """The palette a steady camera's first frame, uint8 (H, W, 3) ``pixels``, is drawn with: its own, and a full
    one (see :func:`write_clip`); one entry fewer where the clip is ``animated``."""
    return palette_from_pixels(np.asarray(pixels).reshape(-1, 3), _first_palette_options(options, animated))


#: Frames of up to this many pixels have their first palette learned while the clip is read
#: (:class:`FirstPaletteAhead`). Work for nothing where the clip turns out not to be a steady camera's, so it is
#: kept to small frames, where it is a few percent of a run.
FIRST_AHEAD_PIXELS = 1 << 18
#: The first palette is learned ahead only once this many frames are read, and where they show a clip that may
#: be a steady camera's (:func:`may_be_steady`).
FIRST_AHEAD_JUDGED_AT = 3


def may_be_steady(survey: ClipSurvey) -> bool:
    """Whether a clip whose first frames ``survey`` has seen may turn out a steady camera's (:func:`steadies`):
    any but camera video whose textured places move, as under a pan or a zoom.

    On the bench's clips after three frames (2026-12-05), the steady cameras' textured places stayed at 0.72
    to 0.91 (:attr:`ClipSurvey.steady_share`) and the moving cameras' at 0.09 to 0.31 (the pan, the held-out
    cat and star field), all judged ``noisy`` already; the star field's palette learned ahead for nothing took
    37 ms of CPU of its run (1.07 s). Clips steady by a codec's flicker (:func:`flickers_smoothly`: the dusk
    sky) were judged ``flat`` then, and one whose camera moves over a wall ``clean``, so those learn ahead as
    before. A misjudged clip loses a head start or some CPU, never a byte: the palette is the same either way.
    """
    return not (survey.content == "noisy" and survey.steady_share < STEADY_SHARE)


class FirstPaletteAhead:
    """A steady camera's first palette (:func:`first_frame_palette`), learned from a clip's first frame on a
    thread of its own while the rest of the clip is read and surveyed, and the first frame mapped to it there
    too: whether a clip is a steady camera's is known only once it is all read, and the palette and the first
    frame then held up the mapping of every later frame. On the held-out portrait (240x180) the palette took
    15 to 18 ms of the run, and the frame 6 ms more.

    Args:
        options: the options the clip will be encoded with (those :func:`write_clip` takes: a palette learned
            for others is not taken).
    """

    def __init__(self, options: EncodeOptions) -> None:
        self.options = options
        self._pixels: np.ndarray | None = None
        self._work: Future[tuple[np.ndarray, np.ndarray]] | None = None

    def frames_spooled(self, spool: Clip, survey: ClipSurvey) -> None:
        """A frame is in ``spool``, and ``survey`` has seen it: once :data:`FIRST_AHEAD_JUDGED_AT` are, start
        learning from the first (:meth:`start`) where they show a clip that may be a steady camera's
        (:func:`may_be_steady`)."""
        if len(spool) == FIRST_AHEAD_JUDGED_AT and may_be_steady(survey):
            self.start(spool.frame(0))

    def start(self, pixels: np.ndarray) -> None:
        """Start learning from uint8 (H, W, C) ``pixels``, the clip's first frame (copied: the caller may reuse
        the array). Frames with transparency, or over :data:`FIRST_AHEAD_PIXELS`, and options that never map a
        steady camera (:func:`may_steady`) are left to :func:`write_clip`."""
        if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.shape[0] * pixels.shape[1] > FIRST_AHEAD_PIXELS \
                or not may_steady(self.options):
            return
        self._pixels = np.array(pixels, np.uint8)
        learner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gifsom-first-palette")
        self._work = learner.submit(_first_frame_drawn, self._pixels, self.options)
        learner.shutdown(wait=False)        # the thread ends with the job

    def palette(self, pixels: np.ndarray, options: EncodeOptions, animated: bool = True) -> np.ndarray | None:
        """The palette learned, where uint8 (H, W, 3) ``pixels`` are the frame it was learned from and
        ``options`` ask for the same palette (in an ``animated`` clip, as it was learned for); else None (the
        caller learns its own)."""
        if self._work is None or self._pixels is None or not np.array_equal(pixels, self._pixels) \
                or _first_palette_options(options, animated) != _first_palette_options(self.options):
            return None
        return self._work.result()[0]

    def indices(self, options: EncodeOptions) -> tuple[np.ndarray, np.ndarray] | None:
        """The first frame, uint8 (H, W, 3), and its uint8 (H, W) indices in the palette learned, mapped as a
        steady camera's first frame is mapped with ``options``; None where those map otherwise. Only after
        :meth:`palette` gave the palette."""
        if self._work is None or self._pixels is None \
                or options.steady_mapping_options() != self.options.steady_mapping_options():
            return None
        return self._pixels, self._work.result()[1]

    def close(self) -> None:
        """Wait for the learning, where it runs still (it gives its scratch pages back when it ends: see
        :mod:`gifsom.pages`), and drop it."""
        if self._work is not None:
            wait([self._work])
        self._work = self._pixels = None


def _first_frame_drawn(pixels: np.ndarray, options: EncodeOptions) -> tuple[np.ndarray, np.ndarray]:
    """A steady camera's first palette for uint8 (H, W, 3) ``pixels`` (:func:`first_frame_palette`), and the frame
    mapped to it as :class:`SteadyCameraMapper` maps a first frame: uint8 (K, 3) and (H, W)."""
    palette = first_frame_palette(pixels, options)
    return palette, FrameMapper(palette, options.steady_mapping_options()).map(pixels)


def _first_palette_options(options: EncodeOptions, animated: bool = True) -> PaletteOptions:
    """What :func:`first_frame_palette` learns with: a full palette, whatever colours the quality gives."""
    first_options = dataclasses.replace(options, colors=options.colors or DEFAULT_COLORS)
    return first_options.palette_options(palette_size(first_options, animated), exact_size(first_options, False))


def steady_mapper(palette: np.ndarray, options: EncodeOptions, still_noise: float,
                  first: tuple[np.ndarray, np.ndarray] | None = None) -> SteadyCameraMapper:
    """A :class:`SteadyCameraMapper` from the first palette ``palette``, learning each frame's palette as the
    encoder learns any (:func:`learn_from`), with the quality's bound grown for the clip's ``still_noise``
    (:data:`STEADY_NOISE_SHARE`) in camera video. Smooth video has no grain for it to grow with: what moves
    in its textured places is what moves in the picture (on dusk, the cat's fur: 22.8, where the sky flickers
    by a level or two); its bound is at most :data:`SMOOTH_STEADY_BOUND`, and :func:`write_clip` maps its frames
    from their still pictures' means (:func:`gifsom.mapping.still_mean.still_means`). ``first``: a first frame
    and its indices, mapped ahead as the mapper maps a first frame (see :class:`FirstPaletteAhead`)."""
    knobs = options.steady
    if options.content == "noisy":
        bound = knobs.bound + STEADY_NOISE_SHARE * max(0.0, still_noise - STEADY_NOISE_FLOOR)
    else:
        bound = min(knobs.bound, SMOOTH_STEADY_BOUND)
    learn = frame_learner(options, None if knobs.careful_palettes else FRAME)
    return SteadyCameraMapper(palette, options.steady_mapping_options(), learn, bound, knobs.colors,
                              knobs.touch_up, knobs.touch_up_gain, first=first)


def converging_mapper(palette: np.ndarray, options: EncodeOptions) -> ConvergingMapper:
    """A :class:`ConvergingMapper` from the first palette ``palette``, learning the palettes it needs as
    the encoder learns any (:func:`learn_from`)."""
    return ConvergingMapper(palette, options.mapping_options(), frame_learner(options), options.palette_colors)


def frame_learner(options: EncodeOptions, quick: dict[str, Effort] | None = None
                  ) -> Callable[[np.ndarray, int], np.ndarray]:
    """How a screen-following mapper learns a frame's own palette: uint8 (N, 3) pixels and a number of
    colours in, a palette of at most that many out, as the encoder learns any (:func:`learn_from`), with
    ``quick`` as the effort where the pixels are few (None: :data:`gifsom.palette.learn.QUICK`)."""
    return lambda pixels, colors: learn_from(pixels, None, options, colors, colors, quick=quick)


def fitting_colours(colours: np.ndarray | None, exact: int) -> np.ndarray | None:
    """``colours`` when there are some and at most ``exact`` of them (an exact palette), else None."""
    return colours if colours is not None and 0 < len(colours) <= exact else None


def split_alpha(pixels: np.ndarray, matte: tuple[int, int, int] | None) -> tuple[np.ndarray, np.ndarray | None]:
    """RGB pixels and a transparency mask (alpha < 128) of a frame.

    With a ``matte`` colour, kept pixels that are partly transparent are blended onto it.
    """
    if pixels.shape[2] == 3:
        return pixels, None
    alpha = pixels[:, :, 3]
    rgb = pixels[:, :, :3]
    if matte is not None:
        a = alpha[:, :, None].astype(np.float32) / 255.0
        rgb = np.rint(rgb * a + np.array(matte, np.float32) * (1.0 - a)).astype(np.uint8)
    mask = alpha < 128
    if not mask.any():
        return np.ascontiguousarray(rgb), None
    rgb = rgb.copy()
    np.copyto(rgb, 0, where=mask[:, :, None])   # hidden pixels: one colour, so they never look changed
    return rgb, mask


def write_clip(out: BinaryIO, spool: Clip, survey: ClipSurvey, options: EncodeOptions,
               end_time: float, *, progress: ProgressCallback | None = None, bar: bool | None = False,
               palettes: dict | None = None, every_way: bool = False,
               first_palette: FirstPaletteAhead | None = None) -> AnimationWriter:
    """Encode every spooled frame into ``out`` as an animated GIF.

    Args:
        out: binary file positioned at its start.
        spool: the clip: frames of one size, with timestamps in seconds.
        survey: what was gathered while spooling them.
        options: encoding options.
        end_time: when the last frame stops showing, in seconds.
        progress: callback (done, total); returning False cancels.
        bar: show a progress bar (None: on a terminal).
        palettes: a dict that keeps the clip's learned palette for later calls with the same
            palette options (fitting under a size encodes one clip several times), or None.
        first_palette: the first frame's palette, learned while the clip was read, for a steady camera's
            clip (taken where the frame and the palette's options are the ones it was learned for), or None.
        every_way: try every way of writing each lossy rectangle under
            :data:`gifsom.gif.plan_encoding.PARALLEL_CANDIDATE_PIXELS` pixels, whatever recent frames say
            (the fit's tries, which compare samples at small scales with the clip; see
            :class:`gifsom.gif.plan_encoding.PlanEncoder`).

    Returns:
        The finished writer (frame and byte counts).
    """
    height, width, channels = spool.shape
    options = options.for_clip(survey.content)
    animated = len(spool) > 1 or channels == 4
    size = palette_size(options, animated)
    exact = exact_size(options, channels == 4)
    census = fitting_colours(survey.census.colours(), exact)
    scope = options.palette_scope
    converge = False
    steady = steadies(options, survey, census, channels)
    if steady:
        # the first frame takes a palette of its own, and each later frame one for the pixels it draws
        # (SteadyCameraMapper), written exactly: the mapper leaves pixels to the screen as it last drew them
        options = dataclasses.replace(options, lossy=0)
        scope = "global"
    if quality_asks_frame_palettes(options) and survey.changed_share < MOSTLY_CHANGING:
        # the quality asks for a palette per frame; in a clip that mostly stays still (a screen recording)
        # a new palette would redraw each frame whole for nothing: 4.3 times the bytes on the bench's screen-x10.
        # Instead, later frames' own palettes fix what the first palette showed wrong (ConvergingMapper).
        scope = "scene"
        converge = converges(options, census, channels)
    # where the quality asks it, palettes follow drifting colours in camera video alone (the scrolling web
    # page, clean and half changing, lost 0.8 to 3.9 points of SSIMULACRA 2 to the new palettes)
    follow_drift = scope == "drift" and (options.palette is not None or (
        options.content == "noisy" and survey.changed_share >= MOSTLY_CHANGING))
    if scope == "drift":
        scope = "scene"      # scenes, cut again where their colours drift when follow_drift
    if census is None and scope == "global" and survey.most_frame_colours is not None \
            and survey.most_frame_colours <= exact:
        scope = "frame"      # every frame fits in exact colours, the clip does not: one exact palette per frame
    if scope == "scene" and len(survey.scene_starts) <= 1 and not (follow_drift and survey.drift_starts):
        scope = "global"     # one scene: the global sample is the larger one, and gives the same GIF as global
    scene_colours: list[np.ndarray | None] = []
    if scope == "scene" and census is None:
        scene_colours = [fitting_colours(c.colours(), exact) for c in survey.scene_censuses] \
            or [None]            # one scene, with drifts to follow: its census is the clip's (over the limit)
    if census is None and scope == "scene" and any(c is None for c in scene_colours) \
            and survey.most_frame_colours is not None \
            and survey.most_frame_colours <= exact:
        scope = "frame"      # a scene is over the exact limit but every frame fits: exact palettes per frame
    global_palette = None
    drawn_ahead: tuple[np.ndarray, np.ndarray] | None = None      # the first frame mapped ahead, with its palette
    if steady:
        # the first frame's own: what it draws stays on screen (2026-12-04, a first version that dithered
        # across the whole frame: the talking head's SSIMULACRA 2 80.59 against 80.31 with the clip's sample's,
        # the car's 77.94 against 76.95)
        # it takes a full palette below 80 too, where camera video in general gives up colours: the steady
        # knobs set the colours of the later frames' own (at 50, 2026-12-04, with the first palette at 96
        # colours the portrait's SSIMULACRA 2 fell from 64.7 to 58.1, the car's from 50.9 to 47.5)
        first_frame = np.asarray(spool.frame(0))
        global_palette = None if first_palette is None else first_palette.palette(first_frame, options, animated)
        if first_palette is not None and global_palette is not None:
            drawn_ahead = first_palette.indices(options)
        if global_palette is None:
            global_palette = first_frame_palette(first_frame, options, animated)
    elif scope == "global" or census is not None:
        # a clip whose colours all fit needs one exact palette, whatever the scope
        key = (options.palette_options(size, exact), census is None)     # the options hold size and exact
        global_palette = None if palettes is None else palettes.get(key)
        if global_palette is None:
            global_palette = learn_from(survey.sampler.pixels(), census, options, size, exact)
            if palettes is not None:
                palettes[key] = global_palette
    mapper: FrameMapper | None = None
    report = Progress("frames written", len(spool), callback=progress, bar=bar)

    def on_its_own(rgb: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """A frame with a palette of its own: no state to share with other frames, so frames are
        learned and mapped at once on worker threads."""
        return own_palette(rgb, mask, options, size, exact)

    stretch_palettes: StretchPalettes | None = None
    writer: AnimationWriter | None = None
    try:        # from here on a failure (or a stop signal) abandons the writer and stops the palettes' worker
        if global_palette is None and scope == "scene":
            # scope "scene" is left only with two scenes or more, or drifts to follow
            stretches = clip_stretches(survey, scene_colours, follow_drift)
            stretch_palettes = StretchPalettes(
                stretches, lambda stretch, start: learn_from(stretch.sample, stretch.colours, options, size, exact,
                                                             start))
            global_palette = stretch_palettes.global_palette
        writer = AnimationWriter(out, width, height, global_palette=global_palette, loop=options.loop,
                                 comment=options.comment, lossy=options.lossy_level, spare_slot=channels == 4,
                                 every_way=every_way, mapped_ahead=True,
                                 lookahead_only=steady and options.content == "noisy")
        per_frame = global_palette is None and scope == "frame"
        converging: ScreenFollowingMapper | None = None
        first = global_palette
        if stretch_palettes is not None:
            first = stretch_palettes.palette(stretch_palettes.stretch_start(spool.spooled_number(0)))
        stretch: int | None = None          # the first spooled frame of the mapper's stretch
        frames_mapped = 0                   # frames mapped here so far
        if converge and first is not None and not (stretch_palettes and all(stretch_palettes.exact.values())):
            # (every scene exact, or every frame in exact colours of its own: lossless already)
            converging = converging_mapper(first, options)
        if steady and first is not None:
            converging = steady_mapper(first, options, survey.still_noise, drawn_ahead)

        def indexed(number: int, rgb: np.ndarray, mask: np.ndarray | None, mapped: Any) -> IndexedFrame:
            """Frame ``number`` in its palette's indices. Frames are mapped in order, each from the state the
            one before left, on the thread of :func:`run_ahead`."""
            nonlocal mapper, stretch, frames_mapped
            start = start_cs(spool.timestamps[number])
            if converging is not None:
                return converging.frame(rgb, start)
            if mapped is not None:
                indices, palette = mapped                   # a palette of its own, mapped on a worker
                return IndexedFrame(indices, palette, start, mask, source=options.lossy_source(rgb))
            changed = spool.changed_box(number)
            if stretch_palettes is not None:
                # stretches are numbered in spooled frames, which an edited timeline or a fit's sample
                # may show in another order, or skip
                here = stretch_palettes.stretch_start(spool.spooled_number(number))
                if here != stretch:
                    stretch, mapper = here, FrameMapper(stretch_palettes.palette(here),
                                                        options.mapping_options(stretch_palettes.exact[here]))
                    changed = None              # a new palette: every pixel may show another colour
            elif mapper is None and global_palette is not None:
                mapper = FrameMapper(global_palette, options.mapping_options(census is not None))
                changed = None
            assert mapper is not None and global_palette is not None   # a scene's palette, or the clip's
            if not mapper.options.temporal:
                changed = None                  # without temporal state, error diffusion reaches still pixels
            frames_mapped += 1
            return IndexedFrame(mapper.map(rgb, changed, alone=frames_mapped <= MAPPED_ALONE),
                                global_palette if stretch_palettes is None else mapper.palette, start, mask,
                                changed=changed, source=options.lossy_source(rgb))

        items = _split_frames(spool, options.matte, on_its_own if per_frame else None)
        if isinstance(converging, SteadyCameraMapper) and options.content != "noisy":
            items = _with_still_means(items, converging.bound)      # smooth video (see steady_mapper)
        # frames are mapped ahead while the writer plans and encodes the ones before (and waits for lossy LZW)
        jobs = (partial(indexed, *item) for item in items)
        with closing(run_ahead(jobs, MAPPED_AHEAD, first_here=MAPPED_ALONE)) as frames:
            for frame in frames:
                writer.add(frame)
                report.step()
        writer.close(start_cs(end_time))
    except BaseException:
        if writer is not None:
            writer.abandon()
        raise
    finally:
        report.close()
        if stretch_palettes is not None:
            stretch_palettes.close()
    return writer
