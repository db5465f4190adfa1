"""Transparency that Pillow, ffmpeg, ImageMagick and Chromium all show as the source has it,
and colours that stay exact whenever they fit in a GIF's tables."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import gifsom

from . import decoders


def _rgba(frame: np.ndarray) -> np.ndarray:
    if frame.shape[2] == 4:
        return frame
    return np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)])


def _check_every_decoder(frames: list[np.ndarray], path, gif_decoders, delay_cs: int = 20) -> None:
    want = decoders.timeline([(_rgba(f), delay_cs) for f in frames])
    for name, decode in gif_decoders.items():
        shown = decoders.timeline(decode(path))
        assert len(shown) == len(want), f"{name}: {len(shown)} pictures, the source has {len(want)}"
        for number, ((got, _), (wanted, _)) in enumerate(zip(shown, want)):
            wrong = int((got != wanted).any(axis=2).sum())
            assert wrong == 0, f"{name} shows {wrong} pixels of picture {number} wrongly"


def _clip(kind: str) -> list[np.ndarray]:
    h = w = 40
    if kind == "first frame partly transparent":
        first = np.zeros((h, w, 4), np.uint8)
        first[10:30, 10:30] = (200, 30, 30, 255)              # a transparent border around it
        second = first.copy()
        second[15:25, 15:25] = (0, 0, 255, 255)
        return [first, second]
    if kind == "transparency that starts late":
        opaque = np.zeros((h, w, 3), np.uint8)
        opaque[:] = (90, 90, 200)
        hole = np.dstack([opaque, np.full((h, w), 255, np.uint8)])
        hole[10:30, 10:30, 3] = 0
        return [opaque, hole, opaque]
    if kind == "sticker":
        frames = []
        for step in range(5):
            frame = np.zeros((h, w, 4), np.uint8)
            frame[5 + 5 * step:15 + 5 * step, 5:15] = (250, 200, 0, 255)
            frames.append(frame)
        return frames
    if kind == "fade to nothing":
        frames = []
        for alpha in (255, 200, 140, 100, 0):
            frame = np.zeros((h, w, 4), np.uint8)
            frame[:] = (10, 120, 60, 255)
            frame[10:30, 10:30] = (250, 250, 250, alpha)
            frames.append(frame)
        return frames
    if kind == "vanishes after two opaque frames":
        # Pillow gives the whole animation an alpha channel only when the first frame names a transparent index
        first = np.zeros((5, 4, 4), np.uint8)
        first[..., 3] = 255
        second = first.copy()
        second[4, 3] = (255, 255, 255, 255)
        return [first, second, np.zeros((5, 4, 4), np.uint8)]
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["first frame partly transparent", "transparency that starts late", "sticker",
                                  "fade to nothing", "vanishes after two opaque frames"])
@pytest.mark.parametrize("palette", ["global", "frame"])
def test_every_decoder_shows_the_source_transparency(tmp_path, gif_decoders, kind, palette):
    frames = _clip(kind)
    path = tmp_path / "clip.gif"
    gifsom.encode(frames, path, fps=5, palette=palette)
    _check_every_decoder(frames, path, gif_decoders)


COLOURS = [(0, 0, 0), (255, 255, 255), (230, 30, 40), (20, 200, 60), (30, 60, 220), (250, 220, 0)]


@st.composite
def transparent_clips(draw):
    width, height = draw(st.integers(2, 12)), draw(st.integers(2, 10))
    count = draw(st.integers(1, 4))
    frames = []
    for _ in range(count):
        colour = draw(st.lists(st.integers(0, len(COLOURS) - 1), min_size=width * height, max_size=width * height))
        if draw(st.booleans()):            # any alpha, pixel by pixel
            alpha = np.array(draw(st.lists(st.sampled_from([0, 60, 127, 128, 200, 255]), min_size=width * height,
                                           max_size=width * height)), np.uint8).reshape(height, width)
        else:                              # an opaque rectangle (maybe empty) on a transparent canvas, or the reverse
            top, left = draw(st.integers(0, height)), draw(st.integers(0, width))
            bottom, right = draw(st.integers(top, height)), draw(st.integers(left, width))
            inside, outside = draw(st.sampled_from([(255, 0), (0, 255)]))
            alpha = np.full((height, width), outside, np.uint8)
            alpha[top:bottom, left:right] = inside
        rgb = np.array([COLOURS[c] for c in colour], np.uint8).reshape(height, width, 3)
        frames.append(np.dstack([rgb, alpha]))
    return frames


@settings(max_examples=40)
@given(frames=transparent_clips(), palette=st.sampled_from(["global", "frame"]))
def test_any_transparency_shows_the_same_in_every_decoder(tmp_path_factory, gif_decoders, frames, palette):
    path = tmp_path_factory.mktemp("prop") / "clip.gif"
    gifsom.encode(frames, path, fps=5, palette=palette)
    _check_every_decoder(frames, path, gif_decoders)


def _distinct_colours(count: int, seed: int, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.choice(1 << 24, count, replace=False)
    colours = np.stack([(values >> 16) & 255, (values >> 8) & 255, values & 255], axis=1).astype(np.uint8)
    order = np.concatenate([np.arange(count), rng.integers(0, count, size * size - count)])
    rng.shuffle(order)
    return colours[order].reshape(size, size, 3)


def _pillow_rgb(path) -> list[np.ndarray]:
    with Image.open(path) as image:
        frames = []
        for number in range(image.n_frames):
            image.seek(number)
            frames.append(np.asarray(image.convert("RGB")))
    return frames


@pytest.mark.parametrize("palette", ["global", "scene", "frame"])
def test_frames_of_256_colours_stay_exact_in_an_animation(tmp_path, palette):
    frames = [_distinct_colours(256, 1), _distinct_colours(256, 2)]
    path = tmp_path / "exact.gif"
    gifsom.encode(frames, path, fps=5, palette=palette)
    shown = _pillow_rgb(path)
    assert len(shown) == 2 and all(np.array_equal(a, b) for a, b in zip(shown, frames))


def test_transparent_clip_of_255_colours_stays_exact(tmp_path, gif_decoders):
    rgb = _distinct_colours(255, 3)
    first = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    second = first.copy()
    second[:8, :8, 3] = 0
    path = tmp_path / "exact.gif"
    gifsom.encode([first, second], path, fps=5)
    _check_every_decoder([first, second], path, gif_decoders)


def test_reencoding_a_gif_with_local_tables_loses_no_colour(tmp_path):
    # three frames of 200 colours each, 600 in the clip: one global palette cannot hold them
    frames = [Image.fromarray(_distinct_colours(200, seed)) for seed in (4, 5, 6)]
    source = tmp_path / "local.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=200, loop=0)
    output = tmp_path / "again.gif"
    subprocess.run(["gifsom", "convert", str(source), str(output), "-q"], check=True)
    before, after = _pillow_rgb(source), _pillow_rgb(output)
    assert len(before) == len(after) == 3
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_the_four_decoders_agree_on_the_screen_fixture(tmp_path, gif_decoders, screen_frames):
    path = tmp_path / "screen.gif"
    gifsom.encode(screen_frames[:12], path, fps=10)
    shown = {name: decoders.timeline(decode(path), delays=False) for name, decode in gif_decoders.items()}
    reference = shown.pop("pillow")
    assert len(reference) == 12
    for name, pictures in shown.items():
        assert len(pictures) == len(reference), name
        assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(pictures, reference)), name
    for (picture, _), source in zip(reference, screen_frames):
        assert np.abs(picture[:, :, :3].astype(int) - source).max() <= 24
