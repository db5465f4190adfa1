"""Make the small test media in fixtures/ (run once; the results are committed).

    pip install -e ".[dev]" && python scripts/make_fixtures.py

What it makes, and where each comes from:

- ``fixtures/photo.jpg``: scikit-image's ``coffee`` sample (photo by Rachel
  Michetti, released into the public domain), 600 x 400, JPEG quality 92.
- ``fixtures/pan.mp4``: an 8-second, 15 fps, 640 x 360 pan and zoom over
  scikit-image's ``astronaut`` sample (NASA photo of Eileen Collins, public
  domain), encoded with H.264 by the ffmpeg that imageio-ffmpeg bundles.
- ``fixtures/screen/frame_NNN.png``: 30 frames (10 fps) of a flat UI with text
  being typed (``scripts/demo_ui.py``), drawn by Tk on an Xvfb display and
  grabbed with mss: a real screen recording, lossless.

Needs scikit-image (the ``dev`` extra), Xvfb and Tk (Debian: xvfb, python3-tk).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def make_photo() -> None:
    from skimage import data

    Image.fromarray(data.coffee()).save(FIXTURES / "photo.jpg", quality=92)


def make_pan_video(seconds: float = 8.0, fps: int = 15, size: tuple[int, int] = (640, 360)) -> None:
    import imageio_ffmpeg
    from skimage import data

    photo = Image.fromarray(data.astronaut())
    width, height = size
    frames = int(seconds * fps)
    writer = imageio_ffmpeg.write_frames(str(FIXTURES / "pan.mp4"), size, fps=fps, codec="libx264",
                                         pix_fmt_out="yuv420p", quality=None,
                                         output_params=["-crf", "23", "-preset", "slow"],
                                         macro_block_size=1)
    writer.send(None)
    for i in range(frames):
        t = i / (frames - 1)
        zoom = 1.0 + 0.6 * t                       # from the whole photo to a closer view
        crop_w = 512 / zoom
        crop_h = crop_w * height / width
        cx = 256 + 60 * np.sin(2 * np.pi * t)
        cy = 200 + 40 * t
        box = (cx - crop_w / 2, cy - crop_h / 2, cx + crop_w / 2, cy + crop_h / 2)
        frame = photo.transform(size, Image.Transform.EXTENT, box, Image.Resampling.BICUBIC)
        writer.send(np.asarray(frame).tobytes())
    writer.close()


def make_screen_recording(frames: int = 30, fps: float = 10.0) -> None:
    import mss

    out = FIXTURES / "screen"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, DISPLAY=display)
    try:
        time.sleep(1.0)
        ui = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "demo_ui.py"), "--seconds", str(frames / fps + 2)],
                              env=env)
        time.sleep(1.0)
        os.environ["DISPLAY"] = display
        with mss.MSS(display=display) as screen:
            start = time.monotonic()
            for i in range(frames):
                shot = screen.grab({"left": 0, "top": 0, "width": 480, "height": 320})
                rgb = np.asarray(shot)[:, :, [2, 1, 0]]
                Image.fromarray(rgb).save(out / f"frame_{i + 1:03d}.png", optimize=True)
                time.sleep(max(0.0, start + (i + 1) / fps - time.monotonic()))
        ui.wait(timeout=30)
    finally:
        xvfb.terminate()
        xvfb.wait()


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    make_photo()
    make_pan_video()
    make_screen_recording()
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    print(f"fixtures: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
