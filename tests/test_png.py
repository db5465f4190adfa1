"""The PNG fast path: every filter type undone as the specification says, the same pixels as Pillow, and
every file it does not handle left to Pillow with the same result as before."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import gifsom
from gifsom.errors import InputError
from gifsom.sources.images import ImageSequenceSource
from gifsom.sources.png import decode_png, png_channels, png_size


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _paeth(left: int, up: int, up_left: int) -> int:
    guess = left + up - up_left
    distances = [abs(guess - left), abs(guess - up), abs(guess - up_left)]
    return (left, up, up_left)[distances.index(min(distances))]


def _filtered_row(row: np.ndarray, above: np.ndarray, kind: int, pixel_bytes: int) -> bytes:
    """One row filtered with ``kind``, written out from the specification's definitions (section 9.2)."""
    raw = row.astype(np.int64)
    up = above.astype(np.int64)
    left = np.concatenate([np.zeros(pixel_bytes, np.int64), raw[:-pixel_bytes]])
    up_left = np.concatenate([np.zeros(pixel_bytes, np.int64), up[:-pixel_bytes]])
    if kind == 0:
        predicted = np.zeros_like(raw)
    elif kind == 1:
        predicted = left
    elif kind == 2:
        predicted = up
    elif kind == 3:
        predicted = (left + up) // 2
    else:
        predicted = np.array([_paeth(a, b, c) for a, b, c in zip(left, up, up_left)], np.int64)
    return bytes([kind]) + ((raw - predicted) % 256).astype(np.uint8).tobytes()


def _png(pixels: np.ndarray, kinds: list[int], *, extra: bytes = b"", depth: int = 8, interlace: int = 0,
         idat_parts: int = 1) -> bytes:
    """A PNG of uint8 (H, W, 3 or 4) ``pixels`` whose row y uses filter ``kinds[y % len(kinds)]``."""
    height, width, pixel_bytes = pixels.shape
    colour_type = {3: 2, 4: 6}[pixel_bytes]
    rows = pixels.reshape(height, -1)
    above = np.zeros(width * pixel_bytes, np.uint8)
    data = b""
    for y in range(height):
        data += _filtered_row(rows[y], above, kinds[y % len(kinds)], pixel_bytes)
        above = rows[y]
    packed = zlib.compress(data, 6)
    step = -(-len(packed) // idat_parts)
    idat = b"".join(_chunk(b"IDAT", packed[i:i + step]) for i in range(0, len(packed), step))
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra + idat + _chunk(b"IEND", b"")


def _pillow(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


@st.composite
def pictures(draw):
    height, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    pixel_bytes = draw(st.sampled_from([3, 4]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        pixels = rng.integers(0, 256, (height, width, pixel_bytes), dtype=np.uint8)
    else:          # smooth: small differences, where the predictors are close and ties happen
        steps = rng.integers(-3, 4, (height, width, pixel_bytes))
        pixels = (128 + np.cumsum(np.cumsum(steps, axis=0), axis=1)).clip(0, 255).astype(np.uint8)
    kinds = draw(st.lists(st.integers(0, 4), min_size=1, max_size=5))
    return pixels, kinds, draw(st.integers(1, 3))


@settings(max_examples=200, deadline=None)
@given(pictures())
def test_every_filter_type_is_undone_as_pillow_undoes_it(tmp_path_factory, case):
    pixels, kinds, parts = case
    data = _png(pixels, kinds, idat_parts=parts)
    path = tmp_path_factory.mktemp("png") / "frame.png"
    path.write_bytes(data)
    decoded = decode_png(data)
    assert decoded is not None
    np.testing.assert_array_equal(decoded, pixels)
    np.testing.assert_array_equal(decoded, _pillow(path))


def test_files_pillow_writes_decode_to_the_same_pixels(tmp_path):
    rng = np.random.default_rng(5)
    gradient = np.linspace(0, 255, 97 * 61 * 3).reshape(61, 97, 3).astype(np.uint8)
    noisy = np.clip(gradient.astype(int) + rng.integers(-6, 7, gradient.shape), 0, 255).astype(np.uint8)
    alpha = np.dstack([noisy, rng.integers(0, 256, (61, 97), dtype=np.uint8)])
    for name, pixels, options in [("gradient", gradient, {}), ("noisy", noisy, {"optimize": True}),
                                  ("alpha", alpha, {"compress_level": 1})]:
        path = tmp_path / f"{name}.png"
        Image.fromarray(pixels).save(path, **options)
        data = path.read_bytes()
        assert png_size(data[:24]) == (97, 61)
        np.testing.assert_array_equal(decode_png(data), _pillow(path))


def _palette_png(path):
    Image.fromarray(np.arange(48, dtype=np.uint8).reshape(6, 8)).convert("P").save(path)


@pytest.mark.parametrize("kind", ["palette", "grey", "16-bit", "interlaced", "colour key", "animated",
                                  "unknown critical chunk", "bad filter type", "truncated data", "not a png"])
def test_files_it_does_not_handle_are_left_to_pillow(tmp_path, kind):
    pixels = np.random.default_rng(1).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    path = tmp_path / "frame.png"
    if kind == "palette":
        _palette_png(path)
    elif kind == "grey":
        Image.fromarray(pixels[:, :, 0]).save(path)
    elif kind == "16-bit":
        Image.fromarray(pixels[:, :, 0].astype(np.uint16) * 257).save(path)
    elif kind == "not a png":
        Image.fromarray(pixels).save(tmp_path / "frame.bmp")
        path = tmp_path / "frame.bmp"
    else:
        data = _png(pixels, [0, 1, 4])
        if kind == "interlaced":
            data = data.replace(data[8:33], _chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 6, 8, 2, 0, 0, 1)))
        elif kind == "colour key":
            data = data[:33] + _chunk(b"tRNS", b"\x00\x00\x00\x00\x00\x00") + data[33:]
        elif kind == "animated":
            data = data[:33] + _chunk(b"acTL", struct.pack(">II", 1, 0)) + data[33:]
        elif kind == "unknown critical chunk":
            data = data[:33] + _chunk(b"ZZZZ", b"") + data[33:]
        elif kind == "bad filter type":
            rows = bytearray(zlib.decompress(data[41:-16]))
            rows[(8 * 3 + 1) * 2] = 7
            packed = zlib.compress(bytes(rows))
            data = data[:33] + _chunk(b"IDAT", packed) + _chunk(b"IEND", b"")
        elif kind == "truncated data":
            packed = zlib.compress(zlib.decompress(data[41:-16])[:-5])
            data = data[:33] + _chunk(b"IDAT", packed) + _chunk(b"IEND", b"")
        path.write_bytes(data)
    assert decode_png(path.read_bytes()) is None


def test_a_sequence_reads_the_same_frames_with_and_without_the_fast_path(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 256, (10, 14, 3), dtype=np.uint8) for _ in range(3)]
    Image.fromarray(frames[0]).save(tmp_path / "f1.png")
    (tmp_path / "f2.png").write_bytes(_png(frames[1], [4, 3, 2, 1, 0]))
    Image.fromarray(frames[2]).convert("P", palette=Image.ADAPTIVE).save(tmp_path / "f3.png")   # left to Pillow
    fast = [f.pixels for f in gifsom.read_frames(str(tmp_path))]
    monkeypatch.setattr("gifsom.sources.images.decode_png", lambda data: None)
    slow = [f.pixels for f in gifsom.read_frames(str(tmp_path))]
    assert len(fast) == len(slow) == 3
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fast[1], frames[1])


def test_a_corrupt_png_in_a_sequence_is_still_named(tmp_path):
    pixels = np.zeros((6, 8, 3), np.uint8)
    Image.fromarray(pixels).save(tmp_path / "f1.png")
    data = _png(pixels, [0])
    (tmp_path / "f2.png").write_bytes(data[:33] + _chunk(b"IDAT", b"\x78\x9c\x00garbage") + _chunk(b"IEND", b""))
    with pytest.raises(InputError, match="f2.png"):
        list(gifsom.read_frames(str(tmp_path)))


def _pillow_channels(path) -> int:
    with Image.open(path) as image:
        return 4 if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else 3


@pytest.mark.parametrize("kind", ["rgb", "rgba", "colour key", "grey", "grey and alpha", "palette",
                                  "palette with transparency", "big colour profile", "not a png"])
def test_a_sequence_plans_the_channels_pillow_sees(tmp_path, kind):
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    path = tmp_path / "f1.png"
    if kind == "rgb":
        Image.fromarray(rgb).save(path)
    elif kind == "rgba":
        Image.fromarray(np.dstack([rgb, rgb[:, :, 0]])).save(path)
    elif kind == "colour key":
        Image.fromarray(rgb).save(path, transparency=tuple(int(v) for v in rgb[0, 0]))
    elif kind == "grey":
        Image.fromarray(rgb[:, :, 0]).save(path)
    elif kind == "grey and alpha":
        Image.fromarray(np.dstack([rgb[:, :, 0], rgb[:, :, 1]])).convert("LA").save(path)
    elif kind.startswith("palette"):
        image = Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=8)
        image.save(path, **({"transparency": 0} if kind.endswith("transparency") else {}))
    elif kind == "big colour profile":      # the chunks before the image data run past the bytes read first
        data = _png(np.dstack([rgb, rgb[:, :, 0]]), [0])
        profile = zlib.compress(rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes(), 0)
        path.write_bytes(data[:33] + _chunk(b"iCCP", b"icc\x00\x00" + profile) + data[33:])
    else:
        path = tmp_path / "f1.bmp"
        Image.fromarray(rgb).save(path)
    plan = ImageSequenceSource(str(tmp_path)).plan()
    assert (plan.width, plan.height) == (8, 6)
    assert plan.channels == _pillow_channels(path)
    fast = png_channels(path.read_bytes())
    assert fast is None or fast == _pillow_channels(path)
    if kind in ("rgb", "rgba"):
        assert fast == {"rgb": 3, "rgba": 4}[kind]


def test_a_png_sequence_encodes_without_loading_pillow(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    for n in range(3):
        (frames / f"f{n}.png").write_bytes(_png(np.full((6, 8, 3), 40 * n, np.uint8), [0]))
    script = ("import sys\nfrom gifsom.cli import main\ntry: main('convert', sys.argv[1], sys.argv[2], '-q')\n"
              "except SystemExit as stop: assert not stop.code\n"
              "print(sorted(m for m in sys.modules if m.startswith('PIL') or m == 'numpy.ma'))")
    run = subprocess.run([sys.executable, "-c", script, str(frames), str(tmp_path / "out.gif")],
                         capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
    assert (tmp_path / "out.gif").read_bytes().startswith(b"GIF89a")


WITHOUT_ZLIB_NG = """
import sys
sys.modules["zlib_ng"] = None            # as on a platform without zlib-ng's wheels
import numpy as np
import gifsom
from gifsom import deflate
assert deflate.decompress.__module__ == "zlib"
frames = [f.pixels for f in gifsom.read_frames(sys.argv[1])]
np.save(sys.argv[2], np.stack(frames))
"""


def test_png_frames_inflate_with_zlib_ng_and_read_the_same_without_it(tmp_path):
    from zlib_ng import zlib_ng

    from gifsom import deflate

    assert deflate.decompressobj is zlib_ng.decompressobj      # the fast inflater is the one in use
    folder = tmp_path / "frames"
    folder.mkdir()
    rng = np.random.default_rng(3)
    pictures = [rng.integers(0, 256, (12, 16, 3)).astype(np.uint8) for _ in range(5)]
    for n, picture in enumerate(pictures):
        (folder / f"f{n}.png").write_bytes(_png(picture, [n]))           # each filter type
    fast = np.stack([f.pixels for f in gifsom.read_frames(folder)])
    assert np.array_equal(fast, np.stack(pictures))
    subprocess.run([sys.executable, "-c", WITHOUT_ZLIB_NG, str(folder), str(tmp_path / "plain.npy")], check=True)
    assert np.array_equal(fast, np.load(tmp_path / "plain.npy"))
