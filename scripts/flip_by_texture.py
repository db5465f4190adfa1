"""Where a GIF's FLIP error lies: in smooth, middling or busy parts of the picture, against gifski's.

    python scripts/flip_by_texture.py CLIP [--settings "OPTIONS" ...] [--gifski PATH]

CLIP is one of the bench's clips (see ``scripts/bench.py``, held-out ones included). gifsom's
default GIF, one GIF per quoted set of ``convert`` options and gifski's at quality 90 are made
and judged on every 10th source frame, as the bench judges FLIP. Each source pixel is put in a
class by the standard deviation of luma (0..255) over its 7x7 window: smooth (under 2), middling
(2 to 8) or busy (8 and up: texture and edges). For each GIF the mean FLIP error in each class
is printed, and what the class adds to the clip's mean, so that a FLIP miss can be traced to
banding in smooth areas, to lossy LZW (mostly middling areas) or to texture the palette loses.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the bench's clips, commands and timeline)

#: Upper bounds of local luma standard deviation (0..255) of each class, last one unbounded.
CLASSES = (("smooth", 2.0), ("middling", 8.0), ("busy", np.inf))
#: The window over which local contrast is measured, in pixels on a side.
WINDOW = 7


def local_contrast(frame: np.ndarray) -> np.ndarray:
    """float32 (H, W) standard deviation of luma over each pixel's :data:`WINDOW`-square window (edges
    repeated), for uint8 (H, W, 3) ``frame``."""
    from scipy.ndimage import uniform_filter

    luma = frame.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    mean = uniform_filter(luma, WINDOW, mode="nearest")
    square = uniform_filter(luma * luma, WINDOW, mode="nearest")
    return np.sqrt(np.maximum(square - mean * mean, 0.0))


def error_by_class(gif: Path, clip: bench.Clip) -> dict[str, tuple[float, float, float]]:
    """Per class: (share of the judged pixels, mean FLIP error there, what it adds to the clip's mean)."""
    import flip_evaluator

    shown = bench.shown_frames(gif, clip)
    sums = {name: [0.0, 0] for name, _ in CLASSES}
    for number in range(0, len(clip.frames), bench.PERCEPTUAL_STEP):
        source = clip.frames[number]
        error, _, _ = flip_evaluator.evaluate(source.astype(np.float32) / 255, shown[number].astype(np.float32) / 255,
                                              "LDR", applyMagma=False)
        error = np.asarray(error).reshape(source.shape[:2])
        contrast = local_contrast(source)
        low = -np.inf
        for name, high in CLASSES:
            inside = (contrast >= low) & (contrast < high)
            sums[name][0] += float(error[inside].sum())
            sums[name][1] += int(inside.sum())
            low = high
    total = sum(count for _, count in sums.values())
    return {name: (count / total, error / max(count, 1), error / total) for name, (error, count) in sums.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", help="a bench clip: " + " ".join([*bench.BENCH_CLIPS, *bench.HELD_OUT_CLIPS]))
    parser.add_argument("--settings", nargs="*", default=[], metavar="OPTIONS",
                        help="more gifsom GIFs, each a quoted string of convert options")
    parser.add_argument("--gifski", default=shutil.which("gifski"), help="path of the gifski binary")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        clip = bench.load_clips(work, [args.clip])[0]
        rows = ["gifsom (default)", *(bench.settings_row(setting) for setting in args.settings)]
        if args.gifski:
            rows.append(bench.quality_row("gifski", bench.GIFSKI_DEFAULT_QUALITY))
        commands = bench.recipes(clip, work / "out.gif", args.gifski, args.settings)
        print(f"## {clip.name}: FLIP by local luma contrast ({', '.join(f'{n} < {h:g}' for n, h in CLASSES[:-1])}, "
              f"{CLASSES[-1][0]} above)")
        for row in rows:
            steps = commands.get(row)
            if steps is None:
                continue
            for step in steps:
                subprocess.run(step, check=True, stdout=subprocess.DEVNULL, env=bench.USER_ENVIRONMENT)
            found = error_by_class(work / "out.gif", clip)
            parts = "  ".join(f"{name} {share:.2f} of pixels: {mean:.4f} (adds {adds:.4f})"
                              for name, (share, mean, adds) in found.items())
            print(f"{row:60s} {(work / 'out.gif').stat().st_size:>10,} bytes  {parts}", flush=True)


if __name__ == "__main__":
    main()
