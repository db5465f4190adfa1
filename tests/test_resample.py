"""gifsom's Lanczos scaling: the compiled kernel against the filter written out in numpy, and against Pillow."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from gifsom.sources.base import resize
from gifsom.sources.resample import lanczos, taps


def _dense(in_size: int, out_size: int) -> np.ndarray:
    """The taps as a float64 (out_size, in_size) matrix."""
    starts, weights = taps(in_size, out_size)
    matrix = np.zeros((out_size, in_size))
    for row, (start, window) in enumerate(zip(starts, weights)):
        used = min(len(window), in_size - start)
        matrix[row, start:start + used] = window[:used]
    return matrix


@st.composite
def frames_and_sizes(draw):
    height, width = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    seed = draw(st.integers(0, 2**32 - 1))
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return pixels, (draw(st.integers(1, 40)), draw(st.integers(1, 40)))


@settings(max_examples=150, deadline=None)
@given(frames_and_sizes())
def test_the_kernel_applies_the_taps_along_columns_then_rows(case):
    pixels, (width, height) = case
    exact = np.einsum("xw,rwc->rxc", _dense(pixels.shape[1], width),
                      np.einsum("rh,hwc->rwc", _dense(pixels.shape[0], height), pixels.astype(np.float64)))
    expected = np.clip(np.rint(exact), 0, 255)
    got = lanczos(pixels, (width, height))
    assert got.shape == (height, width, 3)
    # float32 sums: a value within a hair of a half level may round the other way
    assert np.abs(got.astype(np.int64) - expected).max() <= 1


@pytest.mark.parametrize("in_size,out_size", [(1, 1), (7, 3), (480, 162), (320, 108), (162, 480), (5, 17), (3, 1)])
def test_each_window_lies_in_the_input_and_sums_to_one(in_size, out_size):
    starts, weights = taps(in_size, out_size)
    assert starts.shape == (out_size,) and weights.shape[0] == out_size
    assert (starts >= 0).all() and (starts < in_size).all()
    for start, window in zip(starts, weights):
        assert not window[in_size - start:].any()      # nothing past the frame's edge
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("size", [(162, 108), (240, 160), (336, 224), (479, 319), (1421, 947), (60, 200)])
def test_smooth_pictures_scale_as_pillow_scales_them(size):
    # on smooth content neither filter clips between its passes, so the two agree but for rounding
    y, x = np.mgrid[0:320, 0:480]
    pixels = np.stack([x * 255 / 479, y * 255 / 319, 127.5 + 100 * np.sin(x / 37.0) * np.cos(y / 23.0)], -1)
    pixels = np.rint(pixels).astype(np.uint8)
    ours = lanczos(pixels, size).astype(np.int64)
    pillows = np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS)).astype(np.int64)
    assert np.abs(ours - pillows).max() <= 1


@given(st.integers(0, 255), st.integers(1, 30), st.integers(1, 30))
@settings(max_examples=40, deadline=None)
def test_a_flat_frame_stays_flat(level, width, height):
    pixels = np.full((13, 17, 3), level, np.uint8)
    assert (lanczos(pixels, (width, height)) == level).all()


def test_rgba_frames_are_scaled_by_pillow_with_their_alpha():
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(pixels, "RGBA").resize((11, 7), Image.Resampling.LANCZOS))
    assert np.array_equal(resize(pixels, (11, 7)), expected)


def test_a_strided_view_scales_as_its_copy():
    rng = np.random.default_rng(9)
    frame = rng.integers(0, 256, (40, 60, 4), dtype=np.uint8)
    view = frame[::2, 5:45, :3]
    assert np.array_equal(resize(view, (13, 9)), resize(np.ascontiguousarray(view), (13, 9)))
