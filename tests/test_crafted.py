"""Inputs people really have, and crafted ones: each comes out right, or gets one clear line.

The inputs are in tests/crafted/, made by ``python scripts/make_crafted.py``. Bounds on
memory and time are resource limits on a child process (address space as a hard stop, CPU
seconds, file size) and its peak resident memory from the kernel's accounting, never timings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import gifsom
from gifsom import TimelineEdits
from gifsom.errors import InputError
from gifsom.gif.reader import GifReader

from .conftest import FIXTURES, decode_gif, psnr
from .test_reliability import cli, leftovers, single_line, wait_until

CRAFTED = Path(__file__).resolve().parent / "crafted"


def ffmpeg_frames(path: Path, width: int, height: int, *filters: str) -> np.ndarray:
    """Every frame of a video as ffmpeg's own player pipeline shows it: (N, H, W, 3)."""
    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path)]
    if filters:
        command += ["-vf", ",".join(filters)]
    result = subprocess.run(command + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True)
    return np.frombuffer(result.stdout, np.uint8).reshape(-1, height, width, 3)


#: Run by a fresh Python that caps its child and reports the child's peak resident memory: the
#: test process's own children (Chromium among them) would blur a RUSAGE_CHILDREN reading.
_LIMITED_RUN = """
import json, resource, subprocess, sys
limits = json.loads(sys.argv[1])
def apply():
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))
done = subprocess.run(sys.argv[2:], capture_output=True, text=True, preexec_fn=apply)
print(json.dumps({"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def run_limited(*args: str, address_space_mb: int = 1024, cpu_seconds: int = 10, file_mb: int | None = None,
                env: dict | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """Run gifsom under resource limits: address space (a hard stop: threads reserve address space
    they never touch, so this is no measure of use), CPU seconds and, optionally, the size of any
    file it writes. Returns the result and the child's peak resident memory in MB."""
    import json

    limits = {"RLIMIT_AS": address_space_mb << 20, "RLIMIT_CPU": cpu_seconds}
    if file_mb is not None:
        limits["RLIMIT_FSIZE"] = file_mb << 20
    wrapper = subprocess.run([sys.executable, "-c", _LIMITED_RUN, json.dumps(limits), sys.executable, "-m", "gifsom",
                              *args], capture_output=True, text=True, timeout=300, env=env)
    report = json.loads(wrapper.stdout)
    result = subprocess.CompletedProcess(args, report["returncode"], report["stdout"], report["stderr"])
    return result, report["peak_mb"]


# --- video as players show it ---

def test_a_phone_video_with_rotation_comes_out_upright(tmp_path):
    out = tmp_path / "phone.gif"
    assert cli("convert", str(CRAFTED / "phone.mp4"), str(out), "-q").returncode == 0
    frames, _ = decode_gif(out)
    assert frames[0].shape == (64, 48, 3)           # stored 64x48, shown turned
    shown = ffmpeg_frames(CRAFTED / "phone.mp4", 48, 64)
    assert psnr(frames[0], shown[0]) > 30 and psnr(frames[-1], shown[-1]) > 30


def test_anamorphic_video_is_stretched_to_square_pixels(tmp_path):
    out = tmp_path / "wide.gif"
    assert cli("convert", str(CRAFTED / "anamorphic.mp4"), str(out), "-q").returncode == 0
    frames, _ = decode_gif(out)
    assert frames[0].shape == (144, 352, 3)         # 176 samples of 2:1 each
    shown = ffmpeg_frames(CRAFTED / "anamorphic.mp4", 352, 144, "scale=352:144:flags=lanczos")
    assert psnr(frames[0], shown[0]) > 30


def test_a_crop_of_anamorphic_video_is_in_shown_pixels(tmp_path):
    out = tmp_path / "crop.gif"
    assert cli("convert", str(CRAFTED / "anamorphic.mp4"), str(out), "--crop", "200,10,150,100", "-q").returncode == 0
    frames, _ = decode_gif(out)
    assert frames[0].shape == (100, 150, 3)
    shown = ffmpeg_frames(CRAFTED / "anamorphic.mp4", 150, 100, "scale=352:144:flags=lanczos", "format=rgb24",
                          "crop=150:100:200:10")
    assert psnr(frames[0], shown[0]) > 30


def test_a_crop_one_pixel_high(tmp_path):
    out = tmp_path / "line.gif"
    assert cli("convert", str(FIXTURES / "pan.mp4"), str(out), "--crop", "11,7,200,1", "--end", "0.5",
               "-q").returncode == 0
    frames, _ = decode_gif(out)
    assert frames[0].shape == (1, 200, 3)
    shown = ffmpeg_frames(FIXTURES / "pan.mp4", 200, 1, "format=rgb24", "crop=200:1:11:7")
    assert psnr(frames[0], shown[0]) > 30


def test_sound_only_is_named(tmp_path):
    result = cli("convert", str(CRAFTED / "audio.m4a"), str(tmp_path / "a.gif"))
    assert result.returncode == 1 and "has no video stream" in single_line(result)
    assert not (tmp_path / "a.gif").exists()


# --- animations Pillow reads ---

@pytest.mark.parametrize("name", ["animated.webp", "animated.png"])
def test_animated_webp_and_png_keep_every_frame_and_delay(name, tmp_path, gif_decoders):
    out = tmp_path / "a.gif"
    assert cli("convert", str(CRAFTED / name), str(out), "-q").returncode == 0
    with Image.open(CRAFTED / name) as source:
        expected = []
        for number in range(source.n_frames):
            source.seek(number)
            expected.append(np.asarray(source.convert("RGB")))
    for decoder in ("pillow", "chromium"):
        shown = gif_decoders[decoder](out)
        assert [delay for _, delay in shown] == [10, 20, 30], decoder
        for (pixels, _), want in zip(shown, expected):
            assert np.array_equal(pixels[:, :, :3], want), decoder
    assert GifReader(out.read_bytes(), "a").loop == 0


# --- frames from Python: one dtype rule where they enter ---

def test_float_frames_are_0_to_1_and_other_ranges_are_refused(tmp_path):
    ramp = np.linspace(0.0, 1.0, 16)[None, :, None].repeat(4, 0).repeat(3, 2)
    gifsom.encode([ramp], tmp_path / "f.gif")
    frames, _ = decode_gif(tmp_path / "f.gif")
    assert np.array_equal(frames[0][0, :, 0], np.rint(np.linspace(0, 255, 16)).astype(np.uint8))
    with pytest.raises(InputError, match=r"float pixels must be in 0\.\.1"):
        gifsom.encode([ramp * 255.0], tmp_path / "g.gif")
    with pytest.raises(InputError, match="NaN"):
        gifsom.encode([np.full((4, 4, 3), np.nan)], tmp_path / "g.gif")
    assert not (tmp_path / "g.gif").exists()


def test_bool_frames_are_black_and_white(tmp_path):
    mask = np.zeros((4, 4), bool)
    mask[:2] = True
    gifsom.encode([mask], tmp_path / "b.gif")
    frames, _ = decode_gif(tmp_path / "b.gif")
    assert (frames[0][:2] == 255).all() and (frames[0][2:] == 0).all()


def test_grey_and_alpha_frames_are_accepted(tmp_path):
    frame = np.zeros((4, 4, 2), np.uint8)
    frame[:, :, 0] = 90
    frame[:, :2, 1] = 255                       # left half opaque grey, right half transparent
    gifsom.encode([frame], tmp_path / "la.gif")
    with Image.open(tmp_path / "la.gif") as image:
        rgba = np.asarray(image.convert("RGBA"))
    assert (rgba[:, :2, :3] == 90).all() and (rgba[:, :2, 3] == 255).all() and (rgba[:, 2:, 3] == 0).all()


def test_imageio_names_the_bad_frame_not_a_missing_one(tmp_path):
    import imageio.v3 as iio

    with pytest.raises(InputError, match="uint16 with values from 0 to 4000"):
        iio.imwrite(tmp_path / "x.gif", np.linspace(0, 4000, 48).astype(np.uint16).reshape(1, 4, 4, 3),
                    plugin="gifsom")
    assert not (tmp_path / "x.gif").exists()


def test_imageio_refuses_to_write_a_file_opened_for_reading(tmp_path):
    import imageio.v3 as iio

    gif = tmp_path / "clip.gif"
    gifsom.encode([np.full((8, 8, 3), v, np.uint8) for v in (0, 120, 240)], gif, fps=10)
    before = gif.read_bytes()
    with iio.imopen(gif, "r", plugin="gifsom") as file:
        with pytest.raises(ValueError, match="opened for reading"):
            file.write(np.zeros((8, 8, 3), np.uint8))
    assert gif.read_bytes() == before


def test_imageio_properties_and_metadata_come_from_the_blocks(tmp_path):
    """improps and immeta decode no image: a GIF whose last image's data is garbage still answers."""
    import imageio.v3 as iio

    good = tmp_path / "good.gif"
    gifsom.encode([np.full((6, 5, 3), v, np.uint8) for v in (0, 90, 180)], good, fps=5)
    reader = GifReader(good.read_bytes(), "good")
    broken = tmp_path / "broken.gif"
    data = bytearray(good.read_bytes())
    data[-4] ^= 0xFF                               # inside the last image's LZW data
    broken.write_bytes(bytes(data))
    props = iio.improps(broken, plugin="gifsom")
    assert props.shape == (reader.frame_count, 6, 5, 3) and props.n_images == 3
    meta = iio.immeta(broken, plugin="gifsom")
    assert meta["duration"] == [200, 200, 200] and meta["loop"] == 0
    assert iio.immeta(broken, plugin="gifsom", index=1)["duration"] == 200
    assert iio.imread(good, plugin="gifsom").shape == (3, 6, 5, 3)


def test_matplotlib_refuses_dpi_in_grab_frame_with_matplotlibs_words(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gifsom.matplotlib import GifWriter

    figure = plt.figure(figsize=(1, 1))
    writer = GifWriter(fps=5)
    try:
        with writer.saving(figure, tmp_path / "m.gif", 50):
            with pytest.raises(TypeError, match="grab_frame got an unexpected keyword argument 'dpi'"):
                writer.grab_frame(dpi=100)
            writer.grab_frame()
    finally:
        plt.close(figure)


# --- many files at once ---

def test_batch_names_a_glob_after_what_it_names(tmp_path):
    for folder in ("shots", "more"):
        (tmp_path / folder).mkdir()
        for number in range(2):
            Image.fromarray(np.full((4, 4, 3), number * 90, np.uint8)).save(tmp_path / folder / f"f{number}.png")
    result = cli("convert", str(tmp_path / "shots" / "*.png"), str(tmp_path / "more" / "f*.png"),
                 "-o", str(tmp_path / "out"), "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["f.gif", "shots.gif"]
    from gifsom.cli.commands import output_stem

    assert output_stem("clips/*/frame_*.png") == "frame" and output_stem("a.b.mp4") == "a.b"


# --- palettes per scene ---

def test_scene_palettes_on_one_scene_are_the_global_palette(tmp_path):
    frames = [f.pixels for f in gifsom.read_frames(FIXTURES / "pan.mp4", end=1.0)]
    one = gifsom.encode(frames, tmp_path / "scene.gif", fps=15, palette="scene")
    whole = gifsom.encode(frames, tmp_path / "global.gif", fps=15, palette="global")
    assert (tmp_path / "scene.gif").read_bytes() == (tmp_path / "global.gif").read_bytes()
    assert one.bytes == whole.bytes and GifReader((tmp_path / "scene.gif").read_bytes(), "s").local_table_count == 0


def test_scene_palettes_give_local_tables_only_to_the_shorter_scenes(tmp_path, photo):
    pan = [f.pixels for f in gifsom.read_frames(FIXTURES / "pan.mp4", end=1.0)]
    height, width = pan[0].shape[:2]
    cut = [np.ascontiguousarray(photo[k:k + height // 2, k:k + width // 2, ::-1].repeat(2, 0).repeat(2, 1)[:height, :width])
           for k in range(6)]
    gifsom.encode(pan + cut, tmp_path / "two.gif", fps=15, palette="scene")
    reader = GifReader((tmp_path / "two.gif").read_bytes(), "two")
    assert reader.image_count == len(pan) + len(cut)
    assert reader.local_table_count == len(cut)        # the long scene uses the global table


def test_scenes_that_each_fit_the_palette_stay_exact_by_default(tmp_path):
    """Two scenes of 200 colours each (400 together): each scene gets its exact colours."""
    rng = np.random.default_rng(8)
    scenes = [rng.integers(0, 256, (200, 3), dtype=np.uint8) for _ in range(2)]
    frames = []
    for colours in scenes:
        picture = colours[rng.integers(0, 200, (40, 50))]
        frames += [np.roll(picture, shift, axis=1) for shift in range(4)]
    gifsom.encode(frames, tmp_path / "exact.gif", fps=10)
    shown, _ = decode_gif(tmp_path / "exact.gif")
    assert len(shown) == len(frames) and all(np.array_equal(a, b) for a, b in zip(shown, frames))


def _two_exact_scenes(lengths: tuple[int, int] = (5, 5), still: int = 0) -> list[np.ndarray]:
    """Two scenes of 200 colours each (400 together, so each needs a palette of its own) of ``lengths``
    frames, the first ending on ``still`` repeats of its last frame (a pause)."""
    rng = np.random.default_rng(8)
    frames = []
    for length in lengths:
        colours = rng.integers(0, 256, (200, 3), dtype=np.uint8)
        picture = colours[rng.integers(0, 200, (40, 50))]
        frames += [np.roll(picture, shift, axis=1) for shift in range(length)]
        frames += [frames[-1]] * still
        still = 0
    return frames


@pytest.mark.parametrize("edits, shown_numbers", [
    (TimelineEdits(reverse=True), list(range(9, -1, -1))),
    (TimelineEdits(boomerang=True), [*range(10), *range(8, 0, -1)]),
    (TimelineEdits(max_idle=0.1), list(range(10))),
])
def test_an_edited_timeline_shows_each_scene_in_its_own_palette(tmp_path, edits, shown_numbers):
    """Scene palettes belong to spooled frames: reversed, turned or with a pause cut, each frame still gets
    its own scene's exact colours (they were given the palette of the frame at its place before the edit)."""
    frames = _two_exact_scenes(still=4 if edits.max_idle else 0)
    distinct = [frame for number, frame in enumerate(frames)
                if number == 0 or not np.array_equal(frame, frames[number - 1])]
    gifsom.encode(frames, tmp_path / "edited.gif", fps=10, edits=edits)
    shown, _ = decode_gif(tmp_path / "edited.gif")
    assert len(shown) == len(shown_numbers)
    assert all(np.array_equal(picture, distinct[number]) for picture, number in zip(shown, shown_numbers))


def test_a_fit_thinning_frames_shows_each_scene_in_its_own_palette(tmp_path):
    """A fit's try that keeps every other frame maps each kept frame with its own scene's palette."""
    from gifsom.encoder import new_survey
    from gifsom.fit import Fitter, FitSetting
    from gifsom.spool import FrameSpool

    frames = _two_exact_scenes()
    options = gifsom.EncodeOptions()
    spool, survey = FrameSpool(50, 40, 3), new_survey(options)
    for number, frame in enumerate(frames):
        spool.append(frame, number / 10)
        survey.add(frame)
    (tmp_path / "try.gif").write_bytes(Fitter(spool, survey, options, 1.0, 10 ** 6).encode(FitSetting(frame_step=2)))
    shown, _ = decode_gif(tmp_path / "try.gif")
    assert len(shown) == 5
    assert all(np.array_equal(picture, frames[number]) for picture, number in zip(shown, range(0, 10, 2)))


# --- files and resources ---

@pytest.mark.parametrize("number, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_leave_no_temporary_file(tmp_path, number, code):
    out = tmp_path / "o.gif"
    out.write_bytes(b"old")
    process = subprocess.Popen([sys.executable, "-m", "gifsom", "convert", str(FIXTURES / "pan.mp4"), str(out),
                                "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # signal while the GIF is being written: its temporary file exists beside the output
        assert wait_until(lambda: any(name.endswith(".tmp") for name in os.listdir(tmp_path)), process, 120), \
            "the conversion never started writing"
        process.send_signal(number)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == code, stderr
    assert stderr.strip().endswith("no output was written") and len(stderr.strip().splitlines()) == 1
    assert out.read_bytes() == b"old" and not leftovers(tmp_path)


def test_new_gifs_honour_the_umask_and_replaced_gifs_keep_their_mode(tmp_path):
    frames = [np.zeros((4, 4, 3), np.uint8)]
    old = os.umask(0o077)
    try:
        gifsom.encode(frames, tmp_path / "private.gif")
    finally:
        os.umask(old)
    assert (tmp_path / "private.gif").stat().st_mode & 0o777 == 0o600
    old = os.umask(0o022)
    try:
        gifsom.encode(frames, tmp_path / "public.gif")
        (tmp_path / "kept.gif").write_bytes(b"x")
        os.chmod(tmp_path / "kept.gif", 0o640)
        gifsom.encode(frames, tmp_path / "kept.gif")
    finally:
        os.umask(old)
    assert (tmp_path / "public.gif").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "kept.gif").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("command", ["info", "convert"])
def test_descriptor_bombs_are_refused_or_shown_as_browsers_show_them_within_bounds(command, tmp_path):
    """Images that declare 65535x65535 pixels on a 1x1 screen, within 200 MB of memory and 10 CPU seconds:
    a first image that large would grow the screen (as browsers do) past the pixel limit, and is
    refused; later ones are clipped to the 1x1 screen, and only that pixel is decoded."""
    output = [str(tmp_path / "o.gif"), "-q"] if command == "convert" else []
    refused, peak = run_limited(command, str(CRAFTED / "bomb-one.gif"), *output)
    assert refused.returncode == 1 and "over the 89,478,485-pixel safety limit" in single_line(refused)
    assert peak <= 200
    shown, peak = run_limited(command, str(CRAFTED / "bomb-many.gif"), *output)
    assert shown.returncode == 0, shown.stderr
    assert peak <= 200
    if command == "convert":
        frames, _ = decode_gif(tmp_path / "o.gif")
        assert frames[0].shape == (1, 1, 3) and [f[0, 0].tolist() for f in frames] == [[0, 0, 0], [255, 0, 0]]
    else:
        assert "201 frames (201 images)" in shown.stdout


def test_the_first_image_grows_the_screen_and_no_table_draws_black(tmp_path, gif_decoders):
    """What Chromium shows: a first image larger than the screen widens it; an image with no
    colour table draws black (its transparent index stays transparent)."""
    import struct
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from make_crafted import control, descriptor, lzw_image, screen

    wide = tmp_path / "wide.gif"
    wide.write_bytes(screen(2, 2, [(255, 0, 0), (0, 255, 0)]) + control(10) + descriptor(1, 0, 3, 2)
                     + lzw_image([0, 1, 0, 1, 1, 0]) + b"\x3b")
    untabled = tmp_path / "untabled.gif"
    untabled.write_bytes(b"GIF89a" + struct.pack("<HHBBB", 4, 2, 0, 0, 0) + control(10, 1, 1)
                         + descriptor(0, 0, 4, 2) + lzw_image([0, 1, 2, 3] * 2) + b"\x3b")
    for original in (wide, untabled):
        out = tmp_path / f"out-{original.name}"
        assert cli("convert", str(original), str(out), "-q").returncode == 0
        want = gif_decoders["chromium"](original)
        for decoder in ("pillow", "chromium"):
            got = gif_decoders[decoder](out)
            assert len(got) == len(want) == 1
            from .decoders import visible
            assert np.array_equal(visible(got[0][0]), visible(want[0][0])), decoder


def test_a_small_gif_of_many_frames_spools_compressed(tmp_path):
    """2 KB of one-pixel frames on a 600x600 screen is 173 MB of raw canvases: the spool must not
    grow anywhere near that (the child may write no file over 16 MB)."""
    env = dict(os.environ, TMPDIR=str(tmp_path))
    result, peak = run_limited("convert", str(CRAFTED / "amplify.gif"), str(tmp_path / "o.gif"), "-q",
                               cpu_seconds=60, file_mb=16, env=env)
    assert result.returncode == 0, result.stderr
    assert peak <= 300
    assert GifReader((tmp_path / "o.gif").read_bytes(), "o").frame_count == 120


def test_the_spool_stops_before_the_disk_is_full(tmp_path, monkeypatch):
    from gifsom import spool as spool_module
    from gifsom.errors import ResourceError

    class Nearly:
        free = spool_module.DISK_RESERVE + 1000
    monkeypatch.setattr(spool_module.shutil, "disk_usage", lambda folder: Nearly())
    rng = np.random.default_rng(3)
    with pytest.raises(ResourceError, match="nearly full"):
        with spool_module.FrameSpool(64, 64, 3, memory_budget=0, directory=str(tmp_path)) as spool:
            for number in range(3):
                spool.append(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), number)


def test_the_spool_compresses_where_it_pays_and_reads_back_exactly(tmp_path):
    from gifsom.spool import FrameSpool

    rng = np.random.default_rng(5)
    noise = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(3)]
    flat = [np.full((32, 32, 3), v, np.uint8) for v in (10, 20, 30)]
    raw_first = 2 * flat[0].nbytes
    with FrameSpool(32, 32, 3, memory_budget=0, directory=str(tmp_path), raw_before_deflate=raw_first) as spool:
        for number, frame in enumerate(flat + noise):
            spool.append(frame, number)
        # the first two frames go raw; then flat frames deflate to a few dozen bytes, and noise is
        # stored as it is, never larger
        assert spool.bytes_on_disk <= raw_first + 3 * noise[0].nbytes + 300
        for number, frame in enumerate(flat + noise):
            assert np.array_equal(spool.frame(number), frame)
    with FrameSpool(32, 32, 3, memory_budget=0, directory=str(tmp_path)) as spool:
        for number, frame in enumerate(flat):
            spool.append(frame, number)
        assert spool.bytes_on_disk == 3 * flat[0].nbytes      # a short spill stays raw: nothing to inflate
        for number, frame in enumerate(flat):
            assert np.array_equal(spool.frame(number), frame)



@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["patch", "repeat", "whole", "alpha"]), st.integers(0, 2 ** 16)),
                min_size=1, max_size=80), st.integers(0, 2 ** 16))
def test_the_spool_reads_back_frames_stored_as_changed_rectangles_in_any_order(steps, seed):
    from gifsom.spool import FrameSpool

    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    frames = []
    with FrameSpool(40, 24, 3, memory_budget=3 * frame.nbytes) as spool:
        for number, (step, salt) in enumerate(steps):
            frame = frame.copy()
            if step == "patch":              # a small rectangle changes, as on a screen
                top, left = salt % 20, (salt // 20) % 36
                frame[top:top + 4, left:left + 4, :3] = rng.integers(0, 256, 3, dtype=np.uint8)
            elif step == "whole":
                frame[...] = rng.integers(0, 256, frame.shape, dtype=np.uint8)
            elif step == "alpha" and frame.shape[2] == 3:   # the clip's transparency starts late
                frame = np.concatenate([frame, np.full((24, 40, 1), 255, np.uint8)], axis=2)
                frame[salt % 24, :, 3] = 0
            spool.append(frame, number)
            frames.append(frame)
        order = list(range(len(frames))) + list(rng.permutation(len(frames)))
        for number in order:
            want = frames[number]
            if want.shape[2] < spool.shape[2]:
                want = np.concatenate([want, np.full((24, 40, 1), 255, np.uint8)], axis=2)
            assert np.array_equal(spool.frame(number), want), number


def test_a_screen_recording_spools_as_the_rectangles_that_change(tmp_path):
    from gifsom.spool import FrameSpool

    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)       # does not deflate
    with FrameSpool(300, 200, 3, memory_budget=0, directory=str(tmp_path)) as spool:
        for number in range(100):
            frame = frame.copy()
            frame[50:60, number:number + 10] = rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)
            spool.append(frame, number)
        # whole frames every 32nd; the others store their 10x10 rectangle (and at most a frame's edge)
        assert spool.bytes_on_disk < 5 * frame.nbytes
        assert np.array_equal(spool.frame(99), frame)

# --- messages that must not be internal errors ---

@pytest.mark.parametrize("name, fragment", [("negative-width.y4m", "gives a -16x8 picture"),
                                            ("zero-rate.y4m", "frame rate '0:1'")])
def test_bad_y4m_headers_get_one_line(tmp_path, name, fragment):
    result = cli("encode", str(CRAFTED / name), str(tmp_path / "o.gif"))
    assert result.returncode == 1 and fragment in single_line(result)


def test_deep_y4m_is_read_at_its_bit_depth(tmp_path):
    assert cli("encode", str(CRAFTED / "deep.y4m"), str(tmp_path / "o.gif"), "-q").returncode == 0
    frames, _ = decode_gif(tmp_path / "o.gif")
    shown = ffmpeg_frames(CRAFTED / "deep.y4m", 16, 8)
    assert np.abs(frames[0].astype(int) - shown[0].astype(int)).max() <= 3     # a ramp, not damage


def test_closed_stdout_is_one_line(tmp_path):
    result = subprocess.run(f"{sys.executable} -m gifsom convert {FIXTURES / 'pan.mp4'} - --end 0.3 >&-",
                            shell=True, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "standard output is closed" in single_line(result)


@pytest.mark.parametrize("command", ["info", "convert"])
def test_a_reader_that_goes_away_ends_gifsom_quietly(tmp_path, command):
    """``gifsom info x.gif | head -c 1``: the reader has gone before gifsom writes (its end of the
    pipe is closed first, so every write fails, as it does when head exits early)."""
    gif = tmp_path / "g.gif"
    gifsom.encode([np.full((64, 64, 3), v, np.uint8) for v in range(0, 250, 10)], gif, fps=10)
    args = ["info", str(gif)] if command == "info" else ["convert", str(gif), "-", "-q"]
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "gifsom", *args], stdout=write_end, stderr=subprocess.PIPE,
                                text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.stderr == "" and result.returncode == 141


def test_convert_dash_points_to_encode(tmp_path):
    result = cli("convert", "-", str(tmp_path / "o.gif"))
    assert result.returncode == 2 and "gifsom encode -" in single_line(result)


def test_a_folder_as_the_output_is_called_a_folder(tmp_path):
    result = cli("convert", str(FIXTURES / "pan.mp4"), str(tmp_path))
    assert result.returncode == 1 and "is a folder" in single_line(result)


def test_out_of_memory_advice_fits_the_command(monkeypatch, capsys):
    from gifsom import cli as cli_module

    def exhausted(args):
        raise MemoryError
    monkeypatch.setitem(cli_module.COMMANDS, "info", exhausted)
    assert cli_module.main("info", "x.gif") == 1
    line = capsys.readouterr().err.strip()
    assert "out of memory" in line and "--width" not in line


# --- GIFs cut short, and images with no delay ---

def test_a_gif_missing_its_last_bytes_keeps_every_frame(tmp_path):
    out = tmp_path / "o.gif"
    assert cli("convert", str(CRAFTED / "cut-short.gif"), str(out), "-q").returncode == 0
    assert GifReader(out.read_bytes(), "o").frame_count == 3
    info = cli("info", str(CRAFTED / "cut-short.gif"))
    assert "3 frames" in info.stdout and "warning" not in info.stdout


def test_damage_messages_fit_what_was_asked(tmp_path):
    data = (CRAFTED / "cut-short.gif").read_bytes()
    inside = tmp_path / "inside.gif"
    inside.write_bytes(data[:120])                  # inside the third image's pixels
    result = cli("convert", str(inside), str(tmp_path / "o.gif"))
    assert "2 frames before the damage decode: keep them with --partial-ok" in single_line(result)
    info = cli("info", str(inside))
    assert info.returncode == 0 and "damaged at image 2" in info.stdout and "--partial-ok" not in info.stdout
    nothing = tmp_path / "nothing.gif"
    for end in (50, 60):                            # inside the first control block, the first descriptor
        nothing.write_bytes(data[:end])
        result = cli("convert", str(nothing), str(tmp_path / "o.gif"), "--partial-ok")
        line = single_line(result)
        assert result.returncode == 1 and "no frame before it decodes" in line and "--partial-ok" not in line
    assert not (tmp_path / "o.gif").exists()


def test_an_image_with_no_delay_shows_for_10_cs_as_in_browsers(tmp_path, gif_decoders):
    out = tmp_path / "o.gif"
    assert cli("convert", str(CRAFTED / "zero-delay-first.gif"), str(out), "-q").returncode == 0
    original = [(pixels, delay if delay >= 2 else 10)
                for pixels, delay in gif_decoders["chromium"](CRAFTED / "zero-delay-first.gif")]
    shown = gif_decoders["chromium"](out)
    assert [delay for _, delay in shown] == [10, 20, 30] == [delay for _, delay in original]
    for (got, _), (want, _) in zip(shown, original):
        assert np.array_equal(got, want)


# --- the library's size limits ---

def test_max_size_takes_a_size_text_and_target_takes_a_place(tmp_path):
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (96, 96, 3), dtype=np.uint8) for _ in range(4)]
    result = gifsom.encode(frames, tmp_path / "a.gif", max_size="20K")
    assert result.bytes <= 20_000 and "bytes=" in repr(result) and len(repr(result)) < 400
    emoji = gifsom.encode([np.repeat(f, 2, 0).repeat(2, 1) for f in frames], tmp_path / "e.gif", target="slack-emoji")
    with Image.open(tmp_path / "e.gif") as image:
        width, height = image.size
    assert emoji.bytes <= 128_000 and max(width, height) <= 128


def test_a_huge_default_gif_is_warned_about_before_it_starts(capsys):
    from gifsom.cli.commands import _warn_if_huge
    from gifsom.sources.base import ClipPlan

    _warn_if_huge(ClipPlan(1800, 1920, 1080), "talk.mp4")
    line = capsys.readouterr().err
    assert "talk.mp4" in line and "--width" in line and "--for" in line
    _warn_if_huge(ClipPlan(120, 640, 360), "pan.mp4")
    assert capsys.readouterr().err == ""


def test_fitting_under_a_size_shows_progress_while_it_works(tmp_path, capsys):
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 256, (48, 48, 3), dtype=np.uint8) for _ in range(6)]
    with gifsom.GifWriter(tmp_path / "f.gif", fps=10, bar=True, max_size=12_000) as writer:
        for frame in frames:
            writer.append(frame)
    assert "fitting under 12,000 bytes" in capsys.readouterr().err
    assert (tmp_path / "f.gif").stat().st_size <= 12_000
