"""``gifsom palette``: learn a palette, measure it, draw it and save it."""

from __future__ import annotations

import os

import numpy as np

from ..api import quantize
from ..errors import OutputError
from ..gif.output import check_output_path
from ..options import EncodeOptions
from ..palette.learn import learn_palette
from ..sources import open_source

#: At most this many frames of a clip are sampled for the palette report.
REPORT_FRAMES = 60


def psnr(reference: np.ndarray, approximation: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 arrays of one shape (inf when equal)."""
    mse = float(np.mean((reference.astype(np.float64) - approximation.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def write_gpl(path: str | os.PathLike, palette: np.ndarray, name: str) -> None:
    """Write ``palette`` (K, 3) uint8 as a GIMP palette file."""
    lines = ["GIMP Palette", f"Name: {name}", "Columns: 16", "#"]
    lines += [f"{r:3d} {g:3d} {b:3d}\t#{r:02x}{g:02x}{b:02x}" for r, g, b in palette.tolist()]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def plot_palette(path: str | os.PathLike, image: np.ndarray, indices: np.ndarray, palette: np.ndarray) -> None:
    """One PNG: input, quantized output, index map, and the used colours as swatches.

    Args:
        image: uint8 (H, W, 3) input.
        indices: uint8 (H, W) palette index of each pixel.
        palette: uint8 (K, 3).
    """
    from PIL import Image, ImageDraw

    height, width = indices.shape
    used = np.flatnonzero(np.bincount(indices.ravel(), minlength=len(palette)))
    # grey levels for the index map, in the order of the SOM's 1-D map
    ramp = np.zeros(len(palette), np.uint8)
    ramp[used] = np.linspace(0, 255, len(used)).astype(np.uint8) if len(used) > 1 else 128
    index_map = np.repeat(ramp[indices][:, :, None], 3, axis=2)
    columns = 16
    cell = max(12, width // columns)
    rows = -(-len(used) // columns)
    swatches = np.full((max(rows * cell, 1), columns * cell, 3), 255, np.uint8)
    for n, entry in enumerate(used):
        y, x = divmod(n, columns)
        swatches[y * cell:(y + 1) * cell - 1, x * cell:(x + 1) * cell - 1] = palette[entry]
    caption = 18
    panels = [("input", image), ("quantized", palette[indices]), ("index map", index_map),
              (f"{len(used)} colours", swatches)]
    total_width = sum(p.shape[1] for _, p in panels) + 10 * (len(panels) + 1)
    total_height = max(p.shape[0] for _, p in panels) + caption + 20
    canvas = Image.new("RGB", (total_width, total_height), "white")
    draw = ImageDraw.Draw(canvas)
    x = 10
    for title, panel in panels:
        canvas.paste(Image.fromarray(np.ascontiguousarray(panel)), (x, caption + 10))
        draw.text((x, 6), title, fill="black")
        x += panel.shape[1] + 10
    canvas.save(path)


def palette_report(spec: str, *, colors: int = 256, quality: int = 10, refine: bool = True,
                   dither: str = "none", plot: str | None = None, save: str | None = None) -> np.ndarray:
    """Learn the palette of an image or clip, print a summary and write the requested files.

    Returns:
        uint8 (K, 3) palette.
    """
    EncodeOptions(colors=colors, quality=quality, refine=refine, dither=dither)   # checked before any work
    for target in (plot, save):
        if target:
            check_output_path(target)
    sample: list[np.ndarray] = []
    stride = 1
    for number, frame in enumerate(open_source(spec).frames()):
        if number % stride == 0:
            sample.append(frame.pixels[:, :, :3])
        if len(sample) > REPORT_FRAMES:     # keep memory bounded: thin out evenly
            sample = sample[::2]
            stride *= 2
    palette = learn_palette(sample, colors=colors, quality=quality, refine=refine)
    middle = sample[len(sample) // 2]
    indices, palette = quantize(middle, palette, dither=dither)
    used = len(np.unique(indices))
    print(f"{len(palette)} colours learned from {len(sample)} frame(s); the shown frame uses {used}, "
          f"PSNR {psnr(middle, palette[indices]):.2f} dB")
    try:
        if save:
            write_gpl(save, palette, os.path.basename(spec))
            print(f"saved {save}")
        if plot:
            plot_palette(plot, middle, indices, palette)
            print(f"plotted {plot}")
    except OSError as exc:
        raise OutputError(f"cannot write {save or plot!r}: {exc.strerror}; choose another path") from exc
    return palette
