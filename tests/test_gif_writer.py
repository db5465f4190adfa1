"""The GIF writer: LZW, frame optimisation, timing and output safety, checked by decoding."""

from __future__ import annotations

import io
import itertools
import struct
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import gifsom
from gifsom.colours.packed import pack_colours
from gifsom.errors import GifsomError, InputError
from gifsom.gif import blocks, lzw
from gifsom.gif.animation import AnimationWriter, IndexedFrame
from gifsom.gif.reader import _sub_blocks
from gifsom.gif.plan_encoding import WAYS, WayHistory, candidates, continue_runs, encode_plan, fill_hidden, hide
from gifsom.gif.screen_model import FramePlan
from gifsom.gif.blocks import table_bits
from gifsom.gif.timing import start_cs

from .conftest import FIXTURES, decode_gif, decode_gif_rgba, decode_with_ffmpeg, psnr
from .test_palette_order import decoded


def write_indexed(frames: list[IndexedFrame], width: int, height: int, end_cs: int, palette=None) -> bytes:
    out = io.BytesIO()
    writer = AnimationWriter(out, width, height, global_palette=palette, loop=0)
    for frame in frames:
        writer.add(frame)
    writer.close(end_cs)
    return out.getvalue()


@given(st.integers(1, 256), st.integers(1, 60), st.integers(1, 60), st.integers(0, 2 ** 31), st.booleans())
def test_lzw_round_trip_any_palette_and_size(colours, width, height, seed, runs):
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (colours, 3), dtype=np.uint8)
    if runs:   # long runs exercise long dictionary strings and table resets
        indices = np.repeat(rng.integers(0, colours, (height * width + 15) // 16), 16)[: height * width]
        indices = indices.reshape(height, width).astype(np.uint8)
    else:
        indices = rng.integers(0, colours, (height, width), dtype=np.uint8)
    data = write_indexed([IndexedFrame(indices, palette, 0)], width, height, 10, palette)
    with Image.open(io.BytesIO(data)) as image:
        decoded = np.asarray(image.convert("RGB"))
    assert np.array_equal(decoded, palette[indices])


def test_lzw_handles_table_resets_on_a_large_noisy_frame():
    rng = np.random.default_rng(1)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    indices = rng.integers(0, 256, (300, 400), dtype=np.uint8)
    data = write_indexed([IndexedFrame(indices, palette, 0)], 400, 300, 10, palette)
    with Image.open(io.BytesIO(data)) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), palette[indices])


@pytest.mark.parametrize("lookahead", [False, True])
def test_threads_that_encode_in_turn_share_one_string_table_and_each_finds_it_clear(monkeypatch, lookahead):
    """The writer's LZW threads take exact frames one at a time: one table serves them all, made once, and
    each encode leaves it clear for the next (each image decodes in Pillow to its pixels), zeroed as it came."""
    made = _counted_string_tables(monkeypatch, keep=2)
    rng = np.random.default_rng(5)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    images = [rng.integers(0, 256, (120, 90), dtype=np.uint8), rng.integers(0, 8, (64, 64), dtype=np.uint8)] * 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        written = [pool.submit(single_image_gif, image, palette, lookahead).result() for image in images]
    assert len(made) == 1
    for image, data in zip(images, written):
        with Image.open(io.BytesIO(data)) as decoded_image:
            assert np.array_equal(np.asarray(decoded_image.convert("RGB")), palette[image])
    with lzw._string_table() as table:
        assert not table.any()


def test_a_lossy_frame_s_parts_encoded_at_once_keep_their_tables_for_the_next_frames(monkeypatch):
    """A lossy frame's parts run on the writer's pool, one a core, and on the thread that hands them out: that
    many string tables are in use at once, and all of them are kept (zeroed again), so later frames make none. Each
    part holds its table until every part that can run at once has taken one (a barrier), as on a busy clip;
    the frames still decode to what the encoder says a decoder shows."""
    from gifsom.threads import available_cores

    made = _counted_string_tables(monkeypatch, keep=lzw._STRING_TABLES.keep)
    workers = available_cores()
    parts = lzw.MOST_PARTS
    at_once = min(parts, workers + 1)
    together = threading.Barrier(at_once, timeout=30)
    real_parse = lzw.encode_longest

    def held(*args):
        # the part's table is taken: the first parts of a frame wait until as many as can run hold one
        if next(arrived) < at_once:
            together.wait()
        return real_parse(*args)

    monkeypatch.setattr(lzw, "encode_longest", held)
    rng = np.random.default_rng(8)
    palette = rng.integers(0, 256, (64, 3), dtype=np.uint8)
    bits = table_bits(len(palette))
    height, width = 60, parts * lzw.PART_PIXELS // 60
    frames = 4
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gifsom-lzw") as pool:
        for _ in range(frames):
            arrived = itertools.count()     # the frame's parts so far, for held()
            indices = rng.integers(0, len(palette), (height, width), dtype=np.uint8)
            source = np.clip(palette[indices].astype(int) + rng.integers(-3, 4, (height, width, 3)), 0, 255)
            data, shown = blocks.image(indices, 0, 0, bits, palette=palette, lossy=8, source=source.astype(np.uint8),
                                       pool=pool)
            with Image.open(io.BytesIO(blocks.header(width, height, palette, bits) + data + blocks.TRAILER)) as image:
                assert np.array_equal(np.asarray(image.convert("RGB")), palette[shown])
    assert len(lzw.part_bounds(height * width)) - 1 == parts
    assert made == [4096 * 256] * at_once
    assert not any(table.any() for table in lzw._STRING_TABLES._free)


def _counted_string_tables(monkeypatch, keep: int) -> list[int]:
    """Give the LZW a fresh pool of string tables that keeps ``keep`` of them; the list returned grows by each
    table's length as one is made from then on."""
    from gifsom import pages

    made: list[int] = []
    real = pages.small_pages_zeroed

    def counted(count, dtype=np.uint16):
        made.append(count)
        return real(count, dtype)

    monkeypatch.setattr(pages, "small_pages_zeroed", counted)
    monkeypatch.setattr(lzw, "_STRING_TABLES", pages.ScratchPool(4096 * 256, np.int16, keep=keep))
    return made


def single_image_gif(indices: np.ndarray, palette: np.ndarray, lookahead: bool) -> bytes:
    """A one-image GIF written with the chosen LZW parse (no frame optimiser in between)."""
    bits = table_bits(len(palette))
    height, width = indices.shape
    data, _ = blocks.image(indices, 0, 0, bits, lookahead=lookahead)
    return blocks.header(width, height, palette, bits) + data + blocks.TRAILER


@given(st.integers(2, 256), st.integers(1, 80), st.integers(1, 80), st.integers(0, 2 ** 31), st.integers(1, 24))
def test_lookahead_parse_decodes_exactly(colours, width, height, seed, run):
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (colours, 3), dtype=np.uint8)
    # runs of random length repeat strings, where the parse has real choices to make
    values = rng.integers(0, colours, (height * width) // run + 1)
    indices = np.repeat(values, rng.integers(1, run + 1, len(values)))[: height * width]
    indices = np.resize(indices, height * width).reshape(height, width).astype(np.uint8)
    with Image.open(io.BytesIO(single_image_gif(indices, palette, lookahead=True))) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), palette[indices])


def test_lookahead_parse_with_table_resets_decodes_in_pillow_and_ffmpeg(tmp_path):
    rng = np.random.default_rng(7)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    # noise (table resets every few thousand codes) interleaved with repeated rows (long matches)
    indices = rng.integers(0, 256, (240, 320), dtype=np.uint8)
    indices[::3] = indices[1]
    path = tmp_path / "lookahead.gif"
    path.write_bytes(single_image_gif(indices, palette, lookahead=True))
    with Image.open(path) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), palette[indices])
    assert np.array_equal(decode_with_ffmpeg(path, 320, 240)[0], palette[indices])


sequences = st.tuples(st.integers(1, 300), st.integers(1, 200), st.integers(1, 6), st.integers(2, 256),
                      st.integers(0, 2 ** 31))


@given(sequences)
def test_random_frame_sequences_round_trip_exactly(params):
    width, height, count, colours, seed = params
    rng = np.random.default_rng(seed)
    palette = np.unique(rng.integers(0, 256, (colours, 3), dtype=np.uint8), axis=0)
    frames = [palette[rng.integers(0, len(palette), (height, width))]]
    for _ in range(count - 1):
        frame = frames[-1].copy()
        kind = rng.integers(0, 3)
        if kind == 1:        # a partial change
            y0, x0 = rng.integers(0, height), rng.integers(0, width)
            y1, x1 = rng.integers(y0, height) + 1, rng.integers(x0, width) + 1
            frame[y0:y1, x0:x1] = palette[rng.integers(0, len(palette), (y1 - y0, x1 - x0))]
        elif kind == 2:      # a whole new picture
            frame = palette[rng.integers(0, len(palette), (height, width))]
        frames.append(frame)  # kind 0 repeats the frame
    out = io.BytesIO()
    writer = AnimationWriter(out, width, height, global_palette=palette, loop=0)
    from gifsom.mapping.stage import FrameMapper

    mapper = FrameMapper(palette)
    for number, frame in enumerate(frames):
        writer.add(IndexedFrame(mapper.map(frame), palette, number * 10))
    writer.close(len(frames) * 10)
    decoded, durations = decode_gif(io.BytesIO(out.getvalue()))
    # merged repeats: expand decoded frames back onto the 10 cs timeline
    timeline = [f for f, d in zip(decoded, durations) for _ in range(d // 100)]
    assert len(timeline) == len(frames)
    for shown, source in zip(timeline, frames):
        assert np.array_equal(shown, source)


@given(st.integers(0, 2 ** 31), st.sampled_from(["few colours", "noise"]), st.sampled_from([3, 4]), st.booleans(),
       st.booleans())
def test_a_caller_that_fills_one_array_for_every_frame_gets_the_gif_of_copies(seed, kind, channels, cut, live):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(4, 40)), int(rng.integers(4, 40)), channels)
    levels = (4, 60) if kind == "few colours" else (256, 1)
    frames = [rng.integers(0, levels[0], shape).astype(np.uint8) * np.uint8(levels[1])]
    for number in range(1, 6):
        frame = frames[-1].copy()
        if cut and number == 3:      # another picture: a new scene
            frame = 255 - frame
        box = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        frame[:box[0], :box[1]] = rng.integers(0, levels[0], (box[0], box[1], channels)) * levels[1]
        if channels == 4:
            frame[:, :, 3] = np.where(frame[:, :, 3] >= 128, 255, 0)
        frames.append(frame)
    buffer = np.empty_like(frames[0])

    def filled():
        for frame in frames:
            buffer[...] = frame
            yield buffer

    with tempfile.TemporaryDirectory() as folder:
        copies, reused = Path(folder, "copies.gif"), Path(folder, "reused.gif")
        gifsom.encode([frame.copy() for frame in frames], copies, fps=5, live=live)
        gifsom.encode(filled(), reused, fps=5, live=live)
        assert reused.read_bytes() == copies.read_bytes()


def test_timing_carries_rounding_error():
    def delays(fps: int) -> list[int]:
        starts = [start_cs(i / fps) for i in range(fps + 1)]
        return [b - a for a, b in zip(starts, starts[1:])]
    assert delays(10) == [10] * 10
    assert delays(15)[:3] == [7, 7, 6] and sum(delays(15)) == 100
    assert start_cs(0.0) == 0


def test_fifteen_fps_clip_lasts_exactly(tmp_path, screen_frames):
    path = tmp_path / "t.gif"
    frames = [np.full((8, 8, 3), i * 8, np.uint8) for i in range(30)]
    gifsom.encode(frames, path, fps=15)
    _, durations = decode_gif(path)
    assert len(durations) == 30 and sum(durations) == 2000
    assert set(durations) == {60, 70}


def test_ten_fps_gives_ten_cs_delays(tmp_path):
    path = tmp_path / "t.gif"
    frames = [np.full((8, 8, 3), i * 20, np.uint8) for i in range(10)]
    gifsom.encode(frames, path, fps=10)
    _, durations = decode_gif(path)
    assert durations == [100] * 10


def test_identical_frames_are_merged_and_durations_added(tmp_path):
    path = tmp_path / "t.gif"
    a = np.zeros((16, 16, 3), np.uint8)
    b = np.full((16, 16, 3), 255, np.uint8)
    gifsom.encode([a, a, a, b, b], path, fps=10)
    frames, durations = decode_gif(path)
    assert durations == [300, 200]
    assert np.array_equal(frames[0], a) and np.array_equal(frames[1], b)


def test_frames_shorter_than_two_cs_are_dropped(tmp_path):
    path = tmp_path / "t.gif"
    frames = [np.full((4, 4, 3), i * 10, np.uint8) for i in range(20)]
    gifsom.encode(frames, path, fps=100)
    _, durations = decode_gif(path)
    assert min(durations) >= 20 and sum(durations) == 200


def test_variable_timestamps_are_kept(tmp_path):
    path = tmp_path / "t.gif"
    frames = [(np.full((4, 4, 3), i * 40, np.uint8), t) for i, t in enumerate([0.0, 0.1, 0.5, 0.55, 1.2])]
    gifsom.encode(frames, path, fps=10)
    _, durations = decode_gif(path)
    assert durations == [100, 400, 50, 650, 100]


def test_only_changed_rectangle_is_written_and_decoders_agree(tmp_path, screen_frames):
    path = tmp_path / "screen.gif"
    result = gifsom.encode(screen_frames, path, fps=10)
    assert result.path == path
    decoded, _ = decode_gif(path)
    # the typed text changes a small part of the screen: later frames are small
    full = screen_frames[0].shape[0] * screen_frames[0].shape[1]
    assert result.bytes == path.stat().st_size < full * len(screen_frames) / 20
    height, width = screen_frames[0].shape[:2]
    by_ffmpeg = decode_with_ffmpeg(path, width, height)
    assert len(by_ffmpeg) == len(decoded) == result.frames
    for ours, theirs in zip(decoded, by_ffmpeg):
        assert np.array_equal(ours, theirs)
    # and close to the source: the screen recording has few colours
    first = psnr(decoded[0], screen_frames[0])
    assert first > 35


def test_video_round_trip_psnr_floor(tmp_path):
    frames = [f.pixels for f in gifsom.read_frames(FIXTURES / "pan.mp4", fps=5, size=(320, 0))]
    path = tmp_path / "pan.gif"
    gifsom.encode(frames, path, fps=5)
    decoded, durations = decode_gif(path)
    assert len(decoded) == len(frames) and set(durations) == {200}
    assert psnr(np.stack(decoded), np.stack(frames)) > 33.0
    for ours, theirs in zip(decoded, decode_with_ffmpeg(path, 320, 180)):
        assert np.array_equal(ours, theirs)


def test_transparency_round_trip(tmp_path):
    path = tmp_path / "alpha.gif"
    rgba = []
    for i in range(4):
        frame = np.zeros((20, 30, 4), np.uint8)
        frame[:, :, 0] = 200
        frame[:, :, 3] = 255
        frame[5:15, i * 5:i * 5 + 8, 3] = 0          # a moving hole
        rgba.append(frame)
        frame[:, :, 1] = i * 40                      # and a colour change
        rgba[-1] = frame
    gifsom.encode(rgba, path, fps=10)
    decoded = decode_gif_rgba(path)
    assert len(decoded) == 4
    for shown, source in zip(decoded, rgba):
        assert np.array_equal(shown[:, :, 3] > 127, source[:, :, 3] > 127)
        opaque = source[:, :, 3] > 127
        assert np.array_equal(shown[opaque][:, :3], source[opaque][:, :3])
    # ffmpeg shows the same pixels and the same holes
    import imageio_ffmpeg

    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-fps_mode", "passthrough",
                          "-f", "rawvideo", "-pix_fmt", "rgba", "-"], capture_output=True, check=True).stdout
    by_ffmpeg = np.frombuffer(raw, np.uint8).reshape(-1, 20, 30, 4)
    assert len(by_ffmpeg) == 4
    for ours, theirs in zip(decoded, by_ffmpeg):
        visible = ours[:, :, 3] > 127
        assert np.array_equal(visible, theirs[:, :, 3] > 127)
        assert np.array_equal(ours[visible][:, :3], theirs[visible][:, :3])


@pytest.mark.parametrize("scope", ["frame", "scene"])
def test_local_palettes_round_trip(tmp_path, scope):
    rng = np.random.default_rng(5)
    reds = [np.stack([rng.integers(0, 256, (24, 24)), np.zeros((24, 24)), np.zeros((24, 24))], -1).astype(np.uint8)
            for _ in range(3)]
    blues = [f[:, :, ::-1].copy() for f in reds]
    frames = reds + blues
    path = tmp_path / "local.gif"
    gifsom.encode(frames, path, fps=10, palette=scope, colors=64)
    decoded, _ = decode_gif(path)
    assert len(decoded) == 6
    for shown, source in zip(decoded, frames):
        assert psnr(shown, source) > 30
    by_ffmpeg = decode_with_ffmpeg(path, 24, 24)
    for ours, theirs in zip(decoded, by_ffmpeg):
        assert np.array_equal(ours, theirs)


def test_table_is_padded_to_the_needed_power_of_two(tmp_path):
    path = tmp_path / "small.gif"
    image = np.zeros((8, 8, 3), np.uint8)
    image[:4] = [255, 0, 0]
    image[4:, :4] = [0, 255, 0]
    gifsom.encode([image], path)
    data = path.read_bytes()
    assert data[10] & 0x80 and (data[10] & 7) == table_bits(4) - 1   # 3 colours + a spare slot: 4 entries
    assert len(data) < 100


def test_loop_count(tmp_path):
    frames = [np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 255, np.uint8)]
    for loop, expected in [(0, 0), (3, 3)]:
        gifsom.encode(frames, tmp_path / "l.gif", loop=loop)
        with Image.open(tmp_path / "l.gif") as image:
            assert image.info.get("loop") == expected
    gifsom.encode(frames, tmp_path / "once.gif", loop=-1)
    with Image.open(tmp_path / "once.gif") as image:
        assert "loop" not in image.info


def test_failure_leaves_existing_file_untouched(tmp_path):
    path = tmp_path / "keep.gif"
    path.write_bytes(b"precious")
    with pytest.raises(InputError):
        with gifsom.GifWriter(path, fps=10) as writer:
            writer.append(np.zeros((4, 4, 3), np.uint8))
            writer.append(np.zeros((5, 4, 3), np.uint8))    # wrong size
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.gif"]


def test_cancel_from_progress_callback_writes_nothing(tmp_path):
    path = tmp_path / "c.gif"
    frames = [np.full((8, 8, 3), i, np.uint8) for i in range(10)]
    with pytest.raises(GifsomError, match="cancel"):
        gifsom.encode(frames, path, fps=10, progress=lambda done, total: done < 5)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_cancel_while_encoding_stops_the_encoding_thread(tmp_path):
    path = tmp_path / "c.gif"
    frames = [np.full((40, 60, 3), (i * 37) % 256, np.uint8) for i in range(30)]
    writing = []

    def progress(done, total):
        if total is not None:          # the second pass: frames being mapped and encoded
            writing.append(done)
        return not (total is not None and done >= 12)

    with pytest.raises(GifsomError, match="cancel"):
        gifsom.encode(frames, path, fps=10, progress=progress)
    assert writing and max(writing) == 12
    assert not path.exists() and list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("gifsom-")]


def changes(values) -> int:
    return sum(1 for a, b in zip(values, values[1:]) if a != b)


@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 255), st.integers(0, 2 ** 32 - 1))
def test_hide_writes_every_hidden_pixel_transparent_and_leaves_the_others(height, width, transparent, seed):
    """Against numpy's masked assignment, on any mask and indices (a rectangle's view within a frame too)."""
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (height + 2, width + 3), dtype=np.uint8)
    indices = frame[1:height + 1, 2:width + 2]
    hidden = rng.random((height, width)) < rng.random()
    expected = indices.copy()
    expected[hidden] = transparent
    before = frame.copy()
    assert np.array_equal(hide(indices, hidden, transparent), expected)
    assert np.array_equal(frame, before)           # a new array: the plan's indices stay as they are


@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["drawn", "unchanged", "transparent"])),
                min_size=1, max_size=10))
def test_fill_hidden_writes_the_fewest_value_changes(pixels):
    """Against every way of writing the free pixels (own index or transparent)."""
    spare = 4
    indices = np.array([[v for v, _ in pixels]], np.uint8)
    unchanged = np.array([[k == "unchanged" for _, k in pixels]])
    hidden = np.array([[k != "drawn" for _, k in pixels]])
    written = fill_hidden(indices, hidden, unchanged, spare)[0]
    for i, (value, kind) in enumerate(pixels):
        allowed = {"drawn": {value}, "unchanged": {value, spare}, "transparent": {spare}}[kind]
        assert written[i] in allowed
    choices = [{"drawn": [v], "unchanged": [v, spare], "transparent": [spare]}[k] for v, k in pixels]
    fewest = min(changes(list(option)) for option in itertools.product(*choices))
    assert changes(list(written)) == fewest


def _fill_hidden_by_the_book(indices, hidden, unchanged, spare):
    """fill_hidden's dynamic programme written plainly: the own index wins ties, at each step and at the end."""
    big = 1 << 40
    cost = [0 if (not hidden[0]) or unchanged[0] else big, 0 if hidden[0] else big]
    back = [(0, 0)]
    for i in range(1, len(indices)):
        step, new = [0, 0], [big, big]
        for state, value in ((0, int(indices[i])), (1, spare)):
            own = cost[0] + (int(indices[i - 1]) != value)
            clear = cost[1] + (spare != value)
            step[state] = int(clear < own)
            new[state] = min(own, clear)
        back.append(tuple(step))
        cost = [new[0] if (not hidden[i]) or unchanged[i] else big, new[1] if hidden[i] else big]
    state, written = (0 if cost[0] <= cost[1] else 1), list(indices)
    for i in range(len(indices) - 1, -1, -1):
        if state:
            written[i] = spare
        state = back[i][state]
    return written


@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["drawn", "unchanged", "transparent"]),
                          st.integers(1, 30)), min_size=1, max_size=40))
def test_fill_hidden_breaks_ties_as_the_plain_programme_does_through_long_runs(runs):
    pixels = [(value, kind) for value, kind, length in runs for _ in range(length)]
    indices = np.array([v for v, _ in pixels], np.uint8)
    unchanged = np.array([k == "unchanged" for _, k in pixels])
    hidden = np.array([k != "drawn" for _, k in pixels])
    written = fill_hidden(indices[None], hidden[None], unchanged[None], 3)[0]
    assert list(written) == _fill_hidden_by_the_book(indices, hidden, unchanged, 3)


def test_lossy_lzw_keeps_every_pixel_within_tolerance_and_shrinks(tmp_path):
    # camera video: lossy LZW bounds how much each pixel's error against its source grows (see gifsom.gif.lzw),
    # and the screen model leaves pixels within ``lossy`` of what it shows
    frames = [f.pixels for f in gifsom.read_frames(FIXTURES / "pan.mp4", fps=5, size=(160, 0))][:10]
    sizes = []
    for lossy in (0, 15, 40):
        path = tmp_path / f"lossy{lossy}.gif"
        gifsom.encode(frames, path, fps=5, lossy=lossy)
        sizes.append(path.stat().st_size)
        if lossy == 0:
            exact = decode_gif(path)[0]
            continue
        decoded, _ = decode_gif(path)
        for shown, target, source in zip(decoded, exact, frames):
            moved = np.sqrt(((shown.astype(np.int64) - target) ** 2).sum(axis=2))
            grew = (((shown.astype(np.int64) - source) ** 2).sum(axis=2)
                    - ((target.astype(np.int64) - source) ** 2).sum(axis=2))
            assert np.all((moved <= lossy + 1e-9) | ((grew <= lossy ** 2) & (moved <= lzw.DRIFT * lossy + 1e-9)))
            assert moved.max() > lossy            # the source let some pixel move past the index bound
        height, width = frames[0].shape[:2]
        for ours, theirs in zip(decoded, decode_with_ffmpeg(path, width, height)):
            assert np.array_equal(ours, theirs)
    assert sizes[0] > sizes[1] > sizes[2]


#: Threads for the tests of lossy LZW in parts.
_PART_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-parts")


@given(st.integers(0, 2 ** 31), st.integers(2, 256), st.sampled_from([1, 3, 6, 20]), st.sampled_from([None, 0, 3]),
       st.sampled_from([16, 4000, 20000]), st.sampled_from([lzw.PART_PIXELS, 3000, 7]))
def test_lossy_lzw_against_the_source_bounds_each_pixels_error_and_decodes_to_what_it_shows(seed, values, lossy,
                                                                                             transparent, count,
                                                                                             part_pixels):
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 4, (values, 3)).astype(np.uint8) * 9 + rng.integers(0, 3, (values, 3)).astype(np.uint8)
    indices = np.repeat(rng.integers(0, values, count), rng.integers(1, 5, count))[:count].astype(np.uint8)
    # sources near the indices' colours, as dither or a small palette leaves them
    source = np.clip(palette[indices].astype(np.int64) + rng.integers(-8, 9, (count, 3)), 0, 255).astype(np.uint8)
    transparent = transparent if transparent is not None and transparent < values else None
    bits = lzw.min_code_size(values)
    data, shown = lzw.lzw_encode(indices, bits, palette=palette, lossy=lossy, transparent=transparent, source=source,
                                 part_pixels=part_pixels)
    assert np.array_equal(decoded(data, bits, 1, count)[0], shown)
    # the parts encoded at once on a pool give the same bytes
    assert lzw.lzw_encode(indices, bits, palette=palette, lossy=lossy, transparent=transparent, source=source,
                          part_pixels=part_pixels, pool=_PART_POOL)[0] == data
    colours = palette.astype(np.int64)
    moved = ((colours[shown] - colours[indices]) ** 2).sum(axis=1)
    grew = ((colours[shown] - source) ** 2).sum(axis=1) - ((colours[indices] - source) ** 2).sum(axis=1)
    changed = shown != indices
    assert np.all(moved[changed] <= round(lzw.DRIFT ** 2 * lossy ** 2))
    assert np.all(grew[changed] <= lossy ** 2)
    if transparent is not None:
        assert np.array_equal(shown == transparent, indices == transparent)
    # without a source the greedy parse bounds the move from the index's colour instead
    _, plain = lzw.lzw_encode(indices, bits, palette=palette, lossy=lossy, transparent=transparent)
    assert np.all(((colours[plain] - colours[indices]) ** 2).sum(axis=1) <= lossy ** 2)


def test_camera_frames_large_enough_to_be_cut_in_parts_decode_alike_everywhere(tmp_path, gif_decoders):
    # 448x252 camera video: its lossy LZW is cut in three, a clear code between the parts; every decoder reads
    # each clear code at the width the part before left, and shows the same pictures, close to the source
    frames = [f.pixels for f in gifsom.read_frames(FIXTURES / "pan.mp4", fps=5, size=(448, 0))][:3]
    height, width = frames[0].shape[:2]
    assert len(lzw.part_bounds(height * width)) == 4
    path = tmp_path / "parts.gif"
    gifsom.encode(frames, path, fps=5)
    shown = {name: [pixels[:, :, :3] for pixels, _ in decoder(path)] for name, decoder in gif_decoders.items()}
    for name, pictures in shown.items():
        assert len(pictures) == len(frames), name
        for picture, reference, source in zip(pictures, shown["pillow"], frames):
            assert np.array_equal(picture, reference), name
            assert psnr(picture, source) > 30, name


@pytest.mark.parametrize("parts", [1, 2, 3, 5])
def test_lossy_lzw_in_parts_restarts_the_table_at_each_cut_and_decodes_in_pillow(monkeypatch, parts):
    # a stream cut into parts: each part is parsed from an empty table, as if it began the image, and the
    # joined stream is one image that another decoder reads back as shown
    monkeypatch.setattr(lzw, "MOST_PARTS", parts)
    rng = np.random.default_rng(parts)
    height, width = 60, 200
    palette = rng.integers(0, 256, (64, 3)).astype(np.uint8)
    indices = np.repeat(rng.integers(0, 64, height * width), rng.integers(1, 4, height * width))[:height * width]
    indices = indices.astype(np.uint8).reshape(height, width)
    source = np.clip(palette[indices].astype(np.int64) + rng.integers(-6, 7, (height, width, 3)), 0, 255)
    source = source.astype(np.uint8)
    part_pixels = height * width // parts
    data, shown = lzw.lzw_encode(indices, 6, palette=palette, lossy=8, source=source, part_pixels=part_pixels)
    bounds = lzw.part_bounds(height * width, part_pixels)
    assert len(bounds) == parts + 1
    flat_source = source.reshape(-1, 3)
    for start, stop in zip(bounds, bounds[1:]):
        _, alone_shown = lzw.lzw_encode(indices.reshape(-1)[start:stop], 6, palette=palette, lossy=8,
                                            source=flat_source[start:stop], part_pixels=stop - start + 1)
        assert np.array_equal(alone_shown, shown.reshape(-1)[start:stop])
    # the lossy stream itself in a GIF: Pillow's decoder shows what the encoder said it would
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + bytes([6])
    gif = blocks.header(width, height, palette, 6, 0) + descriptor + data + blocks.TRAILER
    with Image.open(io.BytesIO(gif)) as image:
        assert np.array_equal(np.asarray(image), shown)


def _red_palette(one: int, two: int) -> np.ndarray:
    """Index 0 at red 100, 1 and 2 at red ``one`` and ``two``; 3 to 6 far off (string separators); 7 bright."""
    return np.array([[100, 100, 100], [one, 100, 100], [two, 100, 100], [0, 0, 0], [0, 0, 80], [0, 80, 0],
                     [80, 0, 0], [200, 0, 0]], np.uint8)


def _strings_of_codes(data: bytes, code_size: int) -> list[tuple[int, ...] | None]:
    """The string each code of LZW image data stands for, in order, read as a GIF decoder reads them, with
    None for each clear code."""
    blocks_read, _, cut = _sub_blocks(data, 0)
    assert not cut
    stream = int.from_bytes(b"".join(blocks_read), "little")
    clear, position, found = 1 << code_size, 0, []
    table: list[tuple[int, ...]] = []
    width, previous = code_size + 1, None
    while True:
        code = (stream >> position) & ((1 << width) - 1)
        position += width
        if code == clear:
            table = [(value,) for value in range(clear)] + [(), ()]
            width, previous = code_size + 1, None
            found.append(None)
            continue
        if code == clear + 1:
            return found
        string = table[code] if code < len(table) else previous + previous[:1]
        if previous is not None:
            table.append(previous + string[:1])
            if len(table) == 1 << width and width < 12:
                width += 1
        found.append(string)
        previous = string


def _longest_within_bounds(strings: set[tuple[int, ...]], indices: np.ndarray, start: int, colours: np.ndarray,
                           source: np.ndarray, lossy: int, transparent: int | None) -> dict[tuple[int, ...], int]:
    """By brute force: the longest strings in ``strings`` that may show the pixels from ``start`` (each pixel
    its own index, or another whose colour lies within DRIFT * lossy of its colour and at most lossy ** 2
    further from its source colour in squared distance; never the transparent index for a colour or back),
    each with the squared error it adds."""
    drift2 = int(lzw.DRIFT ** 2 * lossy ** 2 + 0.5)
    found: dict[tuple[int, ...], int] = {}

    def distance2(a: np.ndarray, b: np.ndarray) -> int:
        return int(((a - b) ** 2).sum())

    def follow(string: tuple[int, ...], position: int, error: int) -> None:
        found[string] = error
        if position >= len(indices):
            return
        pixel = int(indices[position])
        own = distance2(colours[pixel], source[position])
        for value in range(len(colours)):
            if string + (value,) not in strings:
                continue
            if value == pixel:
                follow(string + (value,), position + 1, error)
            elif transparent not in (pixel, value) and distance2(colours[value], colours[pixel]) <= drift2:
                added = distance2(colours[value], source[position]) - own
                if added <= lossy ** 2:
                    follow(string + (value,), position + 1, error + added)

    follow((int(indices[start]),), start + 1, 0)
    longest = max(len(string) for string in found)
    return {string: error for string, error in found.items() if len(string) == longest}


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2 ** 31), st.integers(2, 64), st.sampled_from([2, 5, 9]), st.sampled_from([0.0, 0.7]),
       st.sampled_from([None, 1]))
def test_each_code_of_the_lossy_search_is_a_longest_string_within_the_bounds(seed, values, lossy, repeated,
                                                                            transparent):
    # colours a few levels apart: strings have continuations near many pixels, and the search must find,
    # among all the table holds, one reaching furthest (of equally long ones, any). Random pixels give
    # first pixels more continuations than a string's row lists (16); a repeated pattern, long strings
    rng = np.random.default_rng(seed)
    palette = (100 + rng.integers(0, 4, (values, 3)) * 3).astype(np.uint8)
    count = 3000
    pattern = rng.integers(0, values, 6)
    indices = np.where(rng.random(count) < repeated, np.resize(pattern, count), rng.integers(0, values, count))
    indices = indices.astype(np.uint8)
    source = np.clip(palette[indices].astype(np.int64) + rng.integers(-4, 5, (count, 3)), 0, 255).astype(np.uint8)
    transparent = transparent if transparent is not None and transparent < values else None
    bits = lzw.min_code_size(values)
    data, shown = lzw.lzw_encode(indices, bits, palette=palette, lossy=lossy, transparent=transparent,
                                 source=source, search_budget=1 << 30, part_pixels=count + 1)
    colours, sources = palette.astype(np.int64), source.astype(np.int64)
    strings: set[tuple[int, ...]] = set()
    start, previous = 0, None
    for string in _strings_of_codes(data, bits):
        if string is None:           # a clear code: only the single pixels are strings again
            strings, previous = {(value,) for value in range(1 << bits)}, None
            continue
        if previous is not None:     # the entry the last code made, finished by this one's first pixel
            strings.add(previous + string[:1])
        assert string in _longest_within_bounds(strings, indices, start, colours, sources, lossy, transparent)
        assert tuple(shown[start:start + len(string)]) == string
        start, previous = start + len(string), string
    assert start == count


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2 ** 31))
def test_the_longest_string_parse_reads_nothing_of_its_tree_scratch_before_writing_it(seed):
    # each thread keeps its tree scratch from one part to the next: what an earlier part left there, or any
    # garbage, must not change a part's codes or the pixels shown
    from gifsom.gif import _lzw_cy

    rng = np.random.default_rng(seed)
    values = int(rng.integers(2, 40))
    palette = np.zeros((256, 3), np.int64)
    palette[:values] = 100 + rng.integers(0, 5, (values, 3)) * 3
    count = 4000
    indices = np.where(rng.random(count) < 0.6, np.resize(rng.integers(0, values, 5), count),
                       rng.integers(0, values, count)).astype(np.uint8)
    source = np.clip(palette[indices] + rng.integers(-4, 5, (count, 3)), 0, 255).astype(np.uint8)
    bits = lzw.min_code_size(values)

    def parse(tree: np.ndarray):
        table = np.zeros(4096 * 256, np.int16)
        near = np.empty(_lzw_cy.NEAR_SETS_SIZE, np.uint64)
        return _lzw_cy.encode_longest(indices, source, bits, palette, 25, 75, -1, table, np.empty(4096, np.int64),
                                      tree, near, False, 64)

    clean = parse(np.zeros(_lzw_cy.TREE_SIZE, np.uint64))
    dirty = parse(rng.integers(0, 2 ** 63, _lzw_cy.TREE_SIZE, dtype=np.uint64))
    assert clean[:2] == dirty[:2] and np.array_equal(clean[2], dirty[2])
    with pytest.raises(ValueError, match="tree scratch"):
        parse(np.zeros(_lzw_cy.TREE_SIZE - 1, np.uint64))


def test_lossy_lzw_against_the_source_takes_the_string_that_reaches_furthest():
    # the table learns 0 1, 0 1 7 and 0 2; the stream ends 0 2 7 with the 2's source at index 1's colour.
    # Taking the exact 0 2 ends the string there; showing the 2 as 1 reaches the 7 as well. That move (3) is
    # past lossy 2 from index 2's colour, so the greedy parse, measuring from it, cannot make it
    palette = _red_palette(104, 107)
    indices = np.array([0, 1, 3, 0, 1, 7, 4, 0, 2, 5, 0, 2, 7], np.uint8)
    source = palette[indices].copy()
    source[-2, 0] = 104
    _, plain = lzw.lzw_encode(indices, 3, palette=palette, lossy=2)
    _, searched = lzw.lzw_encode(indices, 3, palette=palette, lossy=2, source=source)
    assert list(plain) == list(indices)
    assert list(searched[-3:]) == [0, 1, 7] and list(searched[:-3]) == list(indices[:-3])


@pytest.mark.parametrize("source_red, shown", [(108, 2), (102, 1)])
def test_lossy_lzw_against_the_source_moves_a_pixel_only_where_its_error_grows_within_the_bound(source_red, shown):
    # the stream ends 0 2 7, and the table knows 0 1 7 but not 0 2: index 1 (104) is within lossy 2 of index 2
    # (105), so the greedy parse shows the 2 as 1. Against a source at 108 that adds 16 - 9 = 7 to the squared
    # error, past 2 ** 2; against one at 102 it takes 5 off
    palette = _red_palette(104, 105)
    indices = np.array([0, 1, 3, 0, 1, 7, 4, 0, 2, 7], np.uint8)
    source = palette[indices].copy()
    source[-2, 0] = source_red
    _, plain = lzw.lzw_encode(indices, 3, palette=palette, lossy=2)
    _, searched = lzw.lzw_encode(indices, 3, palette=palette, lossy=2, source=source)
    assert plain[-2] == 1
    assert searched[-2] == shown


@st.composite
def run_streams(draw):
    """Index streams of runs: a few values, runs from 1 to thousands of pixels, some noise between."""
    seed = draw(st.integers(0, 2 ** 31))
    values = draw(st.integers(2, 256))
    longest = draw(st.sampled_from([4, 40, 400, 5000]))
    rng = np.random.default_rng(seed)
    parts, total = [], draw(st.integers(1, 60_000))
    while sum(len(p) for p in parts) < total:
        if rng.random() < 0.2:
            parts.append(rng.integers(0, values, rng.integers(1, 300)))
        else:
            parts.append(np.full(rng.integers(1, longest + 1), rng.integers(0, min(values, 4))))
    return np.concatenate(parts)[:total].astype(np.uint8), values


@given(run_streams(), st.sampled_from([(0, False), (0, True), (12, False), (60, False)]))
def test_lzw_jumps_through_runs_to_the_codes_the_table_walk_finds(stream, mode):
    indices, values = stream
    lossy, lookahead = mode
    palette = np.random.default_rng(values).integers(0, 256, (values, 3), dtype=np.uint8)
    bits = lzw.min_code_size(values)
    options = dict(palette=palette, lossy=lossy, transparent=1 if lossy else None, lookahead=lookahead)
    jumped = lzw.lzw_encode(indices, bits, **options)
    walked = lzw.lzw_encode(indices, bits, jump_runs=False, **options)
    assert jumped[0] == walked[0]
    assert np.array_equal(jumped[1], walked[1])


@given(st.integers(0, 2 ** 31), st.integers(2, 256), st.integers(1, 3), st.sampled_from([1, 5, 12, 40, 120, 0]),
       st.sampled_from([None, 0, 3]))
def test_lossy_lzw_finds_near_continuations_as_the_walk_through_every_one_does(seed, values, spread, lossy,
                                                                              transparent):
    # few distinct channel levels: many colours repeat or lie equally far apart, so ties are common;
    # lossy 0 stands for one level, the distance between many colours: on the tolerance's very edge
    rng = np.random.default_rng(seed)
    level = spread * 7
    palette = (rng.integers(0, 4, (values, 3)) * level).astype(np.uint8)
    lossy = lossy or level
    indices = np.repeat(rng.integers(0, values, 3000), rng.integers(1, 4, 3000)).astype(np.uint8)
    bits = lzw.min_code_size(values)
    options = dict(palette=palette, lossy=lossy, transparent=transparent if transparent is None or
                   transparent < values else None)
    near = lzw.lzw_encode(indices, bits, **options)
    again = lzw.lzw_encode(indices, bits, **options)      # the lists made by the first call are kept
    walked = lzw.lzw_encode(indices, bits, near_first=False, **options)
    assert near[0] == walked[0] == again[0]
    assert np.array_equal(near[1], walked[1])


@given(st.integers(0, 2 ** 31), st.integers(1, 40), st.integers(1, 40), st.floats(0, 1))
def test_plan_candidates_show_the_frame_and_none_repeats_another(seed, width, height, kept_share):
    rng = np.random.default_rng(seed)
    indices = np.repeat(rng.integers(0, 4, (height * width + 7) // 8), 8)[: height * width]
    indices = indices.reshape(height, width).astype(np.uint8)
    hidden = rng.random((height, width)) < max(kept_share, 0.05)
    keep = hidden & (rng.random((height, width)) < 0.9)
    palette = rng.integers(0, 256, (8, 3), dtype=np.uint8)
    plan = FramePlan(indices, hidden, keep, 7, 0, 0, 3, None, palette, 0, 10, 1, False,
                     pack_colours(palette), np.ones_like(hidden))
    found = candidates(plan)
    assert len({c.way for c in found}) == len(found)
    for n, (way, written, transparent) in enumerate(found):
        assert way in WAYS
        assert np.array_equal(written[~hidden], indices[~hidden])
        assert np.all(written[hidden & ~keep] == transparent)
        assert np.all((written[keep] == indices[keep]) | (written[keep] == transparent))
        assert not any(t == transparent and np.array_equal(written, w) for _, w, t in found[:n])
    # dropping repeats changes nothing: the same block as the smallest of every way, repeats included
    mostly_unchanged = keep.mean() > 0.5
    ways = [np.where(hidden, 7, indices)]
    if mostly_unchanged:
        ways += [continue_runs(indices, hidden, keep, 7), fill_hidden(indices, hidden, keep, 7)]
    if not mostly_unchanged and not (hidden & ~keep).any():
        ways.insert(0, indices)
    if not hidden.any():
        ways = [indices]
    sizes = [len(blocks.image(w, 0, 0, 3)[0]) for w in ways]
    best = ways[sizes.index(min(sizes))]
    data = min(blocks.image(best, 0, 0, 3)[0], blocks.image(best, 0, 0, 3, lookahead=True)[0], key=len)
    transparent = None if best is indices else 7
    assert encode_plan(plan)[0] == blocks.graphic_control(10, 1, transparent) + data


@pytest.mark.parametrize("side", [40, 300])
@pytest.mark.parametrize("lossy", [0, 20])
def test_a_plans_candidates_give_the_same_block_on_a_pool_as_one_after_another(side, lossy):
    """Candidates go to the pool from PARALLEL_CANDIDATE_PIXELS up (300 x 300 is over it, 40 x 40 under):
    either way, the block and what a decoder shows are those of encoding every candidate in turn."""
    from concurrent.futures import ThreadPoolExecutor

    from gifsom.gif.plan_encoding import PARALLEL_CANDIDATE_PIXELS

    rng = np.random.default_rng(side + lossy)
    indices = np.repeat(rng.integers(0, 16, side * side // 4), 4).reshape(side, side).astype(np.uint8)
    hidden = rng.random((side, side)) < 0.7
    keep = hidden & (rng.random((side, side)) < 0.95)
    palette = rng.integers(0, 256, (32, 3), dtype=np.uint8)
    plan = FramePlan(indices, hidden, keep, 31, 0, 0, 5, None, palette, lossy, 10, 1, False,
                     pack_colours(palette), np.ones_like(hidden))
    assert len(candidates(plan)) > 1 and (side * side >= PARALLEL_CANDIDATE_PIXELS) == (side == 300)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pooled = encode_plan(plan, pool)
    alone = encode_plan(plan)
    assert pooled[0] == alone[0] and pooled[2] == alone[2] and np.array_equal(pooled[1], alone[1])


def test_a_way_far_behind_is_skipped_until_it_could_have_caught_up(monkeypatch):
    """A way that lost by a share s is encoded again once s <= WAY_GAIN_PER_FRAME * frames since it was
    tried, at the latest after LONGEST_SKIP frames, and at once where the rectangle's size jumps."""
    import gifsom.gif.plan_encoding as plan_encoding

    monkeypatch.setattr(plan_encoding, "WAY_GAIN_PER_FRAME", 0.01)
    monkeypatch.setattr(plan_encoding, "LONGEST_SKIP", 6)
    history = WayHistory(smallest=1)

    def tried(pixels: int = 1000) -> list[str]:
        history.next_rectangle(pixels)
        ways = [way for way in WAYS[:3] if history.may_lead(way)]
        # "whole" always smallest; "transparent" 3% over it, "continued runs" 50% over
        history.tried({way: {"whole": 100, "transparent": 103, "continued runs": 150}[way] for way in ways})
        return ways

    assert tried() == list(WAYS[:3])                       # nothing known: every way
    assert [tried() for _ in range(3)] == [["whole"]] * 3   # 3% behind: 1%, 2% of gain, not yet
    assert tried() == ["whole", "transparent"]              # 3 frames later it could have caught up
    assert tried() == ["whole"]
    assert tried() == ["whole", "continued runs"]           # 6 frames: tried whatever its share
    assert tried() == ["whole"]
    assert tried(1600) == list(WAYS[:3])                    # the rectangle grew by more than 1.5 times
    assert tried(1500) == ["whole"]


@pytest.mark.parametrize("on_caller", [False, True])
@pytest.mark.parametrize("side, every_way", [(256, False), (256, True), (128, False), (128, True), (96, False)])
def test_lossy_plans_in_a_row_skip_a_losing_way_and_keep_the_blocks_of_trying_every_way(monkeypatch, side,
                                                                                         every_way, on_caller):
    """Through the plan encoder, frame after frame of a lossy clip whose smallest way does not change: the
    losing way is encoded only on some frames, and every frame's block is the one trying every way gives.
    Rectangles under TRACKED_WAY_PIXELS try every way, and so do those under PARALLEL_CANDIDATE_PIXELS
    where the encoder is asked to (the fit's tries). Plans are encoded on the encoder's lossy thread, or
    with ``lossy_on_caller`` on the thread that starts them (candidates over PARALLEL_CANDIDATE_PIXELS but
    the first go to the pool either way)."""
    import gifsom.gif.plan_encoding as plan_encoding

    rng = np.random.default_rng(5)
    palette = rng.integers(0, 256, (16, 3), dtype=np.uint8)
    tracked = side * side >= (plan_encoding.PARALLEL_CANDIDATE_PIXELS if every_way
                              else plan_encoding.TRACKED_WAY_PIXELS)
    assert tracked == (side == 256 or (side == 128 and not every_way))
    plans = []
    for number in range(12):
        indices = np.repeat(rng.integers(0, 16, side * side // 4), 4).reshape(side, side).astype(np.uint8)
        hidden = rng.random((side, side)) < 0.4
        plans.append(FramePlan(indices, hidden, hidden, 15, 0, 0, 4, None, palette, 12, 10 + number, 1, False,
                               pack_colours(palette), np.ones_like(hidden)))
    assert all([c.way for c in candidates(plan)] == ["whole", "transparent"] for plan in plans)
    encoded: list[str] = []
    threads: list[str] = []        # where each plan's first candidate was encoded
    real_image = plan_encoding.blocks.image

    def counted(indices, *args, **kwargs):
        encoded.append("transparent" if kwargs.get("transparent") is not None else "whole")
        if encoded[-1] == "whole":
            threads.append(threading.current_thread().name)
        return real_image(indices, *args, **kwargs)

    expected = [encode_plan(plan) for plan in plans]
    monkeypatch.setattr(plan_encoding.blocks, "image", counted)
    emitted: list[bytes] = []
    encoder = plan_encoding.PlanEncoder(lambda chunk, drawn: emitted.append(chunk), every_way,
                                        lossy_on_caller=on_caller)
    try:
        shown = []
        for plan in plans:
            encoder.start(plan)
            shown.append(encoder.finish()[0])
    finally:
        encoder.close()
    assert emitted == [chunk for chunk, _, _ in expected]
    assert all(np.array_equal(a, b) for a, b in zip(shown, [s for _, s, _ in expected]))
    assert encoded.count("whole") == len(plans)
    caller = threading.current_thread().name
    assert all((name == caller) == on_caller and (on_caller or name.startswith("gifsom-lossy")) for name in threads)
    if tracked:
        assert 1 <= encoded.count("transparent") < len(plans) // 2
    else:
        assert encoded.count("transparent") == len(plans)


@given(st.integers(0, 2 ** 31), st.integers(1, 30), st.integers(1, 30), st.integers(0, 2))
def test_comparing_within_the_changed_rectangle_finds_what_a_whole_comparison_finds(seed, width, height, tolerance):
    """The screen model compares a frame with the screen only inside the rectangle the mapper changed, in
    an array it keeps from plan to plan: each answer is the whole frame's comparison."""
    from gifsom.gif.screen_model import ScreenModel, changed_pixels

    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 3, (8, 3), dtype=np.uint8) * 100
    colours = pack_colours(palette)
    model = ScreenModel(width, height, global_palette=palette, spare_slot=False, lossy=tolerance)
    model.screen[:] = colours[rng.integers(0, 8, (height, width))]
    opaque = np.ones((height, width), bool)
    for _ in range(3):
        top, left = int(rng.integers(0, height)), int(rng.integers(0, width))
        within = (top, int(rng.integers(top, height + 1)), left, int(rng.integers(left, width + 1)))
        # outside the rectangle the frame shows what the screen does
        indices = np.argmax(colours[None, None, :] == model.screen[:, :, None], axis=2).astype(np.uint8)
        inside = (slice(within[0], within[1]), slice(within[2], within[3]))
        indices[inside] = rng.integers(0, 8, indices[inside].shape)
        whole = changed_pixels(indices, colours, opaque, False, model.screen, tolerance)
        found = model._changed_within(indices, colours, within)
        assert found[1:] == whole[1:] and np.array_equal(found[0], whole[0])
        model.screen[:] = colours[rng.integers(0, 8, (height, width))]


@given(st.integers(0, 2 ** 31), st.integers(1, 30), st.integers(1, 30), st.integers(0, 12), st.booleans())
def test_a_pixel_changes_the_screen_where_its_colour_is_beyond_the_tolerance_or_it_shows_or_hides(
        seed, width, height, tolerance, masked):
    """The comparison of a frame with the screen is the definition written in numpy: an opaque pixel
    changes a shown one whose colour lies more than ``tolerance`` away (RGB distance), and any empty one; a
    transparent pixel changes a shown one. Colours a few levels apart put the tolerance in play."""
    from gifsom.gif.screen_model import EMPTY, changed_pixels

    rng = np.random.default_rng(seed)
    colours = pack_colours(rng.integers(0, 8, (16, 3), dtype=np.uint8))
    indices = rng.integers(0, 16, (height, width)).astype(np.uint8)
    screen = colours[rng.integers(0, 16, (height, width))]
    screen[rng.random((height, width)) < 0.2] = EMPTY
    opaque = rng.random((height, width)) < 0.7 if masked else np.ones((height, width), bool)
    changed, top, bottom, left, right = changed_pixels(indices, colours, opaque, masked, screen, tolerance)

    def channels(packed: np.ndarray) -> np.ndarray:
        return np.stack([(packed.astype(np.int64) >> shift) & 255 for shift in (16, 8, 0)], axis=-1)

    shown = colours[indices]
    far = ((channels(shown) - channels(screen)) ** 2).sum(axis=-1) > tolerance ** 2
    expected = np.where(opaque, (shown != screen) & (far | (screen == EMPTY)), screen != EMPTY)
    assert np.array_equal(changed, expected)
    rows, columns = np.flatnonzero(expected.any(axis=1)), np.flatnonzero(expected.any(axis=0))
    assert (top, bottom, left, right) == ((rows[0], rows[-1] + 1, columns[0], columns[-1] + 1) if len(rows)
                                          else (0, 0, 0, 0))


@given(st.integers(0, 2 ** 31), st.integers(1, 30), st.integers(1, 30), st.integers(0, 2))
def test_pixels_a_frame_leaves_alone_are_not_its_change_and_are_not_painted(seed, width, height, tolerance):
    """A frame that leaves pixels to the screen (a steady camera's) changes it only elsewhere, as masking the
    whole comparison with numpy finds, and painting a plan draws the pixels it does not hide."""
    from gifsom.gif.screen_model import changed_pixels, paint_screen

    rng = np.random.default_rng(seed)
    colours = pack_colours(rng.integers(0, 3, (8, 3), dtype=np.uint8) * 100)
    screen = colours[rng.integers(0, 8, (height, width))]
    indices = rng.integers(0, 8, (height, width)).astype(np.uint8)
    opaque = np.ones((height, width), bool)
    alone = rng.random((height, width)) < 0.5
    whole, *_ = changed_pixels(indices, colours, opaque, False, screen, tolerance)
    changed, top, bottom, left, right = changed_pixels(indices, colours, opaque, False, screen, tolerance,
                                                       left_alone=alone)
    expected = whole & ~alone
    assert np.array_equal(changed, expected)
    rows, columns = np.flatnonzero(expected.any(axis=1)), np.flatnonzero(expected.any(axis=0))
    assert (top, bottom, left, right) == ((rows[0], rows[-1] + 1, columns[0], columns[-1] + 1) if len(rows)
                                          else (0, 0, 0, 0))
    painted = screen.copy()
    paint_screen(painted, indices, colours, alone, -1, 0, 0, where_not=True)
    assert np.array_equal(painted, np.where(alone, screen, colours[indices]))


def test_exact_plans_leave_the_callers_core_free_until_it_waits():
    """The encoder's slots: past the limit a job is held back, and it runs once the caller widens them."""
    from gifsom.gif.plan_encoding import Slots

    slots = Slots(1)
    first_in, first_done, second_in = threading.Event(), threading.Event(), threading.Event()

    def first():
        with slots.taken():
            first_in.set()
            first_done.wait(timeout=30)

    def second():
        first_in.wait(timeout=30)
        with slots.taken():
            second_in.set()

    workers = [threading.Thread(target=first), threading.Thread(target=second)]
    for worker in workers:
        worker.start()
    try:
        with slots.changed:
            assert slots.changed.wait_for(lambda: slots.held_back == 1, timeout=30)
        assert not second_in.is_set() and slots.running == 1
        with slots.widened(2):
            assert second_in.wait(timeout=30)
        assert slots.limit == 1
    finally:
        first_done.set()
        for worker in workers:
            worker.join(timeout=30)
    assert slots.running == 0 and slots.held_back == 0


@pytest.mark.parametrize("ahead_pixels", [1, 2_000, 1 << 30])
def test_the_plan_encoder_keeps_frame_order_and_its_bounds_on_plans_ahead(monkeypatch, ahead_pixels):
    """Exact plans wait on the pool up to MOST_PLANS_AHEAD, and past two a worker only while their rectangles
    hold at most AHEAD_PIXELS: the chunks still come out in the plans' order, each the plan's own encoding."""
    import threading

    import gifsom.gif.plan_encoding as plan_encoding

    monkeypatch.setattr(plan_encoding, "AHEAD_PIXELS", ahead_pixels)
    monkeypatch.setattr(plan_encoding, "MOST_PLANS_AHEAD", 6)
    release = threading.Event()
    encoded = plan_encoding._encoded

    stuck: list[int] = []

    def held(plan, pool=None, history=None, lookahead_only=False):
        # every job waits until the caller has queued what the bounds allow; a caller that waited for a job
        # before that would never let it go: the job gives up after a while and the test fails
        if not release.wait(timeout=30):
            stuck.append(plan.delay_cs)
        return encoded(plan, pool, history, lookahead_only)

    monkeypatch.setattr(plan_encoding, "_encoded", held)
    rng = np.random.default_rng(ahead_pixels)
    palette = rng.integers(0, 256, (16, 3), dtype=np.uint8)
    plans = []
    for number in range(14):
        side = int(rng.integers(4, 40))
        indices = rng.integers(0, 16, (side, side)).astype(np.uint8)
        hidden = rng.random((side, side)) < 0.5
        plans.append(FramePlan(indices, hidden, hidden, 15, 0, 0, 4, None, palette, 0, 10 + number, 1, False,
                               pack_colours(palette), np.ones_like(hidden)))
    emitted: list[bytes] = []
    encoder = plan_encoding.PlanEncoder(lambda chunk, drawn: emitted.append(chunk))
    try:
        for number, plan in enumerate(plans):
            queued, pixels = len(encoder.waiting) + 1, encoder.pixels_ahead + plan.indices.size
            if queued > 6 or (queued > encoder.ahead and pixels > ahead_pixels):
                release.set()          # this plan must wait for one: let the jobs finish
            encoder.later(plan)
            assert len(encoder.waiting) <= 6
            assert len(encoder.waiting) <= encoder.ahead or encoder.pixels_ahead <= ahead_pixels
            assert encoder.pixels_ahead == sum(plan.indices.size for plan in plans[len(emitted):number + 1])
        release.set()
        encoder.flush()
    finally:
        release.set()
        encoder.close()
    assert not stuck, "the encoder waited for a plan while the bounds let it queue more"
    assert emitted == [encode_plan(plan)[0] for plan in plans]


@given(st.integers(0, 2 ** 31), st.integers(1, 40), st.integers(1, 40), st.integers(1, 256), st.booleans())
def test_frames_in_different_palettes_show_the_same_picture_exactly_when_every_colour_agrees(seed, width, height,
                                                                                         size, change):
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 3, (size, 3)).astype(np.uint8) * 100      # repeated colours are common
    indices = rng.integers(0, size, (height, width)).astype(np.uint8)
    order = rng.permutation(size)             # the same colours in another order, and indices to match
    other_palette, other_indices = palette[order], np.argsort(order)[indices].astype(np.uint8)
    if change:
        y, x = rng.integers(0, height), rng.integers(0, width)
        other_indices[y, x] = rng.integers(0, size)
    first = IndexedFrame(indices, palette, 0)
    second = IndexedFrame(other_indices, other_palette, 10)
    assert first.shows_what(second) == np.array_equal(palette[indices], other_palette[other_indices])
    assert first.shows_what(second) or change


@given(st.integers(0, 2 ** 31), st.integers(1, 30), st.integers(1, 30), st.booleans(), st.booleans(), st.booleans())
def test_a_plans_rectangle_masks_are_the_masks_written_plainly(seed, width, height, transparency, left_alone,
                                                               draw_all):
    from gifsom.gif.screen_model import rectangle_masks

    rng = np.random.default_rng(seed)
    indices = rng.integers(0, 200, (height, width)).astype(np.uint8)
    changed = rng.random((height, width)) < 0.5
    opaque = rng.random((height, width)) < (0.7 if transparency else 1.0)
    alone = rng.random((height, width)) < 0.3 if left_alone else None
    top, left = rng.integers(0, height), rng.integers(0, width)
    bottom, right = rng.integers(top + 1, height + 1), rng.integers(left + 1, width + 1)
    rect = (slice(top, bottom), slice(left, right))
    got = rectangle_masks(indices, changed, opaque, alone, (top, bottom, left, right), draw_all)
    # the same, one numpy step at a time
    keep = ~changed[rect] & opaque[rect] & (not draw_all)
    hidden = keep | ~opaque[rect]
    if alone is not None:
        keep &= ~alone[rect]
        hidden |= alone[rect]
    used = np.bincount(indices[rect][~hidden], minlength=256) > 0
    assert np.array_equal(got.indices, indices[rect]) and got.indices.flags.c_contiguous
    assert np.array_equal(got.hidden, hidden) and np.array_equal(got.keep, keep)
    assert np.array_equal(got.used, used)
    assert got.all_opaque == bool(opaque[rect].all())
