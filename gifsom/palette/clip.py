"""What the encoder learns about a clip on its way into the spool.

:class:`ClipSurvey` watches every frame once and keeps, in bounded memory:
training pixels for one global palette, training pixels per scene, where the
scenes start, and (while it stays small) the exact set of colours the whole
clip uses, so that a flat screen recording gets a lossless palette.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np

from ..colours.packed import pack_colours
from ..median import median
from ._survey_cy import coarse_bins, grain_count, probe_changes, steady_blocks
from .histogram import changed_colour_histogram, count_colours
from .sampling import PixelSampler

#: Share of a frame's colour distribution that must differ from the previous frame's for a cut (0..1).
SCENE_CUT = 0.4
#: The survey judges how much of the picture changes on every this many pixels of every this many rows.
CHANGE_PROBE_STEP = 4
#: A probed pixel *flickers* when its largest channel change from the previous frame is 1 to this many levels.
FLICKER_LEVELS = 4
#: The steady share judges blocks of this many probed pixels a side (spread over 8 x 8 pixels of the frame):
#: their mean takes out most of a camera's noise, their spread tells texture from plain areas.
STEADY_BLOCK = 2
#: A probe block is textured when the standard deviation of its luma is over this many levels, and stays
#: when its mean colour moves by at most :data:`STEADY_LEVELS` on every channel.
TEXTURED = 8.0
STEADY_LEVELS = 4.0
#: A clip is *noisy* (camera or codec noise) when at least this share of its pixels flickers from frame to
#: frame, and the pictures are grainy (see :data:`GRAINY`). Flicker on the bench's clips (2026-12-01):
#: camera video 0.36 to 0.38, the scrolling web page 0.04, the cartoon, the screen recording and flat UI 0.
NOISY_FLICKER = 0.15
#: A picture is *grainy* when at least this share of its pixels has fine structure that no gradient
#: explains: a non-zero response to the 3x3 filter that is the product of a horizontal and a vertical
#: second difference (Immerkaer's noise estimator), which is 0 on flat areas and on smooth gradients.
#: A clean gradient panned slowly flickers like noise, but is not grainy. On the bench's clips the share
#: was 0.84 to 0.86 on camera video, 0.5 on the web page (photos and text on white), at most 0.06 elsewhere.
GRAINY = 0.65
#: A clip is *flat* (drawn: user interfaces, terminals, cartoons, charts) when the median grain share of its
#: pictures is under this: 0.06 at most on the bench's cartoon, screen recording and flat UI, 0.5 on the web
#: page with photos.
FLAT_GRAIN = 0.2
#: Grain is judged on every this many frames, on at most GRAIN_WINDOW x GRAIN_WINDOW pixels of the centre.
GRAIN_EVERY = 8
GRAIN_WINDOW = 512


#: Within a scene, the colours *drift* where more than this share of a frame's colour distribution (its
#: :func:`coarse_histogram`) differs from that of the first frame after the last scene start or drift, and at
#: least :data:`DRIFT_FRAMES` frames (and :data:`DRIFT_PIXELS`) lie between them: a pan over new things, a
#: zoom, a change of light.
#: Between frames that show the same things, sampling alone moves up to about 0.1 of it in a 176x100
#: picture (the bench's hubble clip scaled down; more in smaller ones, which then take a few palettes they
#: did not need); in the bench's camera clips the colours drift by 0.1 within 4 frames (the 176x144 clip)
#: to 12 (the 640x360 pan), and never in hubble (at most 0.06).
DRIFT = 0.1
DRIFT_FRAMES = 8
#: ... and frames of at least this many pixels in all: a new palette costs about the same to learn and to
#: start mapping with whatever the frame size (about 15 ms on the bench's 176x144 clip, as much as 3 of its
#: frames), so small frames wait longer for one: that clip 16 frames, 480x270 and larger frames 8. On that
#: clip (2026-12-04, SSIMULACRA 2 on every frame) 16 frames scored 78.75, 11 frames 78.47, 21 frames 78.40.
DRIFT_PIXELS = 3 << 17

#: The scene histogram bins every this many pixels of a frame, in reading order.
HISTOGRAM_EVERY = 7


class CoarseHistogram:
    """The colours of every :data:`HISTOGRAM_EVERY`-th pixel of a frame, in 16x16x16 RGB bins, kept from
    frame to frame: where the caller knows the rectangle that changed, only its pixels are binned again."""

    def __init__(self) -> None:
        self.counts = np.zeros(4096, np.int64)
        self._bins: np.ndarray | None = None       # int16: each sampled pixel's bin
        self._shape: tuple[int, int] | None = None

    def update(self, pixels: np.ndarray, changed: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """Bin uint8 (H, W, C >= 3) ``pixels``; ``changed`` (top, bottom, left, right) is where they differ
        from the frame given last, or None where that is not known. Returns the float64 (4096,) share of the
        sampled pixels in each bin."""
        height, width = pixels.shape[:2]
        if changed is None or self._bins is None or self._shape != (height, width):
            self._bins = np.full(-(-height * width // HISTOGRAM_EVERY), -1, np.int16)
            self.counts[:] = 0
            self._shape = (height, width)
            changed = (0, height, 0, width)
        coarse_bins(pixels, HISTOGRAM_EVERY, self._bins, self.counts, *changed)
        return self.counts / max(float(len(self._bins)), 1.0)


def is_repeat(changed: tuple[int, int, int, int] | None) -> bool:
    """Whether ``changed``, the rectangle (top, bottom, left, right) where a frame differs from the one before,
    is empty: the frame repeats the one before. None (not known) is not a repeat."""
    return changed is not None and (changed[1] <= changed[0] or changed[3] <= changed[2])


def coarse_histogram(pixels: np.ndarray) -> np.ndarray:
    """float64 (4096,) share of every 7th pixel of uint8 (H, W, C) ``pixels`` in each of 16x16x16 RGB bins."""
    return CoarseHistogram().update(pixels)


def distribution_change(previous: np.ndarray, histogram: np.ndarray) -> float:
    """The share of the colour distribution that differs between two frames' :func:`coarse_histogram`
    (half their L1 distance): 0 for the same distribution, 1 for colours that do not overlap."""
    return 0.5 * float(np.abs(histogram - previous).sum())


def is_cut(previous: np.ndarray, histogram: np.ndarray) -> bool:
    """Whether the picture jumps between two frames' :func:`coarse_histogram`: more than :data:`SCENE_CUT`
    of the colour distribution moved."""
    return distribution_change(previous, histogram) > SCENE_CUT


def grain_share(pixels: np.ndarray) -> float:
    """The share of the centre of uint8 (H, W, C) ``pixels`` whose luma has a non-zero response to the
    separable second-difference filter (see :data:`GRAINY`); 0 for pictures under 3x3."""
    height, width = pixels.shape[:2]
    top, left = max(0, (height - GRAIN_WINDOW) // 2), max(0, (width - GRAIN_WINDOW) // 2)
    window = pixels[top:top + GRAIN_WINDOW, left:left + GRAIN_WINDOW]
    places = (window.shape[0] - 2) * (window.shape[1] - 2)
    return grain_count(window) / places if window.shape[0] > 2 and window.shape[1] > 2 else 0.0


def opaque_pixels(pixels: np.ndarray) -> np.ndarray:
    """The colours of a frame's opaque pixels (alpha at least 128), uint8 (N, 3)."""
    if pixels.shape[2] == 3:
        return pixels.reshape(-1, 3)
    return pixels[pixels[:, :, 3] >= 128][:, :3]


class FreshColours(NamedTuple):
    """The colours a frame shows that the frame before it did not (see :func:`changed_colour_histogram`)."""

    found: tuple[np.ndarray, np.ndarray] | None          # (colours, counts), or None: over the limit


class ColourCensus:
    """The exact colours of a clip, tracked until there are more than ``limit``.

    Each colour is counted in the pixels that change, frame to frame; the
    colours of changes after the first frame count first. Ordering an exact
    palette that way gives the colours later frames draw the lowest indices,
    so the small images of later frames need the fewest LZW code bits.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.keys: np.ndarray | None = np.empty(0, np.uint32)
        self._later = np.empty(0, np.int64)    # count in changes after the first frame
        self._first = np.empty(0, np.int64)    # count in the first frame
        self._counted = False                  # whether it has counted a frame

    @property
    def counting(self) -> bool:
        """Whether it still counts (it has not seen more than ``limit`` colours)."""
        return self.keys is not None

    def add(self, pixels: np.ndarray, previous: np.ndarray | None, shared: FreshColours | None = None,
            changed: tuple[int, int, int, int] | None = None) -> FreshColours | None:
        """Count the colours of one frame, uint8 (H, W, 3) or (H, W, 4); transparent pixels have none.

        ``previous`` is the frame before it, as the caller keeps it (this census keeps no frame: a caller
        may fill one array again for every frame); it is not looked at for the census's first frame.
        ``shared`` is what another census found new in this frame against ``previous`` (its return value),
        used in place of comparing again. ``changed`` (top, bottom, left, right) is the rectangle outside
        which the frame equals ``previous``, or None: only that rectangle is compared. Returns what this
        census found new in the frame, also when that stops it (more than ``limit`` colours), or None where
        it had stopped before.
        """
        if self.keys is None:
            return None
        first = not self._counted
        self._counted = True
        if shared is not None and not first:
            fresh = shared
        elif first or previous is None or changed is None:
            fresh = FreshColours(changed_colour_histogram(pixels, None if first else previous, self.limit))
        else:
            top, bottom, left, right = changed
            fresh = FreshColours(changed_colour_histogram(pixels[top:bottom, left:right],
                                                          previous[top:bottom, left:right], self.limit))
        if fresh.found is None:
            self.keys = None
            return fresh
        keys = pack_colours(fresh.found[0])
        merged, where = np.unique(np.concatenate([self.keys, keys]), return_inverse=True)
        if len(merged) > self.limit:
            self.keys = None
            return fresh
        old = len(self.keys)
        later = np.bincount(where[:old], self._later, len(merged))
        first_counts = np.bincount(where[:old], self._first, len(merged))
        target = first_counts if first else later
        np.add.at(target, where[old:], fresh.found[1])
        self.keys, self._later, self._first = merged, later.astype(np.int64), first_counts.astype(np.int64)
        return fresh

    def colours(self) -> np.ndarray | None:
        """uint8 (M, 3) colours seen, most drawn by later frames first; None once there were more than ``limit``."""
        if self.keys is None:
            return None
        order = np.lexsort((-self._first, -self._later))
        k = self.keys[order]
        return np.stack([(k >> 16) & 255, (k >> 8) & 255, k & 255], axis=1).astype(np.uint8)


class ClipSurvey:
    """Samples and statistics gathered from each frame as it arrives.

    Args:
        census_limit: colours beyond which the exact census stops.
        samples: training pixels kept for the global palette.
        scene_samples: training pixels kept per scene.
        track_scenes: find scene cuts and keep per-scene samples.
    """

    def __init__(self, *, census_limit: int = 256, samples: int = 1 << 20,
                 scene_samples: int = 1 << 17, track_scenes: bool = False) -> None:
        self.sampler = PixelSampler(samples)
        self.census = ColourCensus(census_limit)
        self.track_scenes = track_scenes
        self.scene_samples = scene_samples
        self.scene_starts: list[int] = []
        #: Frames where the colours drifted from the frame at the last scene start or drift (see :data:`DRIFT`);
        #: tracked with the scenes.
        self.drift_starts: list[int] = []
        self.scene_samplers: list[PixelSampler] = []
        #: Each scene's exact colours, while they stay within ``census_limit``.
        self.scene_censuses: list[ColourCensus] = []
        self.census_limit = census_limit
        #: The most distinct opaque colours any one frame has, or None once a frame has more than census_limit.
        #: While the clip, or the scene a frame is in, has shown fewer than census_limit colours in all, the
        #: frame is not counted but taken to have all of them: the figure may then be above the true one, but
        #: it is at most census_limit - 1 exactly when the true one is, and equal to it from census_limit up.
        self.most_frame_colours: int | None = 0
        self._scene_histogram: np.ndarray | None = None
        self._drift_histogram: np.ndarray | None = None     # the histogram of the last scene start or drift
        self._drift_from = 0                                 # ... and its frame
        self._histogram = CoarseHistogram()
        self.frames = 0
        self._previous_probe: np.ndarray | None = None
        self._previous: np.ndarray | None = None       # a copy of the frame before, while a census needs it
        self._changed = 0.0
        self._flickered = 0.0
        self._steady_probe: np.ndarray | None = None     # the probe of the last frame compared for steadiness
        self._steady = 0.0
        self._steady_frames = 0
        self._still_noise = 0.0
        self._still_pixels = 0
        self._grain: list[float] = []

    @property
    def changed_share(self) -> float:
        """The mean share of pixels that change from one frame to the next (0 for one frame), judged
        on every :data:`CHANGE_PROBE_STEP`-th pixel of every such row: near 1 for camera video, whose
        noise changes every pixel, and small for a screen recording."""
        return self._changed / (self.frames - 1) if self.frames > 1 else 0.0

    @property
    def flicker_share(self) -> float:
        """The mean share of pixels whose colour moves by 1 to :data:`FLICKER_LEVELS` levels from one frame
        to the next (0 for one frame), judged as :attr:`changed_share` is: about a third in camera video,
        whose noise moves most pixels a little, and near 0 in rendered pictures, whose pixels stay or jump."""
        return self._flickered / (self.frames - 1) if self.frames > 1 else 0.0

    @property
    def steady_share(self) -> float:
        """The mean share of textured places that stay from one frame to the next: blocks of
        :data:`STEADY_BLOCK` x :data:`STEADY_BLOCK` probed pixels whose luma spreads over :data:`TEXTURED`
        levels in both frames, and whose mean colour moves by at most :data:`STEADY_LEVELS` levels. Most
        of them in a steady camera's video, whatever its noise; few where the camera moves, even over a
        plain sky (plain places are not counted). 0 where no two frames have texture to compare."""
        return self._steady / self._steady_frames if self._steady_frames else 0.0

    @property
    def still_noise(self) -> float:
        """The mean RGB distance that a probed pixel moves from one frame to the next in the textured places
        that stay (see :attr:`steady_share`): the noise of a steady camera's picture where it does not move
        (about 1.6 x 2.8 x sigma for sensor noise of sigma levels a channel; far less through a codec, which
        keeps still places still). 0 where none stay."""
        return self._still_noise / self._still_pixels if self._still_pixels else 0.0

    def _track_steadiness(self, probe: np.ndarray) -> None:
        """Compare the blocks of this frame's probe (uint8 (h, w, C)) with the last frame's (see
        :attr:`steady_share` and :attr:`still_noise`), compiled: in numpy, on every frame of every clip, the
        blocks took 3 ms a 640x360 frame and 26 ms a 1080p one (as worked out in the kernel: 0.42 and 3.9 ms,
        every block textured, 2 cores, 2026-12-04)."""
        before = self._steady_probe
        if before is not None and np.array_equal(before, probe):
            return                          # a repeat, though the caller did not know it: nothing moved or stayed
        self._steady_probe = probe.copy()
        if before is None or before.shape != probe.shape:
            return
        textured, staying, moved, pixels = steady_blocks(probe, before, STEADY_BLOCK, TEXTURED, STEADY_LEVELS)
        if textured:
            self._steady += staying / textured
            self._steady_frames += 1
            self._still_noise += moved
            self._still_pixels += pixels

    @property
    def content(self) -> str:
        """What the clip shows, one of :data:`gifsom.options.CONTENT_KINDS`: ``noisy`` where it carries a
        camera's or codec's noise (:attr:`flicker_share` of at least :data:`NOISY_FLICKER` in pictures that
        are grainy, :data:`GRAINY`, judged on every :data:`GRAIN_EVERY`-th frame), which dithers the picture
        already and hides small errors; ``flat`` where its pictures have next to no grain
        (:data:`FLAT_GRAIN`); else ``clean``. ``clean`` before any frame."""
        if not self._grain:
            return "clean"
        grain = median(self._grain)
        if self.flicker_share >= NOISY_FLICKER and grain >= GRAINY:
            return "noisy"
        return "flat" if grain < FLAT_GRAIN else "clean"

    def add(self, pixels: np.ndarray, changed: tuple[int, int, int, int] | None = None) -> None:
        """Look at one frame, uint8 (H, W, 3) or (H, W, 4). ``changed`` (top, bottom, left, right) is the
        rectangle outside which it equals the frame added before (empty for a repeat), or None where the
        caller does not know: the statistics that compare frames then look at that rectangle alone."""
        if self._previous_probe is None:
            changed = None                    # the first frame: nothing to compare with
        if self.track_scenes:
            self._track_scene(pixels, changed)   # before the census counts the frame (see _track_scene)
        repeat = is_repeat(changed)
        self.sampler.add(pixels)
        fresh = self.census.add(pixels, self._previous, changed=changed)
        if self.track_scenes:
            self.scene_samplers[-1].add(pixels)
        scene = self._scene_census()
        if scene is not None:
            scene.add(pixels, self._previous, fresh, changed)
        if self.most_frame_colours is not None and not repeat:      # a repeat has the colours of the frame before
            found = self._frame_colours(pixels, scene)
            self.most_frame_colours = None if found is None else max(self.most_frame_colours, found)
        self._keep_for_censuses(pixels, scene, changed)
        probe_shape = (-(-pixels.shape[0] // CHANGE_PROBE_STEP), -(-pixels.shape[1] // CHANGE_PROBE_STEP),
                       pixels.shape[2])
        if self._previous_probe is not None and self._previous_probe.shape == probe_shape:
            box = changed or (0, pixels.shape[0], 0, pixels.shape[1])
            moved, flickered = probe_changes(pixels, CHANGE_PROBE_STEP, self._previous_probe, FLICKER_LEVELS, *box)
            probed = probe_shape[0] * probe_shape[1]
            self._changed += moved / probed if probed else 0.0
            self._flickered += flickered / probed if probed else 0.0
        else:
            if self._previous_probe is not None:
                self._changed += 1.0            # a new size: every pixel changed
            self._previous_probe = pixels[::CHANGE_PROBE_STEP, ::CHANGE_PROBE_STEP].copy()   # C order, ours to write
        if not repeat:
            self._track_steadiness(self._previous_probe)      # this frame's probe, now
        if self.frames % GRAIN_EVERY == 0:
            self._grain.append(grain_share(pixels))
        self.frames += 1

    def _frame_colours(self, pixels: np.ndarray, scene: ColourCensus | None) -> int | None:
        """The distinct opaque colours of ``pixels``, the frame just counted by the clip's census and
        ``scene``'s, or None above :attr:`census_limit`. Where either census holds fewer than the limit
        (every colour of the frame is among them), its size stands in as an upper bound, and the frame is
        not counted (see :attr:`most_frame_colours`)."""
        sizes = [len(census.keys) for census in (self.census, scene)
                 if census is not None and census.keys is not None and len(census.keys) < self.census_limit]
        return min(sizes) if sizes else count_colours(pixels, limit=self.census_limit)

    def _scene_census(self) -> ColourCensus | None:
        """The census of the scene the clip is in, once it has cut (before that the clip's census is the
        first scene's); None without scene tracking."""
        return self.scene_censuses[-1] if self.track_scenes and len(self.scene_starts) > 1 else None

    def _keep_for_censuses(self, pixels: np.ndarray, scene: ColourCensus | None,
                           changed: tuple[int, int, int, int] | None) -> None:
        """Copy the frame into the survey's own previous frame while the clip's census or ``scene``'s (see
        :meth:`_scene_census`) will compare the next frame with it: only the rectangle ``changed``, where
        that is known. The caller's array is never kept: a capture loop may fill one array again for every
        frame."""
        if not self.census.counting and (scene is None or not scene.counting):
            self._previous = None
        elif self._previous is None or self._previous.shape != pixels.shape:
            self._previous = np.array(pixels, order="C")
        elif changed is None:
            np.copyto(self._previous, pixels)
        else:
            top, bottom, left, right = changed
            self._previous[top:bottom, left:right] = pixels[top:bottom, left:right]

    def _track_scene(self, pixels: np.ndarray, changed: tuple[int, int, int, int] | None) -> None:
        """Start a scene where the picture jumps from the previous frame (a slow drift, a pan or a
        fade, stays one scene). At the first cut the clip's census has seen the first scene alone,
        so it becomes that scene's census: a clip with no cut counts its colours once."""
        if is_repeat(changed):
            return                            # the same colours, no cut
        histogram = self._histogram.update(pixels, changed)
        if self._scene_histogram is None or is_cut(self._scene_histogram, histogram):
            if len(self.scene_starts) == 1:
                self.scene_censuses.append(copy.deepcopy(self.census))
            self.scene_starts.append(self.frames)
            self.scene_samplers.append(PixelSampler(self.scene_samples))
            if len(self.scene_starts) > 1:
                self.scene_censuses.append(ColourCensus(self.census_limit))
            self._drift_histogram, self._drift_from = histogram, self.frames
        elif self._drift_histogram is not None and self.frames - self._drift_from >= \
                max(DRIFT_FRAMES, -(-DRIFT_PIXELS // (pixels.shape[0] * pixels.shape[1]))) \
                and distribution_change(self._drift_histogram, histogram) > DRIFT:
            self.drift_starts.append(self.frames)
            self._drift_histogram, self._drift_from = histogram, self.frames
        self._scene_histogram = histogram
