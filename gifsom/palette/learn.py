"""learn_palette: the SOM palette of an image, a set of frames, or a clip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import checks
from ..colours.metric import to_weighted
from ..errors import OptionError, OptionValueError
from ..frames import as_pixels
from .histogram import colour_histogram
from .neuquant import neuquant, spread_sample
from .refine import BIN_SHIFT, binned_histogram, coarser_histogram, refine_palette, refined_palette
from .sampling import PixelSampler


#: Up to this many distinct colours, the refinement works on the exact colours rather than bins.
EXACT_HISTOGRAM_LIMIT = 1 << 12
#: With refinement on, the SOM only seeds it. Its work grows with pixels x neurons:
#: it sees this many pixels per neuron, and at least SEED_WORK / neurons pixels, so
#: that small palettes still get a well-spread seed for about the same time.
SEED_PIXELS_PER_NEURON = 2
SEED_WORK = 2 * 256 * 256
#: Beyond EXACT_HISTOGRAM_LIMIT colours the palette first converges on 32-level
#: bins (about a quarter as many as 64-level ones, so each pass costs a quarter),
#: then settles on the 64-level bins.
COARSE_BIN_SHIFT = 3


@dataclass(frozen=True)
class Effort:
    """How hard one stage of the refinement works (see :func:`refine_palette`). No passes leaves a stage out:
    on the 64-level bins, the 32-level palette is only rounded, against the 32-level bins; on the exact colours,
    the palette is learned on the bins even where the colours are few."""

    passes: int
    rounds: int
    moves: int = 16


#: Per stage: "exact" on the exact colours, "coarse" and "fine" on 32- and 64-level bins.
QUICK = {"exact": Effort(passes=4, rounds=2, moves=48), "coarse": Effort(passes=6, rounds=2),
         "fine": Effort(passes=2, rounds=1)}
#: From THOROUGH_PIXELS training pixels on (a clip's sample, a large picture) the
#: histogram and the mapping dwarf the refinement, so it takes more care.
THOROUGH = {"exact": Effort(passes=12, rounds=6), "coarse": Effort(passes=6, rounds=2),
            "fine": Effort(passes=4, rounds=3)}
THOROUGH_PIXELS = 1 << 19
#: A palette that starts from another (the palette of the stretch of a scene before a drift) only moves it:
#: Lloyd passes and one drop-and-split round on the 64-level bins, no SOM. On the bench's 176x144 camera
#: clip (2026-12-04, 16-frame stretches, every frame scored) it gave SSIMULACRA 2 78.75 where palettes
#: learned afresh gave about 78.5, in 12 ms a palette against 17. Without the round (8.5 ms), entries
#: stayed on colours the picture had left: a pan over a photo (8-frame stretches) came out with a 1.7%
#: higher squared error than one palette for the whole clip, against 12% lower with it.
FOLLOWING = Effort(passes=3, rounds=1)
#: A steady camera's frame learns a palette of its own from the pixels it redraws, a few thousand a frame (see
#: :class:`gifsom.mapping.converge.SteadyCameraMapper`), and that learning was two thirds of such a clip's
#: mapping. Fewer Lloyd passes, one drop-and-split round, and no stage on the 64-level bins (0 passes: the
#: stage is left out), against :data:`QUICK`, on the bench's four steady clips and the two held out
#: (2026-12-04, default quality): 4.9 against 8.4 ms a palette on the talking head, 5.2 against 7.2 on the
#: car; SSIMULACRA 2 fell by 0.04 to 0.22 (the talking head 81.18 against 81.31, webcam 77.51 against 77.73),
#: FLIP rose by at most 0.0005, and bytes stayed within 0.8%. The 64-level stage, at one pass, changed scores
#: by 0.12 at most, either way. Without the round the talking head lost 0.8 points and the portrait 1.5. At
#: quality 100 this effort (with the 64-level pass) lost 0.5 on the car and 0.8 on the portrait, so the top
#: of the knob keeps :data:`QUICK`. Where a frame's pixels hold few enough colours for the exact stage (the
#: 176x144 clips: some 3,000 colours), it learns on the 32-level bins all the same (about 1,000 of them): 3.3
#: against 5.2 ms a palette on the talking head (one thread, 2026-12-04), and the whole clip in 0.79 against
#: 0.97 s (interleaved runs, 2 cores); at quality 90 SSIMULACRA 2 moved by -0.33 (the talking head, 81.07
#: against 81.40) to +0.04 (the portrait), FLIP by at most 0.0003 either way, bytes within 0.3%.
FRAME = {"exact": Effort(passes=0, rounds=0), "coarse": Effort(passes=3, rounds=1),
         "fine": Effort(passes=0, rounds=0)}


@dataclass(frozen=True)
class PaletteOptions:
    """How a palette is learned.

    Attributes:
        colors: palette size, 2..256 (including fixed colours; excluding a reserved transparent slot).
        sample_factor: NeuQuant sampling factor, 1 (every sampled pixel) .. 30. With
            ``refine`` on, the SOM only seeds the refinement from a fixed-size
            sample (SEED_PIXELS_PER_NEURON and SEED_WORK), whatever the factor.
        refine: run the convergence phase (k-means with drop/split moves) after the SOM.
        fixed: colours that must appear in the palette exactly, uint8 (F, 3).
        exact_colors: pixels with at most this many distinct colours get exactly those colours,
            a lossless palette (None: ``colors``). An animation learns one entry fewer than it may
            hold, to keep a transparent index free, but need not lose a colour to it.
    """

    colors: int = 256
    sample_factor: int = 10
    refine: bool = True
    fixed: tuple[tuple[int, int, int], ...] = ()
    exact_colors: int | None = None

    def __post_init__(self) -> None:
        checks.in_range("colors", self.colors, checks.MIN_COLORS, checks.MAX_COLORS,
                        f"a palette size from {checks.MIN_COLORS} to {checks.MAX_COLORS}")
        checks.in_range("sample_factor", self.sample_factor, 1, 30, "a sampling factor from 1 (best) to 30 (fastest)")
        if len(self.fixed) >= self.colors:
            raise OptionValueError("colors", self.colors, f"leaves no room beside {len(self.fixed)} fixed colours; "
                                                          "raise it or fix fewer colours")


def exact_palette(colours: np.ndarray, fixed: np.ndarray, colors: int) -> np.ndarray | None:
    """``colours`` followed by the fixed colours they lack, or None when that exceeds ``colors`` entries.

    Args:
        colours: uint8 (M, 3) distinct colours, in the order the palette should have.
        fixed: uint8 (F, 3) colours that must be present.
        colors: the palette size allowed.
    """
    known = colours.tolist()
    missing = [c for c in np.asarray(fixed, np.uint8).reshape(-1, 3).tolist() if c not in known]
    if len(colours) + len(missing) > colors:
        return None
    return np.concatenate([colours, np.array(missing, np.uint8).reshape(-1, 3)])


def palette_from_pixels(pixels: np.ndarray, options: PaletteOptions, start: np.ndarray | None = None,
                        quick: dict[str, Effort] | None = None) -> np.ndarray:
    """Learn a palette from training pixels.

    Args:
        pixels: uint8 (N, 3) training pixels, in an order that mixes the picture
            (scan order or a sample across frames).
        options: size, sampling factor, refinement and fixed colours.
        start: uint8 (K, 3), a palette learned with the same options (fixed colours first) to move to the
            pixels (see :data:`FOLLOWING`) in place of learning one afresh; None, or one with fewer entries
            than ``options.colors`` (an exact palette), learns afresh, as does pure NeuQuant.
        quick: how hard a palette learned afresh from fewer than :data:`THOROUGH_PIXELS` pixels is refined, per
            stage (None: :data:`QUICK`); from there on, :data:`THOROUGH`.

    Returns:
        uint8 (K, 3) palette with K <= options.colors. K is smaller only when the
        pixels hold fewer distinct colours, in which case the palette is exactly
        those colours (most frequent first) and mapping them is lossless.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(-1, 3)
    if len(pixels) == 0:
        raise OptionError("no pixels to learn a palette from")
    fixed = np.array(options.fixed, dtype=np.uint8).reshape(-1, 3)
    exact_colors = options.exact_colors or options.colors
    effort = THOROUGH if len(pixels) >= THOROUGH_PIXELS else quick or QUICK
    # one scan serves both the exact-palette check and (while colours are few) the refinement's exact stage;
    # where that stage is left out (FRAME), the scan stops once the colours are too many for the check:
    # 0.005 against 0.095 ms a steady frame of the talking head (2026-12-04)
    exact_stage = options.refine and effort["exact"].passes > 0
    exact = colour_histogram(pixels, limit=max(EXACT_HISTOGRAM_LIMIT if exact_stage else options.colors,
                                               exact_colors))
    if exact is not None and len(exact[0]) <= exact_colors:
        colours, counts = exact
        palette = exact_palette(colours[np.argsort(-counts, kind="stable")], fixed, exact_colors)
        if palette is not None:
            return palette
    free = options.colors - len(fixed)
    if not options.refine:
        palette = neuquant(pixels, free, options.sample_factor)
    elif start is not None and len(start) == options.colors:
        points, weights = binned_histogram(pixels)
        palette = refined_palette(points, weights, to_weighted(start[len(fixed):].astype(np.float64)),
                                  **vars(FOLLOWING))
    else:
        # the SOM seeds the refinement, which does the fine work on a colour histogram, in the
        # weighted space of gifsom.colours.metric (where the mapping will judge the palette)
        seed_pixels = max(SEED_PIXELS_PER_NEURON * free, SEED_WORK // free)
        seed = to_weighted(neuquant(spread_sample(pixels, seed_pixels), free, 1))
        if exact is not None and exact_stage:
            points, weights = exact[0].astype(np.float64), exact[1].astype(np.float64)
            palette = refined_palette(points, weights, seed, **vars(effort["exact"]))
        elif effort["fine"].passes > 0:
            points, weights = binned_histogram(pixels, BIN_SHIFT)
            coarse_points, coarse_weights = coarser_histogram(points, weights, COARSE_BIN_SHIFT)
            palette = refine_palette(to_weighted(coarse_points), coarse_weights, seed, **vars(effort["coarse"]))
            palette = refined_palette(points, weights, palette, **vars(effort["fine"]))
        else:
            # with the stage on 64-level bins left out (see Effort), the 32-level bins serve the rounding too
            points, weights = binned_histogram(pixels, COARSE_BIN_SHIFT)
            palette = refined_palette(points, weights, seed, **vars(effort["coarse"]))
    if len(fixed):
        palette = np.concatenate([fixed, palette])
    return palette


def learn_palette(image_or_frames: Any, colors: int = 256, sample_factor: int = 10, *,
                  refine: bool = True, fixed_colors: Sequence[tuple[int, int, int]] = (),
                  max_samples: int = 1 << 20) -> np.ndarray:
    """Learn a SOM palette for an image or a clip.

    Args:
        image_or_frames: one image (uint8 H x W x 3 or 4 array, or a PIL image),
            or a list or iterator of such frames. Frames are read one at a time;
            at most ``max_samples`` pixels, spread evenly across the clip, are kept.
        colors: palette size, 2..256.
        sample_factor: NeuQuant sampling factor, 1..30 (1 is slowest and best) for pure
            NeuQuant (``refine=False``); with refinement the SOM is a seed and sees a fixed sample.
        refine: add the convergence phase after the SOM (False gives pure NeuQuant).
        fixed_colors: RGB triples that must be in the palette as they are.
        max_samples: bound on the training pixels kept in memory.

    Returns:
        uint8 array of shape (K, 3), K <= colors.
    """
    options = PaletteOptions(colors=colors, sample_factor=sample_factor, refine=refine,
                             fixed=tuple((int(c[0]), int(c[1]), int(c[2])) for c in fixed_colors))
    sampler = PixelSampler(max_samples)
    if _is_single_image(image_or_frames):
        sampler.add(as_pixels(image_or_frames, what="image"))
    else:
        for number, frame in enumerate(image_or_frames):
            pixels = frame.pixels if hasattr(frame, "pixels") else frame
            sampler.add(as_pixels(pixels, what=f"frame {number}"))
    return palette_from_pixels(sampler.pixels(), options)


def _is_single_image(value: Any) -> bool:
    if hasattr(value, "mode") and hasattr(value, "convert"):
        return True
    return isinstance(value, np.ndarray) and value.ndim in (2, 3) and (value.ndim == 2 or value.shape[-1] in (3, 4))
