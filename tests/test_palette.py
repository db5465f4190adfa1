"""The SOM palette: NeuQuant itself, the refinement, exact palettes and clip sampling."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gifsom import encode, learn_palette, quantize
from gifsom.errors import OptionError
from gifsom.median import median
from gifsom.palette.histogram import changed_colour_histogram, colour_histogram, count_colours
from gifsom.palette.neuquant import neuquant
from gifsom.palette.refine import binned_histogram, coarser_histogram
from gifsom.palette.sampling import PixelSampler

from .conftest import decode_gif, psnr


def nearest_psnr(image: np.ndarray, palette: np.ndarray) -> float:
    """PSNR of ``image`` mapped to its nearest palette colours, found by brute force (not by gifsom's search)."""
    pixels = image.reshape(-1, 3).astype(np.float64)
    entries = palette.astype(np.float64)
    # |p - c|^2 = |p|^2 - 2 p.c + |c|^2, whose argmin over c drops |p|^2; exact in float64 for 8-bit values
    lengths = (entries ** 2).sum(1)[None, :]
    nearest = np.concatenate([(lengths - 2 * chunk @ entries.T).argmin(1)
                              for chunk in np.array_split(pixels, max(1, len(pixels) // 8192))])
    return psnr(image.reshape(-1, 3), palette[nearest])


def test_neuquant_uses_every_neuron_on_a_photo(photo):
    palette = neuquant(photo.reshape(-1, 3), 256, 10)
    assert palette.shape == (256, 3)
    indices, _ = quantize(photo, palette)
    # the contest keeps neurons alive: nearly all of them win some pixels
    assert len(np.unique(indices)) >= 240


def test_contest_keeps_neurons_alive_on_low_contrast_image():
    rng = np.random.default_rng(3)
    # a dim, low-contrast picture: values 100..131 only; a plain SOM leaves most of the grey ramp dead
    image = (100 + rng.integers(0, 32, (128, 128, 3))).astype(np.uint8)
    palette = neuquant(image.reshape(-1, 3), 64, 1)
    indices, _ = quantize(image, palette)
    assert len(np.unique(indices)) >= 60
    assert palette.min() >= 90 and palette.max() <= 141


def _neuquant_as_published(pixels, size, sample_factor):
    """Dekker's training loop, line for line in Python integers (division truncating toward zero, as C's)."""
    def div(a, b):
        return abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)

    count = len(pixels)
    net = [[(i << 12) // size] * 3 for i in range(size)]
    freq, bias = [65536 // size] * size, [0] * size
    sample_factor = 1 if count < 503 else sample_factor
    step = next((p for p in (499, 491, 487, 503) if count % p), 503)
    step = 1 if count <= step else step
    alpha_dec, samples = 30 + div(sample_factor - 1, 3), div(count, sample_factor)
    delta = max(1, div(samples, 100))
    alpha, radius = 1024, (size >> 3) * 64

    def powers(rad):
        return [alpha * div((rad * rad - i * i) * 256, rad * rad) for i in range(rad)]

    rad = radius >> 6 if radius >> 6 > 1 else 0
    power = powers(rad)
    pos = 0
    for i in range(1, samples + 1):
        colour = [int(v) << 4 for v in pixels[pos]]
        best, best_at, biased, biased_at = 0x7FFFFFFF, -1, 0x7FFFFFFF, -1
        for n in range(size):
            distance = sum(abs(net[n][c] - colour[c]) for c in range(3))
            if distance < best:
                best, best_at = distance, n
            if distance - (bias[n] >> 12) < biased:
                biased, biased_at = distance - (bias[n] >> 12), n
            decay = freq[n] >> 10
            freq[n] -= decay
            bias[n] += decay << 10
        freq[best_at] += 64
        bias[best_at] -= 65536
        for c in range(3):
            net[biased_at][c] -= div(alpha * (net[biased_at][c] - colour[c]), 1024)
        if rad:
            for m in range(1, rad):
                for n in (biased_at + m, biased_at - m):
                    if 0 <= n < size:
                        for c in range(3):
                            net[n][c] -= div(power[m] * (net[n][c] - colour[c]), 1 << 18)
        pos = (pos + step) % count
        if i % delta == 0:
            alpha -= div(alpha, alpha_dec)
            radius -= div(radius, 30)
            rad = radius >> 6 if radius >> 6 > 1 else 0
            power = powers(rad)
    return np.array([[min(max(v >> 4, 0), 255) for v in neuron] for neuron in net], np.uint8)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2 ** 31), st.integers(1, 700), st.integers(2, 40), st.integers(1, 30), st.integers(1, 24))
def test_the_compiled_neuquant_trains_as_the_published_loop_does(seed, count, size, sample_factor, colours):
    rng = np.random.default_rng(seed)
    # few colours repeat: ties in the contest, and neurons that win often (frequencies past 1/1024 decay)
    pixels = rng.integers(0, 256, (colours, 3)).astype(np.uint8)[rng.integers(0, colours, count)]
    assert np.array_equal(neuquant(pixels, size, sample_factor), _neuquant_as_published(pixels, size, sample_factor))


def test_default_palette_beats_pure_neuquant_and_uses_every_entry(photo):
    pure = learn_palette(photo, 256, refine=False)
    refined = learn_palette(photo, 256)
    assert nearest_psnr(photo, refined) > nearest_psnr(photo, pure) + 0.5
    indices, _ = quantize(photo, refined)
    assert len(np.unique(indices)) == 256


def test_same_input_gives_same_palette(photo):
    assert np.array_equal(learn_palette(photo, 64), learn_palette(photo, 64))


def test_clip_palette_from_iterator_matches_frames(screen_frames):
    palette = learn_palette(iter(screen_frames), colors=32)
    assert palette.shape == (32, 3) and palette.dtype == np.uint8


@given(st.integers(2, 256), st.integers(1, 8), st.integers(0, 2 ** 31))
def test_image_with_few_colours_is_lossless(colors, distinct, seed):
    rng = np.random.default_rng(seed)
    distinct = min(distinct, colors)
    table = rng.integers(0, 256, (distinct, 3), dtype=np.uint8)
    image = table[rng.integers(0, distinct, (17, 23))]
    indices, palette = quantize(image, colors=colors)
    assert len(palette) <= colors
    assert np.array_equal(palette[indices], image)


@given(st.integers(2, 256), st.integers(0, 2 ** 31))
def test_indices_are_below_palette_size(colors, seed):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    indices, palette = quantize(image, colors=colors)
    assert indices.shape == (20, 30)
    assert len(palette) <= colors
    assert int(indices.max()) < len(palette)


def test_fixed_colours_are_in_the_palette(photo):
    palette = learn_palette(photo, 16, fixed_colors=[(255, 0, 255), (0, 255, 0)])
    assert [255, 0, 255] in palette.tolist() and [0, 255, 0] in palette.tolist()
    assert len(palette) == 16


@pytest.mark.parametrize("colors", [1, 257, 0])
def test_bad_palette_size_is_an_option_error(photo, colors):
    with pytest.raises(OptionError, match="colors"):
        learn_palette(photo, colors)


def test_sampler_stays_bounded_and_spread():
    sampler = PixelSampler(1000)
    for value in range(200):
        sampler.add(np.full((10, 50, 3), value, np.uint8))
    pixels = sampler.pixels()
    assert len(pixels) <= 1000
    seen = np.unique(pixels[:, 0])
    assert seen.min() < 10 and seen.max() > 190       # early and late frames both kept


def test_the_sampler_copies_a_frame_the_caller_may_fill_again_and_keeps_a_decoded_one_as_it_is():
    sampler = PixelSampler(1000)
    buffer = np.full((4, 5, 3), 9, np.uint8)
    decoded = np.frombuffer(memoryview(bytes(range(60))), np.uint8).reshape(4, 5, 3)
    sampler.add(buffer)
    sampler.add(decoded)
    buffer[...] = 0                                     # filled again for the next frame
    kept = sampler.pixels()
    assert (kept[:20] == 9).all() and np.array_equal(kept[20:], decoded.reshape(-1, 3))
    assert np.shares_memory(sampler._chunks[1], decoded)             # no copy of the decoded frame


@given(st.integers(1, 3000), st.integers(1, 300), st.integers(1, 12), st.integers(0, 2 ** 31),
       st.integers(1, 1 << 12))
@settings(deadline=None)
def test_colour_histogram_counts_every_colour(count, distinct, longest_run, seed, limit):
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (distinct, 3), dtype=np.uint8)
    # runs of one colour take the histogram's fast path; the table grows while runs are pending
    runs = colours[rng.integers(0, distinct, count)]
    pixels = np.repeat(runs, rng.integers(1, longest_run + 1, count), axis=0)
    expected_colours, expected_counts = np.unique(pixels, axis=0, return_counts=True)
    result = colour_histogram(pixels, limit=limit)
    if len(expected_colours) > limit:
        assert result is None
        return
    found, counts = result
    order = np.lexsort(found.T[::-1])
    assert np.array_equal(found[order], expected_colours)
    assert np.array_equal(counts[order], expected_counts)


def test_palette_does_not_depend_on_the_thread_count(monkeypatch, photo):
    """The per-bin searches run on several threads; every result must be the one a single thread gets."""
    import gifsom.colours.nearest as nearest
    import gifsom.palette.refine as refine

    rng = np.random.default_rng(11)
    images = [photo, np.clip(photo.astype(int) + rng.integers(-20, 21, photo.shape), 0, 255).astype(np.uint8)]
    results = {}
    for threads in (1, 2, 2, 2):
        monkeypatch.setattr(refine, "threads_for", lambda items, grain, n=threads: n)
        monkeypatch.setattr(nearest, "threads_for", lambda items, grain, n=threads: n)
        palettes = [learn_palette(image, colors) for image in images for colors in (16, 256)]
        results.setdefault(threads, []).append(palettes)
    single = results[1][0]
    for run in results[2]:
        for one, many in zip(single, run):
            assert np.array_equal(one, many)


def test_a_smooth_gradient_with_fewer_bins_than_entries_is_encoded(tmp_path):
    """More than 256 colours, but in fewer refinement bins than palette entries: the refinement once re-seeded
    its dead entries past the last bin and crashed (IndexError) on this very clip."""
    frames = []
    for step in range(15):
        t = (np.linspace(0.0, 1.0, 64)[None, :, None] + 0.01 * step) % 1.0
        row = np.array((10, 40, 200), float) * (1 - t) + np.array((20, 220, 160), float) * t
        frames.append(np.clip(np.rint(row * np.linspace(0.8, 1.0, 48)[:, None, None]), 0, 255).astype(np.uint8))
    assert len(np.unique(frames[0].reshape(-1, 3), axis=0)) > 256
    # (every frame drawn whole: as a steady camera's video, the default leaves what is within its bound)
    encode(frames, tmp_path / "gradient.gif", fps=10, lossy=0)
    shown, _ = decode_gif(tmp_path / "gradient.gif")
    assert min(psnr(a, b) for a, b in zip(shown, frames)) > 40


def test_the_palette_spends_more_entries_on_green_steps_than_on_blue_ones():
    # equal ramps of pure green and pure blue: the eye sees green steps far more, and so does the metric
    levels = np.arange(256, dtype=np.uint8)
    green = np.zeros((64, 256, 3), np.uint8)
    green[:, :, 1] = levels
    blue = np.zeros((64, 256, 3), np.uint8)
    blue[:, :, 2] = levels
    palette = learn_palette(np.concatenate([green, blue]), colors=32)
    on_green = int((palette[:, 1] > palette[:, 2]).sum())
    on_blue = int((palette[:, 2] > palette[:, 1]).sum())
    assert on_green + on_blue >= 31
    assert on_green >= 1.2 * on_blue          # 16 and 16 by plain RGB distance


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from([3, 4]), st.integers(0, 2 ** 16),
       st.integers(0, 6))
def test_the_survey_kernels_agree_with_numpy(height, width, channels, seed, changes):
    from gifsom._frames_cy import changed_box
    from gifsom.palette._survey_cy import coarse_bins, grain_count, probe_changes

    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 4, (height, width, channels), dtype=np.uint8) * 60     # flat patches and edges
    other = frame.copy()
    for _ in range(changes):
        other[rng.integers(height), rng.integers(width), rng.integers(channels)] ^= 1 + rng.integers(255)
    # grain: the separable second difference of luma, where it fits
    luma = (frame[:, :, :3].astype(np.int64) * [77, 150, 29]).sum(axis=2) >> 8
    across = luma[:, :-2] - 2 * luma[:, 1:-1] + luma[:, 2:]
    both = across[:-2] - 2 * across[1:-1] + across[2:]
    assert grain_count(frame) == (np.count_nonzero(both) if height > 2 and width > 2 else 0)
    # changed rectangle and mask, on the colour channels alone and on all of them
    for compared in (3, channels):
        want = (frame[:, :, :compared] != other[:, :, :compared]).any(axis=2)
        mask = np.full((height, width), 7, np.uint8)
        top, bottom, left, right = changed_box(other, frame, compared, mask)
        assert np.array_equal(mask.view(bool), want)
        rows, cols = np.flatnonzero(want.any(axis=1)), np.flatnonzero(want.any(axis=0))
        assert (top, bottom, left, right) == ((rows[0], rows[-1] + 1, cols[0], cols[-1] + 1) if want.any()
                                              else (0, 0, 0, 0))
    # coarse colour bins of every 7th pixel in reading order: the whole frame, then the changed rectangle alone
    def binned(picture):
        flat = picture.reshape(-1, channels)[::7, :3].astype(np.int64) >> 4
        return (flat[:, 0] << 8) | (flat[:, 1] << 4) | flat[:, 2]

    bins, counts = np.full(-(-height * width // 7), -1, np.int16), np.zeros(4096, np.int64)
    coarse_bins(frame, 7, bins, counts, 0, height, 0, width)
    assert np.array_equal(bins, binned(frame)) and np.array_equal(counts, np.bincount(binned(frame), minlength=4096))
    changed = changed_box(other, frame, channels, np.zeros((height, width), np.uint8))
    coarse_bins(other, 7, bins, counts, *changed)
    assert np.array_equal(bins, binned(other)) and np.array_equal(counts, np.bincount(binned(other), minlength=4096))
    # the probe: every 4th pixel of every 4th row, changed at all and by 1 to 4 levels; looking at the
    # changed rectangle alone finds the same
    change = np.abs(other[::4, ::4].astype(np.int16) - frame[::4, ::4]).max(axis=2)
    for box in ((0, height, 0, width), changed):
        probe = np.array(frame[::4, ::4])          # a copy: the kernel writes the probe
        assert probe_changes(other, 4, probe, 4, *box) == (np.count_nonzero(change),
                                                           np.count_nonzero((change > 0) & (change <= 4)))
        assert np.array_equal(probe, other[::4, ::4])


@pytest.mark.parametrize("side", [1, 3, 4, 5, 9])
def test_the_survey_takes_read_only_frames_of_any_size(side):
    from gifsom.palette.clip import ClipSurvey

    survey = ClipSurvey(track_scenes=True)
    for value in (0, 90, 90):
        frame = np.full((side, side, 3), value, np.uint8)
        frame.flags.writeable = False            # as frames read back from the spool are
        survey.add(frame)
    assert survey.frames == 3 and survey.changed_share == pytest.approx(0.5)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 31), st.sampled_from([3, 4]), st.integers(2, 12), st.integers(1, 60))
def test_the_survey_finds_the_same_when_told_what_changed(seed, channels, frames, limit):
    """The collector hands the survey the spool's changed rectangle with each frame: the scene cuts, the
    colour censuses and the shares of change and flicker come out as they do when every frame is compared
    whole."""
    from gifsom.palette.clip import ClipSurvey
    from gifsom.spool import FrameSpool

    rng = np.random.default_rng(seed)
    height, width = int(rng.integers(1, 30)), int(rng.integers(1, 30))
    clip = [rng.integers(0, 3, (height, width, channels), dtype=np.uint8) * 120]
    for _ in range(frames - 1):
        frame = clip[-1].copy()
        kind = rng.integers(4)
        if kind == 1:                    # a small change: a few pixels, some by a level or two
            for _ in range(rng.integers(1, 4)):
                frame[rng.integers(height), rng.integers(width)] += rng.integers(1, 3, channels, dtype=np.uint8)
        elif kind == 2:                  # a rectangle redrawn
            top, left = rng.integers(height), rng.integers(width)
            frame[top:top + 5, left:left + 7] = rng.integers(0, 3, channels, dtype=np.uint8) * 100
        elif kind == 3:                  # a cut
            frame = 255 - rng.integers(0, 3, (height, width, channels), dtype=np.uint8) * 60
        clip.append(frame)               # kind 0: a repeat
    told, whole = ClipSurvey(track_scenes=True, census_limit=limit), ClipSurvey(track_scenes=True, census_limit=limit)
    spool = FrameSpool(width, height, channels)
    for number, frame in enumerate(clip):
        told.add(frame, spool.append(frame, number / 10))
        whole.add(frame)
    assert told.scene_starts == whole.scene_starts
    assert (told.changed_share, told.flicker_share) == (whole.changed_share, whole.flicker_share)
    assert told.most_frame_colours == whole.most_frame_colours
    # the most colours a frame has: above the truth only below the limit, so that every comparison with the
    # limit, or one under it, answers alike
    counts = [count_colours(frame, limit=limit) for frame in clip]
    most = None if any(count is None for count in counts) else max(counts)
    found = told.most_frame_colours
    assert (found is None) == (most is None)
    if found is not None and most is not None:
        assert found >= most and (found <= limit - 1) == (most <= limit - 1)
        assert found == most or found < limit
    for a, b in zip([told.census, *told.scene_censuses], [whole.census, *whole.scene_censuses], strict=True):
        assert (a.colours() is None) == (b.colours() is None)
        if a.colours() is not None:
            np.testing.assert_array_equal(a.colours(), b.colours())


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40))
def test_median_agrees_with_numpy(values):
    assert median(values) == float(np.median(values))


@given(st.integers(0, 2 ** 31), st.sampled_from([3, 4]), st.sampled_from([None, 3, 4]), st.integers(1, 300))
def test_changed_histogram_counts_the_opaque_pixels_new_on_screen(seed, channels, previous_channels, limit):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 3, (9, 11, channels), dtype=np.uint8) * 120
    previous = None
    counted = np.ones((9, 11), bool)
    if previous_channels is not None:
        previous = rng.integers(0, 3, (9, 11, previous_channels), dtype=np.uint8) * 120
        previous[:4, :, :3] = pixels[:4, :, :3]         # some pixels already on screen
        counted = (pixels[:, :, :3] != previous[:, :, :3]).any(axis=2)
        if previous_channels == 4:
            counted |= previous[:, :, 3] < 128
    if channels == 4:
        counted &= pixels[:, :, 3] >= 128
    expected = colour_histogram(pixels[:, :, :3][counted], limit=limit)
    found = changed_colour_histogram(pixels, previous, limit)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert dict(zip(map(tuple, found[0]), found[1])) == dict(zip(map(tuple, expected[0]), expected[1]))


@given(st.integers(0, 2 ** 31), st.integers(2, 6), st.integers(1, 5))
def test_each_scene_counts_its_own_colours_as_a_census_of_its_frames_alone(seed, before_cut, after_cut):
    from gifsom.palette.clip import ClipSurvey, ColourCensus

    rng = np.random.default_rng(seed)
    dark = rng.integers(0, 4, (12, 16, 3), dtype=np.uint8) * 20
    # a cut to a bright scene that keeps a corner of the dark one: the corner's colours are unchanged at the cut
    bright = 255 - rng.integers(0, 4, (12, 16, 3), dtype=np.uint8) * 20
    bright[:3, :3] = dark[:3, :3]
    clip = [dark] * before_cut + [bright]
    for _ in range(after_cut - 1):
        clip.append(clip[-1].copy())
        clip[-1][rng.integers(3, 12), rng.integers(3, 16)] = 255 - 20 * rng.integers(0, 4, 3)
    survey = ClipSurvey(track_scenes=True)
    for frame in clip:
        survey.add(frame)
    assert survey.scene_starts == [0, before_cut]
    alone = ColourCensus(256)
    for before, frame in zip([None] + clip[before_cut:], clip[before_cut:]):
        alone.add(frame, before)
    np.testing.assert_array_equal(survey.scene_censuses[1].colours(), alone.colours())
    whole = ColourCensus(256)
    for before, frame in zip([None] + clip, clip):
        whole.add(frame, before)
    np.testing.assert_array_equal(survey.census.colours(), whole.colours())


@given(st.integers(0, 2 ** 31), st.sampled_from([3, 4]), st.integers(1, 40), st.integers(0, 5))
def test_count_colours_counts_the_opaque_colours_the_histogram_finds(seed, channels, limit, levels):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, levels + 1, (10, 13, channels), dtype=np.uint8) * 51
    opaque = pixels[:, :, :3][pixels[:, :, 3] >= 128] if channels == 4 else pixels.reshape(-1, 3)
    expected = colour_histogram(opaque, limit=limit)
    assert count_colours(pixels, limit) == (None if expected is None else len(expected[0]))
    assert count_colours(pixels, limit) == count_colours(pixels, limit)     # the bitmap is left clear


@given(st.integers(0, 2 ** 31), st.sampled_from([3, 4]), st.integers(1, 400), st.integers(1, 8))
def test_the_sampler_keeps_every_stride_th_opaque_pixel_from_its_moving_offset(seed, channels, capacity, frames):
    rng = np.random.default_rng(seed)
    clip = [rng.integers(0, 256, (7, 9, channels), dtype=np.uint8) for _ in range(frames)]
    sampler = PixelSampler(capacity)
    for frame in clip:
        sampler.add(frame)
    # the same choice written with numpy: every stride-th pixel from the offset, halved on overflow
    stride, chunks = 1, []
    for number, frame in enumerate(clip):
        flat = frame.reshape(-1, channels)[(number * 7919) % stride::stride]
        chunks.append(flat[flat[:, 3] >= 128, :3] if channels == 4 else flat)
        while sum(len(c) for c in chunks) > capacity:
            halved = [c[::2] for c in chunks]
            if sum(len(c) for c in halved) == sum(len(c) for c in chunks):     # one pixel a frame at most
                having = [n for n, c in enumerate(chunks) if len(c)]
                halved = [c[:0] if n in having[1::2] else c for n, c in enumerate(chunks)]
            chunks, stride = halved, stride * 2
    np.testing.assert_array_equal(sampler.pixels(), np.concatenate(chunks))
    assert len(sampler.pixels()) <= capacity


def test_a_sampler_with_more_frames_than_room_keeps_a_pixel_of_every_other_frame():
    sampler = PixelSampler(4)
    for value in range(11):
        sampler.add(np.full((2, 2, 3), value, np.uint8))
    kept = sampler.pixels()
    assert 1 <= len(kept) <= 4
    assert len(np.unique(kept[:, 0])) == len(kept)        # no frame twice: spread over the clip


@settings(max_examples=40)
@given(st.integers(0, 2 ** 31), st.integers(1, 3000), st.integers(0, 7), st.integers(1, 256))
def test_the_binned_histogram_agrees_with_numpy_after_any_other(seed, count, shift, spread):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, spread, (count, 3)).astype(np.uint8) + rng.integers(0, 256 - spread + 1, 3).astype(np.uint8)
    # the kernel's scratch is reused from histogram to histogram: one taken before must leave nothing behind
    before = rng.integers(0, 256, (rng.integers(1, 3000), 3)).astype(np.uint8)
    binned_histogram(before, shift)
    coarser_histogram(*binned_histogram(before), 3)
    points, weights = binned_histogram(pixels, shift)
    bits = 8 - shift
    cells = ((pixels[:, 0].astype(np.int64) >> shift) << (2 * bits)) | ((pixels[:, 1].astype(np.int64) >> shift) << bits) \
        | (pixels[:, 2].astype(np.int64) >> shift)
    occupied, where, counts = np.unique(cells, return_inverse=True, return_counts=True)
    sums = np.zeros((len(occupied), 3))
    np.add.at(sums, where, pixels.astype(np.float64))
    assert np.array_equal(weights, counts.astype(np.float64))
    assert np.array_equal(points, sums / counts[:, None])       # sums of whole levels: exact, divided alike


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
@pytest.mark.parametrize("corner", [(0, 0, 0), (112, 48, 160), (240, 240, 224)])
def test_nearby_colours_share_the_histograms_pages(corner):
    """A picture's colours gather in a few parts of the cube: the colours of a block of 4 x 4 x 8 bins of 4
    levels (16 x 16 x 32 levels) are counted on one page of the histogram's scratch, where in the bins'
    order they spread over 8."""
    from gifsom.palette import _refine_cy
    from gifsom.palette.refine import HistogramScratch

    from .test_mapping import _mapping_of

    scratch = HistogramScratch(2)                     # fresh pages: none touched yet
    cells, touched = scratch.cells.take(), scratch.touched.take()
    red, green, blue = np.meshgrid(np.arange(16), np.arange(16), np.arange(32), indexing="ij")
    colours = (np.stack([red, green, blue], axis=-1).reshape(-1, 3) + np.array(corner)).astype(np.uint8)
    points, weights = _refine_cy.binned_histogram(colours, np.ones(len(colours)), False, 2, cells, touched)
    assert len(points) == 128 and (weights == 64).all()         # every bin
    assert int(_mapping_of(cells)["Rss"].split()[0]) <= 4      # kB: one small page


def _lloyd_by_brute_force(points, weights, centres, passes):
    """Plain weighted Lloyd passes, every bin compared with every entry; a dead entry (no bins) moves onto
    the worst-served bins, as the refinement re-seeds them. Also whether the kernel's passes may part from
    these: a bin was as near to two entries, or an entry died after the first pass (the kernel ranks the
    bins served worst by its bounds on their distances, exact only before the first pass)."""
    centres = centres.copy()

    def nearest(at):
        distances = ((points[:, None, :] - at[None]) ** 2).sum(axis=2)
        labels = distances.argmin(axis=1)
        closest = distances[np.arange(len(points)), labels]
        ties.append(bool(((distances == closest[:, None]).sum(axis=1) > 1).any()))
        return labels, np.sqrt(closest)

    ties: list[bool] = []

    labels, upper = nearest(centres)
    for step in range(passes):
        mass = np.zeros(len(centres))
        sums = np.zeros((len(centres), 3))
        for i, j in enumerate(labels):         # in the order of the bins, as the kernel sums them
            mass[j] += weights[i]
            sums[j] += weights[i] * points[i]
        dead = np.flatnonzero(mass == 0)
        ties.append(bool(len(dead)) and step > 0)
        for j in np.flatnonzero(mass > 0):
            centres[j] = sums[j] / mass[j]
        worst = np.argsort(-weights * upper * upper, kind="stable")
        for t, j in enumerate(dead[:len(points)]):
            centres[j] = points[worst[t]]
        labels, upper = nearest(centres)
    return centres, labels, any(ties)


@settings(max_examples=40)
@given(st.integers(0, 2 ** 31), st.integers(3, 8), st.integers(2, 40), st.integers(0, 3), st.integers(1, 6))
def test_the_compiled_lloyd_passes_move_entries_as_plain_lloyd_passes_do(seed, per_entry, size, far, passes):
    from gifsom.colours.nearest import SortedPalette
    from gifsom.palette._refine_cy import lloyd_passes

    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 255, (per_entry * size, 3))     # enough bins that only the far entries die
    count = len(points)
    weights = rng.uniform(0.5, 20, count)
    centres = rng.uniform(0, 255, (size, 3))
    far = min(far, size - 1)
    centres[:far] = 1000.0 + np.arange(far)[:, None]          # entries nearest to no bin: dead after a pass
    # a tolerance under any change runs every pass, as the plain passes do
    moved = centres.copy()
    labels, _ = lloyd_passes(points, weights, moved, SortedPalette.of(centres).axis, passes, -1e300, 2)
    expected, expected_labels, tied = _lloyd_by_brute_force(points, weights, centres, passes)
    assume(not tied)            # a bin as near to two entries may go to either, and the passes part
    assert np.array_equal(labels, expected_labels)
    assert np.allclose(moved, expected)


def _power_iteration(covariance, steps=32):
    """The cut's axis as the refinement finds it: ``steps`` of power iteration from the column of the largest
    variance (the first of equals), and the eigenvalue it reaches. Where the two largest eigenvalues are close
    (0.98 of each other in one case hypothesis found), 32 steps stop short of numpy's ``eigh`` eigenvector,
    and the cut, the Lloyd passes after it and the palette differ."""
    vector = covariance[:, int(np.argmax(np.diag(covariance)))]
    value = 0.0
    for _ in range(steps):
        vector = covariance @ vector
        value = float(np.linalg.norm(vector))
        if value == 0.0:
            return 0.0, np.zeros(3)
        vector = vector / value
    return value, vector


def _refine_by_numpy(points, weights, initial, passes, rounds, moves):
    """The refinement in plain numpy: Lloyd passes as :func:`_lloyd_by_brute_force` runs them, then rounds that
    move the entries cheapest to remove (what their bins would pay to move to the runner-up) into the clusters
    of largest error (at least two bins each), cut along their principal axis, kept while they lower the
    error. Also whether any bin was as near to two entries."""
    def error_of(centres):
        distances = ((points[:, None, :] - centres[None]) ** 2).sum(axis=2)
        return float((weights * distances.min(axis=1)).sum())

    centres, _, tied = _lloyd_by_brute_force(points, weights, initial, passes)
    error = error_of(centres)
    for _ in range(rounds):
        distances = ((points[:, None, :] - centres[None]) ** 2).sum(axis=2)
        labels = distances.argmin(axis=1)
        two = np.sort(distances, axis=1)
        size = len(centres)
        removal = np.bincount(labels, weights * (two[:, 1] - two[:, 0]), size)
        cluster_error = np.bincount(labels, weights * two[:, 0], size)
        count = np.bincount(labels, minlength=size)
        drop = np.argsort(removal, kind="stable")[:moves]
        order = np.argsort(-cluster_error, kind="stable")
        grow = [j for j in order if j not in drop and count[j] >= 2][:len(drop)]
        trial = centres.copy()
        for j, d in zip(grow, drop):
            mine = labels == j
            mean = np.average(points[mine], axis=0, weights=weights[mine])
            spread, axis = _power_iteration(np.cov(points[mine].T, aweights=weights[mine], bias=True))
            trial[j] = mean + axis * 0.8 * np.sqrt(max(spread, 0.0))
            trial[d] = mean - axis * 0.8 * np.sqrt(max(spread, 0.0))
        trial, _, trial_tied = _lloyd_by_brute_force(points, weights, trial, max(3, passes // 2))
        tied = tied or trial_tied
        if error_of(trial) >= error:
            break
        centres, error = trial, error_of(trial)
    return centres, tied


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 31), st.integers(2, 6), st.integers(8, 40), st.integers(1, 4), st.integers(0, 2))
def test_the_compiled_refinement_drops_and_splits_entries_as_plain_numpy_does(seed, per_entry, size, passes, rounds):
    from gifsom.colours.nearest import principal_axis
    from gifsom.palette._refine_cy import refine

    rng = np.random.default_rng(seed)
    # clumps of bins, and entries seeded on a few of them: some clusters hold two clumps, worth a split
    clumps = rng.uniform(20, 235, (size, 3))
    points = (clumps[:, None, :] + rng.normal(0, 6, (size, per_entry, 3))).reshape(-1, 3)
    weights = rng.uniform(0.5, 20, len(points))
    initial = points[rng.choice(len(points), size, replace=False)] + rng.normal(0, 1, (size, 3))
    centres = initial.copy()
    moves = max(1, size // 4)
    refine(points, weights, centres, principal_axis(initial), passes, rounds, moves, -1e300, 2)
    expected, tied = _refine_by_numpy(points, weights, initial, passes, rounds, moves)
    assume(not tied)
    # a cut cluster's two halves may come out either way round (the axis's sign): compare the palettes as sets
    rows = lambda palette: palette[np.lexsort(np.round(palette, 6).T)]      # noqa: E731
    assert np.allclose(rows(centres), rows(expected), atol=1e-6)


@settings(max_examples=60)
@given(st.integers(0, 2 ** 31), st.integers(1, 256), st.integers(1, 12), st.integers(0, 256))
def test_entries_sorted_from_any_order_come_out_as_a_stable_sort_gives_them(seed, size, levels, swaps):
    from gifsom.palette._refine_cy import ordered_from

    rng = np.random.default_rng(seed)
    values = rng.integers(0, levels, size).astype(np.float64)          # few levels: many equal values
    order = np.argsort(values, kind="stable")                           # the order before, then a few moves
    for _ in range(swaps):
        i, j = rng.integers(0, size, 2)
        order[[i, j]] = order[[j, i]]
    values += rng.normal(0, 0.5, size) * (rng.random(size) < 0.3)       # some entries moved since
    ordered_from(values, order)
    assert np.array_equal(order, np.argsort(values, kind="stable"))


@settings(max_examples=60)
@given(st.integers(0, 2 ** 31), st.integers(2, 256), st.data())
def test_a_colour_on_two_alike_entries_takes_the_first_of_them(seed, size, data):
    from gifsom.colours.nearest import SortedPalette
    from gifsom.palette._refine_cy import lloyd_passes

    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 255, (size, 3))
    first = data.draw(st.integers(0, size - 2))
    second = data.draw(st.integers(first + 1, size - 1))
    centres[second] = centres[first]
    points = np.concatenate([centres[first:first + 1], rng.uniform(0, 255, (20, 3))])
    labels, _ = lloyd_passes(points, np.ones(len(points)), centres.copy(), SortedPalette.of(centres).axis, 0, 0.0, 1)
    assert labels[0] == first


@settings(max_examples=60)
@given(st.integers(0, 2 ** 31), st.integers(1, 40), st.integers(1, 1500), st.booleans())
def test_the_sorted_search_finds_each_colours_nearest_and_runner_up_distances(seed, size, count, repeat):
    from gifsom.colours.nearest import assign_nearest

    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (size, 3)).astype(np.float64)
    if repeat and size > 1:
        palette[-1] = palette[0]                 # two entries alike: the runner-up is as near as the nearest
    points = rng.integers(0, 256, (count, 3)).astype(np.float64)
    points[:min(count, size)] = palette[:min(count, size)]      # some colours on entries: distance 0
    labels, first, second = assign_nearest(points, palette)
    distances = ((points[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
    two = np.sort(distances, axis=1)
    assert np.array_equal(first, two[:, 0])
    assert np.array_equal(second, two[:, 1] if size > 1 else np.full(count, 1e300))
    assert np.array_equal(distances[np.arange(count), labels], first)


@settings(max_examples=60)
@given(st.integers(0, 2 ** 31), st.integers(2, 40), st.integers(0, 60), st.integers(0, 3))
def test_rounding_moves_stranded_and_repeated_entries_onto_colours_no_entry_serves(seed, size, extra, stranded):
    from gifsom.colours.metric import to_weighted
    from gifsom.colours.nearest import assign_nearest
    from gifsom.palette.refine import round_palette

    rng = np.random.default_rng(seed)
    colours = np.unique(rng.integers(0, 256, (size + extra, 3)), axis=0).astype(np.float64)
    assume(len(colours) >= size)
    counts = rng.uniform(1, 50, len(colours))
    centres = colours[rng.choice(len(colours), size, replace=False)] + rng.uniform(-0.4, 0.4, (size, 3))
    stranded = min(stranded, size - 1)
    centres[:stranded] = centres[stranded]             # repeats of one entry: at most one of them serves
    palette = round_palette(centres, colours, counts)
    assert palette.dtype == np.uint8 and palette.shape == (size, 3)
    labels, _, _ = assign_nearest(to_weighted(colours), to_weighted(palette.astype(np.float64)))
    assert len(np.unique(labels)) == size                # every entry serves a colour


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2 ** 31), st.integers(3, 24), st.integers(1, 5), st.integers(0, 3), st.integers(0, 1),
       st.sampled_from(["spread", "crowded", "stranded"]))
def test_a_refined_palette_is_rounded_as_numpy_rounds_it(seed, size, per_entry, passes, rounds, entries):
    """The kernel rounds the refined entries itself, and leaves to numpy the palettes where an entry must move
    (repeats, entries that serve no colour, bins as near to two entries): the palette must be the one the
    refinement followed by :func:`round_palette` gives. Whole-number colours with whole-number counts put
    entries on half levels (rounded to even)."""
    from gifsom.colours.metric import from_weighted, to_weighted
    from gifsom.palette.refine import refine_palette, refined_palette, round_palette

    rng = np.random.default_rng(seed)
    colours = np.unique(rng.integers(40, 216, (size * per_entry, 3)), axis=0).astype(np.float64)
    weights = rng.integers(1, 4, len(colours)).astype(np.float64)
    initial = colours[rng.choice(len(colours), min(size, len(colours)), replace=False)]
    if entries == "crowded":
        initial[: len(initial) // 2] = initial[0] + rng.uniform(-0.3, 0.3, (len(initial) // 2, 3))
    elif entries == "stranded":
        initial[-1] = (0.0, 0.0, 0.0)            # nearer to no colour than the entries on colours are
    effort = {"passes": passes, "rounds": rounds, "moves": 4}
    expected = round_palette(from_weighted(refine_palette(to_weighted(colours), weights, to_weighted(initial),
                                                          **effort)), colours, weights)
    assert np.array_equal(refined_palette(colours, weights, to_weighted(initial), **effort), expected)


@pytest.mark.parametrize(("entries", "clean"), [
    ([(100, 100, 100), (104, 100, 100)], True),
    ([(100, 100, 100), (102, 100, 100)], False),     # the bin at 101 is as near to both: either may take it
    ([(100, 100, 100), (100.4, 100, 100)], False),   # one colour once rounded: one of them serves nothing
    ([(100, 100, 100), (20, 20, 20)], False),        # nearer to no bin
])
def test_the_kernel_leaves_to_numpy_every_palette_whose_rounding_must_move_an_entry(entries, clean):
    from gifsom.palette._refine_cy import refine

    points = np.array([(90, 100, 100), (101, 100, 100), (104, 100, 100)], np.float64)
    centres = np.array(entries, np.float64)
    rounded = np.zeros((2, 3), np.uint8)
    _, found = refine(points, np.ones(3), centres, np.array([1.0, 0.0, 0.0]), 0, 0, 1, 0.0, 1, np.ones(3), rounded)
    assert found == clean
    assert np.array_equal(rounded, np.rint(centres))


@settings(max_examples=80)
@given(st.integers(0, 2 ** 31), st.integers(0, 300), st.integers(0, 320), st.integers(1, 6))
def test_the_largest_values_come_first_as_a_stable_descending_sort_gives_them(seed, size, count, levels):
    from gifsom.palette._refine_cy import largest_first

    rng = np.random.default_rng(seed)
    values = rng.integers(0, levels, size).astype(np.float64)       # few levels: many ties (past 64, a sort)
    expected = np.argsort(-values, kind="stable")[:count]
    assert np.array_equal(largest_first(values, count), expected)


@settings(max_examples=60)
@given(st.integers(0, 2 ** 31), st.integers(3, 300), st.floats(0.05, 1.0))
def test_the_compiled_principal_axis_is_the_direction_of_largest_spread(seed, count, squash):
    from gifsom.colours.nearest import principal_axis

    rng = np.random.default_rng(seed)
    colours = rng.uniform(0, 255, (count, 3)) * np.array([1.0, squash, squash / 2])
    colours = colours @ np.linalg.qr(rng.normal(size=(3, 3)))[0]            # the spread along any direction
    centred = colours - colours.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred)
    assume(values[2] > 1.5 * values[1])         # a clear largest spread: the power iteration has converged
    axis = principal_axis(colours)
    assert np.isclose(np.linalg.norm(axis), 1.0)
    assert abs(axis @ vectors[:, 2]) > 0.999


def test_colours_without_spread_are_sorted_along_luma():
    from gifsom.colours.nearest import principal_axis

    luma = np.array([0.299, 0.587, 0.114]) / np.linalg.norm([0.299, 0.587, 0.114])
    assert np.allclose(principal_axis(np.full((5, 3), 40.0)), luma)
    assert np.allclose(principal_axis(np.array([[0.0, 0, 0], [9, 9, 9]])), luma)


def test_an_effort_without_passes_on_the_exact_colours_learns_on_bins(monkeypatch):
    from gifsom.palette import learn, refine

    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 256, (3000, 3), dtype=np.uint8)     # fewer colours than the exact path takes
    assert colour_histogram(pixels, limit=learn.EXACT_HISTOGRAM_LIMIT) is not None
    binned = []
    monkeypatch.setattr(learn, "binned_histogram", lambda *args: binned.append(args) or refine.binned_histogram(*args))
    options = learn.PaletteOptions(colors=64)
    exact_palette = learn.palette_from_pixels(pixels, options)
    assert not binned and len(exact_palette) == 64
    frame_palette = learn.palette_from_pixels(pixels, options, quick=learn.FRAME)
    assert [args[1] for args in binned] == [learn.COARSE_BIN_SHIFT] and len(frame_palette) == 64
    assert len(np.unique(frame_palette, axis=0)) == 64
