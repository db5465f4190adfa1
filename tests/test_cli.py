"""The command line: the main job end to end, and one-line errors with the right exit codes."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gifsom.cli import main
from gifsom.cli.palette_report import PANEL_WIDTH

from .conftest import FIXTURES, decode_gif, decode_with_ffmpeg


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gifsom", *args], capture_output=True, text=True, timeout=300)


def test_convert_video_end_to_end(tmp_path):
    out = tmp_path / "pan.gif"
    result = run("convert", str(FIXTURES / "pan.mp4"), str(out), "--fps", "10", "--width", "320")
    assert result.returncode == 0, result.stderr
    frames, durations = decode_gif(out)
    assert frames[0].shape == (180, 320, 3)
    assert len(frames) == 80 and set(durations) == {100}
    assert len(decode_with_ffmpeg(out, 320, 180)) == 80


def test_convert_image_folder_and_glob(tmp_path):
    out = tmp_path / "screen.gif"
    assert main("convert", str(FIXTURES / "screen"), str(out), "--fps", "5", "-q") == 0
    frames, durations = decode_gif(out)
    assert frames[0].shape == (320, 480, 3) and set(durations) == {200}
    out2 = tmp_path / "glob.gif"
    assert main("convert", str(FIXTURES / "screen" / "frame_00*.png"), str(out2), "-q") == 0
    assert len(decode_gif(out2)[0]) <= 9


def test_help_and_version():
    result = run("--help")
    assert result.returncode == 0 and "convert" in result.stdout and "palette" in result.stdout
    assert "--dither" in run("convert", "--help").stdout
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("gifsom ")


def one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("args, code, fragment", [
    (["convert", "missing.mp4", "OUT"], 1, "does not exist"),
    (["convert", "NOISE", "OUT"], 1, "cannot read video"),
    (["convert", "VIDEO", "OUT", "--colors", "300"], 2, "--colors"),
    (["convert", "VIDEO", "OUT", "--colors", "1"], 2, "--colors"),
    (["convert", "VIDEO", "OUT", "--fps", "0"], 2, "fps"),
    (["convert", "VIDEO", "OUT", "--fps", "-3"], 2, "fps"),
    (["convert", "VIDEO", "OUT", "--width", "70000"], 2, "--width"),
    (["convert", "VIDEO", "OUT", "--dither", "sparkle"], 2, "--dither"),
    (["convert", "VIDEO", "OUT", "--fixed-color", "red"], 2, "RRGGBB"),
    (["convert", "VIDEO", "missing-folder/out.gif"], 1, "does not exist"),
    (["convert", "VIDEO", "VIDEO"], 2, "is the input"),
    (["convert", "VIDEO", "-o", "OUT"], 2, "-o names a folder, one GIF per input; to write"),
    (["convert", "EMPTY", "OUT"], 1, "no frames"),
    (["convert"], 2, "required"),
])
def test_errors_are_one_line_with_exit_code(tmp_path, args, code, fragment):
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(os.urandom(5000))
    empty = tmp_path / "empty"
    empty.mkdir()
    video = tmp_path / "in.mp4"
    video.write_bytes((FIXTURES / "pan.mp4").read_bytes())
    out = tmp_path / "out.gif"
    names = {"NOISE": str(noise), "OUT": str(out), "VIDEO": str(video), "EMPTY": str(empty)}
    result = run(*[names.get(a, a) for a in args])
    assert result.returncode == code
    assert fragment in one_line_error(result)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_failed_convert_leaves_existing_output_untouched(tmp_path):
    out = tmp_path / "out.gif"
    out.write_bytes(b"keep me")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(os.urandom(3000))
    assert main("convert", str(bad), str(out)) == 1
    assert out.read_bytes() == b"keep me"


def test_palette_command_writes_plot_and_gpl(tmp_path, capsys):
    plot, gpl = tmp_path / "p.png", tmp_path / "p.gpl"
    assert main("palette", str(FIXTURES / "photo.jpg"), "--colors", "32", "--plot", str(plot), "--save", str(gpl)) == 0
    assert "32 colours" in capsys.readouterr().out
    lines = gpl.read_text().splitlines()
    assert lines[0] == "GIMP Palette" and len(lines) == 4 + 32
    with Image.open(plot) as image:
        assert image.width >= 3 * PANEL_WIDTH          # input, output and difference side by side
    colours = np.array([[int(v) for v in line.split()[:3]] for line in lines[4:]])
    assert colours.min() >= 0 and colours.max() <= 255


def test_swapped_arguments_never_touch_the_video(tmp_path):
    """`gifsom convert screen.gif talk.mp4` once overwrote the video with GIF data."""
    video = tmp_path / "talk.mp4"
    video.write_bytes((FIXTURES / "pan.mp4").read_bytes())
    before = video.read_bytes()
    gif = tmp_path / "screen.gif"
    assert main("convert", str(FIXTURES / "screen"), str(gif), "-q") == 0
    result = run("convert", str(gif), str(video))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "swapped" in lines[0] and "talk.mp4" in lines[0]
    assert video.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["screen.gif", "talk.mp4"]


@pytest.mark.parametrize("name, accepted", [("out.GIF", True), ("out.Gif", True), ("out.png", False),
                                            ("out", False), ("out.gif.mp4", False)])
def test_output_must_be_a_gif_name(tmp_path, name, accepted):
    out = tmp_path / name
    code = main("convert", str(FIXTURES / "photo.jpg"), str(out), "-q")
    assert (code == 0) == accepted
    assert out.exists() == accepted
    if not accepted:
        assert code == 2


# a thread the program did not start, still running when the command finishes: it ends once the main thread
# has, and says so; an exit handler says it ran
AFTER_THE_COMMAND = """
import atexit, sys, threading
def after_main():
    threading.main_thread().join()
    print("the thread finished", flush=True)
if sys.argv[1] == "thread":
    threading.Thread(target=after_main).start()
atexit.register(lambda: print("the exit handler ran"))
sys.argv = ["gifsom", "convert", *sys.argv[2:]]
from gifsom.launch import entry_point
entry_point()
"""


@pytest.mark.parametrize("thread", [False, True])
def test_a_run_that_succeeds_runs_the_exit_handlers_flushes_its_output_and_waits_for_threads(tmp_path, thread):
    """A successful run ends without the interpreter's teardown only where no thread but daemons is left: its
    exit handlers still run, its summary reaches a pipe, and a thread of the caller's is waited for."""
    out = tmp_path / "out.gif"
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    run = subprocess.run([sys.executable, "-c", AFTER_THE_COMMAND, "thread" if thread else "none",
                          str(FIXTURES / "screen"), str(out)], capture_output=True, text=True, timeout=300,
                         env=buffered)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"wrote {out}") and lines[-1] == "the exit handler ran"
    assert ("the thread finished" in lines) == thread
    assert len(decode_gif(out)[0]) == 30


def test_dash_writes_the_gif_to_standard_output(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gifsom", "convert", str(FIXTURES / "screen"), "-"],
                            capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "file.gif"
    assert main("convert", str(FIXTURES / "screen"), str(out), "-q") == 0
    assert result.stdout == out.read_bytes()      # the same GIF as written to a file
    assert len(decode_gif(out)[0]) == 30
    assert b"wrote -" in result.stderr            # the summary stays off the pipe
    assert not list(tmp_path.glob(".*.tmp"))


def test_import_gifsom_loads_neither_numpy_nor_the_pipeline():
    """What lets the program set numpy's threads first, and keeps ``import gifsom`` quick; the public
    names still resolve, each to its own object."""
    code = ("import sys, gifsom; loaded = sorted(m for m in ('numpy', 'gifsom.writer') if m in sys.modules); "
            "print(loaded, callable(gifsom.quantize), gifsom.GifWriter.__module__, gifsom.sources.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["[]", "True", "gifsom.writer", "gifsom.sources"], result.stderr


@pytest.mark.parametrize("variable, given, expected", [("OPENBLAS_NUM_THREADS", None, "1"),
                                                       ("OPENBLAS_NUM_THREADS", "3", "3"),
                                                       ("OMP_WAIT_POLICY", None, "PASSIVE"),
                                                       ("OMP_WAIT_POLICY", "ACTIVE", "ACTIVE")])
def test_the_program_sets_numpys_and_openmps_threads_unless_the_user_chose(variable, given, expected):
    env = {k: v for k, v in os.environ.items() if k != variable}
    if given is not None:
        env[variable] = given
    code = (f"import atexit, os, sys; atexit.register(lambda: print('set', os.environ.get('{variable}'))); "
            "sys.argv = ['gifsom', '--help']; from gifsom.launch import entry_point; entry_point()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"set {expected}"


def test_the_program_runs_its_command_with_the_garbage_collector_on_and_the_imports_frozen_out_of_it():
    # the collector is paused while numpy and the pipeline load, then must be running again for the command
    code = ("import atexit, gc, sys; "
            "atexit.register(lambda: print('collector', gc.isenabled(), gc.get_freeze_count() > 10000, "
            "'numpy' in sys.modules)); "
            "sys.argv = ['gifsom', '--help']; from gifsom.launch import entry_point; entry_point()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "collector True True True"


_SECOND_BLOCK_FAULTS = (
    "def second_block_faults():\n"
    "    import resource, numpy\n"
    "    faults = []\n"
    "    for _ in range(2):\n"
    "        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
    "        block = numpy.ones(3 << 20, numpy.uint8)\n"
    "        del block\n"
    "        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    "    print('faults', faults[1])\n")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the allocator settings are glibc's")
def test_the_program_keeps_freed_memory_for_its_next_blocks_of_that_size():
    # a 3 MB block freed and asked for again: by glibc's default its pages go back to the system and the next
    # block faults them in afresh; the program asks the allocator to keep them
    def second_block_faults(code: str) -> int:
        result = subprocess.run([sys.executable, "-c", _SECOND_BLOCK_FAULTS + code], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        return int(result.stdout.splitlines()[-1].split()[1])

    if second_block_faults("second_block_faults()") < 500:
        pytest.skip("this C library keeps a freed block's pages by default")
    program = ("import atexit, sys; atexit.register(second_block_faults); "
               "sys.argv = ['gifsom', '--help']; from gifsom.launch import entry_point; entry_point()")
    assert second_block_faults(program) < 50


def test_the_library_leaves_the_openmp_wait_policy_to_the_program_that_imports_it():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = ("import os, numpy, gifsom; gifsom.quantize(numpy.zeros((4, 4, 3), numpy.uint8), colors=2); "
            "print('set', os.environ.get('OMP_WAIT_POLICY'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "set None"
