"""Mapping and dithering: exactness, dither modes, temporal stability."""

from __future__ import annotations

import mmap
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gifsom import EncodeOptions
from gifsom.colours.metric import weighted_distance
from gifsom.errors import OptionError
from gifsom.mapping import nearest
from gifsom.mapping._map_cy import DIFFUSION_BAND_ROWS
from gifsom.mapping.dither import DIFFUSION_KERNELS, DITHER_MODES
from gifsom.mapping.nearest import ColourCache
from gifsom.pages import small_pages_zeroed
from gifsom.mapping.stage import FrameMapper, MappingOptions

palettes = arrays(np.uint8, st.tuples(st.integers(1, 256), st.just(3)))
images = arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24), st.just(3)))


def brute_force_distances(image: np.ndarray, palette: np.ndarray) -> np.ndarray:
    return weighted_distance(image[:, :, None, :], palette[None, None])


def _nearest_distances_agree(cache: ColourCache, image: np.ndarray) -> bool:
    """Whether the cache maps every pixel to a palette entry at the least distance (ties aside)."""
    distances = brute_force_distances(image, cache.palette)
    indices = cache.map(image)
    chosen = np.take_along_axis(distances, indices[:, :, None].astype(np.int64), axis=2)[:, :, 0]
    return bool(np.array_equal(chosen, distances.min(axis=2)))


@given(images, palettes)
def test_fast_mapping_agrees_with_brute_force(image, palette):
    assert _nearest_distances_agree(ColourCache(palette), image)


@given(images, palettes, st.data())
def test_a_colour_as_near_to_several_entries_takes_the_first_of_them(image, palette, data):
    # entries repeated, so that many colours are as near to two or more (the first is the GIF's choice)
    repeats = data.draw(st.lists(st.integers(0, len(palette) - 1), min_size=1, max_size=8))
    palette = np.concatenate([palette, palette[repeats]])[:256]
    order = np.array(data.draw(st.permutations(range(len(palette)))))
    palette = palette[order]
    assert np.array_equal(ColourCache(palette).map(image), brute_force_distances(image, palette).argmin(axis=2))


@given(images, st.lists(palettes, min_size=2, max_size=4))
def test_palettes_sharing_the_exact_table_keep_their_own_answers(image, several):
    """Palettes share one table of remembered answers: mapping the same colours to each in turn, and
    back to the first, must give each palette's own nearest colours."""
    caches = [ColourCache(palette) for palette in several]
    for cache in caches + caches[:1]:
        assert _nearest_distances_agree(cache, image)


@given(images, st.lists(palettes, min_size=2, max_size=3))
def test_palettes_sharing_the_coarse_table_and_lists_dither_as_each_alone(image, several):
    """Error diffusion looks its targets up in a coarse table, and every lookup goes through candidate lists
    whose lengths palettes share, stamped: a palette dithered after others must come out as it did first.
    The first is dithered again last, once its answers in the shared tables were overwritten."""
    options = MappingOptions(dither="floyd-steinberg")
    caches = [ColourCache(palette) for palette in several]
    first = [FrameMapper(cache.palette, options).map(image) for cache in caches]
    for cache, alone in zip(caches + caches[:1], first + first[:1]):
        again = np.empty(image.shape[:2], np.uint8)
        cache.map_into(image, again, mode=nearest.MODE_DIFFUSION, taps=DIFFUSION_KERNELS["floyd-steinberg"],
                       strength=1.0)
        assert np.array_equal(again, alone)


def test_a_palette_that_takes_the_lists_another_gave_back_finds_its_own_nearest_colours():
    """A palette's candidate lists come from the one an earlier palette gave back, holding that palette's
    lists: they must count for nothing until filled again."""
    import gc

    rng = np.random.default_rng(9)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    first = ColourCache(rng.integers(0, 256, (256, 3), dtype=np.uint8))
    assert _nearest_distances_agree(first, image)           # fills the lists of most cells
    lists = first.candidates.__array_interface__["data"][0]
    del first
    gc.collect()
    for size in (256, 5):
        later = ColourCache(rng.integers(0, 256, (size, 3), dtype=np.uint8))
        assert later.candidates.__array_interface__["data"][0] == lists      # the lists handed on
        assert _nearest_distances_agree(later, image)
        del later
        gc.collect()


def test_palettes_past_the_shared_tables_stamps_still_map_right():
    """More palettes than one table has stamps: later ones get a fresh table, earlier ones keep theirs."""
    from gifsom.mapping.nearest import MAX_STAMP

    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    caches = [ColourCache(rng.integers(0, 256, (8, 3), dtype=np.uint8)) for _ in range(MAX_STAMP + 3)]
    assert len({id(cache.exact) for cache in caches}) >= 2
    for cache in caches[:2] + caches[-2:] + caches[:1]:
        assert _nearest_distances_agree(cache, image)


def test_tables_set_aside_and_put_back_give_no_stamp_twice(monkeypatch):
    """Fresh shared tables swapped in and the old ones put back (as a test of fresh pages does): the palettes
    after go on from the stamps the old tables gave out, and never read an earlier palette's answers as
    their own (2026-12-05: a 64-colour palette read index 85 of a 171-colour one that had had its stamp)."""
    rng = np.random.default_rng(11)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    monkeypatch.setattr(nearest, "_tables", None)             # tables of this test's own
    ColourCache(rng.integers(0, 256, (4, 3), dtype=np.uint8))                    # stamp 1
    large = ColourCache(rng.integers(0, 256, (200, 3), dtype=np.uint8))          # stamp 2: answers up to 199
    assert int(large.map(image).max()) >= 2
    with monkeypatch.context() as inner:
        inner.setattr(nearest, "_tables", None)
        ColourCache(rng.integers(0, 256, (4, 3), dtype=np.uint8))                # fresh tables, put back after
    small = ColourCache(rng.integers(0, 256, (2, 3), dtype=np.uint8))
    assert int(small.map(image).max()) <= 1
    assert _nearest_distances_agree(small, image)
    assert small.exact is large.exact and small.stamp != large.stamp


def test_threads_mapping_to_different_palettes_at_once_each_get_the_nearest():
    """Threads overwrite each other's answers in the shared table; each must still find its own."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(6)
    image = rng.integers(0, 64, (96, 96, 3), dtype=np.uint8) * 4       # 262,144 colours: many collisions
    caches = [ColourCache(rng.integers(0, 256, (64, 3), dtype=np.uint8)) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(lambda cache: all(_nearest_distances_agree(cache, image) for _ in range(3)),
                            caches * 2))


@given(images, palettes, st.sampled_from(DITHER_MODES))
def test_indices_below_palette_size_and_shape_kept(image, palette, mode):
    indices = FrameMapper(palette, MappingOptions(dither=mode)).map(image)
    assert indices.shape == image.shape[:2]
    assert int(indices.max()) < len(palette)


@given(palettes, st.integers(1, 20), st.integers(1, 20), st.sampled_from(DITHER_MODES), st.integers(0, 2 ** 31))
def test_palette_only_image_maps_to_itself_under_every_dither(palette, height, width, mode, seed):
    palette = np.unique(palette, axis=0)
    rng = np.random.default_rng(seed)
    image = palette[rng.integers(0, len(palette), (height, width))]
    indices = FrameMapper(palette, MappingOptions(dither=mode)).map(image)
    assert np.array_equal(palette[indices], image)


@given(images, palettes, st.sampled_from(DITHER_MODES))
def test_strength_zero_equals_no_dither(image, palette, mode):
    plain = FrameMapper(palette, MappingOptions(dither="none")).map(image)
    weak = FrameMapper(palette, MappingOptions(dither=mode, strength=0.0)).map(image)
    assert np.array_equal(plain, weak)


@pytest.mark.parametrize("mode", DITHER_MODES)
def test_still_clip_gives_identical_indices(photo, mode):
    palette = np.array([[0, 0, 0], [255, 255, 255], [200, 120, 60], [60, 40, 30], [120, 90, 70]], np.uint8)
    mapper = FrameMapper(palette, MappingOptions(dither=mode))
    first = mapper.map(photo).copy()
    for _ in range(3):
        assert np.array_equal(mapper.map(photo), first)


def test_unchanged_region_keeps_indices_while_the_rest_moves(photo):
    palette = np.array([[0, 0, 0], [255, 255, 255], [200, 120, 60], [60, 40, 30], [120, 90, 70]], np.uint8)
    mapper = FrameMapper(palette, MappingOptions(dither="floyd-steinberg"))
    first = mapper.map(photo).copy()
    moved = photo.copy()
    moved[:100] = 255 - moved[:100]
    second = mapper.map(moved)
    assert np.array_equal(second[100:], first[100:])     # no fresh noise below the change
    assert not np.array_equal(second[:100], first[:100])


@pytest.mark.parametrize("mode", ["floyd-steinberg", "atkinson", "adaptive"])
def test_error_diffusion_gives_the_same_indices_on_any_number_of_threads(photo, mode, monkeypatch):
    # the frame is diffused in bands of rows, several at once: the bands, not the threads, decide the result
    palette = np.array([[0, 0, 0], [255, 255, 255], [200, 120, 60], [60, 40, 30], [120, 90, 70]], np.uint8)
    assert photo.shape[0] > 3 * DIFFUSION_BAND_ROWS
    results = []
    for threads in (1, 4):
        monkeypatch.setattr(nearest, "threads_for", lambda items, grain, threads=threads: threads)
        mapper = FrameMapper(palette, MappingOptions(dither=mode, strength=0.6))
        moved = photo.copy()
        moved[150:260, 200:420] = 255 - moved[150:260, 200:420]
        results.append((mapper.map(photo).copy(), mapper.map(moved).copy()))
    for one, four in zip(*results):
        np.testing.assert_array_equal(one, four)


@pytest.mark.parametrize("mode", ["floyd-steinberg", "adaptive"])
def test_error_diffusion_maps_a_changed_rectangle_across_bands_as_the_whole_frame(photo, mode):
    # a rectangle starting mid-band is widened up to the band's first row: the indices are those of the
    # whole frame, also where a band runs through the rows above it before its own
    palette = np.array([[0, 0, 0], [255, 255, 255], [200, 120, 60], [60, 40, 30], [120, 90, 70]], np.uint8)
    whole = FrameMapper(palette, MappingOptions(dither=mode, strength=0.5))
    boxed = FrameMapper(palette, MappingOptions(dither=mode, strength=0.5))
    np.testing.assert_array_equal(boxed.map(photo), whole.map(photo))
    frame = photo
    for top, bottom, left, right in [(70, 140, 10, 300), (125, 131, 0, 600), (190, 330, 250, 260)]:
        frame = frame.copy()
        frame[top:bottom, left:right] = 255 - frame[top:bottom, left:right]
        np.testing.assert_array_equal(boxed.map(frame, (top, bottom, left, right)), whole.map(frame))


def test_motion_threshold_keeps_indices_under_small_noise(photo):
    palette = np.array([[0, 0, 0], [255, 255, 255], [200, 120, 60], [60, 40, 30], [120, 90, 70]], np.uint8)
    rng = np.random.default_rng(0)
    noisy = np.clip(photo.astype(np.int16) + rng.integers(-2, 3, photo.shape), 0, 255).astype(np.uint8)
    exact = FrameMapper(palette, MappingOptions(dither="bayer4", motion_threshold=0))
    loose = FrameMapper(palette, MappingOptions(dither="bayer4", motion_threshold=3))
    a, b = exact.map(photo).copy(), exact.map(noisy)
    c, d = loose.map(photo).copy(), loose.map(noisy)
    assert not np.array_equal(a, b)
    assert np.array_equal(c, d)


def test_error_diffusion_lowers_local_error_on_a_gradient():
    ramp = np.tile(np.linspace(0, 255, 256).astype(np.uint8)[None, :, None], (32, 1, 3))
    palette = np.array([[0, 0, 0], [85, 85, 85], [170, 170, 170], [255, 255, 255]], np.uint8)
    for mode in ("floyd-steinberg", "sierra-lite", "atkinson", "bayer8", "blue-noise", "adaptive"):
        indices = FrameMapper(palette, MappingOptions(dither=mode)).map(ramp)
        shown = palette[indices].astype(np.float64)
        # averaged over 8x8 blocks, a dithered ramp is closer to the source than banding is
        blocks = lambda a: a.reshape(4, 8, 32, 8, 3).mean(axis=(1, 3))  # noqa: E731
        plain = palette[FrameMapper(palette).map(ramp)].astype(np.float64)
        assert np.abs(blocks(shown) - blocks(ramp)).mean() < np.abs(blocks(plain) - blocks(ramp)).mean(), mode


def longest_band(indices: np.ndarray) -> int:
    """The longest run of one index along a row: how wide the widest visible band is, in pixels."""
    longest = 0
    for row in indices:
        edges = np.flatnonzero(np.diff(row.astype(np.int16))) + 1
        runs = np.diff(np.concatenate([[0], edges, [len(row)]]))
        longest = max(longest, int(runs.max()))
    return longest


def test_adaptive_dither_breaks_the_bands_of_a_smooth_gradient():
    ramp = np.tile(np.linspace(20, 230, 400).astype(np.uint8)[None, :, None], (16, 1, 3))
    palette = np.array([[v, v, v] for v in range(0, 256, 32)], np.uint8)
    banded = longest_band(FrameMapper(palette).map(ramp))
    adaptive = FrameMapper(palette, MappingOptions(dither="adaptive")).map(ramp)
    diffused = FrameMapper(palette, MappingOptions(dither="floyd-steinberg")).map(ramp)
    assert banded >= 40 and longest_band(adaptive) < 0.7 * banded
    assert np.array_equal(adaptive, diffused)        # smooth everywhere: diffused in full


def test_adaptive_dither_leaves_edges_and_busy_texture_as_nearest_mapping(photo):
    """Texture hides the palette's error: there the adaptive mode maps each pixel to its nearest
    colour, as plain mapping does, and adds no noise for LZW to pay for."""
    rng = np.random.default_rng(4)
    dark, bright = rng.integers(0, 60, (64, 64, 3)), rng.integers(195, 256, (64, 64, 3))
    checker = (np.add.outer(np.arange(64), np.arange(64)) % 2).astype(bool)[:, :, None]
    texture = np.where(checker, bright, dark).astype(np.uint8)          # every 3x3 luma range is over 130
    palette = np.array([[0, 0, 0], [255, 255, 255], [200, 120, 60], [60, 40, 30], [120, 90, 70]], np.uint8)
    plain = FrameMapper(palette).map(texture)
    adaptive = FrameMapper(palette, MappingOptions(dither="adaptive")).map(texture)
    assert np.array_equal(adaptive, plain)
    diffused = FrameMapper(palette, MappingOptions(dither="floyd-steinberg")).map(texture)
    assert not np.array_equal(diffused, plain)


def test_adaptive_dither_costs_fewer_bytes_than_floyd_steinberg_on_a_photo(tmp_path, photo):
    import gifsom

    frames = [np.ascontiguousarray(photo[k:k + 200, k:k + 300]) for k in range(0, 12, 3)]
    adaptive = gifsom.encode(frames, tmp_path / "a.gif", fps=10, colors=32, dither="adaptive")
    diffused = gifsom.encode(frames, tmp_path / "f.gif", fps=10, colors=32, dither="floyd-steinberg")
    assert adaptive.bytes < diffused.bytes


@pytest.mark.parametrize("kwargs", [dict(dither="bogus"), dict(dither_strength=1.5), dict(motion_threshold=-1)])
def test_bad_mapping_options_are_refused_naming_the_field(kwargs):
    (field, value), = kwargs.items()
    with pytest.raises(OptionError, match=f"^{field}={value!r} "):
        EncodeOptions(**kwargs)


@given(st.integers(1, 12), st.integers(1, 12), st.sampled_from([3, 4]), st.integers(0, 2 ** 16))
def test_adaptive_weights_follow_the_luma_range_of_each_3x3_neighbourhood(height, width, channels, seed):
    """The compiled weights against the rule written out: the luma range over each pixel's 3x3
    neighbourhood (clipped at the edges), full at most ADAPTIVE_SMOOTH, none from ADAPTIVE_BUSY."""
    from gifsom.mapping.dither import ADAPTIVE_BUSY, ADAPTIVE_SMOOTH, adaptive_weights

    rng = np.random.default_rng(seed)
    # a few levels near each other, so that smooth, in-between and busy neighbourhoods all occur
    pixels = (rng.integers(0, 4, (height, width, channels)) * rng.integers(1, 40)).astype(np.uint8)
    red, green, blue = (pixels[..., channel].astype(int) for channel in range(3))
    luma = (77 * red + 150 * green + 29 * blue) >> 8
    expected = np.empty((height, width), np.uint8)
    for y in range(height):
        for x in range(width):
            around = luma[max(0, y - 1):y + 2, max(0, x - 1):x + 2]
            spread = int(around.max() - around.min())
            expected[y, x] = (255 if spread <= ADAPTIVE_SMOOTH else 0 if spread >= ADAPTIVE_BUSY
                              else (ADAPTIVE_BUSY - spread) * 255 // (ADAPTIVE_BUSY - ADAPTIVE_SMOOTH))
    assert np.array_equal(adaptive_weights(pixels), expected)


@given(st.integers(2, 256), st.sampled_from([mode for mode in DITHER_MODES if mode != "none"]), st.integers(0, 2 ** 16))
def test_pixels_that_are_palette_colours_are_never_dithered(size, mode, seed):
    """Every dither leaves a pixel that is exactly a palette colour as that colour, whatever error reaches it."""
    rng = np.random.default_rng(seed)
    palette = np.unique(rng.integers(0, 256, (size, 3), dtype=np.uint8), axis=0)
    pixels = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    exact = rng.random((24, 40)) < 0.5
    chosen = rng.integers(0, len(palette), (24, 40))
    pixels[exact] = palette[chosen[exact]]
    indices = FrameMapper(palette, MappingOptions(dither=mode)).map(pixels)
    assert np.array_equal(indices[exact], chosen[exact])


@given(st.integers(1, 150), st.integers(1, 40), st.sampled_from([0.25, 0.75, 1.0]), st.booleans(),
       st.sampled_from([0, 3]), st.integers(0, 2 ** 31))
def test_floyd_steinberg_passed_on_in_registers_diffuses_as_its_taps_added_into_the_error_rows(
        height, width, strength, weighted, threshold, seed):
    """Floyd-Steinberg's taps, in their own order, take the kernel's path that passes the shares on in
    registers; the same taps in another order take the one that adds each into the error rows, and add the
    same shares to each cell in the same order. Both give the same indices and the same kept state over a
    clip: across bands, with pixels that are palette colours, pixels that keep their index, rows that are
    still (exact stillness, threshold 0, skips whole rows), and adaptive weights."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (int(rng.integers(2, 64)), 3), dtype=np.uint8)
    taps = DIFFUSION_KERNELS["floyd-steinberg"]
    shuffled = taps[[2, 0, 3, 1]]
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    exact = rng.random((height, width)) < 0.2
    frame[exact] = palette[rng.integers(0, len(palette), int(exact.sum()))]
    states = [(np.zeros((height, width, 3), np.uint8), np.zeros((height, width), np.uint8)) for _ in range(2)]
    caches = [ColourCache(palette) for _ in range(2)]
    for number in range(3):
        if number:
            moved = rng.random((height, width)) < 0.4
            moved[rng.random(height) < 0.3] = False           # rows that stay whole
            frame = frame.copy()
            frame[moved] = np.clip(frame[moved].astype(int) + rng.integers(-9, 10, (int(moved.sum()), 3)), 0, 255)
        weights = rng.integers(0, 256, (height, width), dtype=np.uint8) if weighted else None
        found = []
        for cache, order, (reference, previous) in zip(caches, (taps, shuffled), states):
            out = np.empty((height, width), np.uint8)
            cache.map_into(frame, out, reference, previous, threshold=threshold, stateful=number > 0, record=True,
                           mode=nearest.MODE_DIFFUSION, taps=np.ascontiguousarray(order), strength=strength,
                           weights=weights)
            previous[:] = out
            found.append(out)
        assert np.array_equal(found[0], found[1])
        assert np.array_equal(states[0][0], states[1][0])


def _mapping_of(array: np.ndarray) -> dict[str, str]:
    """The /proc/self/smaps entry of the memory mapping that holds ``array``: field name -> value."""
    address = array.ctypes.data
    entry: dict[str, str] | None = None
    with open("/proc/self/smaps") as smaps:
        lines = smaps.read().splitlines()
    for line in lines:
        first = line.split()[0]
        if "-" in first and ":" not in first:
            start, end = (int(part, 16) for part in first.split("-"))
            if entry is not None:
                break
            if start <= address < end:
                entry = {}
        elif entry is not None:
            name, _, value = line.partition(":")
            entry[name] = value.strip()
    assert entry is not None, "the array's mapping is not in /proc/self/smaps"
    return entry


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
def test_the_exact_table_takes_memory_only_for_the_pages_it_touches():
    table = small_pages_zeroed(1 << 24)
    far_apart = [0, 5_000_000, 16_000_000]        # three colours far apart, as a frame's few colours are
    assert not table[far_apart].any()
    table[far_apart] = 1
    assert int(_mapping_of(table)["Rss"].split()[0]) <= 3 * 64     # never a whole 2 MiB huge page each
    # the table every palette shares is made so ("nh": no huge pages)
    assert "nh" in _mapping_of(ColourCache(np.zeros((2, 3), np.uint8)).exact)["VmFlags"].split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
@pytest.mark.parametrize("corner", [(0, 0, 0), (96, 160, 40), (240, 240, 248)])
def test_nearby_colours_share_the_exact_tables_pages(monkeypatch, corner):
    """A clip's colours gather in a few parts of the cube: the 2,048 colours of a block of 16 x 16 x 8 levels
    (red, green, blue) are answered from one page of the exact table, where in the packed colour's order
    they spread over 32."""
    monkeypatch.setattr(nearest, "_tables", None)        # fresh shared tables, no page touched yet
    cache = ColourCache(np.array([[0, 0, 0], [255, 255, 255], [200, 40, 90]], np.uint8))
    red, green, blue = np.meshgrid(np.arange(16), np.arange(16), np.arange(8), indexing="ij")
    block = np.stack([red, green, blue], axis=-1).reshape(64, 32, 3) + np.array(corner)
    indices = cache.map(block.astype(np.uint8))
    assert np.array_equal(indices, cache.map(block.astype(np.uint8)))      # answered from the table the same
    assert int(_mapping_of(cache.exact)["Rss"].split()[0]) <= 4      # kB: one small page


def test_the_exact_table_is_made_where_the_kernel_refuses_the_advice(monkeypatch):
    import types

    from gifsom import pages

    class Refusing(mmap.mmap):
        def madvise(self, *advice):
            raise OSError(22, "Invalid argument")     # as a kernel without transparent huge pages answers

    monkeypatch.setattr(pages, "mmap", types.SimpleNamespace(mmap=Refusing, MADV_NOHUGEPAGE=14))
    table = pages.small_pages_zeroed(4096)
    assert table.shape == (4096,) and table.flags.writeable and not table.any()


@pytest.mark.parametrize(("lossy", "threads"), [(10, 3), (0, 4)])
def test_a_lossy_clips_frames_are_mapped_leaving_a_core_to_lzw(tmp_path, monkeypatch, lossy, threads):
    """A clip's frame is mapped while lossy LZW encodes the frame before, so its error diffusion leaves that
    a core; without lossy LZW it takes every core (here 4). The first two frames are mapped before the writer
    has a frame to encode (it writes one once the next is in), and take every core."""
    import gifsom
    import gifsom.threads

    monkeypatch.setattr(gifsom.threads, "available_cores", lambda: 4)
    asked: list[int] = []
    kernel = nearest.map_frame

    def counted(*args):
        asked.append(args[18])             # the kernel's ``threads``
        return kernel(*args)

    monkeypatch.setattr(nearest, "map_frame", counted)
    rng = np.random.default_rng(lossy)
    # noise in many colours: no palette holds them exactly, so every pixel is diffused; 4 bands of rows
    frames = [rng.integers(0, 256, (4 * DIFFUSION_BAND_ROWS, 512, 3), dtype=np.uint8) for _ in range(4)]
    assert frames[0].shape[0] * frames[0].shape[1] >= 4 * nearest.DIFFUSION_PIXELS_PER_THREAD
    gifsom.encode(frames, tmp_path / "noise.gif", fps=10, dither="floyd-steinberg", lossy=lossy, temporal=False)
    assert asked == [4, 4, threads, threads]
