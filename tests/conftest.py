"""Shared helpers: fixture paths, GIF decoding with Pillow and ffmpeg, PSNR."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# shared, loaded CI machines: an example's run time says nothing, so no per-example deadline
settings.register_profile("gifsom", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("gifsom")


def decode_gif(path) -> tuple[list[np.ndarray], list[int]]:
    """Every frame of a GIF as Pillow shows it (RGB, disposal applied) and its duration in ms."""
    frames, durations = [], []
    with Image.open(path) as image:
        for number in range(image.n_frames):
            image.seek(number)
            frames.append(np.asarray(image.convert("RGB")))
            durations.append(image.info.get("duration", 0))
    return frames, durations


def decode_gif_rgba(path) -> list[np.ndarray]:
    """Every frame of a GIF as RGBA (transparent where nothing was drawn)."""
    frames = []
    with Image.open(path) as image:
        for number in range(image.n_frames):
            image.seek(number)
            frames.append(np.asarray(image.convert("RGBA")))
    return frames


def decode_with_ffmpeg(path, width: int, height: int) -> list[np.ndarray]:
    """Every frame of a GIF as ffmpeg decodes it (one output frame per GIF frame)."""
    import imageio_ffmpeg

    result = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-fps_mode", "passthrough",
                             "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True)
    data = np.frombuffer(result.stdout, np.uint8)
    return list(data.reshape(-1, height, width, 3))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


@pytest.fixture
def photo() -> np.ndarray:
    return np.asarray(Image.open(FIXTURES / "photo.jpg").convert("RGB"))


@pytest.fixture
def screen_frames() -> list[np.ndarray]:
    return [np.asarray(Image.open(p).convert("RGB")) for p in sorted((FIXTURES / "screen").glob("*.png"))]


@pytest.fixture(scope="session")
def gif_decoders():
    """The four decoders GIFs are checked with: name -> path -> [(RGBA pixels, delay cs)].

    Chromium and ImageMagick come from Debian's packages (``.ci/run`` installs them); a
    machine without them fails here with the command that adds them.
    """
    from . import decoders

    missing = [name for name, present in decoders.available().items() if not present]
    if missing:
        pytest.fail(f"these tests decode GIFs with {', '.join(missing)}, which this machine lacks: "
                    "apt-get install chromium imagemagick && pip install playwright", pytrace=False)
    chromium = decoders.Chromium()
    yield {"pillow": decoders.pillow, "ffmpeg": decoders.ffmpeg, "imagemagick": decoders.imagemagick,
           "chromium": chromium.decode}
    chromium.close()


@pytest.fixture(scope="module")
def display():
    """A virtual X display (Xvfb, 640x480) that the tests start themselves; DISPLAY points at it meanwhile."""
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (.ci/run installs it)")
    # Xvfb picks a free display and writes its number to the pipe once it accepts connections
    ready, ready_writer = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(ready_writer), "-screen", "0", "640x480x24",
                               "-nolisten", "tcp"], pass_fds=(ready_writer,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(ready_writer)
    with os.fdopen(ready) as announced:
        assert select.select([announced], [], [], 60)[0], "Xvfb did not start within 60 s"
        number = int(announced.readline())
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = f":{number}"
    yield f":{number}"
    if previous is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = previous
    server.terminate()
    server.wait(timeout=10)
