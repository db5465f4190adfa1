"""``gifsom palette``: learn a palette, measure it, draw it and save it."""

from __future__ import annotations

import os

import numpy as np

from ..errors import OutputError
from ..options import EncodeOptions
from ..output import check_output_path
from ..palette.learn import learn_palette
from ..still import quantize
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


#: Layout of the palette picture, in pixels at 100%.
PANEL_WIDTH = 420          # input, output and difference panels
ZOOM = 6                   # the detail is shown this many times larger
DETAIL = 48                # side of the detail, in source pixels
SWATCH = (112, 48)         # one swatch: colour block with its hex value and share
SWATCH_COLUMNS = 8
FONT_SIZE = 15
MARGIN = 12


def swatch_order(palette: np.ndarray) -> np.ndarray:
    """Palette indices ordered for reading: greys by lightness, then colours by hue, then lightness.

    Args:
        palette: uint8 (K, 3).

    Returns:
        int (K,) indices into ``palette``.
    """
    rgb = palette.astype(np.float64) / 255.0
    high, low = rgb.max(axis=1), rgb.min(axis=1)
    chroma = high - low
    lightness = (high + low) / 2
    r, g, b = rgb.T
    safe = np.where(chroma > 0, chroma, 1.0)
    hue = np.where(high == r, ((g - b) / safe) % 6, np.where(high == g, (b - r) / safe + 2, (r - g) / safe + 4))
    grey = chroma < 0.08
    hue_band = np.where(grey, -1, np.floor(hue * 2))          # twelve hue bands of 30 degrees; greys first
    return np.lexsort((lightness, hue_band))


def _worst_detail(image: np.ndarray, shown: np.ndarray) -> tuple[int, int]:
    """Top-left corner of the DETAIL x DETAIL square where the quantization error is largest."""
    height, width = image.shape[:2]
    side = min(DETAIL, height, width)
    error = np.abs(image.astype(np.int32) - shown).sum(axis=2).astype(np.float64)
    total = np.pad(error, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    sums = total[side:, side:] - total[:-side, side:] - total[side:, :-side] + total[:-side, :-side]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(y), int(x)


def plot_palette(path: str | os.PathLike, image: np.ndarray, indices: np.ndarray, palette: np.ndarray) -> None:
    """One PNG, readable at 100%: the input, the quantized output and their difference side by side; a
    zoomed detail of input and output where they differ most; and the colours used as labelled swatches
    (hex value and share of pixels), ordered by hue and lightness.

    Args:
        image: uint8 (H, W, 3) input.
        indices: uint8 (H, W) palette index of each pixel.
        palette: uint8 (K, 3).
    """
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=FONT_SIZE)
    shown = palette[indices]
    height, width = image.shape[:2]
    scale = min(1.0, PANEL_WIDTH / width)
    panel = (max(1, round(width * scale)), max(1, round(height * scale)))
    difference = np.clip(np.abs(image.astype(np.int16) - shown).max(axis=2) * 4, 0, 255).astype(np.uint8)
    y, x = _worst_detail(image, shown)
    side = min(DETAIL, height, width)
    counts = np.bincount(indices.ravel(), minlength=len(palette))
    used = [int(i) for i in swatch_order(palette) if counts[i] > 0]
    rows = -(-len(used) // SWATCH_COLUMNS)
    caption = FONT_SIZE + 10
    detail_size = side * ZOOM
    canvas_width = max(3 * panel[0] + 4 * MARGIN, 2 * detail_size + 3 * MARGIN,
                       SWATCH_COLUMNS * SWATCH[0] + 2 * MARGIN)
    top_of_detail = MARGIN + caption + panel[1] + MARGIN
    top_of_swatches = top_of_detail + caption + detail_size + MARGIN
    canvas = Image.new("RGB", (canvas_width, top_of_swatches + caption + rows * SWATCH[1] + MARGIN), "white")
    draw = ImageDraw.Draw(canvas)

    def titled(picture: Image.Image, left: int, top: int, title: str) -> None:
        draw.text((left, top), title, fill="black", font=font)
        canvas.paste(picture, (left, top + caption))

    mark = (round(x * scale), round(y * scale), round((x + side) * scale), round((y + side) * scale))
    for number, (title, pixels) in enumerate((("input", image), (f"output: {len(used)} colours", shown),
                                              ("difference (x4)", difference))):
        left = MARGIN + number * (panel[0] + MARGIN)
        picture = Image.fromarray(np.ascontiguousarray(pixels)).convert("RGB").resize(panel, Image.Resampling.BOX)
        titled(picture, left, MARGIN, title)
        draw.rectangle((left + mark[0], MARGIN + caption + mark[1], left + mark[2], MARGIN + caption + mark[3]),
                       outline=(255, 0, 160), width=2)
    for number, (title, pixels) in enumerate((("input, detail", image), ("output, detail", shown))):
        crop = np.ascontiguousarray(pixels[y:y + side, x:x + side])
        picture = Image.fromarray(crop).resize((detail_size, detail_size), Image.Resampling.NEAREST)
        titled(picture, MARGIN + number * (detail_size + MARGIN), top_of_detail,
               f"{title} ({side}x{side} at {x},{y}, x{ZOOM})")
    draw.text((MARGIN, top_of_swatches), "colours used, by hue and lightness: hex value and share of pixels",
              fill="black", font=font)
    total = max(1, int(counts.sum()))
    for number, entry in enumerate(used):
        row, column = divmod(number, SWATCH_COLUMNS)
        left = MARGIN + column * SWATCH[0]
        top = top_of_swatches + caption + row * SWATCH[1]
        colour = tuple(int(v) for v in palette[entry])
        draw.rectangle((left, top, left + SWATCH[0] - 3, top + SWATCH[1] - 3), fill=colour)
        ink = "black" if 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2] > 140 else "white"
        draw.text((left + 5, top + 4), "#{:02x}{:02x}{:02x}".format(*colour), fill=ink, font=font)
        draw.text((left + 5, top + 4 + FONT_SIZE + 3), f"{100 * counts[entry] / total:.1f}%", fill=ink, font=font)
    canvas.save(path)


def palette_report(spec: str, *, colors: int = 256, sample_factor: int = 10, refine: bool = True,
                   dither: str = "none", plot: str | None = None, save: str | None = None) -> np.ndarray:
    """Learn the palette of an image or clip, print a summary and write the requested files.

    Returns:
        uint8 (K, 3) palette.
    """
    EncodeOptions(colors=colors, sample_factor=sample_factor, refine=refine, dither=dither)   # checked before any work
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
    palette = learn_palette(sample, colors=colors, sample_factor=sample_factor, refine=refine)
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
