"""GIF input: read as a browser shows it, and re-encoded to GIFs that decoders show the same way.

The conformance part runs the public GIF decoder test suite of pygif (copied into
fixtures/gif-test-suite, CC-BY-SA 4.0): each GIF the suite expects to render is
converted by gifsom, and Pillow, ffmpeg and Chromium must show the suite's frames,
delays and loop count in the result.
"""

from __future__ import annotations

import configparser
import struct

import numpy as np
import pytest
from PIL import Image

from gifsom import cli
from gifsom.gif.reader import GifReader

from . import decoders
from .conftest import FIXTURES

SUITE = FIXTURES / "gif-test-suite"
TESTS = (SUITE / "TESTS").read_text().split()


def _suite_test(name: str) -> tuple[configparser.SectionProxy, list[tuple[np.ndarray, int | None]]]:
    conf = configparser.ConfigParser(inline_comment_prefixes=("#",))
    conf.read(SUITE / f"{name}.conf")
    config = conf["config"]
    frames = []
    for section in [f.strip() for f in config.get("frames", "").split(",") if f.strip()]:
        spec = conf[section]
        if "pixels" in spec:
            pixels = np.fromfile(SUITE / spec["pixels"], np.uint8)
        else:
            pixels = np.asarray(Image.open(SUITE / spec["image"]).convert("RGBA"))
        shape = (int(config["height"]), int(config["width"]), 4)
        frames.append((pixels.reshape(shape), int(spec["delay"]) if "delay" in spec else None))
    return config, frames


RENDERED = [name for name in TESTS if _suite_test(name)[1]]


def _loop_of(config: configparser.SectionProxy) -> int:
    """The suite's loop count in gifsom's terms: 0 forever, N repeats, -1 no loop block."""
    text = config["loop-count"]
    return 0 if text == "infinite" else -1 if text == "0" else int(text)


def test_the_suite_is_all_here():
    assert len(TESTS) == 84 and len(RENDERED) == 75


@pytest.mark.parametrize("name", RENDERED)
def test_conformance_suite_reencodes_to_the_expected_frames(name, tmp_path, gif_decoders):
    config, expected = _suite_test(name)
    loop = _loop_of(config)
    if config["force-animation"] == "yes" and b"NETSCAPE2.0" not in (SUITE / config["input"]).read_bytes():
        # images with no delay and no loop block: gifsom reads them as GIF89a says, one picture
        # made of them all (browsers flash the earlier images for 10 cs each and play once)
        expected, loop = expected[-1:], -1
    original = SUITE / config["input"]
    reader = GifReader(original.read_bytes(), name)
    if (len(reader.shown_delays) > len(expected) and loop != -1) or \
            (reader.width, reader.height) != (int(config["width"]), int(config["height"])):
        # two readings where the suite differs from browsers, and gifsom reads GIFs as browsers
        # show them: an image with no delay is a 10 cs frame of its own (the suite draws it with
        # the next one), and a first image larger than the screen grows it (the suite clips it)
        expected = [(pixels, delay if delay >= 2 else 10) for pixels, delay in gif_decoders["chromium"](original)]
    output = tmp_path / "out.gif"
    assert cli.main("convert", str(original), str(output), "-q") == 0
    assert GifReader(output.read_bytes(), "out").loop == loop
    want = decoders.timeline(expected)
    lossless = name != "high-color"        # 1,024 colours in one frame: quantized, so compared by PSNR
    # Chromium's ImageDecoder refuses frames 65535 pixels long, the suite's own GIFs included
    checked = ("pillow", "ffmpeg") if name in ("max-width", "max-height") else ("pillow", "ffmpeg", "chromium")
    for decoder in checked:
        shown = decoders.timeline(gif_decoders[decoder](output))
        assert len(shown) == len(want), decoder
        for number, ((got, got_delay), (wanted, wanted_delay)) in enumerate(zip(shown, want)):
            if lossless:
                assert np.array_equal(got, wanted), f"{decoder} frame {number}"
            else:
                assert _psnr(got, wanted) > 30, f"{decoder} frame {number}"
            if wanted_delay is not None and got_delay is not None and number < len(want) - 1:
                assert got_delay == wanted_delay, f"{decoder} frame {number} delay"
    if len(want) > 1:
        assert [d for _, d in decoders.timeline(gif_decoders["pillow"](output))] == [d for _, d in want] \
            or all(d is None for _, d in want)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


# --- hand-made GIFs for each rule of reading (bytes written here, so every field is known) ---

def _gif(width: int, height: int, colours: list[tuple[int, int, int]], blocks: list[bytes],
         trailer: bool = True) -> bytes:
    bits = max(1, (len(colours) - 1).bit_length())
    table = bytes(np.array(colours + [(0, 0, 0)] * ((1 << bits) - len(colours)), np.uint8).tobytes())
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF0 | (bits - 1), 0, 0) + table
            + b"".join(blocks) + (b"\x3b" if trailer else b""))


def _control(delay: int, disposal: int = 1, transparent: int | None = None) -> bytes:
    packed = (disposal << 2) | (1 if transparent is not None else 0)
    return b"\x21\xf9\x04" + struct.pack("<BHB", packed, delay, transparent or 0) + b"\x00"


def _image(left: int, top: int, indices: np.ndarray, code_size: int = 2) -> bytes:
    """An image block whose LZW data sends a clear code before every pixel (always valid)."""
    clear, bits, stream, count = 1 << code_size, code_size + 1, 0, 0
    for value in [int(v) for v in indices.reshape(-1)] + [None]:
        for code in ((clear, value) if value is not None else (clear + 1,)):
            stream |= code << count
            count += bits
    data = stream.to_bytes((count + 7) // 8, "little")
    chunks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255))
    height, width = indices.shape
    return b"\x2c" + struct.pack("<HHHHB", left, top, width, height, 0) + bytes([code_size]) + chunks + b"\x00"


RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _frames(path) -> list[tuple[np.ndarray, int]]:
    return [(pixels.copy(), delay) for pixels, delay in GifReader(path.read_bytes(), "test").frames()]


def test_disposal_to_background_clears_to_transparent(tmp_path, gif_decoders):
    full = np.zeros((2, 2), np.uint8)
    path = tmp_path / "dispose.gif"
    path.write_bytes(_gif(2, 2, [RED, GREEN], [_control(20, disposal=2), _image(0, 0, full),
                                              _control(20), _image(1, 1, np.ones((1, 1), np.uint8))]))
    frames = _frames(path)
    assert frames[1][0][0, 0, 3] == 0 and tuple(frames[1][0][1, 1]) == (0, 255, 0, 255)
    output = tmp_path / "out.gif"
    assert cli.main("convert", str(path), str(output), "-q") == 0
    for name, decode in gif_decoders.items():
        shown = decoders.timeline(decode(output))
        assert np.array_equal(shown[-1][0], decoders.visible(frames[1][0])), name


def test_the_first_image_grows_the_screen_and_later_ones_are_clipped(tmp_path):
    """As browsers show it: the screen grows to hold the first image; later images never grow it."""
    path = tmp_path / "outside.gif"
    wide = np.array([[0, 1, 0, 1]], np.uint8)           # 4 pixels wide on a 2-pixel screen, from x = 1
    path.write_bytes(_gif(2, 1, [RED, GREEN], [_control(10), _image(1, 0, wide), _control(10), _image(3, 0, wide)]))
    (first, _), (second, _) = _frames(path)
    assert first.shape == second.shape == (1, 5, 4)
    assert first[0, 0, 3] == 0 and [tuple(p) for p in first[0, 1:]] == [RED + (255,), GREEN + (255,)] * 2
    assert [tuple(p) for p in second[0, 3:]] == [RED + (255,), GREEN + (255,)]      # cut at the screen's edge


@pytest.mark.parametrize("application", [b"NETSCAPE2.0", b"ANIMEXTS1.0"])
def test_both_loop_blocks_are_honoured(tmp_path, application):
    loop_block = b"\x21\xff\x0b" + application + b"\x03\x01" + struct.pack("<H", 3) + b"\x00"
    path = tmp_path / "loop.gif"
    one = np.zeros((1, 1), np.uint8)
    path.write_bytes(_gif(1, 1, [RED, GREEN], [loop_block, _control(10), _image(0, 0, one),
                                               _control(10), _image(0, 0, one + 1)]))
    output = tmp_path / "out.gif"
    assert cli.main("convert", str(path), str(output), "-q") == 0
    with Image.open(output) as image:
        assert image.info["loop"] == 3


def test_indices_beyond_the_table_are_transparent(tmp_path, gif_decoders):
    path = tmp_path / "beyond.gif"
    indices = np.array([[0, 3]], np.uint8)               # a 2-entry table: index 3 is outside it
    path.write_bytes(_gif(2, 1, [RED, GREEN], [_image(0, 0, indices)]))
    (pixels, _), = _frames(path)
    assert tuple(pixels[0, 0]) == (255, 0, 0, 255) and pixels[0, 1, 3] == 0
    output = tmp_path / "out.gif"
    assert cli.main("convert", str(path), str(output), "-q") == 0
    for name, decode in gif_decoders.items():
        (shown, _), = decoders.timeline(decode(output))
        assert np.array_equal(shown, decoders.visible(pixels)), name


def _three_frames() -> bytes:
    blocks = []
    for value in range(3):
        blocks += [_control(10), _image(0, 0, np.full((8, 8), value, np.uint8))]
    return _gif(8, 8, [RED, GREEN, BLUE], blocks)


def test_partial_ok_keeps_the_frames_before_the_damage(tmp_path, capsys):
    data = _three_frames()
    path = tmp_path / "cut.gif"
    path.write_bytes(data[: len(data) - 30])             # the last image is cut short
    output = tmp_path / "out.gif"
    assert cli.main("convert", str(path), str(output), "-q") == 1
    error = capsys.readouterr().err
    assert "damaged" in error and "--partial-ok" in error and "2 frames" in error
    assert not output.exists()
    assert cli.main("convert", str(path), str(output), "-q", "--partial-ok") == 0
    colours = [tuple(np.asarray(frame.convert("RGB"))[0, 0]) for frame in _pil_frames(output)]
    assert colours == [RED, GREEN]


def test_a_gif_without_trailer_is_read_whole(tmp_path):
    path = tmp_path / "no-trailer.gif"
    path.write_bytes(_three_frames()[:-1])
    assert len(_frames(path)) == 3


def _pil_frames(path):
    with Image.open(path) as image:
        for number in range(image.n_frames):
            image.seek(number)
            yield image.copy()


@pytest.mark.parametrize("content, fragment", [
    (b"", "is empty (0 bytes)"),
    (b"GIF89a" + struct.pack("<HHBBB", 0, 0, 0, 0, 0) + b"\x3b", "is a GIF with a 0x0 screen"),
    (b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0) + b"\x3b",
     "is 65535x65535, over the 89,478,485-pixel safety limit"),
])
def test_unreadable_gifs_get_messages_that_say_what_the_file_is(tmp_path, capsys, content, fragment):
    path = tmp_path / "x.gif"
    path.write_bytes(content)
    output = tmp_path / "out.gif"
    assert cli.main("convert", str(path), str(output)) == 1
    error = capsys.readouterr().err.strip()
    assert fragment in error and "\n" not in error and not output.exists()


def test_max_pixels_raises_the_safety_limit(tmp_path, capsys):
    path = tmp_path / "wide.gif"
    path.write_bytes(_gif(300, 2, [RED, GREEN], [_image(0, 0, np.ones((2, 300), np.uint8))]))
    output = tmp_path / "out.gif"
    assert cli.main("convert", str(path), str(output), "-q", "--max-pixels", "500") == 1
    assert "raise it with --max-pixels" in capsys.readouterr().err
    assert cli.main("convert", str(path), str(output), "-q", "--max-pixels", "600") == 0
    with Image.open(output) as image:
        assert image.size == (300, 2)
