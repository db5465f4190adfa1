"""The four GIF decoders users meet, each returning what it shows: Pillow, ffmpeg, ImageMagick and Chromium.

Each decoder gives a list of ``(pixels, delay)``: uint8 (H, W, 4) RGBA frames,
composed as the decoder shows them, and delays in centiseconds (None where the
decoder does not tell). :func:`timeline` folds repeated pictures together so
that GIFs that split or merge frames differently compare equal when they show
the same thing for the same time.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

Decoded = list[tuple[np.ndarray, "int | None"]]


def pillow(path: Path) -> Decoded:
    from PIL import Image, ImageSequence

    with Image.open(path) as image:
        return [(np.asarray(frame.convert("RGBA")).copy(), frame.info.get("duration", 0) // 10)
                for frame in ImageSequence.Iterator(image)]


def ffmpeg(path: Path) -> Decoded:
    import imageio_ffmpeg

    width, height = screen_size(path)
    run = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path), "-vf", "showinfo",
                          "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
                         capture_output=True, check=True)
    frames = np.frombuffer(run.stdout, np.uint8).reshape(-1, height, width, 4)
    times = [float(t) for t in re.findall(rb"pts_time:\s*([0-9.]+)", run.stderr)]
    delays: list[int | None] = [round((b - a) * 100) for a, b in zip(times, times[1:])] + [None]
    return list(zip(frames, delays))


def imagemagick(path: Path) -> Decoded:
    convert = "/usr/bin/convert" if Path("/usr/bin/convert").exists() else (shutil.which("magick") or "convert")
    width, height = screen_size(path)
    raw = subprocess.run([convert, str(path), "-coalesce", "-depth", "8", "rgba:-"], capture_output=True,
                         check=True).stdout
    delays = subprocess.run([convert, str(path), "-format", "%T\n", "info:"], capture_output=True, check=True,
                            text=True).stdout.split()
    frames = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 4)
    return list(zip(frames, [int(d) for d in delays]))


def screen_size(path: Path) -> tuple[int, int]:
    """The logical screen of a GIF, (width, height), from its header."""
    head = Path(path).read_bytes()[:10]
    return int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")


CHROMIUM_SCRIPT = """
async (encoded) => {
  const bytes = Uint8Array.from(atob(encoded), c => c.charCodeAt(0));
  const decoder = new ImageDecoder({data: bytes, type: 'image/gif'});
  await decoder.tracks.ready;
  await decoder.completed;
  const track = decoder.tracks.selectedTrack;
  const frames = [];
  for (let i = 0; i < track.frameCount; i++) {
    const {image} = await decoder.decode({frameIndex: i});
    const canvas = new OffscreenCanvas(image.displayWidth, image.displayHeight);
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let text = '';
    for (let j = 0; j < pixels.length; j += 8192) text += String.fromCharCode(...pixels.subarray(j, j + 8192));
    frames.push([btoa(text), image.duration, canvas.width, canvas.height]);
    image.close();
  }
  return {frames, repetitions: track.repetitionCount};
}
"""


class Chromium:
    """Headless Chromium (Debian's package) driven by Playwright, decoding with WebCodecs' ImageDecoder."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        executable = shutil.which("chromium") or shutil.which("chromium-browser")
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        self._page = self._browser.new_page()
        # WebCodecs needs a secure context: a page served as http://localhost is one
        self._page.route("http://localhost/**", lambda route: route.fulfill(body="<html></html>",
                                                                              content_type="text/html"))
        self._page.goto("http://localhost/")

    def decode(self, path: Path) -> Decoded:
        result = self._page.evaluate(CHROMIUM_SCRIPT, base64.b64encode(Path(path).read_bytes()).decode())
        decoded: Decoded = []
        for encoded, duration_us, width, height in result["frames"]:
            pixels = np.frombuffer(base64.b64decode(encoded), np.uint8).reshape(height, width, 4)
            decoded.append((pixels, None if duration_us is None else round(duration_us / 10000)))
        self.repetitions = result["repetitions"]
        return decoded

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


def available() -> dict[str, bool]:
    """Which decoders this machine has (Pillow and imageio-ffmpeg's ffmpeg always)."""
    chromium = bool(shutil.which("chromium") or shutil.which("chromium-browser"))
    try:
        import playwright  # noqa: F401
    except ImportError:
        chromium = False
    magick = Path("/usr/bin/convert").exists() or bool(shutil.which("magick"))
    return {"pillow": True, "ffmpeg": True, "imagemagick": magick, "chromium": chromium}


def visible(pixels: np.ndarray) -> np.ndarray:
    """RGBA pixels with every transparent pixel's colour zeroed: what a viewer can tell apart."""
    shown = pixels.copy()
    shown[shown[:, :, 3] < 128] = 0
    shown[:, :, 3] = np.where(shown[:, :, 3] < 128, 0, 255)
    return shown


def timeline(frames: Decoded, *, delays: bool = True) -> list[tuple[np.ndarray, int | None]]:
    """Frames as (visible pixels, total delay), with consecutive equal pictures joined.

    A last delay of None (a decoder that does not tell) is kept as None.
    """
    joined: list[list] = []
    for pixels, delay in frames:
        shown = visible(pixels)
        if joined and np.array_equal(joined[-1][0], shown):
            if joined[-1][1] is not None and delay is not None:
                joined[-1][1] += delay
            else:
                joined[-1][1] = None
            continue
        joined.append([shown, delay])
    return [(p, d if delays else None) for p, d in joined]
