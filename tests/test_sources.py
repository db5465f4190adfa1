"""Frame sources: videos, image sequences and GIFs, with trim, rate and size."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import gifsom
import gifsom.cli
from gifsom.errors import InputError
from gifsom.sources.base import MAX_AHEAD, decode_ahead
from gifsom.sources.images import list_images

from .conftest import FIXTURES, decode_gif


def test_video_is_resampled_scaled_and_trimmed():
    frames = list(gifsom.read_frames(FIXTURES / "pan.mp4", fps=10, size=(160, 0), start=1.0, end=3.0))
    assert len(frames) == 20
    assert frames[0].pixels.shape == (90, 160, 3)
    assert [round(f.pts, 3) for f in frames[:3]] == [0.0, 0.1, 0.2]


FIND_FFMPEG = """
import subprocess, sys
started = []
real = subprocess.Popen
subprocess.Popen = lambda *a, **k: started.append(a) or real(*a, **k)
from gifsom.ffmpeg import ffmpeg_exe
print(ffmpeg_exe(), len(started), "imageio_ffmpeg" in sys.modules)
"""


def test_the_shipped_ffmpeg_is_found_without_running_a_process_or_importing_imageio_ffmpeg():
    env = {k: v for k, v in os.environ.items() if k != "IMAGEIO_FFMPEG_EXE"}
    found = subprocess.run([sys.executable, "-c", FIND_FFMPEG], capture_output=True, text=True, env=env, check=True)
    path, processes, imported = found.stdout.split()
    assert Path(path).parent.name == "binaries" and os.access(path, os.X_OK)
    assert Path(path).parent.parent == Path(imageio_ffmpeg.__file__).parent
    assert processes == "0" and imported == "False"


def test_a_shipped_ffmpeg_that_cannot_start_gives_way_to_the_one_imageio_ffmpeg_finds(tmp_path, monkeypatch):
    from gifsom import ffmpeg

    broken = tmp_path / "ffmpeg-broken"
    broken.write_text("not a program")         # not executable: starting it fails with an OSError
    monkeypatch.setattr(ffmpeg, "_ffmpeg", None)
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    monkeypatch.setattr(ffmpeg, "_shipped_ffmpeg", lambda: str(broken))
    frames = [f.pixels for f in gifsom.read_frames(FIXTURES / "pan.mp4", fps=2, size=(64, 0))]
    assert len(frames) > 1 and frames[0].shape[1] == 64
    assert ffmpeg.ffmpeg_exe() != str(broken)


# every ffmpeg the program starts: whether it decodes (writes frames to its stdout) or describes, whether
# numpy had loaded by then, the thread that started it, and whether it was reaped; printed at exit, after
# the program's own exit handlers (registered later, so run first)
COUNT_FFMPEG = """
import atexit, subprocess, sys, threading
started = []
real = subprocess.Popen
class Counted(real):
    def __init__(self, command, *a, **k):
        super().__init__(command, *a, **k)
        started.append((self, command[-1] == "-", "numpy" in sys.modules, threading.current_thread().name))
subprocess.Popen = Counted
atexit.register(lambda: print([(decodes, loaded, thread, p.returncode is not None)
                               for p, decodes, loaded, thread in started]))
sys.argv = ["gifsom", "convert", *sys.argv[1:]]
from gifsom.launch import entry_point
entry_point()
"""


def started_ffmpeg(run: subprocess.CompletedProcess) -> list[tuple[bool, bool, str, bool]]:
    """What COUNT_FFMPEG printed: ``(decodes, numpy loaded, thread, reaped)`` for each ffmpeg started."""
    import ast

    return ast.literal_eval(run.stdout.splitlines()[-1])


def test_the_program_has_ffmpeg_describe_a_video_while_numpy_loads_and_the_probe_takes_that(tmp_path):
    out = tmp_path / "out.gif"
    run = subprocess.run([sys.executable, "-c", COUNT_FFMPEG, str(FIXTURES / "pan.mp4"), str(out), "--fps", "2",
                          "--width", "32", "-q"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    # the description, before numpy; then the decode: no second description, and with --fps and --width no
    # decode started early as the default options decode
    assert started_ffmpeg(run) == [(False, False, "MainThread", True), (True, True, "MainThread", True)]
    with Image.open(out) as gif:
        assert gif.size[0] == 32


def test_the_program_starts_decoding_the_first_video_while_numpy_loads_and_the_source_takes_that(tmp_path):
    """With the default decode (``--colors`` and ``--lossy`` do not change it), the thread that takes the
    description starts the decode, and the source reads its frames: no other ffmpeg starts, and the GIF is
    the one the library writes from a decode of its own."""
    out = tmp_path / "out.gif"
    run = subprocess.run([sys.executable, "-c", COUNT_FFMPEG, str(FIXTURES / "pan.mp4"), str(out), "--colors", "64",
                          "--lossy", "5", "-q"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert [(decodes, thread, reaped) for decodes, _, thread, reaped in started_ffmpeg(run)] == \
        [(False, "MainThread", True), (True, "gifsom-early-decode", True)]
    assert gifsom.cli.main("convert", str(FIXTURES / "pan.mp4"), str(tmp_path / "own.gif"), "--colors", "64",
                           "--lossy", "5", "-q") == 0
    assert out.read_bytes() == (tmp_path / "own.gif").read_bytes()


def test_a_video_converts_without_loading_the_image_readers_or_the_inflater(tmp_path):
    """What only stills and a spool on disk need stays unloaded while a video is converted: the image-sequence
    reader (with its PNG decoder) and zlib-ng."""
    script = ("import sys\nfrom gifsom.cli import main\nassert main('convert', sys.argv[1], sys.argv[2], '-q') == 0\n"
              "print(sorted(m for m in sys.modules if m.startswith(('gifsom.sources.images', 'gifsom.sources.png', "
              "'zlib_ng'))))")
    run = subprocess.run([sys.executable, "-c", script, str(FIXTURES / "pan.mp4"), str(tmp_path / "out.gif")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
    assert len(decode_gif(tmp_path / "out.gif")[0]) > 1


def test_what_the_program_runs_before_numpy_loads_does_not_load_numpy():
    """The early description and decode run while numpy loads: their modules must not wait for it."""
    code = "import sys, gifsom.ffmpeg, gifsom.video_probe; print('numpy' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "False", run.stderr


def test_the_decode_flags_are_the_source_options_that_change_the_decode():
    """``DECODE_FLAGS`` (no decode is started early with one of them) names exactly the options whose
    value changes the video source's ffmpeg command."""
    from dataclasses import fields, replace

    from gifsom.ffmpeg import DECODE_FLAGS, description
    from gifsom.sources.base import Rectangle, SourceOptions
    from gifsom.sources.video import VideoSource
    from gifsom.video_probe import video_info

    path = FIXTURES / "pan.mp4"
    info = video_info(description(path), path)
    default = VideoSource(path).command(info)[0]
    other = {"fps": 5.0, "width": 64, "height": 48, "start": 0.5, "end": 1.0, "speed": 2.0, "max_pixels": 10 ** 6,
             "partial_ok": True, "crop": Rectangle(0, 0, 32, 32)}
    assert sorted(other) == sorted(field.name for field in fields(SourceOptions))
    changing = {f"--{name.replace('_', '-')}" for name, value in other.items()
                if VideoSource(path, replace(SourceOptions(), **{name: value})).command(info)[0] != default}
    assert changing == DECODE_FLAGS


@pytest.mark.parametrize("refused, named_in_error", [(["out.gif", "--fps", "0"], "fps"),
                                                     (["pan.mp4", "-o", "out"], "would both write")])
def test_a_description_started_early_and_not_taken_is_stopped_when_the_program_exits(tmp_path, refused,
                                                                                     named_in_error):
    # refused before any source opens; a video named twice is described once
    arguments = [str(FIXTURES / word) if word == "pan.mp4" else word for word in refused]
    run = subprocess.run([sys.executable, "-c", COUNT_FFMPEG, str(FIXTURES / "pan.mp4"), *arguments],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode != 0 and named_in_error in run.stderr
    # the description, before numpy; without a decode flag, the decode started for the default options too:
    # both stopped and reaped
    found = started_ffmpeg(run)
    assert found[0] == (False, False, "MainThread", True)
    assert [(decodes, thread, reaped) for decodes, _, thread, reaped in found[1:]] == \
        ([] if "--fps" in refused else [(True, "gifsom-early-decode", True)])


def test_natural_sort(tmp_path):
    for n in (10, 2, 1):
        Image.new("RGB", (4, 4), (n, n, n)).save(tmp_path / f"frame{n}.png")
    assert [p.name for p in list_images(tmp_path)] == ["frame1.png", "frame2.png", "frame10.png"]
    values = [int(f.pixels[0, 0, 0]) for f in gifsom.read_frames(tmp_path)]
    assert values == [1, 2, 10]


def test_frames_of_different_sizes(tmp_path, capsys):
    Image.new("RGB", (4, 4)).save(tmp_path / "a1.png")
    Image.new("RGB", (6, 4)).save(tmp_path / "a2.png")
    with pytest.raises(InputError, match="a2.png.*use resize_to_first or"):
        list(gifsom.read_frames(tmp_path))
    assert gifsom.cli.main("convert", str(tmp_path), str(tmp_path / "a.gif"), "-q") == 1
    assert "use --resize-to-first or" in capsys.readouterr().err
    from gifsom.sources import open_source

    frames = list(open_source(tmp_path, resize_to_first=True).frames())
    assert [f.pixels.shape for f in frames] == [(4, 4, 3), (4, 4, 3)]


def test_truncated_png_is_named(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "f1.png")
    data = (FIXTURES / "screen" / "frame_001.png").read_bytes()
    (tmp_path / "f2.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="f2.png"):
        list(gifsom.read_frames(tmp_path))


def test_png_named_files_that_are_not_safe_pngs_get_the_checks_of_any_image(tmp_path):
    """A sequence file named .png that is not a PNG is decoded as what it is, and one whose header claims
    a picture too large to decode safely is refused, naming the file."""
    import struct
    import zlib

    from gifsom.errors import ResourceError

    rng = np.random.default_rng(5)
    pictures = [rng.integers(0, 256, (6, 8, 3), dtype=np.uint8) for _ in range(3)]
    for number, picture in enumerate(pictures):
        Image.fromarray(picture).save(tmp_path / f"f{number}.png", format="BMP" if number == 1 else "PNG")
    frames = [frame.pixels for frame in gifsom.read_frames(tmp_path)]
    assert len(frames) == 3 and all(np.array_equal(a, b) for a, b in zip(frames, pictures))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    huge = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    (tmp_path / "f1.png").write_bytes(huge)
    with pytest.raises(ResourceError, match="f1.png"):
        list(gifsom.read_frames(tmp_path))


def test_gif_reencode_keeps_timing_and_loop(tmp_path):
    source = tmp_path / "in.gif"
    frames = [Image.new("RGB", (10, 10), (i * 60, 0, 0)) for i in range(4)]
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=[100, 300, 50, 200], loop=3)
    out = tmp_path / "out.gif"
    assert gifsom.cli.main("convert", str(source), str(out), "-q") == 0
    decoded, durations = decode_gif(out)
    assert durations == [100, 300, 50, 200]
    with Image.open(out) as image:
        assert image.info["loop"] == 3
    assert all(np.array_equal(d, np.asarray(f)) for d, f in zip(decoded, frames))


def test_rgba_sequence_keeps_transparency(tmp_path):
    for i in range(3):
        frame = np.zeros((20, 30, 4), np.uint8)
        frame[:, :, 2] = 255
        frame[:, :, 3] = 255
        frame[5:15, i * 8:i * 8 + 6, 3] = 0
        Image.fromarray(frame, "RGBA").save(tmp_path / f"f{i}.png")
    out = tmp_path / "alpha.gif"
    assert gifsom.cli.main("convert", str(tmp_path), str(out), "-q") == 0
    with Image.open(out) as image:
        for i in range(3):
            image.seek(i)
            shown = np.asarray(image.convert("RGBA"))
            assert (shown[:, :, 3] == 0).sum() == 60
            assert shown[10, i * 8 + 2, 3] == 0 and shown[10, 29, 3] == 255


def _frame_job(number: int, delay: float, fail: bool = False):
    def job():
        time.sleep(delay)
        if fail:
            raise InputError(f"frame {number} is broken")
        return np.full((2, 3, 3), number, np.uint8)
    return job


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 0.004), min_size=0, max_size=40), st.integers(1, 4))
def test_decode_ahead_keeps_the_order(delays, workers):
    frames = list(decode_ahead((_frame_job(n, d) for n, d in enumerate(delays)), workers=workers))
    assert [int(f[0, 0, 0]) for f in frames] == list(range(len(delays)))


def test_decode_ahead_raises_at_the_failing_frame_and_stops_its_threads():
    jobs = [_frame_job(n, 0.001, fail=n == 7) for n in range(20)]
    seen = []
    with pytest.raises(InputError, match="frame 7 is broken"):
        for frame in decode_ahead(jobs, workers=3):
            seen.append(int(frame[0, 0, 0]))
    assert seen == list(range(7))
    assert not [t for t in threading.enumerate() if t.name.startswith("gifsom-decode")]


def test_decode_ahead_closed_early_cancels_the_rest():
    started = []

    def job(n):
        def run():
            started.append(n)
            return np.zeros((1, 1, 3), np.uint8)
        return run

    frames = decode_ahead((job(n) for n in range(10_000)), workers=2)
    next(frames)
    frames.close()
    assert len(started) <= MAX_AHEAD + 2
    assert not [t for t in threading.enumerate() if t.name.startswith("gifsom-decode")]
