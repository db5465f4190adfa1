"""Still images: map one image to a palette, learning the palette first when none is given."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import OptionError
from .frames import as_pixels
from .mapping.stage import FrameMapper
from .options import EncodeOptions
from .palette.learn import learn_palette


def quantize(image: Any, palette: np.ndarray | None = None, colors: int = 256, dither: str = "none", *,
             dither_strength: float = 1.0, sample_factor: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Map one image to a palette (learning the palette first when none is given).

    Args:
        image: uint8 (H, W, 3) or (H, W, 4) array or PIL image (alpha is ignored).
        palette: uint8 (K, 3) palette, 1 <= K <= 256; None learns a SOM palette of ``colors``.
        colors: palette size to learn, 2..256.
        dither: a dither mode ("none", "bayer2", "bayer4", "bayer8", "blue-noise",
            "floyd-steinberg", "sierra-lite", "atkinson").
        dither_strength: 0..1.
        sample_factor: NeuQuant sampling factor when learning, 1..30 (used by pure NeuQuant only;
            with the default refinement the SOM is a seed and sees a fixed sample).

    Returns:
        ``(indices, palette)``: uint8 (H, W) indices into the uint8 (K, 3) palette.
    """
    options = EncodeOptions(colors=colors, sample_factor=sample_factor, dither=dither, dither_strength=dither_strength,
                            temporal=False)
    pixels = as_pixels(image, what="image")
    if palette is None:
        palette = learn_palette(pixels, colors=colors, sample_factor=sample_factor)
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] != 3 or not 1 <= len(palette) <= 256:
        raise OptionError(f"palette has shape {palette.shape}; give 1 to 256 RGB colours as a (K, 3) array")
    palette = np.ascontiguousarray(palette, dtype=np.uint8)
    mapper = FrameMapper(palette, options.mapping_options())
    return mapper.map(np.ascontiguousarray(pixels[:, :, :3])), mapper.palette
