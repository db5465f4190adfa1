"""The routes Python users take to a GIF, side by side in one run (issue #15).

    python scripts/bench_python.py [--frames 200] [--picture scripts/bench_python.png]

A 200-frame 800x600 matplotlib animation (a rotating 3-D surface with a colour
map and a title) is saved with matplotlib's PillowWriter, its FFMpegWriter to
.gif (imageio-ffmpeg's binary through rcParams["animation.ffmpeg_path"]), its
ImageMagickWriter (where ImageMagick is installed) and gifsom's writer; then
the same frames, rendered once, go through imageio's default GIF writer
(Pillow) and the gifsom plugin. Each writer runs in its own process, so its
wall time and peak memory (/usr/bin/time) are its own; PSNR is against the
frames matplotlib rendered, each compared with the GIF frame on screen at its
time. ``--picture`` writes one frame from PillowWriter and gifsom side by side,
zoomed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench import timed, timeline_frames  # noqa: E402

FPS = 20

ANIMATION = r'''
import sys
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import animation

def build(frames):
    fig = plt.figure(figsize=(8, 6), dpi=100)
    ax = fig.add_subplot(projection="3d")
    x, y = np.meshgrid(np.linspace(-3, 3, 40), np.linspace(-3, 3, 40))
    z = np.sin(np.hypot(x, y)) * np.exp(-0.1 * (x * x + y * y))
    ax.plot_surface(x, y, z, cmap="viridis", linewidth=0, antialiased=True)
    ax.set_zlim(-1, 1)
    title = ax.set_title("")

    def draw(i):
        ax.view_init(elev=30, azim=i * 360 / frames)
        title.set_text(f"sin(r) exp(-r^2/10), azimuth {i * 360 / frames:5.1f}")
        return ()

    return fig, animation.FuncAnimation(fig, draw, frames=frames)
'''

WRITERS = {
    "matplotlib PillowWriter": "anim.save(out, writer=animation.PillowWriter(fps={fps}))",
    "matplotlib FFMpegWriter (.gif)": ("import imageio_ffmpeg\n"
                                      "matplotlib.rcParams['animation.ffmpeg_path'] = imageio_ffmpeg.get_ffmpeg_exe()\n"
                                      "anim.save(out, writer=animation.FFMpegWriter(fps={fps}))"),
    "matplotlib ImageMagickWriter": "anim.save(out, writer=animation.ImageMagickWriter(fps={fps}))",
    "gifsom (writer='gifsom')": "import gifsom\nanim.save(out, writer='gifsom', fps={fps})",
}

IMAGEIO = {
    "imageio default GIF writer": "iio.imwrite(out, frames, duration=1000 / {fps}, loop=0)",
    "imageio plugin='gifsom'": "import gifsom\niio.imwrite(out, frames, plugin='gifsom', fps={fps})",
}


def render_reference(work: Path, frames: int) -> Path:
    """Render every frame once to a raw file (uint8 frames x 600 x 800 x 3)."""
    raw = work / "frames.raw"
    code = ANIMATION + f'''
fig, anim = build({frames})
with open({str(raw)!r}, "wb") as out:
    for i in range({frames}):
        anim._func(i)
        fig.canvas.draw()
        out.write(np.asarray(fig.canvas.buffer_rgba())[:, :, :3].tobytes())
'''
    subprocess.run([sys.executable, "-c", code], check=True)
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--picture", type=Path, default=None, help="write the zoomed comparison here (PNG)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        raw = render_reference(work, args.frames)
        reference = np.fromfile(raw, np.uint8).reshape(args.frames, 600, 800, 3)
        print(f"## {args.frames} frames of 800x600 at {FPS} fps")
        print(f"{'route':34s} {'bytes':>11s} {'PSNR':>7s} {'wall s':>7s} {'peak MB':>8s}")
        results = {}
        jobs = {name: ANIMATION + f"fig, anim = build({args.frames})\nout = sys.argv[1]\n" + step.format(fps=FPS)
                for name, step in WRITERS.items()}
        jobs.update({name: ("import sys\nimport numpy as np\nimport imageio.v3 as iio\nout = sys.argv[1]\n"
                            f"frames = np.fromfile({str(raw)!r}, np.uint8).reshape(-1, 600, 800, 3)\n"
                            + step.format(fps=FPS))
                     for name, step in IMAGEIO.items()})
        for name, code in jobs.items():
            if "ImageMagick" in name and not (shutil.which("magick") or shutil.which("convert")):
                print(f"{name:34s} skipped: ImageMagick is not installed")
                continue
            out = work / (name.split()[0] + str(len(results)) + ".gif")
            wall, _, peak = timed([sys.executable, "-c", code, str(out)])
            shown = timeline_frames(out, args.frames, FPS)
            mse = np.mean([np.mean((a.astype(np.float64) - b) ** 2) for a, b in zip(shown, reference)])
            value = float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)
            results[name] = out
            print(f"{name:34s} {out.stat().st_size:11,d} {value:7.2f} {wall:7.2f} {peak:8.0f}", flush=True)
        if args.picture:
            number = args.frames // 3
            crops = []
            for name in ("matplotlib PillowWriter", "gifsom (writer='gifsom')"):
                frame = timeline_frames(results[name], args.frames, FPS)[number]
                crops.append(Image.fromarray(frame[140:290, 300:500]).resize((600, 450), Image.NEAREST))
            crops.append(Image.fromarray(reference[number][140:290, 300:500]).resize((600, 450), Image.NEAREST))
            canvas = Image.new("RGB", (1820, 480), "white")
            from PIL import ImageDraw
            draw = ImageDraw.Draw(canvas)
            for i, (crop, label) in enumerate(zip(crops, ("PillowWriter", "gifsom", "matplotlib's frame"))):
                canvas.paste(crop, (10 + 605 * i, 25))
                draw.text((10 + 605 * i, 6), f"{label} (frame {number}, 3x zoom)", fill="black")
            canvas.save(args.picture)
            print(f"picture: {args.picture}")


if __name__ == "__main__":
    main()
