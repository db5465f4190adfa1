"""Measure which knob gives the most quality per byte, to order gifsom's fit-to-size ladder.

    python scripts/fit_order.py [--clips pan screen small]

For each fixture clip it encodes the clip with one knob turned at a time (lossy
LZW, scale, frame step, colours) and prints bytes and PSNR (against the source
frames, at the source's size and timeline: a scaled GIF is scaled back up with
Lanczos, a thinned one holds each frame longer). Then, from the default, it
walks greedily: at each step it turns whichever knob one notch loses the least
PSNR per byte saved, and prints the path. gifsom.fit.LADDER follows that order.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the clip loader)

from gifsom.api import GifWriter  # noqa: E402
from gifsom.fit import FitSetting, Fitter  # noqa: E402

KNOBS = {
    "lossy": [0, 10, 20, 30, 40, 60, 80, 100],
    "scale": [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.42, 0.35],
    "frame_step": [1, 2, 3, 4],
    "colors": [256, 128, 64, 32, 16],
}


def psnr(data: bytes, clip: bench.Clip, work: Path) -> float:
    """PSNR of the GIF ``data`` against the clip, as bench.py measures it (source size and timeline)."""
    path = work / "try.gif"
    path.write_bytes(data)
    return bench.clip_psnr(bench.shown_frames(path, clip), clip)


def fitter_for(clip: bench.Clip) -> Fitter:
    writer = GifWriter("unused.gif", clip.fps)
    for frame in clip.frames:
        writer.append(frame)
    return Fitter(writer._spool, writer._survey, writer.options, len(clip.frames) / clip.fps, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="+", default=["pan", "screen", "small"])
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        for clip in bench.load_clips(Path(work), args.clips):
            fitter = fitter_for(clip)
            measure = {}

            def point(setting: FitSetting) -> tuple[int, float]:
                if setting not in measure:
                    data = fitter.encode(setting)
                    measure[setting] = (len(data), psnr(data, clip, Path(work)))
                return measure[setting]

            base = FitSetting()
            size0, q0 = point(base)
            print(f"\n## {clip.name}: default {size0:,} bytes, {q0:.2f} dB")
            print("knob         value     bytes  share   PSNR  dB lost per halving")
            for knob, values in KNOBS.items():
                for value in values[1:]:
                    size, q = point(replace(base, **{knob: value}))
                    halvings = np.log2(size0 / size) if size < size0 else float("nan")
                    per = (q0 - q) / halvings if halvings > 0 else float("nan")
                    print(f"{knob:12s} {value:>5}  {size:>9,}  {size / size0:5.2f}  {q:6.2f}  {per:6.2f}")
            print("greedy path (each step: the notch that loses the least dB per halving of bytes)")
            current, (size, q) = base, (size0, q0)
            for _ in range(14):
                options = []
                for knob, values in KNOBS.items():
                    position = values.index(getattr(current, knob))
                    if position + 1 < len(values):
                        step = replace(current, **{knob: values[position + 1]})
                        s, v = point(step)
                        if s < size:
                            options.append(((q - v) / np.log2(size / s), step, s, v))
                if not options:
                    break
                _, current, size, q = min(options, key=lambda o: o[0])
                print(f"  -> scale {current.scale:4.2f} step {current.frame_step} lossy {current.lossy:3d} "
                      f"colours {current.colors:3d}: {size:>9,} bytes ({size / size0:4.2f}), {q:.2f} dB")


if __name__ == "__main__":
    main()
