"""Make tests/crafted/: small inputs that once came out wrong, or took far more than they should.

    python scripts/make_crafted.py            # writes tests/crafted/ (about 200 KB)

Each file is a case from real life or an attack, kept small:

- phone.mp4: a video with 90-degree rotation metadata (as phones record upright video);
- anamorphic.mp4: 176x144 stored with a 2:1 sample aspect ratio (shown 352x144);
- audio.m4a: a file with sound and no picture;
- animated.webp, animated.png: three-frame animations with their own delays (WebP and APNG);
- bomb-one.gif: a 1x1 screen holding one interlaced 65535x65535 image (a browser would grow the
  screen to 16 GiB of pixels);
- bomb-many.gif: a 1x1 screen, a 1x1 image, then 200 interlaced 65535x65535 images;
- amplify.gif: 120 one-pixel frames on a 600x600 screen (173 MB of raw canvases from 2 KB);
- cut-short.gif: a three-frame GIF missing only its last two bytes;
- zero-delay-first.gif: a first image with no delay, then two with delays;
- negative-width.y4m, zero-rate.y4m: y4m headers that cannot describe a picture;
- deep.y4m: 10-bit 4:2:0 y4m (C420p10), two frames of a ramp.

The GIFs are written byte by byte here, so every field is known; the videos are
made by the ffmpeg that imageio-ffmpeg ships.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CRAFTED = ROOT / "tests" / "crafted"


def ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def screen(width: int, height: int, colours: list[tuple[int, int, int]]) -> bytes:
    """GIF89a header, logical screen and a global table of ``colours`` (padded to a power of two)."""
    bits = max(1, (len(colours) - 1).bit_length())
    table = np.array(colours + [(0, 0, 0)] * ((1 << bits) - len(colours)), np.uint8).tobytes()
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF0 | (bits - 1), 0, 0) + table


def loop_block() -> bytes:
    return b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"


def control(delay_cs: int, disposal: int = 1, transparent: int | None = None) -> bytes:
    packed = (disposal << 2) | (transparent is not None)
    return b"\x21\xf9\x04" + struct.pack("<BHB", packed, delay_cs, transparent or 0) + b"\x00"


def descriptor(left: int, top: int, width: int, height: int, *, interlaced: bool = False) -> bytes:
    return b"\x2c" + struct.pack("<HHHHB", left, top, width, height, 0x40 if interlaced else 0)


def lzw_image(indices: list[int], code_size: int = 2) -> bytes:
    """LZW data that sends a clear code before every pixel (always valid, never compact), in sub-blocks."""
    clear, bits = 1 << code_size, code_size + 1
    stream, count = 0, 0
    for value in indices:
        for code in (clear, value):
            stream |= code << count
            count += bits
    stream |= (clear + 1) << count
    count += bits
    data = stream.to_bytes((count + 7) // 8, "little")
    blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255))
    return bytes([code_size]) + blocks + b"\x00"


def bomb(images: int, *, first_fits: bool) -> bytes:
    """A 1x1 screen and ``images`` interlaced 65535x65535 images of one pixel's data each; with
    ``first_fits``, after a first image of 1x1 (browsers grow the screen to hold the first image,
    and clip the later ones to it)."""
    huge = control(10) + descriptor(0, 0, 65535, 65535, interlaced=True) + lzw_image([1])
    first = control(10) + descriptor(0, 0, 1, 1) + lzw_image([0]) if first_fits else b""
    return screen(1, 1, [(0, 0, 0), (255, 0, 0)]) + loop_block() + first + huge * images + b"\x3b"


def amplify(frames: int, side: int) -> bytes:
    """``frames`` one-pixel images, each at a new place, on a ``side`` x ``side`` screen."""
    body = []
    for number in range(frames):
        x, y = (number * 37) % side, (number * 91) % side
        body.append(control(4) + descriptor(x, y, 1, 1) + lzw_image([1 + number % 2]))
    return screen(side, side, [(0, 0, 0), (255, 0, 0), (0, 0, 255)]) + loop_block() + b"".join(body) + b"\x3b"


def three_frames(first_delay_cs: int) -> bytes:
    """A 4x2 GIF whose three images each fill the screen with one colour."""
    body = b"".join(control(delay) + descriptor(0, 0, 4, 2) + lzw_image([index] * 8)
                    for delay, index in ((first_delay_cs, 1), (20, 2), (30, 3)))
    return screen(4, 2, [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)]) + loop_block() + body + b"\x3b"


def animation_frames() -> list[Image.Image]:
    """Three 32x24 frames: red, green, blue, each with a white square that moves."""
    frames = []
    for number, colour in enumerate(((220, 30, 30), (30, 200, 30), (30, 30, 220))):
        pixels = np.zeros((24, 32, 3), np.uint8)
        pixels[:] = colour
        pixels[4:12, 4 + 8 * number:12 + 8 * number] = 255
        frames.append(Image.fromarray(pixels))
    return frames


def y4m(header: bytes, frames: list[bytes]) -> bytes:
    return b"YUV4MPEG2 " + header + b"\n" + b"".join(b"FRAME\n" + frame for frame in frames)


def deep_y4m() -> bytes:
    """Two 16x8 frames of 10-bit 4:2:0: a luma ramp 64..940 and neutral chroma (512)."""
    width, height = 16, 8
    luma = np.linspace(64, 940, width).round().astype("<u2")[None, :].repeat(height, axis=0)
    chroma = np.full((height // 2, width // 2), 512, "<u2")
    frame = luma.tobytes() + chroma.tobytes() + chroma.tobytes()
    return y4m(b"W16 H8 F10:1 Ip A1:1 C420p10", [frame, frame])


def main() -> None:
    CRAFTED.mkdir(parents=True, exist_ok=True)
    source = CRAFTED / "source.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1", "-pix_fmt", "yuv420p",
           "-c:v", "libx264", "-crf", "30", str(source))
    ffmpeg("-display_rotation", "-90", "-i", str(source), "-c", "copy", str(CRAFTED / "phone.mp4"))
    source.unlink()
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=176x144:rate=10:duration=1", "-vf", "setsar=2/1",
           "-pix_fmt", "yuv420p", "-c:v", "libx264", "-crf", "30", str(CRAFTED / "anamorphic.mp4"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", str(CRAFTED / "audio.m4a"))
    first, *rest = animation_frames()
    for name in ("animated.webp", "animated.png"):
        first.save(CRAFTED / name, save_all=True, append_images=rest, duration=[100, 200, 300], loop=0,
                   **({"lossless": True} if name.endswith(".webp") else {}))
    (CRAFTED / "bomb-one.gif").write_bytes(bomb(1, first_fits=False))
    (CRAFTED / "bomb-many.gif").write_bytes(bomb(200, first_fits=True))
    (CRAFTED / "amplify.gif").write_bytes(amplify(120, 600))
    (CRAFTED / "cut-short.gif").write_bytes(three_frames(10)[:-2])
    (CRAFTED / "zero-delay-first.gif").write_bytes(three_frames(0))
    (CRAFTED / "negative-width.y4m").write_bytes(y4m(b"W-16 H8 F10:1 C420jpeg", [bytes(192)]))
    (CRAFTED / "zero-rate.y4m").write_bytes(y4m(b"W16 H8 F0:1 C420jpeg", [bytes(192)]))
    (CRAFTED / "deep.y4m").write_bytes(deep_y4m())
    for path in sorted(CRAFTED.iterdir()):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
