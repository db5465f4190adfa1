"""Benchmark gifsom against ffmpeg, gifski and gifsicle on the bench clips, in one run.

    pip install -e ".[bench]"      # scikit-image, ssimulacra2, flip-evaluator, matplotlib
    python scripts/bench.py [--repeats 3] [--plot bench.png] [--gifski PATH] [--check-metrics]
                            [--clips pan photos cartoon page screen screen-x10 flat small]
    python scripts/bench.py --clips chelsea hopper hubble plot
                            --only "gifsom (default)" "gifski (quality 90)" "ffmpeg two-pass"
        (one command line: the held-out clips, to check the defaults on content never tuned on)
    python scripts/bench.py --clips small chelsea --only "gifsom (default)" "gifski (quality 90)"
                            --settings "--lossy 6" "--dither adaptive --dither-strength 0.3"
        (more gifsom rows: each quoted string is a set of convert options to try)

Prints one table per clip: size in bytes; PSNR (whole clip, on the source timeline, sampled
mid-frame); SSIM (every 5th frame); SSIMULACRA 2 and FLIP (every 10th frame, same timeline:
what a viewer notices, banding and dither noise included); best wall and CPU time of
``--repeats`` runs after a warm-up, the cold first run, and peak memory; where those walls are
close, the wall-time target against ffmpeg's recipe takes the medians of ``--rounds`` runs of the
two in turn. Then the start-up
cost of each tool, the memory of the library hook, mapping throughput, Lanczos scaling against
Pillow's and scaling with the thread count; with ``--fit``, the fit under a size against a
hand-picked grid (wall times as medians of five runs beside a default encode). Each table ends
with the targets it checks. The clips photos, cartoon and page
are made at run time from media that scikit-image ships; so are the held-out clips chelsea,
hopper (matplotlib's sample photo), hubble, plot (a matplotlib animation), sky, portrait, lab
and dusk (steady cameras), and the steady cameras' clips head, car, desk and webcam (still pictures with
moving parts under sensor noise), which run only when named. Tools and metrics that are missing
are skipped with a note. See ../shared/docs/benchmarks.md for the method.
"""

from __future__ import annotations

import argparse
import compileall
import io
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from gifsom.mapping.dither import DITHER_MODES
from gifsom.options import DEFAULT_QUALITY

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@dataclass
class Clip:
    name: str
    frames: list[np.ndarray]   # source frames, uint8 (H, W, 3)
    fps: float
    ffmpeg_input: list[str]    # ffmpeg arguments that read the clip
    png_dir: Path              # the frames as PNG files (for gifski)
    gifsom_input: str


@dataclass
class Quality:
    """What a viewer would judge of a GIF against its clip (see :func:`quality`)."""

    psnr: float
    ssim: float | None
    ssimulacra2: float | None
    flip: float | None


@dataclass
class Result:
    tool: str
    size: int
    quality: Quality
    wall: float
    cpu: float
    cold: float
    peak_mb: float


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def flat_ui_frames(count: int = 40) -> list[np.ndarray]:
    """A flat UI with no anti-aliasing (bitmap font, solid fills): a terminal being typed into,
    a sidebar whose highlight moves, a progress bar. Under 30 colours: GIF can hold it exactly."""
    from PIL import ImageDraw, ImageFont

    font = ImageFont.load_default_imagefont()
    lines = ["$ gifsom record bug.gif --region 0,0,480,320", "recording... 148 frames in 15.0 s",
             "learning palette (exact: 23 colours)", "wrote bug.gif: 41 KiB, lossless", "$ _"]
    text = "\n".join(lines)
    frames = []
    for i in range(count):
        image = Image.new("RGB", (480, 320), (243, 244, 246))
        draw = ImageDraw.Draw(image)
        draw.rectangle([0, 0, 109, 319], fill=(31, 41, 55))
        for n, name in enumerate(["Record", "Convert", "Palette", "Settings"]):
            if n == (i // 10) % 4:
                draw.rectangle([8, 16 + 40 * n, 102, 44 + 40 * n], fill=(37, 99, 235))
            draw.text((14, 24 + 40 * n), name, fill=(229, 231, 235), font=font)
        draw.rectangle([124, 48, 466, 230], fill=(255, 255, 255), outline=(209, 213, 219))
        draw.multiline_text((132, 56), text[: i * 5], fill=(17, 24, 39), font=font, spacing=6)
        draw.rectangle([124, 250, 466, 264], fill=(209, 213, 219))
        draw.rectangle([124, 250, 124 + int(342 * (i + 1) / count), 264], fill=(37, 99, 235))
        draw.rectangle([404, 280, 466, 308], fill=(16, 185, 129))
        draw.text((426, 288), "OK", fill=(255, 255, 255), font=font)
        frames.append(np.asarray(image))
    return frames


def photo_tour_frames() -> list[np.ndarray]:
    """Real photos (scikit-image's astronaut, coffee and rocket) under a slow pan and zoom, with a cut
    between photos: 90 frames of 640x360 at 15 fps, 30 a photo."""
    from skimage import data

    frames = []
    for photo in (data.astronaut(), data.coffee(), data.rocket()):
        image = Image.fromarray(photo)
        width, height = image.size
        for step in range(30):
            zoom = 1.0 + 0.4 * step / 29                      # the view shrinks to 1/1.4 of the photo
            view_w = min(width, height * 16 / 9) / zoom
            view_h = view_w * 9 / 16
            left = (width - view_w) * (0.2 + 0.6 * step / 29)
            top = (height - view_h) * 0.5
            box = (left, top, left + view_w, top + view_h)
            frames.append(np.asarray(image.resize((640, 360), Image.Resampling.LANCZOS, box=box)))
    return frames


def cartoon_frames() -> list[np.ndarray]:
    """A cartoon-like animation: flat shapes over gradient skies, three scenes with cuts, things
    moving in each: 72 frames of 480x270 at 10 fps."""
    from PIL import ImageDraw

    skies = [((40, 90, 200), (250, 180, 120)), ((10, 10, 40), (80, 40, 120)), ((120, 200, 250), (230, 250, 255))]
    grounds = [(60, 140, 60), (40, 40, 60), (200, 170, 110)]
    frames = []
    for scene, ((top, bottom), ground) in enumerate(zip(skies, grounds)):
        ramp = np.linspace(0.0, 1.0, 270)[:, None, None]
        sky = (np.array(top) * (1 - ramp) + np.array(bottom) * ramp).repeat(480, axis=1)
        for step in range(24):
            image = Image.fromarray(np.rint(sky).astype(np.uint8))
            draw = ImageDraw.Draw(image)
            draw.rectangle([0, 200, 479, 269], fill=ground)
            sun = 40 + 12 * step
            draw.ellipse([sun, 30 + scene * 10, sun + 50, 80 + scene * 10], fill=(255, 230, 90))
            x = 400 - 14 * step
            draw.rounded_rectangle([x, 150, x + 60, 200], radius=12, fill=(220, 60, 60), outline=(20, 20, 20), width=3)
            draw.ellipse([x + 8, 190, x + 24, 206], fill=(30, 30, 30))
            draw.ellipse([x + 38, 190, x + 54, 206], fill=(30, 30, 30))
            for tree in range(4):
                tx = (tree * 130 + step * 3 * (scene + 1)) % 520 - 20
                draw.polygon([(tx, 200), (tx + 20, 140), (tx + 40, 200)], fill=(20, 100 + 30 * scene, 40))
            frames.append(np.asarray(image))
    return frames


def page_frames() -> list[np.ndarray]:
    """A web page with photos and text scrolled down: 60 frames of 800x600 at 10 fps, then a cut to a
    second page (an article and a gallery)."""
    from PIL import ImageDraw, ImageFont
    from skimage import data

    font = ImageFont.load_default(size=15)
    photos = [data.chelsea(), data.coffee(), data.astronaut(), data.hubble_deep_field()[:400, :600], data.rocket()]
    pages = []
    for number in range(2):
        page = Image.new("RGB", (800, 1400), (255, 255, 255))
        draw = ImageDraw.Draw(page)
        draw.rectangle([0, 0, 799, 56], fill=(30, 60, 120) if number == 0 else (120, 30, 60))
        draw.text((24, 18), "gifsom - news" if number == 0 else "gifsom - gallery", fill=(255, 255, 255), font=font)
        y = 80
        for index, photo in enumerate(photos[number::2] * 2):
            image = Image.fromarray(photo)
            image.thumbnail((360, 260))
            page.paste(image, (40 if index % 2 == 0 else 400, y))
            for line in range(8):
                x = 420 if index % 2 == 0 else 40
                draw.text((x, y + 10 + 24 * line), f"Line {line + 1} of a paragraph about picture {index + 1}.",
                          fill=(40, 40, 40), font=font)
            y += image.size[1] + 40
        pages.append(np.asarray(page))
    frames = []
    for number in range(60):
        page = pages[number // 30]
        top = min(page.shape[0] - 600, (number % 30) * 24)
        frames.append(np.ascontiguousarray(page[top:top + 600]))
    return frames


def pan_and_zoom(photo: np.ndarray, count: int = 40, size: tuple[int, int] = (480, 270)) -> list[np.ndarray]:
    """One photo under a diagonal pan and a zoom to 1/1.5 of it: ``count`` frames of ``size``."""
    image = Image.fromarray(photo)
    width, height = image.size
    frames = []
    for step in range(count):
        share = step / (count - 1)
        view_w = min(width, height * size[0] / size[1]) / (1.0 + 0.5 * share)
        view_h = view_w * size[1] / size[0]
        left, top = (width - view_w) * (0.8 - 0.6 * share), (height - view_h) * (0.3 + 0.4 * share)
        box = (left, top, left + view_w, top + view_h)
        frames.append(np.asarray(image.resize(size, Image.Resampling.LANCZOS, box=box)))
    return frames


def sample_photo(name: str) -> np.ndarray:
    """A photo that scikit-image ships (``chelsea``, ``hubble_deep_field``), or matplotlib's ``grace_hopper``."""
    if name == "grace_hopper":
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
            return np.asarray(Image.open(file).convert("RGB"))
    from skimage import data

    return getattr(data, name)()


def plot_frames(count: int = 40) -> list[np.ndarray]:
    """A matplotlib figure redrawn as its curves move: anti-aliased lines, a filled area, text and a
    legend on white, as a library user animates a plot; ``count`` frames of 480x320."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4.8, 3.2), dpi=100)
    x = np.linspace(0, 4 * np.pi, 400)
    frames = []
    for step in range(count):
        axes.clear()
        axes.plot(x, np.sin(x + step * 0.2), label="sin")
        axes.plot(x, np.cos(x * 0.5 - step * 0.1), label="cos")
        axes.fill_between(x, 0, np.sin(x + step * 0.2) * 0.5, alpha=0.3)
        axes.set_title(f"frame {step}")
        axes.legend(loc="upper right")
        figure.canvas.draw()
        frames.append(np.asarray(figure.canvas.buffer_rgba())[:, :, :3].copy())
    plt.close(figure)
    return frames


def with_sensor_noise(frames: list[np.ndarray], sigma: float, seed: int) -> list[np.ndarray]:
    """``frames`` with fresh Gaussian noise of ``sigma`` levels on every channel of every frame, as a camera's
    sensor adds it (the same noise on every run: ``seed``)."""
    rng = np.random.default_rng(seed)
    return [np.clip(f + rng.normal(0.0, sigma, f.shape), 0, 255).round().astype(np.uint8) for f in frames]


def talking_head_frames(count: int = 60, size: tuple[int, int] = (176, 144), noise: float = 4.0) -> list[np.ndarray]:
    """A steady camera on a face before a still background, as a video call: a portrait (scikit-image's
    astronaut) bobbing over a photo (its coffee), with sensor noise of ``noise`` levels; ``count`` frames of
    ``size``."""
    from skimage import data

    width, height = size
    back = Image.fromarray(data.coffee()).resize((width + 40, height + 40), Image.Resampling.LANCZOS)
    face = Image.fromarray(data.astronaut()[30:230, 150:330]).resize((70, 78), Image.Resampling.LANCZOS)
    frames = []
    for step in range(count):
        canvas = back.copy()
        canvas.paste(face, (70 + round(6 * math.sin(step / 6)), 50 + round(3 * math.sin(step / 4))))
        frames.append(np.asarray(canvas)[20:20 + height, 20:20 + width])
    return with_sensor_noise(frames, noise, 7)


def car_frames(count: int = 60, size: tuple[int, int] = (176, 144)) -> list[np.ndarray]:
    """A steady camera inside a moving car: a still inside (scikit-image's astronaut), a window on a view
    that slides past (its rocket under a pan), a head that bobs, with sensor noise; ``count`` frames of
    ``size``."""
    from skimage import data

    width, height = size
    inside = np.asarray(Image.fromarray(data.astronaut()).resize((width, height + 60), Image.Resampling.LANCZOS))
    outside = pan_and_zoom(data.rocket(), count, (70, 60))
    frames = []
    for step in range(count):
        frame = inside[20:20 + height].copy()
        frame[10:70, 100:170] = outside[step]
        bob = round(2 * math.sin(step / 5))
        frame[70 + bob:130 + bob, 20:80] = inside[95:155, 20:80]
        frames.append(frame)
    return with_sensor_noise(frames, 3.0, 11)


def desk_frames(count: int = 50, size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """A steady camera over a desk (scikit-image's coffee) as a photo (its cat) slides across, with sensor
    noise; ``count`` frames of ``size``."""
    from skimage import data

    width, height = size
    back = np.asarray(Image.fromarray(data.coffee()).resize(size, Image.Resampling.LANCZOS))
    photo = np.asarray(Image.fromarray(data.chelsea()).resize((90, 70), Image.Resampling.LANCZOS))
    frames = []
    for step in range(count):
        frame = back.copy()
        left = 10 + 4 * step
        frame[120:190, left:left + 90] = photo[:, :min(90, width - left)]
        frames.append(frame)
    return with_sensor_noise(frames, 2.5, 13)


def slid_across(back: np.ndarray, piece: np.ndarray, count: int,
                place: Callable[[int], tuple[int, int]]) -> list[np.ndarray]:
    """``count`` copies of uint8 (H, W, 3) ``back``, each with uint8 (h, w, 3) ``piece`` pasted with its top
    left corner at ``place(step)`` (x, y), cut off at the right edge."""
    width = back.shape[1]
    frames = []
    for step in range(count):
        frame = back.copy()
        left, top = place(step)
        visible = max(0, min(piece.shape[1], width - left))
        frame[top:top + piece.shape[0], left:left + visible] = piece[:, :visible]
        frames.append(frame)
    return frames


def sky_frames(count: int = 50, size: tuple[int, int] = (240, 180)) -> list[np.ndarray]:
    """A steady camera on a face that drifts across a smooth sky (scikit-image's rocket and astronaut), with
    sensor noise; ``count`` frames of ``size``. Held out: a smooth background where touch-ups cost bytes."""
    from skimage import data

    back = np.asarray(Image.fromarray(data.rocket()).resize(size, Image.Resampling.LANCZOS))
    face = np.asarray(Image.fromarray(data.astronaut()[30:230, 150:330]).resize((60, 66), Image.Resampling.LANCZOS))
    frames = slid_across(back, face, count, lambda step: (30 + 3 * step, 60 + round(4 * math.sin(step / 5))))
    return with_sensor_noise(frames, 2.0, 21)


def portrait_frames(count: int = 50, size: tuple[int, int] = (240, 180)) -> list[np.ndarray]:
    """A steady camera on a portrait (matplotlib's Grace Hopper) with a cat's photo (scikit-image's) bobbing
    before it, with sensor noise; ``count`` frames of ``size``. Held out."""
    from skimage import data

    width, height = size
    back = Image.fromarray(sample_photo("grace_hopper")).resize((width + 20, height + 20), Image.Resampling.LANCZOS)
    cat = Image.fromarray(data.chelsea()).resize((64, 48), Image.Resampling.LANCZOS)
    frames = []
    for step in range(count):
        canvas = back.copy()
        canvas.paste(cat, (150 + round(10 * math.sin(step / 7)), 110 + round(5 * math.sin(step / 3))))
        frames.append(np.asarray(canvas)[10:10 + height, 10:10 + width])
    return with_sensor_noise(frames, 3.0, 23)


def lab_frames(count: int = 50, size: tuple[int, int] = (240, 180)) -> list[np.ndarray]:
    """A steady camera on a micrograph (scikit-image's immunohistochemistry) as a photo (its coffee) slides
    across, with sensor noise; ``count`` frames of ``size``. Held out: busy texture that stays."""
    from skimage import data

    back = np.asarray(Image.fromarray(data.immunohistochemistry()).resize(size, Image.Resampling.LANCZOS))
    photo = np.asarray(Image.fromarray(data.coffee()).resize((70, 50), Image.Resampling.LANCZOS))
    frames = slid_across(back, photo, count, lambda step: (20 + 3 * step, 90 + round(6 * math.sin(step / 4))))
    return with_sensor_noise(frames, 2.5, 31)


def dusk_frames(count: int = 50, size: tuple[int, int] = (240, 180)) -> list[np.ndarray]:
    """A steady camera on a smooth dusk sky (a vertical gradient, blue to orange) as a cat's photo
    (scikit-image's chelsea) drifts across, with sensor noise; ``count`` frames of ``size``. Held out: after
    H.264, next to no grain is left on the sky, so gifsom judges it clean, and maps it as a steady camera
    only because it flickers (see :func:`gifsom.encoder.flickers_smoothly`)."""
    from skimage import data

    width, height = size
    rows = np.linspace(0.0, 1.0, height)[:, None, None]
    back = (np.array([40, 60, 140]) * (1 - rows) + np.array([250, 150, 90]) * rows) * np.ones((height, width, 1))
    cat = np.asarray(Image.fromarray(data.chelsea()).resize((64, 48), Image.Resampling.LANCZOS))
    sky = np.clip(back, 0, 255).astype(np.uint8)
    frames = slid_across(sky, cat, count, lambda step: (150 - 2 * step, 60 + round(8 * math.sin(step / 6))))
    return with_sensor_noise(frames, 2.0, 37)


#: Clips made at run time from media that packages ship, and their frame rates.
MADE_CLIPS = {"photos": ("photos (real photos, pan and zoom, cuts, 640x360, 15 fps)", photo_tour_frames, 15.0),
              "cartoon": ("cartoon (flat shapes, gradients, cuts, 480x270, 10 fps)", cartoon_frames, 10.0),
              "page": ("page (web page with photos, scrolling, a cut, 800x600, 10 fps)", page_frames, 10.0),
              # held out: not in the default list, and never tuned on; a check of how the defaults carry over
              "chelsea": ("chelsea (held out: a cat photo, pan and zoom, 480x270, 12 fps)",
                          lambda: pan_and_zoom(sample_photo("chelsea")), 12.0),
              "hopper": ("hopper (held out: a portrait, pan and zoom, 480x270, 12 fps)",
                         lambda: pan_and_zoom(sample_photo("grace_hopper")), 12.0),
              "hubble": ("hubble (held out: a dark star field, pan and zoom, 480x270, 12 fps)",
                         lambda: pan_and_zoom(sample_photo("hubble_deep_field")), 12.0),
              "plot": ("plot (held out: a moving matplotlib plot, 480x320, 10 fps)", plot_frames, 10.0),
              # steady cameras: most of the picture stays, under sensor noise
              "head": ("head (steady camera: a talking head, sensor noise, 176x144, 15 fps)", talking_head_frames,
                       15.0),
              "car": ("car (steady camera: inside a car, a window sliding past, 176x144, 15 fps)", car_frames,
                      15.0),
              "desk": ("desk (steady camera: a photo slides over a desk, 320x240, 12 fps)", desk_frames, 12.0),
              # as an uncompressed camera gives it: PNG frames (at gifsom's frame rate for them, as the other
              # PNG clips), the sensor noise of every frame left in
              "webcam": ("webcam (steady camera: the talking head, raw sensor noise, PNG, 176x144, 10 fps)",
                         lambda: talking_head_frames(noise=3.0), 10.0),
              # held out steady cameras: never tuned on
              "sky": ("sky (held out: steady camera, a face drifting across a smooth sky, 240x180, 12 fps)",
                      sky_frames, 12.0),
              "portrait": ("portrait (held out: steady camera, a photo bobbing before a portrait, 240x180, 12 fps)",
                           portrait_frames, 12.0),
              "lab": ("lab (held out: steady camera, a photo sliding over a micrograph, 240x180, 12 fps)", lab_frames,
                      12.0),
              "dusk": ("dusk (held out: steady camera, a cat drifting before a smooth dusk sky, 240x180, 12 fps)",
                       dusk_frames, 12.0)}
#: Made clips that come as a camera file would: H.264, so they carry a codec's noise as real footage does.
VIDEO_CLIPS = ("photos", "chelsea", "hopper", "hubble", "head", "car", "desk", "sky", "portrait", "lab", "dusk")
#: Clips that the tables leave out unless named: made to check the defaults on content never tuned on.
HELD_OUT_CLIPS = ("chelsea", "hopper", "hubble", "plot", "sky", "portrait", "lab", "dusk")
#: Steady cameras' clips, which also run only when named.
STEADY_CLIPS = ("head", "car", "desk", "webcam")
#: The clips of the main tables when none are named.
BENCH_CLIPS = ("pan", "photos", "cartoon", "page", "screen", "screen-x10", "flat", "small")


def load_clips(work: Path, names: list[str]) -> list[Clip]:
    import gifsom

    clips = []
    if "pan" in names:
        frames = [f.pixels for f in gifsom.read_frames(FIXTURES / "pan.mp4")]
        png = work / "pan_png"
        png.mkdir()
        for i, f in enumerate(frames):
            Image.fromarray(f).save(png / f"f{i:04d}.png", compress_level=1)
        clips.append(Clip("pan (video, 640x360, 15 fps)", frames, 15.0, ["-i", str(FIXTURES / "pan.mp4")], png,
                          str(FIXTURES / "pan.mp4")))
    if "screen" in names:
        files = sorted((FIXTURES / "screen").glob("*.png"))
        frames = [np.asarray(Image.open(p).convert("RGB")) for p in files]
        clips.append(Clip("screen (flat UI, 480x320, 10 fps)", frames, 10.0,
                          ["-framerate", "10", "-i", str(FIXTURES / "screen" / "frame_%03d.png")],
                          FIXTURES / "screen", str(FIXTURES / "screen")))
    if "screen-x10" in names:
        # the screen recording played ten times over: 300 frames, to see the cost per frame
        files = sorted((FIXTURES / "screen").glob("*.png")) * 10
        png = work / "screen_x10"
        png.mkdir()
        for i, p in enumerate(files):
            (png / f"frame_{i:04d}.png").symlink_to(p)
        frames = [np.asarray(Image.open(p).convert("RGB")) for p in files]
        clips.append(Clip("screen-x10 (the screen clip played 10 times, 300 frames)", frames, 10.0,
                          ["-framerate", "10", "-i", str(png / "frame_%04d.png")], png, str(png)))
    if "small" in names:
        # a tiny video call: 60 frames of 176x144 scaled from the pan clip
        small = work / "small.mp4"
        subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(FIXTURES / "pan.mp4"), "-vf", "scale=176:144",
                        "-frames:v", "60", "-c:v", "libx264", "-crf", "18", str(small)], check=True)
        frames = [f.pixels for f in gifsom.read_frames(small)]
        png = work / "small_png"
        png.mkdir()
        for i, f in enumerate(frames):
            Image.fromarray(f).save(png / f"f{i:04d}.png", compress_level=1)
        clips.append(Clip("small (video, 176x144, 15 fps)", frames, 15.0, ["-i", str(small)], png, str(small)))
    for key, (title, make, fps) in MADE_CLIPS.items():
        if key not in names:
            continue
        frames = make()
        png = work / f"{key}_png"
        png.mkdir()
        for i, f in enumerate(frames):
            Image.fromarray(f).save(png / f"frame_{i:03d}.png", compress_level=1)
        if key in VIDEO_CLIPS:
            # as a camera file would come: H.264, so the clip has a codec's noise, as real footage does
            video = work / f"{key}.mp4"
            subprocess.run([ffmpeg(), "-v", "error", "-y", "-framerate", str(fps), "-i", str(png / "frame_%03d.png"),
                            "-c:v", "libx264", "-crf", "20", "-pix_fmt", "yuv420p", str(video)], check=True)
            frames = [f.pixels for f in gifsom.read_frames(video)]
            for i, f in enumerate(frames):
                Image.fromarray(f).save(png / f"frame_{i:03d}.png", compress_level=1)
            clips.append(Clip(title, frames, fps, ["-i", str(video)], png, str(video)))
        else:
            clips.append(Clip(title, frames, fps, ["-framerate", str(fps), "-i", str(png / "frame_%03d.png")], png,
                              str(png)))
    if "flat" in names:
        frames = flat_ui_frames()
        png = work / "flat_png"
        png.mkdir()
        for i, f in enumerate(frames):
            Image.fromarray(f).save(png / f"frame_{i:03d}.png")
        clips.append(Clip("flat (UI without anti-aliasing, 480x320, 10 fps)", frames, 10.0,
                          ["-framerate", "10", "-i", str(png / "frame_%03d.png")], png, str(png)))
    return clips


def timeline_frames(path: Path, count: int, fps: float, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """The GIF frame on screen in the middle of each source frame's interval, (i + 0.5) / fps,
    scaled (Lanczos) to ``size`` = (width, height) when the GIF is smaller than the source.

    Sampling exactly at i / fps would judge every tool by centisecond rounding:
    at 15 fps frame 1 is due at 66.7 ms but a GIF can only start it at 60 or
    70 ms, so half the tools would be measured against the previous frame.
    """
    return shown_at_ms(path, [(i + 0.5) * 1000.0 / fps for i in range(count)], size)


def shown_at_ms(path: Path, times_ms: list[float], size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """The GIF's picture on screen at each time (milliseconds from its start), decoded by Pillow, scaled
    (Lanczos) to ``size`` = (width, height) when given and the GIF's differs."""
    shown, starts = [], []
    t = 0
    with Image.open(path) as image:
        for n in range(image.n_frames):
            image.seek(n)
            picture = image.convert("RGB")
            if size is not None and picture.size != size:
                picture = picture.resize(size, Image.Resampling.LANCZOS)
            shown.append(np.asarray(picture))
            starts.append(t)
            t += image.info.get("duration", 100)
    at = np.array(starts)
    return [shown[max(0, int(np.searchsorted(at, ms, side="right")) - 1)] for ms in times_ms]


def shown_frames(path: Path, clip: Clip) -> list[np.ndarray]:
    """The GIF's picture for each of the clip's frames, at the clip's size (see :func:`timeline_frames`)."""
    height, width = clip.frames[0].shape[:2]
    return timeline_frames(path, len(clip.frames), clip.fps, (width, height))


def clip_psnr(shown: list[np.ndarray], clip: Clip) -> float:
    """PSNR of ``shown`` (from :func:`shown_frames`) against the clip's frames, over the whole clip."""
    mse = np.mean([np.mean((a.astype(np.float64) - b) ** 2) for a, b in zip(shown, clip.frames)])
    return float("inf") if mse == 0 else float(10 * np.log10(255 ** 2 / mse))


#: SSIMULACRA 2 and FLIP are taken on every this many source frames (they cost about 0.3 s a frame).
PERCEPTUAL_STEP = 10


def perceptual(shown: list[np.ndarray], clip: Clip, step: int = PERCEPTUAL_STEP) -> tuple[float | None, float | None]:
    """Mean SSIMULACRA 2 (100 identical, 90 visually lossless, 70 high, 50 medium quality) and mean
    FLIP error (0 identical; lower is better) of ``shown`` against the clip, on every
    :data:`PERCEPTUAL_STEP`-th frame; None for a metric whose package (the ``bench`` extra) is missing."""
    try:
        from ssimulacra2 import compute_ssimulacra2
    except ImportError:
        compute_ssimulacra2 = None
    try:
        import flip_evaluator
    except ImportError:
        flip_evaluator = None
    scores, errors = [], []
    with tempfile.TemporaryDirectory() as folder:
        reference, distorted = Path(folder) / "reference.png", Path(folder) / "distorted.png"
        for number in range(0, len(clip.frames), step):
            if compute_ssimulacra2 is not None:        # the package reads files
                Image.fromarray(clip.frames[number]).save(reference, compress_level=1)
                Image.fromarray(shown[number]).save(distorted, compress_level=1)
                scores.append(compute_ssimulacra2(str(reference), str(distorted)))
            if flip_evaluator is not None:
                _, error, _ = flip_evaluator.evaluate(clip.frames[number].astype(np.float32) / 255,
                                                      shown[number].astype(np.float32) / 255, "LDR",
                                                      applyMagma=False)
                errors.append(error)
    return (float(np.mean(scores)) if scores else None, float(np.mean(errors)) if errors else None)


def quality(path: Path, clip: Clip, *, perceptual_metrics: bool = True) -> Quality:
    """PSNR over the whole clip, SSIM on every 5th frame, SSIMULACRA 2 and FLIP on every 10th,
    all on the clip's timeline (see :func:`shown_frames`)."""
    shown = shown_frames(path, clip)
    value = clip_psnr(shown, clip)
    ssim = None
    try:
        from skimage.metrics import structural_similarity
    except ImportError:
        pass
    else:
        ssim = float(np.mean([structural_similarity(shown[i], clip.frames[i], channel_axis=-1)
                              for i in range(0, len(clip.frames), 5)]))
    score, error = perceptual(shown, clip) if perceptual_metrics else (None, None)
    return Quality(value, ssim, score, error)


def check_metrics() -> None:
    """Show that the metrics packages behave as published: identical images score 100 (SSIMULACRA 2)
    and 0 (FLIP), and JPEG at falling quality scores ever lower (and errs ever more)."""
    from skimage import data

    photo = data.astronaut()[::2, ::2].copy()
    clip = Clip("check", [photo], 1.0, [], Path("."), "")
    print("\n## metric check: scikit-image's astronaut (256x256) against JPEG copies of it")
    print(f"{'copy':14s} {'SSIMULACRA 2':>13s} {'FLIP':>8s} {'PSNR':>7s}")
    rows = []
    for label, jpeg_quality in (("identical", None), ("JPEG q95", 95), ("JPEG q80", 80), ("JPEG q50", 50),
                                ("JPEG q20", 20), ("JPEG q5", 5)):
        if jpeg_quality is None:
            copy = photo
        else:
            buffer = io.BytesIO()
            Image.fromarray(photo).save(buffer, "JPEG", quality=jpeg_quality)
            copy = np.asarray(Image.open(buffer).convert("RGB"))
        score, error = perceptual([copy], clip)
        psnr = clip_psnr([copy], clip)
        rows.append((score, error))
        print(f"{label:14s} {score if score is not None else float('nan'):13.2f} "
              f"{error if error is not None else float('nan'):8.4f} {psnr:7.2f}")
    scores = [row[0] for row in rows]
    errors = [row[1] for row in rows]
    ok = (scores[0] is not None and abs(scores[0] - 100) < 1e-6 and errors[0] == 0
          and all(a > b for a, b in zip(scores, scores[1:])) and all(a < b for a, b in zip(errors, errors[1:])))
    print(f"check: identical scores 100 and 0, falling JPEG quality scores lower each step: "
          f"{'met' if ok else 'NOT met'}")


#: Commands run as on a user's machine: Python caches compiled modules (some sandboxes turn that off).
USER_ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
#: The rows of gifsom's default and ffmpeg's recipe, which the wall-time target compares.
OURS, TWO_PASS = "gifsom (default)", "ffmpeg two-pass (diff, sierra2_4a)"


def timed(command: list[str]) -> tuple[float, float, float]:
    """Run ``command`` under /usr/bin/time: wall seconds, CPU seconds, peak memory in MB."""
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%e %U %S %M", *command],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=USER_ENVIRONMENT)
        wall, user, system, peak = report.read().split()[-4:]
    return float(wall), float(user) + float(system), float(peak) / 1024


def recipes(clip: Clip, out: Path, gifski: str | None,
            settings: Sequence[str] = ()) -> dict[str, list[list[str]] | None]:
    """Each tool's commands for ``clip``, by row name, writing ``out``; None where the tool is missing.
    ``settings``: more gifsom rows, each a string of ``convert`` options (``"--lossy 6"``)."""
    ff = ffmpeg()
    two_pass = ("split[a][b];[a]palettegen=stats_mode=diff[p];"
                "[b][p]paletteuse=dither=sierra2_4a:diff_mode=rectangle")
    gifsom = [sys.executable, "-m", "gifsom", "convert", clip.gifsom_input, str(out), "-q"]
    table: dict[str, list[list[str]] | None] = {
        OURS: [gifsom],
        # every dither mode at full strength, then two variants
        **{f"gifsom --dither {mode}": [[*gifsom, "--dither", mode]] for mode in DITHER_MODES if mode != "none"},
        "gifsom --dither floyd-steinberg --no-temporal": [[*gifsom, "--dither", "floyd-steinberg", "--no-temporal"]],
        "gifsom --dither adaptive --dither-strength 0.5": [[*gifsom, "--dither", "adaptive", "--dither-strength",
                                                            "0.5"]],
        **{quality_row("gifsom", q): [[*gifsom, "--quality", str(q)]] for q in QUALITY_STEPS if q != DEFAULT_QUALITY},
        **{settings_row(setting): [[*gifsom, *shlex.split(setting)]] for setting in settings},
        TWO_PASS: [[ff, "-v", "error", "-y", *clip.ffmpeg_input, "-vf", two_pass, str(out)]],
        "ffmpeg palettegen/paletteuse": [[ff, "-v", "error", "-y", *clip.ffmpeg_input, "-vf",
                                          "split[a][b];[a]palettegen[p];[b][p]paletteuse", str(out)]],
        "ffmpeg bayer_scale=3": [[ff, "-v", "error", "-y", *clip.ffmpeg_input, "-vf",
                                  "split[a][b];[a]palettegen[p];[b][p]paletteuse=dither=bayer:bayer_scale=3", str(out)]],
    }
    pngs = sorted(str(p) for p in clip.png_dir.glob("*.png"))
    if gifski:
        size = ["-W", "4000", "-H", "4000", "--fps", str(clip.fps)]
        table[quality_row("gifski", GIFSKI_DEFAULT_QUALITY)] = [[gifski, "-q", *size, "-o", str(out), *pngs]]
        for q in QUALITY_STEPS:
            if q != GIFSKI_DEFAULT_QUALITY:
                table[quality_row("gifski", q)] = [[gifski, "-q", "--quality", str(q), *size, "-o", str(out), *pngs]]
        table["gifski --fast"] = [[gifski, "-q", "--fast", *size, "-o", str(out), *pngs]]
    else:
        table["gifski"] = None
    gifsicle = shutil.which("gifsicle")
    if gifsicle:
        table["ffmpeg two-pass + gifsicle -O3"] = [
            [ff, "-v", "error", "-y", *clip.ffmpeg_input, "-vf", two_pass, str(out) + ".ff.gif"],
            [gifsicle, "-O3", str(out) + ".ff.gif", "-o", str(out)]]
    else:
        table["gifsicle"] = None
    return table


#: The quality steps compared with gifski's: gifsom's --quality and gifski's --quality at each.
QUALITY_STEPS = (50, 60, 70, 80, 90, 100)
#: gifski's quality when none is given (gifsom's is gifsom.options.DEFAULT_QUALITY).
GIFSKI_DEFAULT_QUALITY = 90


def quality_row(tool: str, quality: int) -> str:
    """The row of ``tool`` ("gifsom" or "gifski") at ``quality``: each tool's default has a row of its own."""
    if tool == "gifsom" and quality == DEFAULT_QUALITY:
        return OURS
    if tool == "gifski" and quality == GIFSKI_DEFAULT_QUALITY:
        return f"gifski (quality {quality})"
    return f"{tool} --quality {quality}"


def settings_row(setting: str) -> str:
    """The row of gifsom with ``setting``, a string of ``convert`` options (see ``--settings``)."""
    return f"gifsom {setting}"


def run_recipe(steps: list[list[str]], repeats: int) -> tuple[float, float, float, float]:
    """Cold first run, then best wall / CPU of ``repeats`` runs; peak memory over all."""
    def once():
        wall = cpu = peak = 0.0
        for step in steps:
            w, c, p = timed(step)
            wall, cpu, peak = wall + w, cpu + c, max(peak, p)
        return wall, cpu, peak
    cold, _, peak = once()
    runs = [once() for _ in range(repeats)]
    best = min(runs)
    return cold, best[0], min(r[1] for r in runs), max([peak] + [r[2] for r in runs])


def plot(results: dict[str, list[Result]], path: Path) -> None:
    """Size (KiB) against SSIMULACRA 2 (what a viewer sees; PSNR where the metric is not installed),
    one panel per clip, drawn with Pillow. Lossless results are drawn at the top."""
    from PIL import ImageDraw

    panel_w, panel_h, margin, per_row = 520, 380, 60, 4
    rows_of_panels = (len(results) + per_row - 1) // per_row
    canvas = Image.new("RGB", (panel_w * min(per_row, len(results)), panel_h * rows_of_panels), "white")
    draw = ImageDraw.Draw(canvas)
    colours = {"gifsom": (37, 99, 235), "ffmpeg": (220, 38, 38), "gifski": (16, 150, 80), "gifsicle": (150, 80, 16)}
    for p, (clip, rows) in enumerate(results.items()):
        if not rows:
            continue
        perceptual_scores = all(r.quality.ssimulacra2 is not None for r in rows)
        unit = "SSIMULACRA 2" if perceptual_scores else "dB PSNR"
        scores = [r.quality.ssimulacra2 if perceptual_scores else r.quality.psnr for r in rows]
        lossless = [not np.isfinite(r.quality.psnr) for r in rows]
        finite = [q for q, exact in zip(scores, lossless) if not exact]
        top = (max(finite) if finite else 60.0) + 3.0
        scores = [top if exact else q for q, exact in zip(scores, lossless)]
        x0, y0 = (p % per_row) * panel_w, (p // per_row) * panel_h
        sizes = [r.size / 1024 for r in rows]
        lo_s, hi_s = min(sizes) * 0.9, max(sizes) * 1.1
        lo_p, hi_p = min(scores) - 0.5, max(scores) + 0.5
        draw.rectangle([x0 + margin, y0 + 30, x0 + panel_w - 20, y0 + panel_h - margin], outline="black")
        draw.text((x0 + margin, y0 + 10), clip, fill="black")
        draw.text((x0 + margin, y0 + panel_h - 40), f"size KiB {lo_s:.0f} .. {hi_s:.0f}", fill="black")
        draw.text((x0 + 5, y0 + 30), f"{hi_p:.1f}", fill="black")
        draw.text((x0 + 5, y0 + 44), unit[:12], fill="black")
        draw.text((x0 + 5, y0 + panel_h - margin - 10), f"{lo_p:.1f}", fill="black")
        for r, size, q, exact in zip(rows, sizes, scores, lossless):
            x = x0 + margin + (size - lo_s) / (hi_s - lo_s) * (panel_w - margin - 20)
            y = y0 + panel_h - margin - (q - lo_p) / (hi_p - lo_p) * (panel_h - margin - 30)
            colour = next((c for k, c in colours.items() if r.tool.startswith(k)), (0, 0, 0))
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
            label = r.tool.replace("gifsom ", "").replace("(default)", "gifsom")[:28]
            draw.text((x + 6, y - 6), label + (" (lossless)" if exact else ""), fill=colour)
    canvas.save(path)


def perceptual_targets(rows: list[Result]) -> None:
    """Print how gifsom's default stands against gifski (quality 90) and ffmpeg's two-pass recipe on
    what people see: bytes <= gifski's, SSIMULACRA 2 >= gifski's, FLIP <= gifski's, PSNR > ffmpeg's."""
    found = {r.tool: r for r in rows}
    ours, gifski, two_pass = found.get(OURS), found.get("gifski (quality 90)"), found.get(TWO_PASS)
    if ours is None:
        return
    if gifski is not None and ours.quality.ssimulacra2 is not None and gifski.quality.ssimulacra2 is not None:
        lossless = not np.isfinite(ours.quality.psnr)
        checks = [("bytes", ours.size <= gifski.size, f"{ours.size:,} against {gifski.size:,}"),
                  ("SSIMULACRA 2", lossless or ours.quality.ssimulacra2 >= gifski.quality.ssimulacra2,
                   f"{ours.quality.ssimulacra2:.2f} against {gifski.quality.ssimulacra2:.2f}"),
                  ("FLIP", lossless or ours.quality.flip <= gifski.quality.flip,
                   f"{ours.quality.flip:.4f} against {gifski.quality.flip:.4f}")]
        for name, ok, figures in checks:
            print(f"target: {name} of the default against gifski q90: {'met' if ok else 'NOT met'} ({figures})")
    if two_pass is not None:
        ok = ours.quality.psnr > two_pass.quality.psnr
        print(f"target: PSNR above ffmpeg two-pass: {'met' if ok else 'NOT met'} "
              f"({ours.quality.psnr:.2f} against {two_pass.quality.psnr:.2f} dB)")


def quality_curve(rows: list[Result], tool: str) -> list[tuple[float, float]]:
    """(bytes, SSIMULACRA 2) of ``tool``'s quality steps, by bytes; lossless rows at 100."""
    found = {r.tool: r for r in rows}
    points = []
    for q in QUALITY_STEPS:
        row = found.get(quality_row(tool, q))
        if row is not None and row.quality.ssimulacra2 is not None:
            points.append((float(row.size), 100.0 if not np.isfinite(row.quality.psnr) else row.quality.ssimulacra2))
    return sorted(points)


def score_at(curve: list[tuple[float, float]], size: float) -> float:
    """The best score ``curve`` reaches at ``size`` bytes or fewer (its points joined by straight
    lines in log bytes, each point's score also reachable with more bytes); -inf below its smallest."""
    best = -math.inf
    for (s0, q0), (s1, q1) in zip(curve, curve[1:]):
        if s0 <= size <= s1 and s1 > s0:
            best = max(best, q0 + (q1 - q0) * (math.log(size) - math.log(s0)) / (math.log(s1) - math.log(s0)))
    for s0, q0 in curve:
        if s0 <= size:
            best = max(best, q0)
    return best


def curve_targets(rows: list[Result]) -> None:
    """Print, at each gifski quality, whether gifsom's --quality curve of bytes against SSIMULACRA 2
    lies above gifski's point: a higher score at gifski's bytes."""
    ours = quality_curve(rows, "gifsom")
    theirs = {r.tool: r for r in rows}
    if len(ours) < 2:
        return
    for q in QUALITY_STEPS:
        row = theirs.get(quality_row("gifski", q))
        if row is None or row.quality.ssimulacra2 is None:
            continue
        at = score_at(ours, row.size)
        verdict = "met" if at >= row.quality.ssimulacra2 else "NOT met"
        print(f"target: gifsom's curve above gifski --quality {q}: {verdict} (at {row.size:,} bytes gifsom reaches "
              f"{at:.2f}, gifski {row.quality.ssimulacra2:.2f})")


#: Peak-memory targets of issue #12, in MB, by clip name prefix.
MEMORY_TARGETS = {"pan": 120, "small": 100}


#: The rows' best walls within this ratio of each other (either way) are run again in turn (``--rounds``);
#: further apart, drift between the rows' runs cannot turn the verdict (on 2026-12-04 it moved the ratio by
#: a fifth).
CLOSE_RACE = 1.5


def raced_rows(rows: list[Result]) -> tuple[Result | None, Result | None]:
    """gifsom's default row and ffmpeg's recipe's, each None where it did not run."""
    found = {r.tool: r for r in rows}
    return found.get(OURS), found.get(TWO_PASS)


def close_race(rows: list[Result]) -> bool:
    """Whether gifsom's default and ffmpeg's recipe took walls close enough for the drift between their runs
    to decide the wall-time target."""
    ours, theirs = raced_rows(rows)
    return ours is not None and theirs is not None and 1 / CLOSE_RACE <= ours.wall / theirs.wall <= CLOSE_RACE


def clip_targets(clip: Clip, rows: list[Result], floor: float,
                 interleaved: tuple[int, float, float] | None = None) -> None:
    """Print how gifsom's default row stands against the wall-time and memory targets. ``interleaved``:
    rounds, and the median walls of the default row and ffmpeg's recipe run in turn that many times
    (:func:`interleaved_walls`), which the wall-time target then takes over the rows' best runs: on a machine
    whose speed drifts, runs of one tool back to back, then of the other, compare different moments (on
    2026-12-04 the default row's best of three swung from 1.20x to 1.43x ffmpeg's on one clip between two
    runs of the bench, with the same code)."""
    ours, theirs = raced_rows(rows)
    if ours is None:
        return
    if theirs is not None:
        wall, their_wall = interleaved[1:] if interleaved else (ours.wall, theirs.wall)
        how = f"medians of {interleaved[0]} rounds in turn: " if interleaved else ""
        if their_wall >= 0.3:
            verdict = "met" if wall < their_wall else "NOT met"
            print(f"target: less wall time than ffmpeg two-pass: {verdict} ({how}{wall:.2f} s against "
                  f"{their_wall:.2f} s, {wall / their_wall:.2f}x)")
        else:
            verdict = "met" if wall <= 2 * floor else "NOT met"
            print(f"target: ffmpeg takes {their_wall:.2f} s, so within 2x of the numpy+Pillow import: {verdict} "
                  f"({how}{wall:.2f} s, {wall / floor:.2f}x)")
    limit = next((mb for prefix, mb in MEMORY_TARGETS.items() if clip.name.startswith(prefix)), None)
    if limit is not None:
        print(f"target: peak memory <= {limit} MB: {'met' if ours.peak_mb <= limit else 'NOT met'} "
              f"({ours.peak_mb:.0f} MB)")


def start_up(work: Path, repeats: int) -> None:
    """Wall time of doing (almost) nothing: what each tool pays before its first frame."""
    one = work / "one.png"
    Image.new("RGB", (16, 16), (40, 90, 200)).save(one)
    rows = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python: import numpy, PIL.Image": [sys.executable, "-c", "import numpy, PIL.Image"],
        "python: import gifsom": [sys.executable, "-c", "import gifsom"],
        "gifsom --version": [sys.executable, "-m", "gifsom", "--version"],
        "gifsom convert, one 16x16 frame": [sys.executable, "-m", "gifsom", "convert", str(one),
                                            str(work / "one.gif"), "-q"],
        "ffmpeg palettegen/paletteuse, one 16x16 frame": [ffmpeg(), "-v", "error", "-y", "-i", str(one), "-vf",
                                                          "split[a][b];[a]palettegen[p];[b][p]paletteuse",
                                                          str(work / "one.gif")],
    }
    print(f"\n## start-up (best wall of {repeats})")
    best = {}
    for name, command in rows.items():
        timed(command)
        best[name] = min(timed(command)[0] for _ in range(repeats))
        print(f"{name:46s} {best[name]:7.2f}")
    floor = max(best["python: import numpy, PIL.Image"], 0.01)
    print(f"target: converting one frame <= 2.5x the numpy+Pillow import: "
          f"{best['gifsom convert, one 16x16 frame'] / floor:.2f}x")
    print(f"target: import gifsom <= 1.5x the numpy+Pillow import: {best['python: import gifsom'] / floor:.2f}x")


WRITER_SCRIPT = """
import sys, numpy as np, gifsom
frames, width, height = int(sys.argv[2]), 640, 480
rng = np.random.default_rng(1)
base = rng.integers(0, 256, (height // 8, width // 8, 3), np.uint8).repeat(8, 0).repeat(8, 1)
with gifsom.GifWriter(sys.argv[1], fps=25) as writer:
    for i in range(frames):
        frame = np.roll(base, i, axis=1)
        frame[(i * 3) % height:(i * 3) % height + 40, :, :] = (i * 7) % 256
        writer.append(frame)
"""


def library_memory(work: Path) -> None:
    """Peak memory of the library hook: 600 frames of 640x480 appended to a GifWriter."""
    print("\n## library: 600 frames of 640x480 appended to a GifWriter")
    wall, cpu, peak = timed([sys.executable, "-c", WRITER_SCRIPT, str(work / "writer.gif"), "600"])
    print(f"wall {wall:.2f} s, CPU {cpu:.2f} s, peak {peak:.0f} MB, {(work / 'writer.gif').stat().st_size:,} bytes")
    print(f"target: peak <= 150 MB: {'met' if peak <= 150 else 'NOT met'}")


def first_run(work: Path, installs: int = 3) -> None:
    """The first run after a fresh install against the second: a wheel built from this checkout,
    installed into a new virtual environment (dependencies from the running Python), ``installs``
    times over; the best first run is compared with the best second run."""
    print(f"\n## first run after a fresh install (the screen clip; best of {installs} fresh installs)")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(work / "dist")],
                   check=True)
    firsts, seconds = [], []
    for number in range(installs):
        venv = work / f"venv{number}"
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
        python = venv / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                        *map(str, (work / "dist").glob("*.whl"))], check=True)
        command = [str(python), "-m", "gifsom", "convert", str(FIXTURES / "screen"), str(work / "first.gif"), "-q"]
        firsts.append(timed(command)[0])
        seconds.append(timed(command)[0])
    ratio = min(firsts) / min(seconds)
    print(f"first runs {', '.join(f'{w:.2f}' for w in firsts)} s; second runs {', '.join(f'{w:.2f}' for w in seconds)} s")
    print(f"target: the first run <= 1.3x the second: {'met' if ratio <= 1.3 else 'NOT met'} ({ratio:.2f}x)")


def scaling(work: Path, clips: list[Clip]) -> None:
    """Wall time of gifsom's default conversion with 1, 2, 4 and every core (GIFSOM_THREADS caps the threads)."""
    from gifsom.threads import available_cores

    counts = sorted({1, 2, 4, available_cores()} & set(range(1, available_cores() + 1)))
    print(f"\n## scaling: gifsom default, wall s by thread count (this machine: {available_cores()} cores)")
    print(f"{'clip':46s} " + " ".join(f"{n:>7d}" for n in counts))
    for clip in clips:
        walls = []
        for n in counts:
            env = dict(USER_ENVIRONMENT, GIFSOM_THREADS=str(n))
            command = [sys.executable, "-m", "gifsom", "convert", clip.gifsom_input, str(work / "scaled.gif"), "-q"]
            subprocess.run(command, check=True, env=env)
            walls.append(fastest(lambda: subprocess.run(command, check=True, env=env), 2))
        print(f"{clip.name[:46]:46s} " + " ".join(f"{w:7.2f}" for w in walls))


def fastest(run: Callable[[], object], runs: int) -> float:
    """The least wall seconds ``run()`` took over ``runs`` calls."""
    best = math.inf
    for _ in range(runs):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def mapping_throughput(work: Path, repeats: int) -> None:
    """Pixels per second of each mapping mode on 1080p frames, next to ffmpeg's paletteuse; then
    ``gifsom.quantize`` on a new 1080p photo, where every colour is looked up for the first time."""
    import gifsom
    from gifsom.mapping.stage import FrameMapper, MappingOptions

    photo = np.asarray(Image.open(FIXTURES / "photo.jpg").convert("RGB"))
    frames = []
    for shift in range(4):     # four different 1080p frames tiled from the photo
        tiled = np.tile(np.roll(photo, shift * 97, axis=1), (3, 4, 1))[:1080, :1920]
        frames.append(np.ascontiguousarray(tiled))
    palette = gifsom.learn_palette(frames, 256)
    pixels = 1920 * 1080 * len(frames)
    print(f"\n## mapping 1080p frames to a 256-colour palette (best of {repeats})")
    print(f"{'mode':28s} {'Mpx/s':>8s} {'ms/frame':>9s}")
    for mode in ("none", "bayer8", "blue-noise", "floyd-steinberg", "sierra-lite", "atkinson"):
        best = float("inf")
        for _ in range(repeats + 1):
            mapper = FrameMapper(palette, MappingOptions(dither=mode, temporal=False))
            mapper.map(frames[0])           # fill the lookup tables, as a clip's first frame does
            start = time.perf_counter()
            for frame in frames:
                mapper.map(frame)
            best = min(best, time.perf_counter() - start)
        print(f"gifsom {mode:21s} {pixels / best / 1e6:8.0f} {best / len(frames) * 1000:9.1f}")
    raw = work / "frames.rgb"
    raw.write_bytes(b"".join(f.tobytes() for f in frames))
    swatch = np.zeros((16, 16, 3), np.uint8)
    swatch.reshape(-1, 3)[: len(palette)] = palette
    Image.fromarray(swatch).save(work / "palette.png")
    source = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "1920x1080", "-i", str(raw)]
    for dither in ("none", "bayer", "floyd_steinberg", "sierra2_4a"):
        timings = []
        for filtered in (False, True):
            command = [ffmpeg(), "-v", "error", "-threads", "1", *source]
            if filtered:
                command += ["-i", str(work / "palette.png"), "-lavfi", f"paletteuse=dither={dither}"]
            command += ["-f", "null", "-"]
            timings.append(min(timed(command)[0] for _ in range(repeats)))
        own = max(timings[1] - timings[0], 1e-3)
        print(f"ffmpeg paletteuse {dither:10s} {pixels / own / 1e6:8.0f} {own / len(frames) * 1000:9.1f}")
    # a photo none of whose colours the tables have seen: the first lookups dominate
    big = np.ascontiguousarray(np.asarray(Image.fromarray(photo).resize((1920, 1080), Image.BICUBIC)))
    big_palette = gifsom.learn_palette(big, 256)
    best = fastest(lambda: gifsom.quantize(big, palette=big_palette), repeats + 1)
    rate = big.shape[0] * big.shape[1] / best / 1e6
    print(f"gifsom.quantize, new 1080p photo {rate:8.0f} {best * 1000:9.1f}")
    print(f"target: quantize of a new 1080p photo >= 100 Mpx/s: {'met' if rate >= 100 else 'NOT met'} ({rate:.0f})")


def scaling_throughput(repeats: int) -> None:
    """Milliseconds a frame of gifsom's Lanczos scaling (``gifsom.sources.base.resize``) against Pillow's, on a
    1080p photo scaled as ``--width`` would and on the bench's screen recording scaled as the fit does."""
    from gifsom.sources.base import resize

    photo = np.asarray(Image.open(FIXTURES / "photo.jpg").convert("RGB").resize((1920, 1080), Image.BICUBIC))
    screen = np.asarray(Image.open(sorted((FIXTURES / "screen").glob("*.png"))[0]).convert("RGB"))
    print(f"\n## Lanczos scaling, one frame (best of {max(repeats, 5)})")
    print(f"{'from':>10s} {'to':>10s} {'gifsom ms':>10s} {'Pillow ms':>10s}")
    for pixels, scale in ((photo, 1 / 3), (photo, 2 / 3), (screen, 0.338), (screen, 0.7), (screen[:108, :162], 2.96)):
        height, width = pixels.shape[:2]
        size = (round(width * scale), round(height * scale))
        picture = Image.fromarray(np.ascontiguousarray(pixels))
        timings = [fastest(run, max(repeats, 5)) * 1000
                   for run in (lambda: resize(pixels, size), lambda: picture.resize(size, Image.Resampling.LANCZOS))]
        print(f"{width:>5d}x{height:<4d} {size[0]:>5d}x{size[1]:<4d} {timings[0]:10.2f} {timings[1]:10.2f}")


FIT_SHARES = (0.5, 0.25)
#: Interleaved runs of each fit and of the default encode whose median wall times the fit section compares.
FIT_TIMING_RUNS = 5


#: The hand-picked grid the fit is judged against: widths (shares of the clip's), colours, lossy.
GRID_WIDTHS = (1.0, 0.85, 0.7, 0.55, 0.4, 0.3)
GRID_COLOURS = (256, 128, 64, 32)
GRID_LOSSY = (0, 10, 20, 30, 40)
#: The fit section scores every this many frames with SSIMULACRA 2.
FIT_SCORE_STEP = 20


def fit_score(path: Path, clip: Clip) -> float:
    """SSIMULACRA 2 of a GIF against the clip on every :data:`FIT_SCORE_STEP`-th frame."""
    return perceptual(shown_frames(path, clip), clip, FIT_SCORE_STEP)[0]


def best_hand_picked(clip: Clip, limit: int, max_width: int | None, out: Path) -> tuple[float, int, str]:
    """The best-looking GIF under ``limit`` bytes on the grid: for each width and colour count, the
    least lossy that fits. Returns (SSIMULACRA 2, bytes, the setting)."""
    height, width = clip.frames[0].shape[:2]
    best = (-math.inf, 0, "nothing fits")
    for share in GRID_WIDTHS:
        w = max(16, round(min(width, max_width or width) * share))
        for colours in GRID_COLOURS:
            for lossy in GRID_LOSSY:
                subprocess.run([sys.executable, "-m", "gifsom", "convert", clip.gifsom_input, str(out), "-q",
                                "--width", str(w), "--colors", str(colours), "--lossy", str(lossy)], check=True)
                if out.stat().st_size <= limit:
                    best = max(best, (fit_score(out, clip), out.stat().st_size,
                                      f"{w} px, {colours} colours, lossy {lossy}"))
                    break
    return best


def fit_to_size(work: Path, clips: list[Clip], gifski: str | None, timing_runs: int = FIT_TIMING_RUNS) -> None:
    """--max-size at 50% and 25% of gifsom's default size (and --for slack-emoji on the small clip),
    judged by SSIMULACRA 2 against the best setting of a hand-picked grid that fits."""
    print("\n## fit under a size: gifsom --max-size against the best hand-picked setting (SSIMULACRA 2, every "
          f"{FIT_SCORE_STEP}th frame; wall: the median of {timing_runs} runs, each beside a default encode)")
    print(f"{'clip':12s} {'limit':>10s} {'bytes':>10s} {'SSIMU2':>7s} {'wall s':>7s} {'x default':>9s} "
          f"{'grid bytes':>10s} {'SSIMU2':>7s}  chosen / grid's best")
    for clip in clips:
        out = work / "fit.gif"
        convert = [sys.executable, "-m", "gifsom", "convert", clip.gifsom_input]
        timed([*convert, str(out), "-q"])
        default_size = out.stat().st_size
        cases = [(f"{int(share * 100)}%", ["--max-size", str(int(default_size * share))], int(default_size * share),
                  None) for share in FIT_SHARES]
        if clip.name.startswith("small"):
            cases.append(("slack-emoji", ["--for", "slack-emoji"], 128_000, 128))
        for label, flags, limit, max_width in cases:
            said = subprocess.run([*convert, str(out), *flags], capture_output=True, text=True, env=USER_ENVIRONMENT)
            if said.returncode != 0:
                print(f"{clip.name.split()[0]:12s} {label:>10s} failed: {said.stderr.strip()}")
                continue
            size = out.stat().st_size
            score = fit_score(out, clip)
            chosen = said.stdout.splitlines()[0].split(": ", 1)[-1]
            grid_score, grid_size, grid_setting = best_hand_picked(clip, limit, max_width, work / "grid.gif")
            fit_wall, default_wall = interleaved_walls([[*convert, str(work / "timed.gif"), *flags],
                                                        [*convert, str(work / "timed.gif"), "-q"]], timing_runs)
            print(f"{clip.name.split()[0]:12s} {label:>10s} {size:10,d} {score:7.2f} {fit_wall:7.2f} "
                  f"{fit_wall / default_wall:9.2f} {grid_size:10,d} {grid_score:7.2f}  {chosen} / {grid_setting}",
                  flush=True)
            print(f"target: at or under the limit: {'met' if size <= limit else 'NOT met'}; "
                  f"at least the grid's best score: {'met' if score >= grid_score else 'NOT met'}; "
                  f"within 3x one default encode: {'met' if fit_wall <= 3 * default_wall else 'NOT met'}")


def interleaved_walls(commands: list[list[str]], runs: int) -> list[float]:
    """The median wall seconds of each command over ``runs`` rounds that run each once in turn: on shared
    cores a single run of a one-second command moves by a third, and the load moves both alike."""
    walls: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, seen in zip(commands, walls):
            seen.append(timed(command)[0])
    return [statistics.median(seen) for seen in walls]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of gifsom's default and ffmpeg's recipe run in turn for the wall-time target, "
                             f"judged by their medians, where the rows' best walls are within a factor of {CLOSE_RACE} "
                             "of each other (0: always by the rows' best runs)")
    parser.add_argument("--clips", nargs="*",
                        default=list(BENCH_CLIPS),
                        help="clips for the main tables (none: only the sections asked for); the held-out clips "
                             f"({' '.join(HELD_OUT_CLIPS)}) and the steady cameras' ({' '.join(STEADY_CLIPS)}) "
                             "run only when named")
    parser.add_argument("--gifski", default=shutil.which("gifski"), help="path of the gifski binary")
    parser.add_argument("--plot", type=Path, default=None, help="write a plot of size against SSIMULACRA 2 here (PNG)")
    parser.add_argument("--check-metrics", action="store_true",
                        help="first show that SSIMULACRA 2 and FLIP behave as published (identical, falling JPEG)")
    parser.add_argument("--only", nargs="*", default=None, help="run only tools whose name starts with these")
    parser.add_argument("--settings", nargs="*", default=[], metavar="OPTIONS",
                        help="more gifsom rows, each a quoted string of convert options such as \"--lossy 6\" "
                             "(run whatever --only says)")
    parser.add_argument("--no-mapping", dest="mapping", action="store_false", help="skip the mapping throughput table")
    parser.add_argument("--no-start-up", dest="start_up", action="store_false", help="skip the start-up table")
    parser.add_argument("--no-library", dest="library", action="store_false", help="skip the GifWriter memory row")
    parser.add_argument("--install", action="store_true", help="time the first run after a fresh install")
    parser.add_argument("--fit", nargs="*", default=None,
                        help="fit these clips (default: pan screen small) under 50%% and 25%% of their default "
                             "size, against the best setting of a hand-picked grid")
    parser.add_argument("--scaling", nargs="*", default=None,
                        help="time these clips (default: pan) with 1, 2, 4 and all threads")
    parser.add_argument("--record", action="store_true",
                        help="also run scripts/bench_record.py: seconds from Ctrl+C to the GIF for a scripted Xvfb "
                             "take, live against after the take, and convert with and without --live")
    args = parser.parse_args()
    if not args.gifski:
        print("note: gifski not found (see ../shared/docs/benchmarks.md); its rows are skipped")
    all_results: dict[str, list[Result]] = {}
    # time gifsom as installed: pip writes the bytecode at install, and a checkout run with
    # PYTHONDONTWRITEBYTECODE (or read-only) would compile the modules again on every run
    compileall.compile_dir(str(ROOT / "gifsom"), quiet=1)
    if args.check_metrics:
        check_metrics()
    floor = min(timed([sys.executable, "-c", "import numpy, PIL.Image"])[0] for _ in range(5))
    print(f"python: import numpy, PIL.Image (the floor for the wall-time targets): {floor:.2f} s")
    extra = {settings_row(setting) for setting in args.settings}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for clip in load_clips(work, args.clips):
            print(f"\n## {clip.name}: {len(clip.frames)} frames")
            print(f"{'tool':46s} {'bytes':>10s} {'PSNR':>7s} {'SSIM':>6s} {'SSIMU2':>7s} {'FLIP':>7s} {'wall s':>7s} "
                  f"{'CPU s':>7s} {'cold s':>7s} {'peak MB':>8s}")
            rows = []
            ran: dict[str, list[list[str]]] = {}
            for tool, steps in recipes(clip, work / "out.gif", args.gifski, args.settings).items():
                if args.only and tool not in extra and not any(tool.startswith(o) for o in args.only):
                    continue
                if steps is None:
                    print(f"{tool:46s} skipped: not installed")
                    continue
                cold, wall, cpu, peak = run_recipe(steps, args.repeats)
                ran[tool] = steps
                out = work / "out.gif"
                measured = quality(out, clip)
                result = Result(tool, out.stat().st_size, measured, wall, cpu, cold, peak)
                rows.append(result)
                ssim_text = f"{measured.ssim:6.4f}" if measured.ssim is not None else "   n/a"
                score = f"{measured.ssimulacra2:7.2f}" if measured.ssimulacra2 is not None else "    n/a"
                error = f"{measured.flip:7.4f}" if measured.flip is not None else "    n/a"
                print(f"{tool:46s} {result.size:10d} {measured.psnr:7.2f} {ssim_text} {score} {error} {wall:7.2f} "
                      f"{cpu:7.2f} "
                      f"{cold:7.2f} {peak:8.0f}", flush=True)
            all_results[clip.name] = rows
            interleaved = None
            if args.rounds and len(ran.get(OURS, ())) == len(ran.get(TWO_PASS, ())) == 1 and close_race(rows):
                interleaved = (args.rounds, *interleaved_walls([ran[OURS][0], ran[TWO_PASS][0]], args.rounds))
            clip_targets(clip, rows, floor, interleaved)
            perceptual_targets(rows)
            curve_targets(rows)
        if args.start_up:
            start_up(work, max(args.repeats, 5))
        if args.library:
            library_memory(work)
        if args.install:
            first_run(work)
        if args.fit is not None:
            (work / "fit").mkdir()
            fit_to_size(work, load_clips(work / "fit", args.fit or ["pan", "screen", "small"]), args.gifski)
        if args.scaling is not None:
            (work / "scaling").mkdir()
            scaling(work, load_clips(work / "scaling", args.scaling or ["pan"]))
        if args.mapping:
            mapping_throughput(work, args.repeats)
            scaling_throughput(args.repeats)
    if args.record:
        print("\n## recording", flush=True)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_record.py")], check=True)
    if args.plot:
        plot(all_results, args.plot)
        print(f"\nplot: {args.plot}")


if __name__ == "__main__":
    main()
