"""The mapping stage: a frame's pixels in, palette indices out, with temporal state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import dither as _dither
from ._map_cy import DIFFUSION_BAND_ROWS
from .nearest import MODE_DIFFUSION, MODE_ORDERED, MODE_PLAIN, ColourCache

#: Default per-channel change (0..255) under which a pixel counts as unchanged in a clip.
DEFAULT_MOTION_THRESHOLD = 0


@dataclass(frozen=True)
class MappingOptions:
    """How frames are mapped to the palette (checked where it is made: :class:`gifsom.options.EncodeOptions`).

    Attributes:
        dither: one of :data:`gifsom.mapping.dither.DITHER_MODES`.
        strength: 0..1, scales the dither (0 is the same as no dither).
        motion_threshold: 0..255; in a clip, a pixel that moved less than this on
            every channel since its index was chosen keeps that index.
        temporal: keep unchanged pixels' indices from frame to frame.
        cores_left: cores the mapping leaves to work that runs beside it (lossy LZW of the frame before).
    """

    dither: str = "none"
    strength: float = 1.0
    motion_threshold: int = DEFAULT_MOTION_THRESHOLD
    temporal: bool = True
    cores_left: int = 0


class FrameMapper:
    """Maps the frames of one clip to one palette, remembering what it chose.

    Call :meth:`map` with each frame in order. With ``options.temporal`` the
    mapper keeps, per pixel, the index it chose and the colour it chose it for;
    a pixel whose colour stays within the motion threshold keeps its index.
    """

    def __init__(self, palette: np.ndarray, options: MappingOptions = MappingOptions()) -> None:
        self.options = options
        self.cache = ColourCache(palette)
        self.palette = self.cache.palette
        self._reference: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        mode = options.dither if options.strength > 0 else "none"
        # the kernel's mode and its parameters (offsets: ordered dither; taps: error diffusion)
        self._mode = MODE_PLAIN
        self._offsets = None
        self._taps = None
        if mode in _dither.ORDERED_MODES:
            amplitude = options.strength * _dither.palette_spread(self.palette)
            self._mode = MODE_ORDERED
            self._offsets = np.rint(_dither.threshold_map(mode) * amplitude).astype(np.int64)
        elif mode in _dither.DIFFUSION_KERNELS or mode == _dither.ADAPTIVE:
            self._mode = MODE_DIFFUSION
            self._taps = _dither.DIFFUSION_KERNELS["floyd-steinberg" if mode == _dither.ADAPTIVE else mode]
        self._adaptive = mode == _dither.ADAPTIVE

    def map(self, pixels: np.ndarray, changed: tuple[int, int, int, int] | None = None, *,
            alone: bool = False) -> np.ndarray:
        """Map one frame.

        Args:
            pixels: uint8 (H, W, 3) or (H, W, 4); alpha is ignored here.
            changed: ``(top, bottom, left, right)``, a rectangle outside which ``pixels`` equal the
                previous frame this mapper mapped, or None where that is not known. With temporal state
                a pixel that did not change keeps its index, and takes and spreads no diffused error,
                so only the rectangle is mapped (the result is the same): a screen recording changes a
                few percent of its pixels a frame.
            alone: nothing runs beside this mapping (the writer has no frame to encode yet), so it takes
                every core whatever ``options.cores_left`` says; the indices are the same either way.

        Returns:
            uint8 (H, W) palette indices.
        """
        height, width = pixels.shape[:2]
        stateful = (self.options.temporal and self._reference is not None
                    and self._reference.shape[:2] == (height, width))
        cores_left = 0 if alone else self.options.cores_left
        if stateful and changed is not None:
            return self._map_changed(pixels, changed, cores_left)
        out = np.empty((height, width), np.uint8)
        if not stateful:
            self._reference = np.empty((height, width, 3), np.uint8)
            self._previous = out
        reference, previous = self._reference, self._previous
        assert reference is not None and previous is not None
        weights = _dither.adaptive_weights(pixels) if self._adaptive else None
        self.cache.map_into(pixels, out, reference, previous, threshold=self.options.motion_threshold,
                            stateful=stateful, record=self.options.temporal, mode=self._mode,
                            offsets=self._offsets, taps=self._taps, strength=self.options.strength,
                            weights=weights, cores_left=cores_left)
        self._previous = out
        return out

    def map_where(self, pixels: np.ndarray, where: np.ndarray) -> np.ndarray:
        """Map the pixels of uint8 (H, W, 3) ``pixels`` where ``where`` (bool, or uint8 marks: nonzero) is set,
        without temporal state: uint8 (H, W) indices, 0 elsewhere. The other pixels neither take nor pass on
        diffused error, as still pixels do in a clip (:meth:`map`), so a frame that draws over part of the
        screen dithers the part it draws alone."""
        height, width = where.shape
        out = np.empty((height, width), np.uint8)
        weights = _dither.adaptive_weights(pixels) if self._adaptive else None
        self.cache.map_into(pixels, out, mode=self._mode, offsets=self._offsets, taps=self._taps,
                            strength=self.options.strength, weights=weights, cores_left=self.options.cores_left,
                            where=np.ascontiguousarray(where).view(np.uint8))
        return out

    def _map_changed(self, pixels: np.ndarray, changed: tuple[int, int, int, int], cores_left: int) -> np.ndarray:
        """Map the rectangle ``changed`` of ``pixels`` (see :meth:`map`) on the cores not left to other work;
        the rest keeps the previous indices."""
        assert self._reference is not None and self._previous is not None
        top, bottom, left, right = changed
        if self._offsets is not None:          # ordered dither: its pattern is anchored at the frame's corner
            side = self._offsets.shape[0]
            top, left = top - top % side, left - left % side
        if self._mode == MODE_DIFFUSION:       # error diffusion runs in bands of rows, leftward on odd rows
            top -= top % DIFFUSION_BAND_ROWS
        out = self._previous.copy()
        if bottom > top and right > left:
            box = (slice(top, bottom), slice(left, right))
            # the kernel reads its state as whole C-ordered arrays: the rectangle's, copied out and back
            reference = np.ascontiguousarray(self._reference[box])
            indices = np.empty(reference.shape[:2], np.uint8)
            # the adaptive weights look at each pixel's neighbours: taken on the whole frame, then cut
            weights = _dither.adaptive_weights(pixels)[box] if self._adaptive else None
            self.cache.map_into(np.ascontiguousarray(pixels[box]), indices, reference,
                                np.ascontiguousarray(self._previous[box]),
                                threshold=self.options.motion_threshold, stateful=True, record=True,
                                mode=self._mode, offsets=self._offsets, taps=self._taps,
                                strength=self.options.strength,
                                weights=None if weights is None else np.ascontiguousarray(weights),
                                cores_left=cores_left)
            out[box] = indices
            self._reference[box] = reference
        self._previous = out
        return out
