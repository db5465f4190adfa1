"""Frames that change in a rectangle: the encoder maps, and compares with the screen, only that rectangle,
and writes the same GIF as when it looks at every pixel."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gifsom
from gifsom.frames import changed_rectangle
from gifsom.mapping.stage import FrameMapper, MappingOptions
from gifsom.spool import FrameSpool
from gifsom.timeline import TimelineEdits

HEIGHT, WIDTH = 20, 28


def _frames(steps: list[tuple[str, int]], seed: int, alpha: bool) -> list[np.ndarray]:
    """A screen-like clip: a picture in a few dozen colours, changed step by step in small rectangles,
    repeated, or redrawn whole; with ``alpha``, a transparent hole that moves now and then."""
    rng = np.random.default_rng(seed)
    # colours in pairs a few levels apart, which lossy LZW may trade for each other
    pairs = rng.integers(0, 250, (20, 3))
    colours = np.concatenate([pairs, pairs + rng.integers(0, 6, (20, 3))]).astype(np.uint8)
    frame = colours[rng.integers(0, len(colours), (HEIGHT, WIDTH))]
    if alpha:
        frame = np.dstack([frame, np.full((HEIGHT, WIDTH), 255, np.uint8)])
    frames = []
    for step, salt in steps:
        frame = frame.copy()
        top, left = salt % (HEIGHT - 3), (salt // HEIGHT) % (WIDTH - 5)
        if step == "patch":
            frame[top:top + 3, left:left + 5, :3] = colours[rng.integers(0, len(colours), (3, 5))]
        elif step == "noise":          # colours no palette entry has: mapped, and dithered where asked
            frame[top:top + 3, left:left + 5, :3] = rng.integers(0, 256, (3, 5, 3), dtype=np.uint8)
        elif step == "whole":
            frame[:, :, :3] = colours[rng.integers(0, len(colours), (HEIGHT, WIDTH))]
        elif step == "hole" and alpha:
            frame[:, :, 3] = 255
            frame[top:top + 4, left:left + 4, 3] = 0
        frames.append(frame)
    return frames


@st.composite
def clips(draw):
    steps = draw(st.lists(st.tuples(st.sampled_from(["patch", "noise", "repeat", "whole", "hole"]),
                                    st.integers(0, 10_000)), min_size=2, max_size=14))
    alpha = draw(st.booleans())
    frames = _frames(steps, draw(st.integers(0, 2**32 - 1)), alpha)
    # steps of 1 to 12 centiseconds: those under 2 are merged into the frame after them
    times = np.cumsum([0] + draw(st.lists(st.integers(1, 12), min_size=len(frames) - 1,
                                          max_size=len(frames) - 1))) / 100.0
    options = {"dither": draw(st.sampled_from(["none", "bayer4", "floyd-steinberg"])),
               "lossy": draw(st.sampled_from([0, 10, 60])), "temporal": draw(st.booleans()),
               "colors": draw(st.sampled_from([16, 256])), "palette": draw(st.sampled_from(["global", "scene"]))}
    edits = draw(st.sampled_from([None, TimelineEdits(reverse=True), TimelineEdits(boomerang=True)]))
    return list(zip(frames, times)), options, edits


def _same_gif_either_way(folder, frames, options, edits=None) -> None:
    gifsom.encode(frames, folder / "known.gif", edits=edits, **options)
    original = FrameSpool.changed_box
    try:
        FrameSpool.changed_box = lambda self, number: None     # type: ignore[method-assign]
        gifsom.encode(frames, folder / "unknown.gif", edits=edits, **options)
    finally:
        FrameSpool.changed_box = original                      # type: ignore[method-assign]
    assert (folder / "known.gif").read_bytes() == (folder / "unknown.gif").read_bytes()


@settings(max_examples=40, deadline=None)
@given(clips())
def test_a_gif_is_the_same_whether_or_not_the_changed_rectangles_are_known(tmp_path_factory, clip):
    frames, options, edits = clip
    _same_gif_either_way(tmp_path_factory.mktemp("rectangles"), frames, options, edits)


@pytest.mark.parametrize("dither", ["none", "bayer4", "floyd-steinberg"])
@pytest.mark.parametrize("temporal", [True, False])
@pytest.mark.parametrize("lossy", [0, 60])
def test_every_mapping_writes_the_same_gif_with_the_rectangles(tmp_path, dither, temporal, lossy):
    """Each way of mapping on one clip of small changes, new colours among them (without temporal
    state, error diffusion carries a change's error into pixels that did not change)."""
    steps = [("patch", 37), ("noise", 911), ("noise", 2024), ("repeat", 0), ("patch", 515), ("noise", 77),
             ("hole", 300), ("noise", 4242)]
    frames = _frames(steps, 11, alpha=False)
    # the third frame comes 1 cs after the second, which is too short to show: it replaces it
    times = [0.0, 0.1, 0.11, 0.2, 0.3, 0.4, 0.5, 0.6]
    _same_gif_either_way(tmp_path, list(zip(frames, times)),
                         {"dither": dither, "temporal": temporal, "lossy": lossy, "colors": 16})


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["patch", "noise", "repeat", "whole"]), st.integers(0, 10_000)),
                min_size=2, max_size=10),
       st.integers(0, 2**32 - 1),
       st.sampled_from(["none", "bayer2", "bayer8", "blue-noise", "floyd-steinberg", "atkinson", "adaptive"]),
       st.integers(0, 8))
def test_mapping_only_the_changed_rectangle_gives_every_index(steps, seed, dither, threshold):
    frames = _frames(steps, seed, alpha=False)
    palette = np.random.default_rng(seed).integers(0, 256, (24, 3), dtype=np.uint8)
    options = MappingOptions(dither=dither, motion_threshold=threshold)
    whole, boxed = FrameMapper(palette, options), FrameMapper(palette, options)
    spool = FrameSpool(WIDTH, HEIGHT, 3)
    for number, frame in enumerate(frames):
        spool.append(frame, number)
        expected = whole.map(frame)
        np.testing.assert_array_equal(boxed.map(frame, spool.changed_box(number)), expected)


def test_the_spool_names_the_rectangle_each_frame_changes():
    rng = np.random.default_rng(4)
    first = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    second = first.copy()
    second[5:7, 9:14] = 0
    second[11, 3] = 1
    spool = FrameSpool(WIDTH, HEIGHT, 3)
    for number, frame in enumerate([first, second, second, first]):
        spool.append(frame, number)
    assert spool.changed_box(0) is None                      # nothing before it
    box = spool.changed_box(1)
    assert box is not None
    top, bottom, left, right = box
    outside = np.ones((HEIGHT, WIDTH), bool)
    outside[top:bottom, left:right] = False
    assert np.array_equal(first[outside], second[outside])
    assert (top, bottom, left, right) == (5, 12, 3, 14)     # the smallest rectangle holding both changes
    assert spool.changed_box(2) == (0, 0, 0, 0)              # a repeat
    assert spool.changed_box(3) == box


@given(st.integers(0, 2 ** 31), st.integers(1, 30), st.integers(1, 30), st.sampled_from([3, 4]),
       st.integers(0, 12), st.booleans())
def test_the_changed_rectangle_bounds_exactly_the_pixels_that_differ(seed, width, height, depth, changes, masked):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (height, width, depth), dtype=np.uint8)
    b = a.copy()
    for _ in range(changes):          # single bytes changed, in any channel
        b[rng.integers(height), rng.integers(width), rng.integers(depth)] ^= 1 + rng.integers(255)
    differ = (a != b).any(axis=2)
    mask = np.full((height, width), 7, np.uint8) if masked else None
    box = changed_rectangle(a, b, depth, mask)
    if not differ.any():
        assert box is None
    else:
        rows, columns = np.flatnonzero(differ.any(axis=1)), np.flatnonzero(differ.any(axis=0))
        assert box == (rows[0], rows[-1] + 1, columns[0], columns[-1] + 1)
    if masked:
        np.testing.assert_array_equal(mask, differ)


@given(st.integers(0, 2 ** 31),
       st.lists(st.sampled_from(["patch", "repeat", "whole", "undo"]), min_size=1, max_size=40),
       st.sampled_from([1 << 20, 3000, 0]))
def test_the_spool_reads_back_every_frame_when_the_caller_reuses_its_array(seed, steps, budget):
    rng = np.random.default_rng(seed)
    buffer = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)     # one array, changed in place
    with FrameSpool(WIDTH, HEIGHT, 3, memory_budget=budget) as spool:
        _append_and_read_back(spool, steps, buffer, rng)


@pytest.mark.parametrize("budget", [1 << 20, 0])
def test_the_spool_keeps_frames_nothing_can_change_without_a_copy(budget):
    """A decoded frame in the bytes a pipe gave cannot change: kept in memory as it is; a frame in the caller's
    array, or a read-only view of it, is copied. Read back, each is the frame appended."""
    rng = np.random.default_rng(7)
    decoded = [np.frombuffer(memoryview(rng.integers(0, 256, HEIGHT * WIDTH * 3, dtype=np.uint8).tobytes()),
                             np.uint8).reshape(HEIGHT, WIDTH, 3) for _ in range(3)]
    callers = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    frozen_view = callers[:]
    frozen_view.flags.writeable = False
    with FrameSpool(WIDTH, HEIGHT, 3, memory_budget=budget) as spool:
        for number, frame in enumerate(decoded + [frozen_view]):
            spool.append(frame, number / 10)
        kept = [spool.frame(number) for number in range(4)]
        callers[...] = 0                               # the caller fills its array again
        for number, frame in enumerate(decoded):
            np.testing.assert_array_equal(spool.frame(number), frame)
            assert np.shares_memory(kept[number], frame) == (budget > 0)     # on disk: a copy
        assert not np.shares_memory(kept[3], callers) and spool.frame(3).any()


def _append_and_read_back(spool, steps, buffer, rng):
    appended = []
    for number, step in enumerate(steps):
        if step == "patch":
            top, left = rng.integers(0, HEIGHT - 3), rng.integers(0, WIDTH - 4)
            buffer[top:top + 3, left:left + 4] = rng.integers(0, 256, (3, 4, 3))
        elif step == "whole":
            buffer[...] = rng.integers(0, 256, buffer.shape)
        elif step == "undo" and len(appended) > 1:
            buffer[...] = appended[-2]                        # back to the frame before the last
        spool.append(buffer, number / 10)
        appended.append(buffer.copy())
    for number, expected in enumerate(appended):
        np.testing.assert_array_equal(spool.frame(number), expected)
        box = spool.changed_box(number)
        if number and box is not None:
            top, bottom, left, right = box
            outside = np.ones((HEIGHT, WIDTH), bool)
            outside[top:bottom, left:right] = False
            assert np.array_equal(expected[outside], appended[number - 1][outside])
