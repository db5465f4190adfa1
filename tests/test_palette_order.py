"""The global colour table put in the order that gives frames the shortest LZW codes, checked by decoding."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageSequence

import gifsom
from gifsom.gif import animation, blocks
from gifsom.gif._renumber_cy import INVALID, MANY, literals, renumber
from gifsom.gif._unlzw_cy import decode_window
from gifsom.gif.animation import AnimationWriter, IndexedFrame
from gifsom.gif.reader import GifReader, _sub_blocks
from gifsom.gif.lzw import lzw_encode, min_code_size
from gifsom.gif.palette_order import CODE_SIZE_AT, choose_order, drawn_indices, renumbered_frame

from . import decoders


def decoded(codes: bytes, code_size: int, height: int, width: int) -> np.ndarray:
    """The indices our own decoder reads from LZW sub-blocks."""
    blocks_read, _, cut = _sub_blocks(codes, 0)
    assert not cut
    joined = b"".join(blocks_read)
    out, drawn = np.zeros((height, width), np.uint8), np.zeros((height, width), np.uint8)
    read, _ = decode_window(np.frombuffer(joined, np.uint8), code_size, width, np.arange(height, dtype=np.int32),
                            height * width, out, drawn)
    assert read == height * width
    return out


@given(st.integers(1, 256), st.integers(1, 70), st.integers(1, 70), st.integers(0, 2 ** 31),
       st.sampled_from(["greedy", "lookahead", "lossy"]), st.booleans())
def test_renumbered_codes_show_the_renamed_indices_and_never_grow_where_the_code_size_does_not(
        colours, width, height, seed, parse, runs):
    rng = np.random.default_rng(seed)
    if runs:       # long strings and, on large frames, table resets
        values = rng.integers(0, colours, height * width // 8 + 1)
        indices = np.repeat(values, 8)[: height * width].reshape(height, width).astype(np.uint8)
    else:
        indices = rng.integers(0, colours, (height, width), dtype=np.uint8)
    code_size = min_code_size(int(indices.max()) + 1)
    palette = rng.integers(0, 256, (colours, 3), dtype=np.uint8)
    codes, shown = lzw_encode(indices, code_size, palette=palette, lossy=30 if parse == "lossy" else 0,
                              lookahead=parse == "lookahead")
    used = np.zeros(256, np.uint8)
    assert literals(np.frombuffer(codes, np.uint8), code_size, height * width, used) == 0
    assert np.array_equal(np.flatnonzero(used), np.unique(shown))            # every index drawn, no other
    rename = rng.permutation(256).astype(np.uint8)
    new_size = min_code_size(int(rename[used.astype(bool)].max()) + 1)
    renamed = renumber(np.frombuffer(codes, np.uint8), code_size, height * width, rename, new_size)
    if renamed == INVALID:
        # a larger code size starts the table higher: a stream that runs close to its last code has
        # strings the new table cannot give a code
        assert new_size > code_size
        return
    assert np.array_equal(decoded(renamed, new_size, height, width), rename[shown])
    if new_size <= code_size:
        assert len(renamed) <= len(codes)


def test_a_larger_code_size_that_leaves_strings_without_a_code_is_refused_not_written_wrong():
    """122 colours at code size 7, moved up to code size 8: the table starts 128 codes higher, so the
    strings this frame's codes take near the end of its table have no code in the new one."""
    rng = np.random.default_rng(32319)
    indices = rng.integers(0, 122, (68, 64), dtype=np.uint8)
    codes, _ = lzw_encode(indices, 7)
    rename = (np.arange(256) + 128).astype(np.uint8)
    assert renumber(np.frombuffer(codes, np.uint8), 7, indices.size, rename, 8) == INVALID
    # a small frame, whose codes stay far from the end of the table, is renumbered
    small = indices[:8]
    small_codes, _ = lzw_encode(small, 7)
    renamed = renumber(np.frombuffer(small_codes, np.uint8), 7, small.size, rename, 8)
    assert renamed != INVALID and np.array_equal(decoded(renamed, 8, 8, 64), rename[small])


def test_a_writer_keeps_the_order_where_a_frame_cannot_be_renumbered(tmp_path, monkeypatch):
    """An order that moves a busy frame's 122 colours up a code size, where its codes run close to the end of
    the table: the writer keeps the table as it was, and the GIF shows every frame."""
    rng = np.random.default_rng(32319)
    busy = rng.integers(0, 122, (100, 100), dtype=np.uint8)
    calm = np.full((100, 100), 200, np.uint8)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    moved = (np.arange(256) + 128).astype(np.uint8)            # 0..127 -> 128..255, 128..255 -> 0..127
    chunk = blocks.graphic_control(10, 1, None) + blocks.image(busy, 0, 0, 7)[0]
    drawn = drawn_indices(chunk, 256)
    assert drawn is not None and renumbered_frame(chunk, drawn, moved) is None
    monkeypatch.setattr(animation, "choose_order", lambda frames, table_size: moved)
    out = io.BytesIO()
    writer = AnimationWriter(out, 100, 100, global_palette=palette)
    writer.add(IndexedFrame(busy, palette, 0))
    writer.add(IndexedFrame(calm, palette, 10))
    writer.close(20)
    with Image.open(io.BytesIO(out.getvalue())) as image:
        shown = [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]
    assert len(shown) == 2
    assert np.array_equal(shown[0], palette[busy]) and np.array_equal(shown[1], palette[calm])


def test_codes_that_are_not_a_whole_image_are_refused():
    indices = np.arange(64, dtype=np.uint8).reshape(8, 8) % 7
    codes, _ = lzw_encode(indices, 3)
    used = np.zeros(256, np.uint8)
    assert literals(np.frombuffer(codes[:3] + b"\x00", np.uint8), 3, 64, used) == INVALID    # cut short
    assert literals(np.frombuffer(codes, np.uint8), 3, 65, used) == INVALID          # a pixel missing
    undefined = bytes([2, 0xFF, 0xFF, 0])                 # a string code before any string
    assert literals(np.frombuffer(undefined, np.uint8), 3, 64, used) == INVALID
    assert renumber(np.frombuffer(undefined, np.uint8), 3, 64, np.arange(256, dtype=np.uint8), 3) == INVALID
    descriptor = b"\x2c" + bytes(4) + (8).to_bytes(2, "little") * 2 + b"\x00"
    assert drawn_indices(blocks.graphic_control(10, 1, None) + descriptor + b"\x03" + undefined, 8) is None


def test_a_frame_drawing_more_than_half_the_table_is_read_only_until_it_has():
    indices = np.repeat(np.arange(256, dtype=np.uint8), 40).reshape(160, 64)
    codes, _ = lzw_encode(indices, 8)
    used = np.zeros(256, np.uint8)
    assert literals(np.frombuffer(codes, np.uint8), 8, 160 * 64, used, 128) == MANY and used.sum() == 129
    chunk = blocks.graphic_control(10, 1, None) + blocks.image(indices, 0, 0, 8)[0]
    drawn = drawn_indices(chunk, 256)
    assert drawn is not None and drawn.many
    order = np.roll(np.arange(256), 5).astype(np.uint8)
    renamed = renumbered_frame(chunk, drawn, order)
    assert renamed is not None and renamed[CODE_SIZE_AT] == 8
    assert np.array_equal(decoded(renamed[CODE_SIZE_AT + 1:], 8, 160, 64), order[indices])


def screen_like(rng: np.random.Generator, colours: int, count: int, size: int, sequential: bool) -> list[IndexedFrame]:
    """A first frame in every colour, then small rectangles redrawn in a few colours each (a cursor, typed
    text), or, ``sequential``, whole frames of one colour each in the palette's order."""
    frames = [IndexedFrame(rng.integers(0, colours, (size, size), dtype=np.uint8), np.zeros((0, 3)), 0)]
    current = frames[0].indices.copy()
    for number in range(1, count):
        if sequential:
            current = np.full((size, size), number % colours, np.uint8)
        else:
            current = current.copy()
            top, left = rng.integers(0, size - 4, 2)
            few = rng.choice(colours, min(colours, int(rng.integers(1, 6))), replace=False)
            current[top:top + 4, left:left + 4] = rng.choice(few, (4, 4))
        frames.append(IndexedFrame(current, np.zeros((0, 3)), number * 10))
    return frames


def written(frames: list[IndexedFrame], palette: np.ndarray, size: int, *, reorder: bool,
            up_to: int | None = None) -> bytes:
    out = io.BytesIO()
    writer = AnimationWriter(out, size, size, global_palette=palette, reorder=reorder, reorder_up_to=up_to)
    for frame in frames:
        writer.add(IndexedFrame(frame.indices, palette, frame.start_cs))
    writer.close(len(frames) * 10)
    assert writer.bytes_written == sum(writer.frame_sizes)
    return out.getvalue()


def pillow_frames(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as image:
        return [np.asarray(frame.convert("RGBA")).copy() for frame in ImageSequence.Iterator(image)]


@settings(max_examples=40)
@given(st.integers(2, 256), st.integers(2, 12), st.integers(8, 40), st.integers(0, 2 ** 31), st.booleans())
def test_reordering_never_makes_a_gif_larger_and_shows_the_same(colours, count, size, seed, sequential):
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (colours, 3), dtype=np.uint8)
    frames = screen_like(rng, colours, count, size, sequential)
    kept, reordered = written(frames, palette, size, reorder=False), written(frames, palette, size, reorder=True)
    assert len(reordered) <= len(kept)
    ours, theirs = pillow_frames(reordered), pillow_frames(kept)
    assert len(ours) == len(theirs) and all(np.array_equal(a, b) for a, b in zip(ours, theirs))


def test_frames_that_draw_few_colours_get_short_codes():
    """29 small redraws in up to 5 colours each (up to 145 colours in all) over a first frame in all 256:
    the redraws' colours come first, so that their codes mostly start 3 or 4 bits shorter."""
    rng = np.random.default_rng(3)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    frames = screen_like(rng, 256, 30, 64, sequential=False)
    images = GifReader(written(frames, palette, 64, reorder=True), "reordered")._images
    before = GifReader(written(frames, palette, 64, reorder=False), "kept")._images
    assert np.mean([image.code_size for image in before[1:]]) > 7.5          # random places in the table
    assert images[0].code_size == 8 and max(image.code_size for image in images[1:]) <= 7
    assert np.mean([image.code_size for image in images[1:]]) < 5


def test_a_gif_over_the_size_to_reorder_keeps_its_order():
    """The live encoder reorders only GIFs it can rename within its time at Stop (``reorder_up_to``)."""
    rng = np.random.default_rng(5)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    frames = screen_like(rng, 256, 12, 48, sequential=False)
    kept, reordered = written(frames, palette, 48, reorder=False), written(frames, palette, 48, reorder=True)
    assert len(reordered) < len(kept)
    assert written(frames, palette, 48, reorder=True, up_to=len(kept) // 2) == kept
    assert written(frames, palette, 48, reorder=True, up_to=len(kept)) == reordered


def test_the_order_is_a_permutation_with_the_fewest_colours_first():
    drawn = [drawn_indices(blocks.graphic_control(10, 1, None) + blocks.image(indices, 0, 0, 8)[0], 256)
             for indices in (np.full((4, 4), 200, np.uint8), np.array([[7, 9], [9, 250]], np.uint8))]
    order = choose_order([d for d in drawn if d is not None], 256)
    assert order is not None and sorted(order.tolist()) == list(range(256))
    assert order[200] == 0 and sorted(order[[7, 9, 250]].tolist()) == [1, 2, 3]


def test_the_screen_recording_shrinks_and_every_decoder_shows_the_same(tmp_path, screen_frames, gif_decoders,
                                                                       monkeypatch):
    frames = screen_frames[:12]
    reordered = gifsom.encode(frames, tmp_path / "reordered.gif", fps=10)
    monkeypatch.setattr(animation, "choose_order", lambda drawn, size: None)
    kept = gifsom.encode(frames, tmp_path / "kept.gif", fps=10)
    assert reordered.bytes < kept.bytes
    for name, decode in gif_decoders.items():
        ours, theirs = decoders.timeline(decode(reordered.path)), decoders.timeline(decode(kept.path))
        assert len(ours) == len(theirs), name
        assert all(np.array_equal(a, b) and d == e for (a, d), (b, e) in zip(ours, theirs)), name
