"""Encoding while frames arrive (``live=True``, what ``gifsom record`` does): the GIF must show what the
batch encoder's does, in every decoder, with new palettes where the picture needs them."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from hypothesis import HealthCheck, given, settings, strategies as st

import gifsom
from gifsom.cli import main
from gifsom.gif.reader import GifReader
from gifsom.live import WARM_UP_FRAMES, LiveEncoder
from gifsom.spool import FrameSpool

from . import decoders
from .conftest import FIXTURES, decode_gif, psnr


def _encode(frames, path, *, live: bool, fps: float = 10, **options) -> gifsom.GifWriter:
    writer = gifsom.GifWriter(path, fps=fps, live=live, **options)
    with writer:
        for frame in frames:
            writer.append(frame)
    return writer


def _source_timeline(path, frame_ms: int) -> list[np.ndarray]:
    """The GIF's pictures once for each source frame of ``frame_ms`` they cover (a frame that drew nothing
    new is merged into the one before, which then lasts longer)."""
    shown, durations = decode_gif(path)
    return [pixels for pixels, duration in zip(shown, durations) for _ in range(round(duration / frame_ms))]


def _local_tables(path) -> int:
    return GifReader(path.read_bytes(), str(path)).local_table_count


def _colours_arriving(count: int = 40, size: tuple[int, int] = (48, 40)) -> list[np.ndarray]:
    """Flat UI frames: a bar moves over a background, and from frame 12 on each frame adds a square in a colour
    never seen before (so the warm-up cannot have seen every colour)."""
    height, width = size
    frames = []
    picture = np.full((height, width, 3), (240, 240, 235), np.uint8)
    for number in range(count):
        picture = picture.copy()
        picture[30:34, :] = (240, 240, 235)
        picture[30:34, number % (width - 6): number % (width - 6) + 6] = (30, 90, 200)
        if number >= 12:
            spot = number - 12
            picture[(spot // 8) * 4:(spot // 8) * 4 + 3, (spot % 8) * 5:(spot % 8) * 5 + 4] = \
                (10 + 8 * spot, 250 - 7 * spot, (50 * spot) % 256)
        frames.append(picture)
    return frames


def _gradient(width: int, height: int, left: tuple, right: tuple, shift: float = 0.0) -> np.ndarray:
    t = (np.linspace(0.0, 1.0, width)[None, :, None] + shift) % 1.0
    row = np.array(left, float) * (1 - t) + np.array(right, float) * t
    y = np.linspace(0.8, 1.0, height)[:, None, None]
    return np.clip(np.rint(row * y), 0, 255).astype(np.uint8)


def test_new_colours_grow_the_global_palette_and_every_decoder_shows_them_exactly(tmp_path, gif_decoders):
    frames = _colours_arriving()
    path = tmp_path / "live.gif"
    writer = _encode(frames, path, live=True)
    assert writer.live
    assert _local_tables(path) == 0           # the colours that came late joined the global table
    want = decoders.timeline([(np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]), 10) for f in frames])
    for name, decode in gif_decoders.items():
        shown = decoders.timeline(decode(path))
        assert len(shown) == len(want), name
        for number, ((got, _), (wanted, _)) in enumerate(zip(shown, want)):
            assert np.array_equal(got, wanted), f"{name} shows picture {number} wrongly"


def test_transparent_clip_shows_the_same_as_after_the_take(tmp_path, gif_decoders):
    frames = []
    for number in range(30):
        frame = np.zeros((36, 44, 4), np.uint8)
        frame[..., :3] = (20 + 6 * number, 120, 200 - 5 * number)      # a new colour in each frame
        frame[..., 3] = 255
        frame[5:15, number % 30:number % 30 + 12, 3] = 0                 # a transparent hole that moves
        frames.append(frame)
    path = tmp_path / "live.gif"
    _encode(frames, path, live=True)
    want = decoders.timeline([(f, 10) for f in frames])
    for name, decode in gif_decoders.items():
        shown = decoders.timeline(decode(path))
        assert len(shown) == len(want), name
        for (got, _), (wanted, _) in zip(shown, want):
            assert np.array_equal(got[..., 3], wanted[..., 3]), f"{name}: transparency differs"
            assert np.abs(got[..., :3].astype(int) - wanted[..., :3]).max() <= 8, name


def test_a_cut_starts_a_new_palette(tmp_path):
    warm = [_gradient(64, 48, (250, 40, 20), (250, 220, 60), shift=0.01 * n) for n in range(15)]
    cold = [_gradient(64, 48, (10, 40, 200), (20, 220, 160), shift=0.01 * n) for n in range(15)]
    frames = warm + cold
    live_path, batch_path = tmp_path / "live.gif", tmp_path / "batch.gif"
    _encode(frames, live_path, live=True)
    _encode(frames, batch_path, live=False)
    assert _local_tables(live_path) >= 1
    live_shown, batch_shown = _source_timeline(live_path, 100), _source_timeline(batch_path, 100)
    assert len(live_shown) == len(batch_shown) == len(frames)
    # after the cut, as close to the source as the batch encoder's GIF, over the frames together (lossy LZW
    # against the source moves single frames by more than a decibel either way)
    cold_source = np.concatenate(cold)
    live_psnr = psnr(np.concatenate(live_shown[15:]), cold_source)
    assert live_psnr >= psnr(np.concatenate(batch_shown[15:]), cold_source) - 1.0


def test_a_picture_that_drifts_away_from_its_palette_gets_a_new_one(tmp_path):
    # a slow fade from warm to cold colours: no frame is a cut, but the last ones share no colour with the first
    frames = []
    for number in range(60):
        t = number / 59
        left = tuple(int(a * (1 - t) + b * t) for a, b in zip((250, 60, 20), (10, 60, 220)))
        right = tuple(int(a * (1 - t) + b * t) for a, b in zip((250, 230, 90), (30, 230, 170)))
        frames.append(_gradient(64, 48, left, right))
    path = tmp_path / "live.gif"
    _encode(frames, path, live=True, palette="scene")
    shown, _ = decode_gif(path)
    assert _local_tables(path) >= 1
    assert min(psnr(a, b) for a, b in zip(shown, frames)) > 30


def test_quality_100_gives_each_frame_of_a_changing_clip_its_own_palette(tmp_path):
    rng = np.random.default_rng(3)
    frames = [np.clip(_gradient(40, 32, (200, 60, 30), (40, 90, 220), 0.03 * n).astype(int)
                      + rng.integers(-6, 7, (32, 40, 3)), 0, 255).astype(np.uint8) for n in range(25)]
    path = tmp_path / "live.gif"
    _encode(frames, path, live=True, quality=100)
    assert _local_tables(path) == len(frames)
    shown, _ = decode_gif(path)
    assert min(psnr(a, b) for a, b in zip(shown, frames)) > 30


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(1, WARM_UP_FRAMES - 1), seed=st.integers(0, 2 ** 16), quality=st.sampled_from([60, 90, 100]))
def test_a_clip_that_ends_within_the_warm_up_is_the_batch_gif(tmp_path, count, seed, quality):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    frames = [np.roll(base, shift, axis=1) for shift in range(count)]
    live_path, batch_path = tmp_path / "live.gif", tmp_path / "batch.gif"
    _encode(frames, live_path, live=True, quality=quality)
    _encode(frames, batch_path, live=False, quality=quality)
    assert live_path.read_bytes() == batch_path.read_bytes()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(1, 80), st.booleans()), min_size=12, max_size=30),
       max_idle=st.sampled_from([None, 0.05, 0.3]), hold_last=st.sampled_from([None, 0.5]))
def test_timing_edits_as_frames_arrive_match_the_edits_after_the_take(tmp_path, steps, max_idle, hold_last):
    """Each step: centiseconds until the frame, and whether the picture changes."""
    frames, times, clock, picture = [], [], 0.0, 0
    for centiseconds, changes in steps:
        picture += changes
        frame = np.full((8, 10, 3), 40, np.uint8)
        frame[picture % 8, :] = (200, 30, 30)
        frames.append(frame)
        times.append(clock)
        clock += centiseconds / 100
    edits = gifsom.TimelineEdits(max_idle=max_idle, hold_last=hold_last)
    shown = {}
    for live in (False, True):
        path = tmp_path / f"{live}.gif"
        with gifsom.GifWriter(path, live=live, edits=edits) as writer:
            for frame, pts in zip(frames, times):
                writer.append(frame, pts)
        shown[live] = decoders.timeline(decoders.pillow(path))
    assert len(shown[True]) == len(shown[False])
    for (a, delay_a), (b, delay_b) in zip(shown[True], shown[False]):
        assert np.array_equal(a, b) and delay_a == delay_b


def test_the_gif_does_not_depend_on_when_frames_arrive(tmp_path):
    """The writer's encoder races the frames in; an encoder that is told of every frame at once must agree."""
    frames = _colours_arriving(30) + [_gradient(40, 48, (200, 30, 30), (30, 30, 200), 0.02 * n) for n in range(20)]
    raced = tmp_path / "raced.gif"
    _encode(frames, raced, live=True)
    spool = FrameSpool(40, 48, 3)
    for number, frame in enumerate(frames):
        spool.append(frame, number / 10)
    with open(tmp_path / "at_once.gif", "wb") as out:
        encoder = LiveEncoder(out, spool, gifsom.EncodeOptions())
        encoder.frames_spooled(len(frames))
        encoder.finish(len(frames) / 10)
    assert (tmp_path / "at_once.gif").read_bytes() == raced.read_bytes()


@pytest.mark.parametrize("fields", [dict(edits=gifsom.TimelineEdits(reverse=True)),
                                    dict(edits=gifsom.TimelineEdits(boomerang=True)),
                                    dict(palette="global"), dict(max_size=1_000_000)])
def test_what_needs_the_whole_clip_is_encoded_after_it(tmp_path, fields):
    frames = _colours_arriving(20)
    writer = _encode(frames, tmp_path / "a.gif", live=True, **fields)
    _encode(frames, tmp_path / "b.gif", live=False, **fields)
    assert not writer.live
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()


@pytest.mark.parametrize("how", ["raises", "cancels"])
def test_a_live_writer_that_stops_early_leaves_no_file(tmp_path, how):
    path = tmp_path / "kept.gif"
    path.write_bytes(b"an older GIF")
    frames = _colours_arriving(30)

    def progress(done, _total):
        return not (how == "cancels" and done == 25)
    with pytest.raises((RuntimeError, gifsom.errors.Cancelled)):
        with gifsom.GifWriter(path, fps=10, live=True, progress=progress) as writer:
            for number, frame in enumerate(frames):
                if how == "raises" and number == 25:
                    raise RuntimeError("the caller failed")
                writer.append(frame)
    assert path.read_bytes() == b"an older GIF"
    assert sorted(os.listdir(tmp_path)) == ["kept.gif"]


def test_convert_live_flag_looks_as_good_as_after_the_take(tmp_path):
    out = tmp_path / "live.gif"
    assert main("convert", str(FIXTURES / "screen"), str(out), "--live", "-q") == 0
    batch = tmp_path / "batch.gif"
    assert main("convert", str(FIXTURES / "screen"), str(batch), "-q") == 0
    source = [np.asarray(Image.open(p).convert("RGB")) for p in sorted((FIXTURES / "screen").glob("*.png"))]
    live_frames, live_delays = decode_gif(out)
    batch_frames, batch_delays = decode_gif(batch)
    assert live_delays == batch_delays
    assert len(live_frames) == len(source)
    live_psnr = np.mean([psnr(a, b) for a, b in zip(live_frames, source)])
    assert live_psnr >= np.mean([psnr(a, b) for a, b in zip(batch_frames, source)]) - 0.3


@pytest.mark.parametrize("quality", [50, 90, 100])
def test_live_looks_as_good_as_after_the_input_at_each_quality(tmp_path, quality):
    """Lossy LZW (50), plain mapping (90) and dither with palettes per frame (100), on a clip that pans
    across a gradient with noise (so that no palette is exact)."""
    rng = np.random.default_rng(5)
    base = _gradient(120, 40, (230, 80, 30), (30, 120, 230)).astype(int)
    frames = [np.clip(np.roll(base, 3 * n, axis=1) + rng.integers(-4, 5, base.shape), 0, 255).astype(np.uint8)
              for n in range(30)]
    scores = {}
    for live in (False, True):
        path = tmp_path / f"{live}.gif"
        _encode(frames, path, live=live, quality=quality)
        shown, _ = decode_gif(path)
        assert len(shown) == len(frames)
        scores[live] = np.mean([psnr(a, b) for a, b in zip(shown, frames)])
    assert scores[True] >= scores[False] - 1.0
