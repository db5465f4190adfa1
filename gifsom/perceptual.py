"""A cheap estimate of what a viewer sees: how far a shown picture is from its source.

The fit (:mod:`gifsom.fit`) and the quality knob judge tries with this score,
not with PSNR: PSNR is blind to the banding and posterisation that a small
palette leaves in smooth areas, and it punishes dither noise that the eye
averages away. The score follows what SSIMULACRA 2 measures, at a small share
of its cost:

- pictures are compared in OkLab, where equal steps look about equally large;
- at four scales (full size, then halved three times), so that dither noise,
  which averages out at coarser scales, counts less than banding, which does not;
- three kinds of error at each scale: structure (one minus SSIM), detail that
  the shown picture adds (edges of bands, ringing, noise) and detail it loses
  (blur, flattened texture), each as a mean and as a 4-norm (which weighs
  strong local errors more).

The errors are combined with weights fitted by least squares against
SSIMULACRA 2 on the bench's clips (``scripts/fit_perceptual.py``), and passed
through SSIMULACRA 2's own last step, so the score reads on its scale: 100 for identical pictures, about 90 visually
lossless, 70 high quality, 50 medium, and below 30 poor. It is an estimate
(about 11 points off SSIMULACRA 2 on a single frame, on the bench's frames)
made to rank settings of one clip, where it mostly agrees with SSIMULACRA 2
(Spearman 0.89 to 0.98 on five of the six clips; 0.41 on the 176x144 clip,
where SSIMULACRA 2 punishes full Floyd-Steinberg dither far more than the
estimate does). The bench reports SSIMULACRA 2 itself. It costs about 5 to 7 ms a
640x360 frame on two cores, 4 to 5 ms against a reference already converted (see
:func:`pyramid`); three compiled kernels, ``_perceptual_cy.pyx``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._perceptual_cy import halve, to_oklab, window_errors
from .threads import threads_for

#: Scales compared: the full picture, then each halving.
SCALES = 4
#: Radius in pixels of the square window at every scale (7 x 7 pixels).
WINDOW_RADIUS = 3
#: Pixels worth a thread of their own.
PIXELS_PER_THREAD = 1 << 16
#: SSIM's stabilising constants, for OkLab lightness (0..1) and chroma.
SSIM_C1, SSIM_C2 = 1e-4, 9e-4
#: Kinds of error measured per scale and channel: each as a mean, then as a 4-norm.
KINDS = ("structure", "added detail", "lost detail", "structure 4-norm", "added detail 4-norm",
         "lost detail 4-norm")
#: Weights of each error, in order of scale, then channel (L, a, b), then kind: the non-negative
#: least-squares fit against SSIMULACRA 2 by ``scripts/fit_perceptual.py`` on 462 frames of 84 GIFs
#: of the bench's clips (2026-12-01). The fit keeps few terms: fine noise and colour speckle at
#: full size, and structure, blocks and lost detail at the coarsest scale (bands, blur, posterisation).
WEIGHTS = np.array([
    # scale 1: L, a, b; each structure, added, lost, then their 4-norms
    0, 0, 0, 0, 95.31, 59.9, 0, 757.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    # scale 2: L, a, b; each structure, added, lost, then their 4-norms
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    # scale 3: L, a, b; each structure, added, lost, then their 4-norms
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    # scale 4: L, a, b; each structure, added, lost, then their 4-norms
    296.8, 2378, 63.42, 0, 0, 30.99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 322.5, 0,
])
#: The score is 100 - 10 * (weighted error) ** SCORE_EXPONENT, SSIMULACRA 2's own last step.
SCORE_EXPONENT = 0.64
#: The score of identical pictures.
PERFECT = 100.0


def oklab(rgb: np.ndarray) -> np.ndarray:
    """sRGB pixels in OkLab (Ottosson 2020).

    Args:
        rgb: uint8 (H, W, C >= 3) sRGB; a fourth channel is ignored.

    Returns:
        float32 (H, W, 3): lightness 0..1, then a and b (about -0.4..0.4).
    """
    height, width = rgb.shape[:2]
    out = np.empty((height, width, 3), np.float32)
    to_oklab(np.ascontiguousarray(rgb), out, _LINEAR, _RGB_TO_LMS, _LMS_TO_LAB,
             threads_for(height * width, PIXELS_PER_THREAD))
    return out


def _srgb_to_linear() -> np.ndarray:
    values = np.arange(256, dtype=np.float64) / 255
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4).astype(np.float32)


_LINEAR = _srgb_to_linear()
_RGB_TO_LMS = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                        [0.2119034982, 0.6806995451, 0.1073969566],
                        [0.0883024619, 0.2817188376, 0.6299787005]], np.float32)
_LMS_TO_LAB = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                        [1.9779984951, -2.4285922050, 0.4505937099],
                        [0.0259040371, 0.7827717662, -0.8086757660]], np.float32)


def _halve(values: np.ndarray) -> np.ndarray:
    """float32 (H, W, 3) averaged over 2 x 2 blocks: (H // 2, W // 2, 3)."""
    out = np.empty((values.shape[0] // 2, values.shape[1] // 2, values.shape[2]), np.float32)
    halve(np.ascontiguousarray(values), out)
    return out


def pyramid(rgb: np.ndarray) -> list[np.ndarray]:
    """A picture in OkLab at each of the :data:`SCALES` scales the score compares, for
    :func:`error_features` (a reference judged against many shown pictures is converted once).

    Args:
        rgb: uint8 (H, W, C >= 3) sRGB.

    Returns:
        :data:`SCALES` float32 (h, w, 3) OkLab pictures: full size, then each halved (a picture under
        2 pixels on a side is not halved further).
    """
    levels = [oklab(rgb)]
    while len(levels) < SCALES:
        last = levels[-1]
        levels.append(_halve(last) if min(last.shape[:2]) >= 2 else last)
    return levels


#: The weights by scale, channel and kind.
_WEIGHED = WEIGHTS.reshape(SCALES, 3, len(KINDS)) != 0
#: The scales whose errors the score weighs; the others are not measured unless asked for.
WEIGHED_SCALES = tuple(scale for scale in range(SCALES) if _WEIGHED[scale].any())
#: Per scale, whether the score weighs a structure error (mean or 4-norm) of any channel there.
_STRUCTURE_WEIGHED = [bool(_WEIGHED[scale][:, [0, 3]].any()) for scale in range(SCALES)]
#: Per scale, uint8 (3,): the channels the score weighs an error of there.
_CHANNELS_WEIGHED = [_WEIGHED[scale].any(axis=1).astype(np.uint8) for scale in range(SCALES)]
_EVERY_CHANNEL = np.ones(3, np.uint8)


def error_features(source: np.ndarray | list[np.ndarray], shown: np.ndarray, *,
                   every_scale: bool = False) -> np.ndarray:
    """The errors of ``shown`` against ``source`` that the score weighs.

    Args:
        source: uint8 (H, W, 3) sRGB, or its :func:`pyramid`.
        shown: uint8 (H, W, 3) sRGB, the same size as ``source``.
        every_scale: measure every error, also those the weights leave out (to fit the weights); without
            it those read 0 (at full size the score weighs no structure error and no b channel, which
            halves the work there).

    Returns:
        float64 (SCALES * 3 * len(KINDS),): for each scale, each OkLab channel and each of :data:`KINDS`,
        the mean error over the picture (0 for identical pictures).
    """
    size = source[0].shape[:2] if isinstance(source, list) else source.shape[:2]
    if size != shown.shape[:2] or (isinstance(source, np.ndarray) and source.shape != shown.shape):
        raise ValueError(f"pictures of different shapes: {(*size, 3)} and {shown.shape}")
    reference = source if isinstance(source, list) else pyramid(source)
    b = oklab(shown)
    per_scale = 3 * len(KINDS)
    found = np.zeros(SCALES * per_scale, np.float64)
    for scale in range(SCALES):
        a = reference[scale]
        if scale > 0 and b.shape != a.shape:
            b = _halve(b)
        if not every_scale and scale not in WEIGHED_SCALES:
            continue
        # windows past the edges repeat the edge pixels, so even a picture a few pixels wide has a score
        threads = threads_for(a.shape[0] * a.shape[1], PIXELS_PER_THREAD)
        structure = every_scale or _STRUCTURE_WEIGHED[scale]
        channels = _EVERY_CHANNEL if every_scale else _CHANNELS_WEIGHED[scale]
        values: list[float] = []
        for kinds in window_errors(a, b, WINDOW_RADIUS, SSIM_C1, SSIM_C2, threads, structure, channels):
            values.extend(kinds[:3] + [value ** 0.25 for value in kinds[3:]])
        found[scale * per_scale:(scale + 1) * per_scale] = values
    return found


def score_from_features(features: np.ndarray) -> float:
    """The score (on SSIMULACRA 2's scale, at most 100) of mean :func:`error_features`."""
    return float(PERFECT - 10 * max(float(np.dot(WEIGHTS, features)), 0.0) ** SCORE_EXPONENT)


def perceived_score(sources: Sequence[np.ndarray | list[np.ndarray]], shown: Sequence[np.ndarray]) -> float:
    """How close ``shown`` looks to ``sources``, on SSIMULACRA 2's scale (100 identical, 70 high quality).

    Args:
        sources: uint8 (H, W, 3) sRGB pictures, or their :func:`pyramid`\ s.
        shown: as many uint8 (H, W, 3) sRGB pictures, pairwise the same size as ``sources``.

    Returns:
        The score of the pictures' mean errors.
    """
    if len(sources) != len(shown) or not sources:
        raise ValueError("perceived_score needs one shown picture per source picture, at least one")
    total = np.sum([error_features(a, b) for a, b in zip(sources, shown)], axis=0)
    return score_from_features(total / len(sources))
