"""The quality knob (``--quality 1..100``) and the perceptual score that judges what people see."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from PIL import Image
from hypothesis import strategies as st

import gifsom
from gifsom import EncodeOptions, cli
from gifsom.errors import OptionValueError
from gifsom.mapping.stage import FrameMapper, MappingOptions
from gifsom.options import (CONTENT_KINDS, DEFAULT_QUALITY, FRAME_PALETTES_FROM, LOWEST_KNOB_LOSSY, MAX_KNOB_LOSSY,
                            knobs_for_quality)
from gifsom.perceptual import error_features, perceived_score

from .conftest import FIXTURES, decode_gif, psnr


def _ramp(width: int = 256, height: int = 48) -> np.ndarray:
    """A smooth horizontal gradient, dark blue to light orange: where a small palette bands."""
    t = np.linspace(0, 1, width)[None, :, None]
    start, end = np.array([20, 30, 90]), np.array([240, 180, 120])
    return np.repeat(np.rint(start + (end - start) * t).astype(np.uint8), height, axis=0)


@given(st.integers(1, 99), st.sampled_from(CONTENT_KINDS))
def test_the_knob_never_gets_worse_looking_as_quality_rises(quality, content):
    lower, higher = knobs_for_quality(quality, content), knobs_for_quality(quality + 1, content)
    assert higher.lossy <= lower.lossy
    assert higher.dither_strength >= lower.dither_strength
    assert higher.colors >= lower.colors
    assert 0 <= lower.lossy <= (MAX_KNOB_LOSSY if quality >= 50 else LOWEST_KNOB_LOSSY)


def test_the_default_quality_is_what_options_use():
    options = EncodeOptions()
    assert options.knobs == knobs_for_quality(DEFAULT_QUALITY)
    assert options.lossy_level == options.knobs.lossy and options.dither_mode == options.knobs.dither


def _noisy_clip(noise: int, count: int = 6, seed: int = 5) -> list[np.ndarray]:
    """A smooth gradient panned a pixel a frame, with sensor-like noise of +-``noise`` levels (0: none)."""
    rng = np.random.default_rng(seed)
    wide = _ramp(width=320, height=64)
    frames = []
    for step in range(count):
        frame = wide[:, step:step + 240].astype(np.int16)
        if noise:
            frame = frame + rng.integers(-noise, noise + 1, frame.shape)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


def _photo_with_a_moving_box(count: int = 6) -> list[np.ndarray]:
    """A still photo (texture, no noise from frame to frame) with a red box moving over it."""
    photo = np.asarray(Image.open(FIXTURES / "photo.jpg").convert("RGB"))[50:250, :300]
    frames = []
    for step in range(count):
        frame = photo.copy()
        frame[20:60, 20 + 10 * step:60 + 10 * step] = (200, 30, 30)
        frames.append(frame)
    return frames


#: Clips of each kind of content: a clean gradient panned (flat: it flickers, but has no grain), a photo
#: with a box moving over it (clean), the gradient with sensor-like noise (noisy).
_CLIPS = {"flat": lambda: _noisy_clip(0), "clean": _photo_with_a_moving_box, "noisy": lambda: _noisy_clip(3)}


def test_the_survey_tells_flat_pictures_texture_and_camera_noise_apart():
    from gifsom.palette.clip import ClipSurvey

    judged = {}
    for kind, make in _CLIPS.items():
        survey = ClipSurvey()
        for frame in make():
            survey.add(frame)
        judged[kind] = survey.content
    assert judged == {"flat": "flat", "clean": "clean", "noisy": "noisy"}


@pytest.mark.parametrize("kind", CONTENT_KINDS)
@pytest.mark.parametrize("quality", [90, 70])
def test_the_default_is_the_quality_s_settings_for_the_clip_s_content(tmp_path, kind, quality):
    # what the quality sets depends on the clip: the GIF is the one with those settings spelled out
    frames = _CLIPS[kind]()
    knobs = knobs_for_quality(quality, kind)
    spelled_out = {"dither": knobs.dither, "dither_strength": knobs.dither_strength, "lossy": knobs.lossy,
                   "colors": knobs.colors}
    judged = gifsom.encode(frames, tmp_path / "judged.gif", fps=10, quality=quality)
    given = gifsom.encode(frames, tmp_path / "given.gif", fps=10, quality=quality, **spelled_out)
    assert (tmp_path / "judged.gif").read_bytes() == (tmp_path / "given.gif").read_bytes()
    assert given.bytes == judged.bytes
    others = {gifsom.encode(frames, tmp_path / f"{other}.gif", fps=10, quality=quality, content=other).bytes
              for other in CONTENT_KINDS if knobs_for_quality(quality, other) != knobs}
    assert judged.bytes not in others              # the judgement changes the GIF


def test_flat_pictures_lose_colours_not_exactness_as_quality_falls():
    assert [knobs_for_quality(q, "flat").colors for q in (100, 90, 80, 50)] == [256, 256, 64, 16]
    assert {knobs_for_quality(q, "noisy").colors for q in range(80, 101)} == {256}
    assert EncodeOptions(quality=80, content="flat").palette_colors == 64
    assert EncodeOptions(quality=80, content="flat", colors=200).palette_colors == 200    # given wins


def test_camera_video_loses_colours_before_its_texture_smears_at_the_low_end():
    # lossy LZW beyond about 25 smears texture (the held-out cat photo scored SSIMULACRA 2 -7.95 at lossy 40):
    # below 80 camera video also gives up colours, and from 50 up stays within that lossy
    for quality in range(50, 80):
        knobs = knobs_for_quality(quality, "noisy")
        assert knobs.colors < 256 and knobs.lossy <= 25
    assert knobs_for_quality(1, "noisy").colors < knobs_for_quality(50, "noisy").colors


def test_an_unknown_content_kind_is_refused_by_name():
    with pytest.raises(OptionValueError, match=r"content='photo' is not a kind of content; use one of flat"):
        EncodeOptions(content="photo")


def test_given_dither_lossy_and_palette_win_over_the_quality():
    options = EncodeOptions(quality=20, lossy=0, dither="bayer4")
    assert (options.lossy_level, options.dither_mode, options.dither_level) == (0, "bayer4", 1.0)
    assert EncodeOptions(quality=100).palette_scope == "frame"
    assert EncodeOptions(quality=100, palette="global").palette_scope == "global"


def test_bytes_fall_as_quality_falls(tmp_path):
    frames = [frame.pixels for frame in gifsom.read_frames(FIXTURES / "pan.mp4", size=(160, 0))][:24]
    sizes = [gifsom.encode(frames, tmp_path / f"q{q}.gif", fps=12, quality=q).bytes for q in (100, 90, 70, 50, 20)]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-1] < 0.8 * sizes[1]          # the knob does something


@pytest.mark.parametrize("quality", [0, 101])
def test_quality_out_of_range_is_refused_by_name(quality):
    with pytest.raises(OptionValueError, match=r"quality=\d+ is out of range; use 1 \(smallest\) to 100"):
        EncodeOptions(quality=quality)


def test_the_old_sampling_factor_meaning_is_refused_with_the_new_name():
    with pytest.raises(OptionValueError, match="sample_factor"):
        EncodeOptions(refine=False, quality=10)
    assert EncodeOptions(refine=False, sample_factor=10).sample_factor == 10


def test_command_line_names_the_new_flag_for_the_old_quality(tmp_path, capsys):
    out = tmp_path / "a.gif"
    assert cli.main("convert", str(FIXTURES / "pan.mp4"), str(out), "--no-refine", "--quality", "10") == 2
    said = capsys.readouterr().err.strip()
    assert "--quality 10" in said and "--sample-factor" in said and len(said.splitlines()) == 1
    assert not out.exists()
    assert cli.main("palette", str(FIXTURES / "photo.jpg"), "--quality", "5") == 2
    assert "use --sample-factor 5" in capsys.readouterr().err


def test_identical_pictures_score_100():
    picture = _ramp()
    assert perceived_score([picture], [picture]) == pytest.approx(100.0)
    assert not error_features(picture, picture).any()


@given(st.integers(1, 40), st.integers(0, 2 ** 16))
def test_more_noise_never_scores_better(amplitude, seed):
    rng = np.random.default_rng(seed)
    picture = _ramp(96, 32)
    noise = rng.standard_normal(picture.shape)
    mild = np.clip(picture + noise * amplitude, 0, 255).astype(np.uint8)
    strong = np.clip(picture + noise * amplitude * 2, 0, 255).astype(np.uint8)
    assert perceived_score([picture], [strong]) <= perceived_score([picture], [mild]) < 100


def test_the_score_sees_banding_that_psnr_prefers():
    """A gradient in eight colours: banded (each pixel's nearest colour) against dithered. PSNR
    rewards the flat bands; the perceptual score, as SSIMULACRA 2, prefers the dither."""
    ramp = _ramp()
    palette = np.rint(np.linspace(ramp[0, 0], ramp[0, -1], 8)).astype(np.uint8)
    banded = palette[FrameMapper(palette, MappingOptions()).map(ramp)]
    dithered = palette[FrameMapper(palette, MappingOptions(dither="floyd-steinberg")).map(ramp)]
    assert psnr(banded, ramp) > psnr(dithered, ramp)
    assert perceived_score([ramp], [dithered]) > perceived_score([ramp], [banded])


@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 3), st.integers(0, 2 ** 16))
def test_the_score_measures_only_what_it_weighs_and_measures_that_alike(height, width, radius, seed):
    """Leaving out the structure errors, or channels, changes none of the errors still measured."""
    from gifsom._perceptual_cy import window_errors

    rng = np.random.default_rng(seed)
    a, b = (rng.random((height, width, 3), dtype=np.float32) for _ in range(2))
    every = np.array(window_errors(a, b, radius, 1e-4, 9e-4, 2))
    some = np.array(window_errors(a, b, radius, 1e-4, 9e-4, 2, False, np.array([1, 0, 1], np.uint8)))
    detail = [1, 2, 4, 5]
    assert np.allclose(some[[0, 2]][:, detail], every[[0, 2]][:, detail], rtol=1e-9, atol=0)
    assert not some[1].any() and not some[:, [0, 3]].any()
    assert every[:, [0, 3]].all()                # two random pictures differ in structure somewhere


def _window_errors_by_numpy(a: np.ndarray, b: np.ndarray, radius: int, c1: float, c2: float) -> np.ndarray:
    """window_errors written out in numpy, window by window (edges repeated): (channels, 6)."""
    side = 2 * radius + 1
    found = np.zeros((a.shape[2], 6))
    for c in range(a.shape[2]):
        x, y = (np.pad(p[:, :, c].astype(np.float64), radius, mode="edge") for p in (a, b))
        windows_x = np.lib.stride_tricks.sliding_window_view(x, (side, side))
        windows_y = np.lib.stride_tricks.sliding_window_view(y, (side, side))
        mean_x, mean_y = windows_x.mean(axis=(2, 3)), windows_y.mean(axis=(2, 3))
        var_x = (windows_x ** 2).mean(axis=(2, 3)) - mean_x ** 2
        var_y = (windows_y ** 2).mean(axis=(2, 3)) - mean_y ** 2
        cov = (windows_x * windows_y).mean(axis=(2, 3)) - mean_x * mean_y
        structure = 1 - ((2 * mean_x * mean_y + c1) * (2 * cov + c2)
                         / ((mean_x ** 2 + mean_y ** 2 + c1) * (var_x + var_y + c2)))
        detail = np.abs(b[:, :, c] - mean_y) - np.abs(a[:, :, c] - mean_x)
        added, lost = np.maximum(detail, 0), np.maximum(-detail, 0)
        found[c] = [structure.mean(), added.mean(), lost.mean(), (structure ** 4).mean(), (added ** 4).mean(),
                    (lost ** 4).mean()]
    return found


@given(st.integers(1, 30), st.integers(1, 30), st.integers(0, 3), st.integers(1, 3), st.integers(0, 2 ** 16))
def test_the_window_errors_are_those_of_every_window_worked_out_alone(height, width, radius, threads, seed):
    """The kernel slides its window sums down and across; the same errors come from each window summed
    on its own (to float32 precision: the sums are slid in float64 over float32 pixels)."""
    from gifsom._perceptual_cy import window_errors

    rng = np.random.default_rng(seed)
    a = rng.random((height, width, 3), dtype=np.float32)
    b = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1).astype(np.float32)
    found = np.array(window_errors(a, b, radius, 1e-4, 9e-4, threads))
    assert np.allclose(found, _window_errors_by_numpy(a, b, radius, 1e-4, 9e-4), rtol=1e-5, atol=1e-9)


def test_the_score_is_the_same_as_when_every_error_is_measured():
    from gifsom import perceptual

    rng = np.random.default_rng(3)
    ramp = _ramp(120, 40)
    shown = np.clip(ramp + rng.normal(0, 12, ramp.shape), 0, 255).astype(np.uint8)
    assert perceptual.error_features(ramp, shown, every_scale=True)[perceptual.WEIGHTS == 0].any()
    weighed = perceptual.WEIGHTS != 0
    assert np.allclose(perceptual.error_features(ramp, shown)[weighed],
                       perceptual.error_features(ramp, shown, every_scale=True)[weighed], rtol=1e-12, atol=0)


def test_pictures_of_different_sizes_are_refused():
    with pytest.raises(ValueError, match="different shapes"):
        error_features(_ramp(64), _ramp(32))


@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 64))
def test_oklab_is_the_float64_formula_to_float_precision(seed, count):
    """The compiled conversion (its cube root a guess from the float's bits and two Newton steps) agrees
    with Ottosson's formula in float64, from black and near-black to white."""
    from gifsom import perceptual

    rgb = np.random.default_rng(seed).integers(0, 256, (1, count, 3), dtype=np.uint8)
    rgb[0, 0] = [0, 0, 1]                  # the darkest cone responses are the cube root's hardest case
    linear = perceptual._srgb_to_linear().astype(np.float64)[rgb[0]]
    cones = np.cbrt(linear @ perceptual._RGB_TO_LMS.astype(np.float64).T)
    expected = cones @ perceptual._LMS_TO_LAB.astype(np.float64).T
    assert np.allclose(perceptual.oklab(rgb)[0], expected, rtol=0, atol=1e-5)     # float32 sums


@given(st.integers(1, 33), st.integers(1, 33), st.integers(1, 4), st.integers(0, 2 ** 32 - 1))
def test_halving_averages_each_two_by_two_block_as_numpy_does(height, width, channels, seed):
    """The compiled halving gives numpy's floats exactly (the score's coarser scales depend on it), and
    leaves out an odd last row or column."""
    from gifsom.perceptual import _halve

    values = np.random.default_rng(seed).normal(size=(height, width, channels)).astype(np.float32)
    v = values[:height // 2 * 2, :width // 2 * 2]
    expected = (v[0::2, 0::2] + v[1::2, 0::2] + v[0::2, 1::2] + v[1::2, 1::2]) * np.float32(0.25)
    assert _halve(values).tobytes() == expected.tobytes() and _halve(values).shape == expected.shape


def test_oklab_gives_the_published_values():
    """Ottosson's OkLab of sRGB white, red and blue."""
    from gifsom.perceptual import oklab

    lab = oklab(np.array([[[255, 255, 255], [255, 0, 0], [0, 0, 255], [0, 0, 0]]], np.uint8))[0]
    expected = [[1.0, 0.0, 0.0], [0.62796, 0.22486, 0.12585], [0.45201, -0.03246, -0.31153], [0.0, 0.0, 0.0]]
    assert np.allclose(lab, expected, atol=2e-4)


@pytest.mark.parametrize("quality", [100, 95, 90])
def test_flat_ui_stays_exact_at_the_dithering_qualities(tmp_path, quality):
    """Pixels that are exactly a palette colour are never dithered, whatever the quality asks."""
    rng = np.random.default_rng(7)
    colours = rng.integers(0, 256, (40, 3), dtype=np.uint8)
    frames = []
    for step in range(4):
        picture = np.zeros((60, 90, 3), np.uint8) + colours[0]
        for k in range(1, 40):
            y, x = (k * 7 + step * 3) % 50, (k * 13) % 80
            picture[y:y + 8, x:x + 10] = colours[k]
        frames.append(picture)
    gifsom.encode(frames, tmp_path / "ui.gif", fps=10, quality=quality)
    shown, _ = decode_gif(tmp_path / "ui.gif")
    assert all(np.array_equal(a[:, :, :3], b) for a, b in zip(shown, frames))


def test_the_best_quality_keeps_one_palette_for_a_mostly_still_clip(tmp_path):
    """Quality 100 asks for a palette per frame; a screen recording, where little changes from frame to
    frame, keeps one palette, since a new palette would redraw every frame whole."""
    base = np.asarray(Image.open(FIXTURES / "photo.jpg").convert("RGB"))[:120, :160]
    frames = []
    for step in range(6):
        frame = base.copy()
        frame[10:20, 10 + step * 8:18 + step * 8] = (255, 0, 0)     # a small moving cursor
        frames.append(frame)
    still = gifsom.encode(frames, tmp_path / "still.gif", fps=10, quality=100)
    per_frame = gifsom.encode(frames, tmp_path / "frame.gif", fps=10, quality=100, palette="frame")
    assert still.bytes < 0.5 * per_frame.bytes


def test_the_best_quality_keeps_a_still_clip_of_exact_scenes_lossless(tmp_path):
    """Two scenes of 200 colours each: the clip is over 256 colours, each scene is not, so the
    default writes it exactly; quality 100 (a palette per frame, falling back to one per scene for a
    still clip) must too."""
    rng = np.random.default_rng(3)
    frames = []
    for scene in range(2):
        colours = rng.integers(0, 256, (200, 3), dtype=np.uint8)
        picture = colours[np.arange(64 * 80) % 200].reshape(64, 80, 3)
        for step in range(4):
            frame = picture.copy()
            frame[5:10, 5 + step * 6:10 + step * 6] = colours[step]
            frames.append(frame)
    for quality in (90, 100):
        gifsom.encode(frames, tmp_path / f"q{quality}.gif", fps=10, quality=quality)
        shown, _ = decode_gif(tmp_path / f"q{quality}.gif")
        assert all(np.array_equal(a[:, :, :3], b) for a, b in zip(shown, frames)), quality


def test_the_command_line_takes_the_content_and_names_its_flag(tmp_path, capsys):
    out = tmp_path / "a.gif"
    assert cli.main("convert", str(FIXTURES / "pan.mp4"), str(out), "--content", "photo") == 2
    said = capsys.readouterr().err.strip()
    assert "--content photo is not a kind of content" in said and len(said.splitlines()) == 1
    assert not out.exists()
    frames = _noisy_clip(0)
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(tmp_path / f"f{index}.png")
    assert cli.main("convert", str(tmp_path), str(out), "--fps", "10", "--quality", "70", "--content", "noisy") == 0
    assert out.read_bytes() == gifsom.encode(frames, tmp_path / "b.gif", fps=10, quality=70,
                                             content="noisy").path.read_bytes()


def _screen_frames(count: int) -> list[np.ndarray]:
    """The fixture screen recording: anti-aliased text in 770 colours a frame, a few lines typed a frame."""
    files = sorted((FIXTURES / "screen").glob("*.png"))[:count]
    return [np.asarray(Image.open(path).convert("RGB")) for path in files]


@pytest.mark.parametrize("times", ["even", "some under 2 cs apart"])
def test_quality_100_makes_a_still_screen_converge_on_its_source(tmp_path, gif_decoders, times):
    # frames 2 to 5 type a little; the last frame then stays still for three more
    frames = _screen_frames(6)
    frames += [frames[-1]] * 3
    pts = [index / 10 for index in range(len(frames))]
    if times != "even":
        pts[2] = pts[1] + 0.01        # the writer shows frame 2 in place of frame 1, from frame 1's start
        pts[4] = pts[3] + 0.005
    out = tmp_path / "best.gif"
    gifsom.encode(list(zip(frames, pts)), out, quality=100)
    for name, decoder in gif_decoders.items():
        shown = [pixels[:, :, :3] for pixels, _ in decoder(out)]
        # the first frame holds more colours than a palette: close, not exact
        assert 0 < np.abs(shown[0].astype(int) - frames[0]).max() <= 16, name
        # every frame shows its source within the first palette's error, new text included ...
        for pixels in shown:
            errors = [np.abs(pixels.astype(int) - frame).max() for frame in frames]
            assert min(errors) <= 16, name
        # ... and the still picture ends exact
        assert np.array_equal(shown[-1], frames[-1]), name
    once = gifsom.encode(frames[:6], tmp_path / "default.gif", fps=10)
    best = gifsom.encode(frames[:6], tmp_path / "best6.gif", fps=10, quality=100)
    assert psnr(decode_gif(tmp_path / "best6.gif")[0][-1], frames[5]) > psnr(decode_gif(tmp_path / "default.gif")[0][-1],
                                                                           frames[5])
    assert best.bytes < 3 * once.bytes


def test_live_encoding_converges_as_the_batch_encoder_does(tmp_path):
    from gifsom.live import WARM_UP_FRAMES

    frames = _screen_frames(20)           # past the live encoder's warm-up
    frames += [frames[-1]] * 4
    assert len(frames) > 2 * WARM_UP_FRAMES
    gifsom.encode(frames, tmp_path / "live.gif", fps=10, quality=100, live=True)
    shown = decode_gif(tmp_path / "live.gif")[0]
    assert np.abs(shown[0].astype(int) - frames[0]).max() > 0
    assert np.array_equal(shown[-1], frames[-1])


def _flat_scene(colours: np.ndarray, count: int, box_colours: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """Frames of vertical stripes in ``colours`` (K, 3), with a 10x10 box of its own colours in each frame."""
    stripes = np.repeat(colours[None, :, :], 4, axis=1)[:, :160]
    picture = np.ascontiguousarray(np.repeat(stripes, 60, axis=0))
    frames = []
    for index in range(count):
        frame = picture.copy()
        if box_colours is not None:
            frame[5:15, 5:15] = box_colours[index].reshape(10, 10, 3)
        frames.append(frame)
    return frames


def _source_timeline(path) -> list[np.ndarray]:
    """A GIF's frames as Pillow shows them, one per 100 ms."""
    shown, durations = decode_gif(path)
    return [frame for frame, duration in zip(shown, durations) for _ in range(round(duration / 100))]


def test_quality_100_keeps_exact_palettes_lossless_and_as_small(tmp_path):
    rng = np.random.default_rng(3)
    first = rng.integers(0, 256, (40, 3), dtype=np.uint8)
    second = rng.integers(0, 256, (40, 3), dtype=np.uint8) // 2
    # two scenes, each in exact colours: lossless at 90, and 100 can add nothing
    frames = _flat_scene(first, 5) + _flat_scene(second, 5)
    best = gifsom.encode(frames, tmp_path / "best.gif", fps=10, quality=100)
    default = gifsom.encode(frames, tmp_path / "default.gif", fps=10)
    assert best.bytes == default.bytes
    assert all(np.array_equal(a, b) for a, b in zip(_source_timeline(tmp_path / "best.gif"), frames, strict=True))
    # a second scene over a palette's colours, though each frame fits in one: exact palettes per frame
    boxes = [rng.integers(0, 256, (100, 3), dtype=np.uint8) for _ in range(5)]
    frames = _flat_scene(first, 5) + _flat_scene(second, 5, boxes)
    gifsom.encode(frames, tmp_path / "boxes.gif", fps=10, quality=100)
    assert all(np.array_equal(a, b) for a, b in zip(_source_timeline(tmp_path / "boxes.gif"), frames, strict=True))


@pytest.mark.parametrize("new_colours", [1, 2, 4, 128, 255])
def test_converging_frames_take_any_count_of_new_colours(tmp_path, new_colours):
    # a still picture in more colours than a palette, then a box in exactly this many new colours
    frames = _screen_frames(1) * 6          # exact on screen by the last of these
    rng = np.random.default_rng(new_colours)
    box = rng.permutation(np.arange(256 * 256, dtype=np.uint32))[:new_colours]
    colours = np.stack([box >> 8 & 255, box & 255, np.full_like(box, 7)], axis=1).astype(np.uint8)
    changed = frames[-1].copy()
    changed[100:132, 100:132] = colours[np.arange(32 * 32) % new_colours].reshape(32, 32, 3)
    frames.append(changed)
    gifsom.encode(frames, tmp_path / "box.gif", fps=10, quality=100, content="flat")
    shown = _source_timeline(tmp_path / "box.gif")
    assert np.array_equal(shown[-1][100:132, 100:132], changed[100:132, 100:132])


def test_converging_frames_keep_to_the_colours_asked_for(tmp_path):
    frames = _screen_frames(6)
    gifsom.encode(frames, tmp_path / "sixteen.gif", fps=10, quality=100, colors=16)
    shown = decode_gif(tmp_path / "sixteen.gif")[0]
    assert len(np.unique(shown[0].reshape(-1, 3), axis=0)) <= 16
    for before, after in zip(shown, shown[1:]):
        drawn = after[(after != before).any(axis=2)]
        assert len(np.unique(drawn, axis=0)) <= 16          # what each frame draws comes from 16 colours


def _busy(frame: np.ndarray) -> np.ndarray:
    """Where a frame is busy: the luma's standard deviation over 7x7 pixels is 8 or more, bool (H, W)."""
    luma = frame[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(luma, 3, mode="edge"), (7, 7))
    return windows.std(axis=(2, 3)) >= 8


def test_camera_video_at_the_default_keeps_the_local_average_of_busy_texture(tmp_path):
    # noise hides banding but not the palette's error in texture: the default diffuses it, so each 4x4 block
    # of a busy area averages closer to the source than nearest colours with the same lossy LZW give
    rng = np.random.default_rng(7)
    photo = np.asarray(Image.open(FIXTURES / "photo.jpg").convert("RGB"))[40:232, 40:360].astype(np.int16)
    frames = [np.clip(photo + rng.integers(-3, 4, photo.shape), 0, 255).astype(np.uint8) for _ in range(6)]
    from gifsom.palette.clip import ClipSurvey

    survey = ClipSurvey()
    for frame in frames:
        survey.add(frame)
    assert survey.content == "noisy"
    knobs = knobs_for_quality(DEFAULT_QUALITY, "noisy")
    assert knobs.dither != "none" and knobs.lossy > 0
    def blocks(picture: np.ndarray) -> np.ndarray:
        return picture[..., :3].astype(np.float64).reshape(48, 4, 80, 4, 3).mean(axis=(1, 3))

    busy = [_busy(source).reshape(48, 4, 80, 4).all(axis=(1, 3)) for source in frames]
    errors = {}
    for name, extra in (("default", {}), ("nearest", {"dither": "none"})):
        result = gifsom.encode(frames, tmp_path / f"{name}.gif", fps=10, **extra)
        assert result.bytes > 0
        shown, _ = decode_gif(tmp_path / f"{name}.gif")
        errors[name] = float(np.mean([np.abs(blocks(frame) - blocks(source))[where].mean()
                                      for source, frame, where in zip(frames, shown, busy)]))
    assert errors["default"] < errors["nearest"]


@pytest.mark.parametrize("quality", [FRAME_PALETTES_FROM - 1, FRAME_PALETTES_FROM, 100])
def test_camera_video_takes_adaptive_dither_only_where_each_frame_has_its_own_palette(quality):
    knobs = knobs_for_quality(quality, "noisy")
    assert knobs.dither_strength > 0
    assert (knobs.dither == "adaptive") == (knobs.palette == "frame")
