"""Palette quality and speed on still images: gifsom next to pngquant, Pillow and ffmpeg.

    pip install -e ".[dev]" && python scripts/bench_palette.py [--colors 256] [--repeats 5]

For each image it prints the palette PSNR (every pixel mapped to its exact
nearest palette colour, no dither: this judges the palette alone) and the
time to learn the palette, best of --repeats for every tool: gifsom's
in-process after one warm-up call; the other tools' whole command
(pngquant, ffmpeg) or call (Pillow). Images: scikit-image's sample
photos and a frame of the fixture screen recording.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def images() -> dict[str, np.ndarray]:
    from skimage import data

    found = {name: getattr(data, name)() for name in ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")}
    found["screen (fixture)"] = np.asarray(Image.open(ROOT / "fixtures" / "screen" / "frame_030.png").convert("RGB"))
    found["photo (fixture)"] = np.asarray(Image.open(ROOT / "fixtures" / "photo.jpg").convert("RGB"))
    return found


def palette_psnr(image: np.ndarray, palette: np.ndarray) -> float:
    from gifsom.mapping.nearest import ColourCache

    indices = ColourCache(palette).map(image)
    mse = np.mean((palette[indices].astype(np.float64) - image) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def best_time(function, repeats: int):
    result, best = None, float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best


def png_palette(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        if image.mode == "P":
            used = np.unique(np.asarray(image))
            return np.array(image.getpalette()[: 3 * 256], np.uint8).reshape(-1, 3)[used]
        return np.unique(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0)


def main() -> None:
    import imageio_ffmpeg

    import gifsom

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--colors", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    k = args.colors
    pngquant = shutil.which("pngquant")
    if not pngquant:
        print("note: pngquant not found (apt-get install pngquant); its column is skipped")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    methods = {
        "gifsom": lambda img: gifsom.learn_palette(img, k),
        "gifsom NeuQuant q10": lambda img: gifsom.learn_palette(img, k, sample_factor=10, refine=False),
        "gifsom NeuQuant q1": lambda img: gifsom.learn_palette(img, k, sample_factor=1, refine=False),
        "Pillow MEDIANCUT": lambda img: png_like(Image.fromarray(img).quantize(k, method=Image.Quantize.MEDIANCUT)),
        "Pillow FASTOCTREE": lambda img: png_like(Image.fromarray(img).quantize(k, method=Image.Quantize.FASTOCTREE)),
    }
    rows: dict[str, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, image in images().items():
            gifsom.learn_palette(image, k)       # a warm-up call, as for the other tools
            row = {}
            for method, function in methods.items():
                palette, seconds = best_time(lambda: function(image), args.repeats)
                row[method] = (palette_psnr(image, palette), seconds)
            source = work / "in.png"
            Image.fromarray(image).save(source)
            if pngquant:
                out = work / "pq.png"
                command = [pngquant, "--speed", "1", "--nofs", str(k), "-f", "-o", str(out), str(source)]
                _, seconds = best_time(lambda: subprocess.run(command, check=True), args.repeats)
                row["pngquant --speed 1"] = (palette_psnr(image, png_palette(out)), seconds)
            out = work / "pal.png"
            command = [ffmpeg, "-v", "error", "-y", "-i", str(source), "-vf", f"palettegen=max_colors={k}", str(out)]
            _, seconds = best_time(lambda: subprocess.run(command, check=True), args.repeats)
            row["ffmpeg palettegen"] = (palette_psnr(image, np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3)),
                                        seconds)
            rows[name] = row
    tools = list(next(iter(rows.values())))
    print(f"palette PSNR in dB (exact nearest mapping, {k} colours) / learning time in ms\n")
    print(f"{'image':22s} " + " ".join(f"{t:>20s}" for t in tools))
    for name, row in rows.items():
        print(f"{name:22s} " + " ".join(f"{row[t][0]:9.2f} {row[t][1] * 1000:8.1f}ms" for t in tools))
    means = {t: (np.mean([r[t][0] for r in rows.values()]), np.mean([r[t][1] for r in rows.values()])) for t in tools}
    print(f"{'mean':22s} " + " ".join(f"{means[t][0]:9.2f} {means[t][1] * 1000:8.1f}ms" for t in tools))
    if "pngquant --speed 1" in rows[name]:
        speedups = [r["pngquant --speed 1"][1] / r["gifsom"][1] for r in rows.values()]
        print(f"\ngifsom learns {min(speedups):.1f}x to {max(speedups):.1f}x faster than pngquant's whole run")


def png_like(image: Image.Image) -> np.ndarray:
    used = np.unique(np.asarray(image))
    return np.array(image.getpalette()[: 3 * 256], np.uint8).reshape(-1, 3)[used]


if __name__ == "__main__":
    main()
