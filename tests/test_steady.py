"""A steady camera's video: still parts drawn once, later frames' own palettes gathering colours on screen."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import gifsom
from gifsom.encoder import STEADY_SHARE, steady_mapper
from gifsom.mapping.converge import SteadyCameraMapper
from gifsom.mapping.stage import FrameMapper, MappingOptions
from gifsom.options import EncodeOptions, steady_knobs
from gifsom.palette.clip import ClipSurvey

from .conftest import FIXTURES, decode_gif


def _steady_clip(count: int = 8, noise: int = 2, seed: int = 3) -> list[np.ndarray]:
    """A still photo seen by a steady camera, sensor-like noise of +-``noise`` levels on every pixel of every
    frame, and a red box moving across it: 160x120."""
    rng = np.random.default_rng(seed)
    back = np.asarray(Image.open(FIXTURES / "photo.jpg").convert("RGB"))[40:160, 20:180].astype(np.int16)
    frames = []
    for step in range(count):
        frame = back.copy()
        frame[30:70, 10 + 12 * step:50 + 12 * step] = (200, 40, 40)
        frames.append(np.clip(frame + rng.integers(-noise, noise + 1, frame.shape), 0, 255).astype(np.uint8))
    return frames


def _pan(wide: np.ndarray, count: int, seed: int) -> list[np.ndarray]:
    """int16 (120, W, 3) ``wide`` under a pan of 3 pixels a frame, 160 wide, with noise of +-2 levels."""
    rng = np.random.default_rng(seed)
    return [np.clip(wide[:, 3 * step:3 * step + 160] + rng.integers(-2, 3, (120, 160, 3)), 0, 255).astype(np.uint8)
            for step in range(count)]


def _panned_clip(count: int = 8, seed: int = 3) -> list[np.ndarray]:
    """The same photo under a pan, with the same noise: a moving camera."""
    return _pan(np.asarray(Image.open(FIXTURES / "photo.jpg").convert("RGB"))[40:160].astype(np.int16), count, seed)


def _sky_pan(count: int = 8, seed: int = 3) -> list[np.ndarray]:
    """The pan over a plain sky above a strip of photo: most of the picture looks still, though the camera
    moves."""
    wide = np.asarray(Image.open(FIXTURES / "photo.jpg").convert("RGB"))[40:160].astype(np.int16)
    wide[:90] = (120, 160, 210)
    return _pan(wide, count, seed)


def _survey(frames: list[np.ndarray]) -> ClipSurvey:
    survey = ClipSurvey()
    for frame in frames:
        survey.add(frame)
    return survey


def _colours(pixels: np.ndarray) -> int:
    return len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0))


def test_a_steady_camera_is_told_from_a_moving_one():
    steady, panned = _survey(_steady_clip()), _survey(_panned_clip())
    assert steady.content == panned.content == "noisy"
    assert steady.steady_share >= STEADY_SHARE > panned.steady_share
    # stronger noise (+-5 levels: most pixels move by more than 4 from frame to frame) is still steady ...
    grainier = _survey(_steady_clip(noise=5))
    assert grainier.content == "noisy" and grainier.steady_share >= STEADY_SHARE
    # ... and a pan whose every frame comes twice (a doubled frame rate) still moves, as does a pan over a
    # plain sky, where only the textured strip shows the motion
    assert _survey([frame for frame in _panned_clip() for _ in range(2)]).steady_share < STEADY_SHARE
    assert _survey(_sky_pan()).steady_share < STEADY_SHARE
    assert _survey(_steady_clip()[:1]).steady_share == 0.0       # one frame: nothing stays or moves


def test_the_bound_grows_with_the_noise_where_the_picture_stays():
    noises = [_survey(_steady_clip(noise=noise)).still_noise for noise in (1, 3, 5)]
    assert 0 < noises[0] < noises[1] < noises[2]
    options = EncodeOptions(content="noisy")
    palette = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    bounds = [steady_mapper(palette, options, noise).bound for noise in noises]
    # a codec's noise leaves the quality's bound; stronger noise widens it, so noise alone redraws nothing
    assert bounds[0] == options.steady.bound < bounds[1] < bounds[2]


def test_a_steady_camera_leaves_the_pixels_the_screen_shows_well_enough(tmp_path, gif_decoders):
    frames = _steady_clip()
    out = tmp_path / "steady.gif"
    gifsom.encode(frames, out, fps=10)
    knobs = steady_knobs(90)
    bound = knobs.bound
    for name, decoder in gif_decoders.items():
        shown = [pixels[:, :, :3].astype(np.int32) for pixels, _ in decoder(out)]
        assert len(shown) == len(frames), name
        for before, after, source in zip(shown, shown[1:], frames[1:]):
            off = np.sqrt(((before - source) ** 2).sum(axis=2))
            # what the screen shows within the touch-up share of the bound stays; within the bound, a pixel
            # stays or comes nearer the new frame (a touch-up); the rest is drawn again
            near = off <= knobs.touch_up * bound
            assert np.array_equal(after[near], before[near]), name
            within = off <= bound
            assert (np.sqrt(((after - source) ** 2).sum(axis=2))[within] <= off[within]).all(), name
            changed = within & (after != before).any(axis=2)
            touched = knobs.touch_up_gain * ((after - source) ** 2).sum(axis=2)[changed]
            assert (touched < (off ** 2)[changed] + 1e-6).all(), name
            drawn = off > bound
            assert drawn.any(), name
            assert np.abs(after[drawn] - source[drawn]).mean() < np.abs(before[drawn] - source[drawn]).mean(), name
        # each later frame brings a palette of its own: the screen gathers more colours than one holds
        assert _colours(shown[0]) <= 256 < _colours(shown[2]) < _colours(shown[-1]), name


def test_a_steady_camera_costs_fewer_bytes_than_drawing_every_frame_whole(tmp_path):
    frames = _steady_clip()
    steady = gifsom.encode(frames, tmp_path / "steady.gif", fps=10)
    whole = gifsom.encode(frames, tmp_path / "whole.gif", fps=10, lossy=5)      # the camera path: a lossy given
    assert steady.bytes < 0.75 * whole.bytes

    def error(path) -> float:
        shown, _ = decode_gif(path)
        return float(np.mean([np.abs(s.astype(int) - f).mean() for s, f in zip(shown, frames)]))

    assert error(tmp_path / "steady.gif") < 1.15 * error(tmp_path / "whole.gif")


@pytest.mark.parametrize("given", [{"lossy": 5}, {"lossy": 0}, {"palette": "global"}, {"palette": "drift"},
                                   {"temporal": False}, {"motion_threshold": 3}])
def test_a_given_lossy_or_palette_draws_every_frame_with_one_palette(tmp_path, given):
    # the steady mapping comes with the quality's lossy LZW and palette, and keeps pixels by its own bound:
    # given ones, every frame mapped afresh, or a motion threshold, are kept as they are
    frames = _steady_clip(4)
    gifsom.encode(frames, tmp_path / "given.gif", fps=10, **given)
    shown, _ = decode_gif(tmp_path / "given.gif")
    assert all(_colours(pixels) <= 256 for pixels in shown)


def test_a_steady_camera_s_bytes_fall_as_quality_falls(tmp_path):
    frames = _steady_clip(6)
    sizes = [gifsom.encode(frames, tmp_path / f"q{quality}.gif", fps=10, quality=quality).bytes
             for quality in (100, 90, 70, 50, 20)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]


@pytest.mark.parametrize("quality", [50, 70])
def test_a_steady_camera_s_first_frame_keeps_a_full_palette_where_camera_video_gives_up_colours(tmp_path, quality):
    # below 80 camera video learns fewer colours, but a steady camera's first frame stays on screen for the
    # whole clip: it keeps a full palette, and the steady knobs set the later frames' colours
    frames = _steady_clip(3)
    assert EncodeOptions(quality=quality, content="noisy").palette_colors < 255
    gifsom.encode(frames, tmp_path / "low.gif", fps=10, quality=quality)
    shown, _ = decode_gif(tmp_path / "low.gif")
    assert _colours(shown[0]) > EncodeOptions(quality=quality, content="noisy").palette_colors
    assert _colours(shown[0]) > steady_knobs(quality).colors


@given(st.integers(1, 100), st.integers(1, 100))
def test_the_steady_knobs_never_get_better_looking_as_quality_falls(low, high):
    low, high = sorted((low, high))
    worse, better = steady_knobs(low), steady_knobs(high)
    # (the dither's strength is free: full strength is not the best looking at the top)
    assert worse.bound >= better.bound and worse.colors <= better.colors and worse.touch_up >= better.touch_up
    assert worse.touch_up_gain >= better.touch_up_gain >= 1
    assert worse.careful_palettes <= better.careful_palettes and steady_knobs(100).careful_palettes


@pytest.mark.parametrize("quality", [100, 90, 60])
def test_a_steady_camera_s_frames_learn_their_palettes_with_the_care_the_quality_asks(monkeypatch, quality):
    from gifsom import encoder
    from gifsom.palette import learn

    used = []

    def recording(pixels, options, start=None, quick=None):
        used.append(quick)
        return learn.palette_from_pixels(pixels, options, start, quick)

    monkeypatch.setattr(encoder, "palette_from_pixels", recording)
    rng = np.random.default_rng(quality)
    mapper = steady_mapper(_PALETTE, EncodeOptions(quality=quality), 0.0)
    # more colours than the exact path takes: the binned stages, and FRAME's left-out one, are run
    palette = mapper.learn(rng.integers(0, 256, (6000, 3), dtype=np.uint8), 255)
    assert len(palette) == 255 and used
    assert all(quick is (None if steady_knobs(quality).careful_palettes else learn.FRAME) for quick in used)


def test_given_colours_and_dither_strength_hold_in_a_steady_camera_s_video():
    options = EncodeOptions(colors=64, dither_strength=0.2)
    assert (options.steady.colors, options.steady.dither_strength) == (64, 0.2)
    assert options.steady.bound == steady_knobs(90).bound
    assert options.steady_mapping_options().strength == 0.2


_PALETTE = np.array([[0, 0, 0], [255, 255, 255], [200, 40, 40], [40, 120, 200], [128, 128, 128]], np.uint8)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["floyd-steinberg", "none", "bayer4"]))
def test_mapping_some_pixels_ignores_the_others(seed, dither):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    where = rng.random((24, 40)) < 0.4
    where[::5] = False                  # rows that map nothing are left whole
    mapper = FrameMapper(_PALETTE, MappingOptions(dither=dither, strength=0.75, temporal=False))
    mapped = mapper.map_where(pixels, where)
    assert not mapped[~where].any()
    # the pixels left out neither take nor pass on error: changing them changes nothing
    other = pixels.copy()
    other[~where] = rng.integers(0, 256, (int((~where).sum()), 3), dtype=np.uint8)
    assert np.array_equal(FrameMapper(_PALETTE, mapper.options).map_where(other, where), mapped)
    # every pixel at once is the frame mapped whole
    assert np.array_equal(FrameMapper(_PALETTE, mapper.options).map_where(pixels, np.ones((24, 40), bool)),
                          FrameMapper(_PALETTE, mapper.options).map(pixels))


def _activity(frame: np.ndarray) -> np.ndarray:
    """The RMS of luma about its mean over the 3 x 3 pixels around each pixel (those inside the frame)."""
    luma = frame.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    height, width = luma.shape
    result = np.empty((height, width))
    for y in range(height):
        for x in range(width):
            window = luma[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2]
            result[y, x] = np.sqrt(max((window * window).mean() - window.mean() ** 2, 0.0))
    return result


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 20), st.integers(1, 20), st.floats(0, 120),
       st.sampled_from([0.0, 0.3, 0.5, 1.0]), st.integers(1, 256), st.sampled_from([1.0, 2.0, 3.5]), st.booleans())
def test_the_redrawn_pixels_and_the_screen_after_them_agree_with_numpy(seed, height, width, bound, touch_up, size,
                                                                        gain, nearer_only):
    from gifsom.mapping._converge_cy import KEEP, MUST, TOUCH_UP, paint_drawn, select_redraw

    rng = np.random.default_rng(seed)
    shown = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    wanted = np.clip(shown + rng.integers(-40, 41, shown.shape), 0, 255).astype(np.uint8)
    wanted[: height // 2] = wanted[0, 0]                               # a flat part, and a busy one
    draw = np.full((height, width), 7, np.uint8)                       # every pixel is written
    drawn = np.zeros((height * width, 3), np.uint8)
    busy = 16.0
    count = select_redraw(shown, wanted, bound, touch_up, busy, draw, drawn)
    difference = shown.astype(np.int64) - wanted
    distance = np.sqrt((difference * difference).sum(axis=2))
    must = distance > bound
    share = np.minimum(touch_up + (1 - touch_up) * _activity(wanted) / busy, 1.0)
    may = ~must & (distance > share * bound) & (touch_up < 1)
    expected = np.where(must, MUST, np.where(may, TOUCH_UP, KEEP))
    # (the kernel compares squared distances: a pixel on the edge of the share may fall either way)
    edge = np.isclose(distance, share * bound, rtol=1e-9, atol=1e-9)
    assert np.array_equal(draw[~edge], expected[~edge])
    assert count == must.sum() and np.array_equal(drawn[:count], wanted[must])
    palette = rng.integers(0, 256, (size, 3), dtype=np.uint8)
    indices = rng.integers(0, size, (height, width), dtype=np.uint8)
    screen = shown.copy()
    marks = draw.copy()
    paint_drawn(screen, marks, indices, palette, wanted, gain, nearer_only)
    offered = (palette[indices].astype(np.int64) - wanted) ** 2
    before = (difference * difference).sum(axis=2)
    nearer = gain * offered.sum(axis=2) < before
    painted_where = ((draw == MUST) & (offered.sum(axis=2) < before if nearer_only else True)) \
        | ((draw == TOUCH_UP) & nearer)
    painted = shown.copy()
    painted[painted_where] = palette[indices[painted_where]]
    assert np.array_equal(screen, painted)
    assert np.array_equal(marks, np.where(painted_where, MUST, KEEP))


def test_a_frame_touches_up_pixels_within_the_bound_on_smooth_parts_only():
    from gifsom.mapping._converge_cy import KEEP, TOUCH_UP, select_redraw

    rng = np.random.default_rng(5)
    wanted = np.full((12, 24, 3), 90, np.uint8)
    wanted[:, 12:] = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)      # right half: busy texture
    shown = np.clip(wanted.astype(np.int16) + np.array([4, 3, 0]), 0, 255).astype(np.uint8)   # 5 off everywhere
    draw = np.zeros((12, 24), np.uint8)
    assert select_redraw(shown, wanted, 8.0, 0.5, 16.0, draw, np.zeros((12 * 24, 3), np.uint8)) == 0
    assert (draw[:, :11] == TOUCH_UP).all() and (draw[:, 13:] == KEEP).all()
    # with the share at 1, nothing within the bound is touched up
    select_redraw(shown, wanted, 8.0, 1.0, 16.0, draw, np.zeros((12 * 24, 3), np.uint8))
    assert (draw == KEEP).all()


def test_a_steady_camera_s_smooth_parts_come_nearer_their_source_with_touch_ups(tmp_path):
    from gifsom.encoder import frame_learner, learn_from

    # a smooth gradient under noise of +-3 levels and a moving box: the first palette leaves the gradient a few
    # levels off, within the bound
    rng = np.random.default_rng(2)
    ramp = np.linspace(40, 200, 160)
    back = np.stack([ramp, ramp * 0.8 + 20, ramp * 0.6 + 30], axis=-1)[None].repeat(120, axis=0)
    frames = []
    for step in range(10):
        frame = back.copy()
        frame[30:70, 10 + 12 * step:50 + 12 * step] = (200, 40, 40)
        frames.append(np.clip(frame + rng.integers(-3, 4, frame.shape), 0, 255).astype(np.uint8))
    options = EncodeOptions(content="noisy")
    first = learn_from(frames[0].reshape(-1, 3), None, options, 32, 32)   # a coarse first palette

    def still_error(touch_up: float) -> float:
        knobs = options.steady
        mapper = SteadyCameraMapper(first, options.steady_mapping_options(), frame_learner(options), knobs.bound,
                                    knobs.colors, touch_up)
        for number, frame in enumerate(frames):
            mapper.frame(frame, number * 10)
        assert mapper._shown is not None
        return float(np.abs(mapper._shown[80:].astype(int) - back[80:]).mean())   # below the box's path

    assert still_error(0.5) < 0.9 * still_error(1.0)


def test_a_steady_camera_redraws_a_pixel_only_where_it_comes_nearer_its_source():
    # a smooth gradient under noise, a coarse first palette, and a box moving across: every pixel a later
    # frame changes on screen must come nearer the frame's colour, and the moving box must still be drawn
    from gifsom.encoder import frame_learner, learn_from

    rng = np.random.default_rng(4)
    ramp = np.linspace(30, 220, 96)
    back = np.stack([ramp, ramp * 0.7 + 30, 200 - ramp * 0.5], axis=-1)[None].repeat(64, axis=0)
    options = EncodeOptions(content="noisy")
    frames = []
    for step in range(8):
        frame = back.copy()
        frame[20:44, 4 + 10 * step:28 + 10 * step] = (230, 200, 30)
        frames.append(np.clip(frame + rng.normal(0, 4, frame.shape), 0, 255).astype(np.uint8))
    first = learn_from(frames[0].reshape(-1, 3), None, options, 16, 16)
    mapper = SteadyCameraMapper(first, options.steady_mapping_options(), frame_learner(options), 6.0, 16)
    mapper.frame(frames[0], 0)
    for number, frame in enumerate(frames[1:], 1):
        assert mapper._shown is not None
        before = mapper._shown.astype(np.int64)
        mapper.frame(frame, number * 10)
        after = mapper._shown.astype(np.int64)
        changed = (before != after).any(axis=2)
        assert np.all(((after - frame) ** 2).sum(axis=2)[changed] < ((before - frame) ** 2).sum(axis=2)[changed])
    box = (slice(20, 44), slice(74, 98))
    assert np.abs(after[box] - frames[-1][box].astype(np.int64)).mean() < 16


def test_a_pixel_exactly_at_the_bound_is_left_and_one_beyond_it_redrawn():
    from gifsom.mapping._converge_cy import select_redraw

    shown = np.full((1, 2, 3), 100, np.uint8)
    wanted = (shown + np.array([[[3, 4, 0], [3, 4, 1]]])).astype(np.uint8)     # distances 5 and 5.1
    draw = np.zeros((1, 2), np.uint8)
    assert select_redraw(shown, wanted, 5.0, 1.0, 16.0, draw, np.zeros((2, 3), np.uint8)) == 1
    assert draw.tolist() == [[0, 1]]


def test_the_redraw_kernels_refuse_what_does_not_fit():
    from gifsom.mapping._converge_cy import paint_drawn, select_redraw

    frame = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(ValueError, match="select_redraw"):
        select_redraw(frame, frame, 1.0, 1.0, 16.0, np.zeros((4, 5), np.uint8), np.zeros((19, 3), np.uint8))
    with pytest.raises(ValueError, match="touch_up"):
        select_redraw(frame, frame, 1.0, 1.5, 16.0, np.zeros((4, 5), np.uint8), np.zeros((20, 3), np.uint8))
    with pytest.raises(ValueError, match="index 3 is outside a palette of 3"):
        paint_drawn(frame, np.ones((4, 5), np.uint8), np.full((4, 5), 3, np.uint8), np.zeros((3, 3), np.uint8),
                    frame)
    with pytest.raises(ValueError, match="paint_drawn"):
        paint_drawn(frame, np.ones((4, 5), np.uint8), np.zeros((4, 5), np.uint8), np.zeros((3, 3), np.uint8),
                    frame[:3])
    with pytest.raises(ValueError, match="gain"):
        paint_drawn(frame, np.ones((4, 5), np.uint8), np.zeros((4, 5), np.uint8), np.zeros((3, 3), np.uint8),
                    frame, 0.5)


def test_the_pages_a_steady_camera_s_palettes_handed_on_are_given_back_with_the_gif(tmp_path, monkeypatch):
    """Each frame's palette takes the scratch pages the last one gave back (gifsom.pages.ScratchPool); a
    program that has made its GIF must not keep them."""
    import gc

    from gifsom.pages import kept_scratch

    kept: list[int] = []
    real_redraw = SteadyCameraMapper._redraw

    def counting(self, *args):
        kept.append(kept_scratch())
        return real_redraw(self, *args)

    monkeypatch.setattr(SteadyCameraMapper, "_redraw", counting)
    gifsom.encode(_steady_clip(), tmp_path / "steady.gif", fps=10)
    gc.collect()
    assert max(kept) > 0                                   # the pools served the palettes
    assert kept_scratch() == 0


def _parses(monkeypatch) -> dict[str, int]:
    """Count the exact LZW parses run from here on: greedy and with lookahead."""
    from gifsom.gif import lzw

    counts = {"greedy": 0, "lookahead": 0}
    for name, kind in (("encode_greedy", "greedy"), ("encode_lookahead", "lookahead")):
        def counted(*args, _parse=getattr(lzw, name), _kind=kind):
            counts[_kind] += 1
            return _parse(*args)
        monkeypatch.setattr(lzw, name, counted)
    return counts


def test_a_steady_camera_s_frames_are_parsed_with_lookahead_alone(tmp_path, monkeypatch):
    """Camera video's dithered frames, written one way each, are parsed with lookahead only; smooth video, where
    greedy parsing sometimes wins, and any other clip are parsed both ways, keeping the smaller."""
    counts = _parses(monkeypatch)
    camera = gifsom.encode(_steady_clip(), tmp_path / "camera.gif", fps=10)
    assert counts == {"greedy": 0, "lookahead": camera.frames}
    counts.update(greedy=0, lookahead=0)
    smooth = gifsom.encode(_smooth_flickering_clip(), tmp_path / "smooth.gif", fps=10)
    assert counts["greedy"] >= smooth.frames and counts["lookahead"] == smooth.frames
    counts.update(greedy=0, lookahead=0)
    gifsom.encode(_steady_clip(), tmp_path / "lossless.gif", fps=10, palette="global", lossy=0)
    assert counts["greedy"] >= counts["lookahead"] > 0


def _smooth_flickering_clip(count: int = 8, seed: int = 6) -> list[np.ndarray]:
    """A smooth two-colour gradient whose pixels a codec's noise moves by a level here and there, under a
    small box moving across it: smooth pictures (little grain) that flicker as camera video does."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0, 1, 96)[:, None, None]
    sky = (np.array([40, 60, 150]) * (1 - rows) + np.array([230, 140, 60]) * rows).repeat(128, axis=1)
    frames = []
    for step in range(count):
        frame = sky + rng.integers(-1, 2, sky.shape) * (rng.random(sky.shape[:2]) < 0.15)[:, :, None]
        frame[40:56, 8 + 12 * step:24 + 12 * step] = (20, 20, 20)
        frames.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    return frames


def test_smooth_video_that_flickers_leaves_its_still_picture_to_the_screen(tmp_path):
    from gifsom.encoder import flickers_smoothly, new_survey, steadies

    frames = _smooth_flickering_clip()
    options = EncodeOptions()
    survey = new_survey(options)
    for frame in frames:
        survey.add(frame)
    clip_options = options.for_clip(survey.content)
    assert survey.content == "clean" and flickers_smoothly(clip_options, survey)
    assert steadies(clip_options, survey, None, 3)
    gifsom.encode(frames, tmp_path / "sky.gif", fps=10)
    shown, _ = decode_gif(tmp_path / "sky.gif")
    assert len(shown) == len(frames)
    # the sky away from the box's path: drawn by the first frame, never again, and within the bound of each frame
    still = np.ones((96, 128), bool)
    still[36:60] = False
    for number in range(1, len(frames)):
        assert np.array_equal(shown[number][still], shown[0][still])
        error = np.sqrt(((shown[number].astype(float) - frames[number]) ** 2).sum(axis=2))
        assert error[still].max() <= steady_knobs(90).bound


def test_smooth_video_that_flickers_keeps_its_pixels_near_the_picture_at_low_quality(tmp_path):
    # the sky darkens by 3 levels a frame: a camera's bound at quality 50 (30) would leave it standing further off
    from gifsom.encoder import SMOOTH_STEADY_BOUND

    frames = [np.clip(frame.astype(int) - 3 * number, 0, 255).astype(np.uint8)
              for number, frame in enumerate(_smooth_flickering_clip(count=10))]
    assert steady_knobs(50).bound > SMOOTH_STEADY_BOUND + 10
    gifsom.encode(frames, tmp_path / "dusk.gif", fps=10, quality=50)
    shown, _ = decode_gif(tmp_path / "dusk.gif")
    assert len(shown) == len(frames)
    kept_shares = []
    for number in range(1, len(frames)):
        kept = (shown[number] == shown[number - 1]).all(axis=2)
        error = np.sqrt(((shown[number].astype(float) - frames[number]) ** 2).sum(axis=2))
        assert error[kept].max(initial=0.0) <= SMOOTH_STEADY_BOUND
        kept_shares.append(kept.mean())
    assert np.median(kept_shares) > 0.8         # still left to the screen between redraws


def _textured_steady_clip(count: int = 12, seed: int = 3) -> list[np.ndarray]:
    """A still, softly textured picture (3 x 3 luma RMS of some 4 to 14 levels) under a camera's noise, with a
    dark box moving across it."""
    rng = np.random.default_rng(seed)
    texture = rng.normal(0.0, 1.0, (100, 132, 3))
    for _ in range(3):                                              # soften: a 3 x 3 mean, three times
        texture = sum(texture[dy:dy + texture.shape[0] - 2, dx:dx + texture.shape[1] - 2]
                      for dy in range(3) for dx in range(3)) / 9.0
    picture = 128 + texture[:96, :128] / texture.std() * 30
    frames = []
    for step in range(count):
        frame = picture + rng.normal(0.0, 2.5, picture.shape)
        frame[40:56, 8 + 8 * step:24 + 8 * step] = (20, 20, 20)
        frames.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    return frames


def test_touch_ups_bring_a_steady_cameras_textured_parts_nearer_the_picture(tmp_path, monkeypatch):
    # FLIP sees the error busy parts keep within the bound: they are touched up too, not only smooth parts
    import gifsom.mapping.converge as converge

    frames = _textured_steady_clip()
    busiest = converge.TOUCH_UP_BUSY
    errors = {}
    for busy in (busiest, 16.0):                                    # 16: touch-ups on smooth parts only
        monkeypatch.setattr(converge, "TOUCH_UP_BUSY", busy)
        gifsom.encode(frames, tmp_path / "texture.gif", fps=10)
        shown, _ = decode_gif(tmp_path / "texture.gif")
        assert len(shown) == len(frames)
        errors[busy] = [np.sqrt(((on_screen.astype(float) - frame) ** 2).sum(axis=2)).mean()
                        for on_screen, frame in zip(shown, frames)]
    ours, smooth_only = errors[busiest], errors[16.0]
    assert ours[-1] < ours[0] and ours[-1] < smooth_only[-1] - 0.1


def _reference_still_means(frames: list[np.ndarray], bound: float, window: int) -> list[np.ndarray]:
    """Each pixel's mean over the frames from its own on while it stays within ``bound`` of its colour there
    (at most ``window`` of them), rounded half up: written plainly, one pixel at a time."""
    means = []
    for number, frame in enumerate(frames):
        mean = np.empty_like(frame)
        for y, x in np.ndindex(frame.shape[:2]):
            run = [frame[y, x].astype(int)]
            for later in frames[number + 1:number + window]:
                if np.sqrt(((later[y, x].astype(int) - run[0]) ** 2).sum()) > bound:
                    break
                run.append(later[y, x].astype(int))
            mean[y, x] = (2 * np.sum(run, axis=0) + len(run)) // (2 * len(run))
        means.append(mean)
    return means


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 20), st.integers(1, 17), st.floats(0.0, 30.0), st.integers(0, 2 ** 32 - 1))
def test_still_means_are_each_pixels_mean_over_the_frames_it_stays_in(count, window, bound, seed):
    from gifsom.mapping.still_mean import still_means

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (5, 4, 3))
    # pixels that flicker by a few levels, and now and then jump far (something passes)
    frames = [np.clip(base + rng.integers(-6, 7, base.shape) + 120 * (rng.random((5, 4, 1)) < 0.2), 0, 255)
              .astype(np.uint8) for _ in range(count)]
    got = list(still_means(iter(frames), bound, window))
    want = _reference_still_means(frames, bound, window)
    assert len(got) == count
    for mean, expected in zip(got, want):
        assert np.array_equal(mean, expected)


def test_still_means_keep_to_the_bytes_they_may_hold(monkeypatch):
    # large frames shorten the window: here to two frames, so a pixel's mean runs over at most the next one
    import gifsom.mapping.still_mean as still_mean

    frames = [np.full((4, 4, 3), level, np.uint8) for level in (10, 12, 14, 16)]
    monkeypatch.setattr(still_mean, "STILL_MEAN_BYTES", 2 * frames[0].nbytes)
    got = [int(mean[0, 0, 0]) for mean in still_mean.still_means(frames, 10.0, 16)]
    assert got == [11, 13, 15, 16]


def test_smooth_video_that_flickers_shows_its_still_picture_without_the_flicker(tmp_path, monkeypatch):
    # the sky the first frame leaves on screen lies nearer each later frame than the first frame itself does
    import gifsom.encoder as encoder
    from gifsom.mapping.still_mean import still_means

    frames = _smooth_flickering_clip(count=10, seed=8)
    noisy = [frame.astype(np.int16) for frame in frames]
    sky = np.ones((96, 128), bool)
    sky[36:60] = False

    def sky_error(path) -> float:
        """The mean RGB distance of the still sky on screen from each later frame's."""
        shown, _ = decode_gif(path)
        assert len(shown) == len(frames)
        return float(np.mean([np.sqrt(((shown[n].astype(float) - noisy[n]) ** 2).sum(axis=2))[sky].mean()
                              for n in range(1, len(frames))]))

    gifsom.encode(frames, tmp_path / "means.gif", fps=10)
    monkeypatch.setattr(encoder, "still_means", lambda frames, bound: still_means(frames, bound, 1))
    gifsom.encode(frames, tmp_path / "first.gif", fps=10)
    assert sky_error(tmp_path / "means.gif") < sky_error(tmp_path / "first.gif") - 0.05


def test_a_steady_camera_s_first_palette_is_learned_while_the_clip_is_read(tmp_path, monkeypatch):
    """The first frame's palette is learned, and the first frame mapped to it, on a thread of its own as the
    clip arrives, and the GIF is the one doing both after the clip is read gives."""
    import threading

    from gifsom import encoder
    from gifsom.mapping.stage import FrameMapper

    frames = _steady_clip(count=6)
    real_learn, real_map, learned_on, mapped_on = encoder.first_frame_palette, FrameMapper.map, [], []

    def learning(*args, **kwargs):
        learned_on.append(threading.current_thread().name)
        return real_learn(*args, **kwargs)

    def mapping(*args, **kwargs):
        mapped_on.append(threading.current_thread().name)
        return real_map(*args, **kwargs)

    monkeypatch.setattr(encoder, "first_frame_palette", learning)
    monkeypatch.setattr(FrameMapper, "map", mapping)        # only first frames are mapped whole
    gifsom.encode(frames, tmp_path / "ahead.gif", fps=10)
    assert learned_on and all(name.startswith("gifsom-first-palette") for name in learned_on)
    assert mapped_on and all(name.startswith("gifsom-first-palette") for name in mapped_on)
    learned_on.clear()
    mapped_on.clear()
    monkeypatch.setattr(encoder, "FIRST_AHEAD_PIXELS", 0)
    gifsom.encode(frames, tmp_path / "after.gif", fps=10)
    assert learned_on == [threading.current_thread().name]
    assert len(mapped_on) == 1 and not mapped_on[0].startswith("gifsom-first-palette")
    assert (tmp_path / "ahead.gif").read_bytes() == (tmp_path / "after.gif").read_bytes()


@pytest.mark.parametrize("clip", ["panned", "steady", "flickering"])
def test_a_first_palette_is_learned_ahead_only_where_the_first_frames_may_show_a_steady_camera(tmp_path, monkeypatch,
                                                                                            clip):
    """Three frames into a clip, camera video whose textured places move (a pan) is no steady camera's: its
    first palette, work for nothing there, is not learned ahead. A steady camera's is, and so is that of
    smooth video that flickers (a steady camera's too, though its first frames look flat). The GIF is the
    same either way."""
    import threading

    from gifsom import encoder

    frames = {"panned": _panned_clip, "steady": _steady_clip, "flickering": _smooth_flickering_clip}[clip]()
    real_learn, learned_on = encoder.first_frame_palette, []

    def learning(*args, **kwargs):
        learned_on.append(threading.current_thread().name)
        return real_learn(*args, **kwargs)

    monkeypatch.setattr(encoder, "first_frame_palette", learning)
    gifsom.encode(frames, tmp_path / "judged.gif", fps=10)
    ahead = any(name.startswith("gifsom-first-palette") for name in learned_on)
    assert ahead == (clip != "panned")
    monkeypatch.setattr(encoder, "FIRST_AHEAD_PIXELS", 0)            # never ahead
    gifsom.encode(frames, tmp_path / "after.gif", fps=10)
    assert (tmp_path / "judged.gif").read_bytes() == (tmp_path / "after.gif").read_bytes()


def test_a_first_palette_learned_ahead_serves_only_its_frame_and_options():
    from gifsom.encoder import FirstPaletteAhead, first_frame_palette
    from gifsom.mapping.stage import FrameMapper

    frames = _steady_clip(count=2)
    ahead = FirstPaletteAhead(EncodeOptions())
    ahead.start(frames[0])
    palette = ahead.palette(frames[0], EncodeOptions(quality=60))      # the quality leaves the first palette
    assert palette is not None and np.array_equal(palette, first_frame_palette(frames[0], EncodeOptions()))
    assert ahead.palette(frames[1], EncodeOptions()) is None
    assert ahead.palette(frames[0], EncodeOptions(colors=64)) is None
    assert ahead.palette(frames[0], EncodeOptions(), animated=False) is None     # one frame keeps no slot free
    drawn = ahead.indices(EncodeOptions())
    assert drawn is not None and np.array_equal(drawn[0], frames[0])
    expected = FrameMapper(palette, EncodeOptions().steady_mapping_options()).map(frames[0])
    assert np.array_equal(drawn[1], expected)
    assert ahead.indices(EncodeOptions(dither="none")) is None                 # mapped otherwise
    transparent = FirstPaletteAhead(EncodeOptions())
    transparent.start(np.dstack([frames[0], np.full(frames[0].shape[:2], 255, np.uint8)]))
    assert transparent.palette(frames[0], EncodeOptions()) is None
    lossy = FirstPaletteAhead(EncodeOptions(lossy=10))          # a clip never mapped as a steady camera's
    lossy.start(frames[0])
    assert lossy.palette(frames[0], EncodeOptions(lossy=10)) is None
