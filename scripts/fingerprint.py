"""Fingerprints of gifsom's output: to check that a change keeps every byte.

    python scripts/fingerprint.py > before.txt
    ... change the code ...
    python scripts/fingerprint.py > after.txt && diff before.txt after.txt

Prints one line per case: the SHA-1 and size of the GIF that ``gifsom.encode``
writes for each fixture clip in each mode (exact, lossy, every dither,
per-frame and per-scene palettes, small palettes, pure NeuQuant), then a
SHA-1 over ``learn_palette`` outputs on stills and clips at several sizes.
Runs in-process, so it measures the kernels, not start-up.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import gifsom  # noqa: E402
from bench import flat_ui_frames  # noqa: E402

MODES: dict[str, dict] = {
    "default": {},
    "lossy20": {"lossy": 20},
    "floyd-steinberg": {"dither": "floyd-steinberg"},
    "fs-no-temporal": {"dither": "floyd-steinberg", "temporal": False},
    "sierra-lite": {"dither": "sierra-lite"},
    "atkinson": {"dither": "atkinson", "dither_strength": 0.6},
    "bayer8": {"dither": "bayer8"},
    "blue-noise": {"dither": "blue-noise"},
    "palette-frame": {"palette": "frame"},
    "palette-scene": {"palette": "scene"},
    "colors32": {"colors": 32},
    "no-refine": {"refine": False, "sample_factor": 5},
    "motion8": {"motion_threshold": 8, "dither": "bayer4"},
}


def clips() -> dict[str, tuple[list[np.ndarray], float]]:
    pan = [f.pixels for f in gifsom.read_frames(ROOT / "fixtures" / "pan.mp4")]
    screen = [np.asarray(Image.open(p).convert("RGB")) for p in sorted((ROOT / "fixtures" / "screen").glob("*.png"))]
    # a sticker: a moving opaque disc on a transparent canvas
    yy, xx = np.mgrid[:96, :128]
    sticker = []
    for i in range(12):
        frame = np.zeros((96, 128, 4), np.uint8)
        inside = (yy - 48) ** 2 + (xx - 20 - 8 * i) ** 2 < 400
        frame[inside] = (200, 40 + 10 * i, 90, 255)
        sticker.append(frame)
    return {"pan": (pan, 15.0), "screen": (screen, 10.0), "flat": (flat_ui_frames(), 10.0),
            "sticker": (sticker, 10.0)}


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="*", default=None, help="only these clips")
    parser.add_argument("--modes", nargs="*", default=None, help="only these modes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.gif"
        for name, (frames, fps) in clips().items():
            if args.clips and name not in args.clips:
                continue
            for mode, options in MODES.items():
                if args.modes and mode not in args.modes:
                    continue
                if name == "pan" and mode not in ("default", "lossy20", "floyd-steinberg", "blue-noise", "colors32"):
                    continue       # the long clip only where its content matters
                gifsom.encode(frames, out, fps=fps, **options)
                data = out.read_bytes()
                print(f"gif {name:8s} {mode:16s} {len(data):10d} {digest(data)}", flush=True)
    photo = np.asarray(Image.open(ROOT / "fixtures" / "photo.jpg").convert("RGB"))
    screen = np.asarray(Image.open(sorted((ROOT / "fixtures" / "screen").glob("*.png"))[0]).convert("RGB"))
    palettes = hashlib.sha1()
    for image in (photo, screen):
        for colors in (16, 32, 256):
            for refine in (True, False):
                palette = gifsom.learn_palette(image, colors, refine=refine)
                palettes.update(np.ascontiguousarray(palette).tobytes())
    print(f"palettes {palettes.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
