"""gifsom record, under a virtual display (Xvfb) that the tests start themselves."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gifsom
from gifsom import Region
from gifsom.cli import main
from gifsom.errors import OptionError, SourceError
from gifsom.sources.screen import CaptureOptions, ScreenSource

from .conftest import decode_gif
from .recording import Recording

HELPER = Path(__file__).with_name("screen_colours.py")
RED, GREEN, BLUE, MAGENTA = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 0, 255)


@pytest.fixture
def colours(display):
    """Start the colour-cycling window; returns when its first colour is on screen.

    Read ``shown_times(helper, count)`` for when each colour went on screen.
    """
    def start(step: float = 1.0, colours: str = "ff0000,00ff00,0000ff"):
        helper = subprocess.Popen([sys.executable, str(HELPER), "--colours", colours, "--step", str(step)],
                                  stdout=subprocess.PIPE, text=True)
        assert helper.stdout.readline().strip() == "ready"
        started.append(helper)
        return helper
    started: list[subprocess.Popen] = []
    yield start
    for helper in started:
        helper.kill()
        helper.wait()
        helper.stdout.close()


def shown_times(helper: subprocess.Popen, count: int) -> list[float]:
    """time.monotonic() at which each of the helper's first ``count`` colours went on screen (blocks until then)."""
    times = []
    while len(times) < count:
        line = helper.stdout.readline()
        assert line, "the colour window closed early"
        if line.startswith("shown "):
            times.append(float(line.split()[2]))
    return times


def dominant(frame: np.ndarray) -> tuple[int, int, int]:
    values, counts = np.unique(frame.reshape(-1, 3), axis=0, return_counts=True)
    return tuple(int(v) for v in values[counts.argmax()])


def test_recording_shows_the_colours_in_order_with_real_timing(tmp_path, colours):
    out = tmp_path / "rec.gif"
    recording = Recording([str(out), "--region", "0,0,160,120", "--fps", "10", "--duration", "4", "--no-cursor"])
    recording.started()
    _, green_at, blue_at = shown_times(colours(step=1.0), 3)
    returncode, stdout = recording.finish()
    assert returncode == 0, bytes(recording.screen).decode(errors="replace")
    late = int(re.search(r"(\d+) late", stdout).group(1))
    frames, durations = decode_gif(out)
    shown = [dominant(f) for f in frames]
    order = [c for i, c in enumerate(shown) if i == 0 or c != shown[i - 1]]
    assert [c for c in order if c in (RED, GREEN, BLUE)] == [RED, GREEN, BLUE]
    # green lasts in the GIF as long as it was on screen: frames keep the time they were taken, so the
    # error is at most one capture interval at each change (wider by one for each grab that came late)
    # plus centisecond rounding
    green_ms = sum(d for c, d in zip(shown, durations) if c == GREEN)
    on_screen_ms = (blue_at - green_at) * 1000
    assert abs(green_ms - on_screen_ms) <= 2 * 100 + 100 * late + 20, (green_ms, on_screen_ms, late)
    assert abs(sum(durations) - 4000) <= 100 + 100 * late + 20


def test_delays_follow_real_timestamps(tmp_path, colours):
    colours(step=0.5)
    source = ScreenSource(CaptureOptions(Region(0, 0, 64, 48), fps=20, duration=1.5, cursor=False))
    frames = list(source.frames())
    assert len(frames) + source.late >= 25
    out = tmp_path / "timed.gif"
    gifsom.encode(frames, out, fps=20)
    _, durations = decode_gif(out)
    starts = np.cumsum([0] + durations[:-1])
    # every GIF frame starts within 2 cs of when its first source frame was really taken
    taken = [round(f.pts * 1000) for f in frames]
    for start in starts:
        assert min(abs(start - t) for t in taken) <= 20


def test_region_crops_what_it_should(tmp_path, colours):
    colours(step=1.0)
    out = tmp_path / "right.gif"
    report = gifsom.record(out, region="160,0,160,120", fps=10, duration=1.0, cursor=False, status=False)
    frames, _ = decode_gif(out)
    assert report.frames >= 8
    assert all(dominant(f) == MAGENTA for f in frames)
    assert frames[0].shape == (120, 160, 3)


@pytest.mark.parametrize("flags, size", [(["--scale", "0.5"], (80, 60)), (["--width", "40"], (40, 30))])
def test_record_scales_frames_as_they_are_captured(tmp_path, colours, flags, size):
    colours(step=1.0)
    out = tmp_path / "small.gif"
    assert main("record", str(out), "--region", "160,0,160,120", "--fps", "10", "--duration", "1", "--no-cursor",
                "-q", *flags) == 0
    frames, _ = decode_gif(out)
    assert (frames[0].shape[1], frames[0].shape[0]) == size
    assert all(dominant(f) == MAGENTA for f in frames)


@pytest.mark.parametrize("encoding", ["--live", "--no-live"])
def test_sigint_still_writes_the_gif(tmp_path, colours, encoding):
    out = tmp_path / "stopped.gif"
    recording = Recording([str(out), "--region", "0,0,160,120", "--fps", "10", "--no-cursor", encoding])
    recording.started()
    shown_times(colours(step=0.5), 3)        # red, green, then blue is on screen
    recording.wait_for_frames(recording.frames_taken() + 10)     # two status lines later: blue is recorded
    assert recording.process.poll() is None
    recording.process.send_signal(signal.SIGINT)
    returncode, stdout = recording.finish()
    assert returncode == 0, bytes(recording.screen).decode(errors="replace")
    assert "recorded" in stdout
    frames, _ = decode_gif(out)
    shown = [dominant(f) for f in frames]
    assert [c for c in shown if c in (RED, GREEN, BLUE)] == [RED, GREEN, BLUE]


@pytest.mark.parametrize("what", [[], ["--window", "some title"]])
def test_no_display_is_one_line_exit_1(tmp_path, what):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    result = subprocess.run([sys.executable, "-m", "gifsom", "record", str(tmp_path / "x.gif"), "--duration", "1",
                             *what], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no screen to record" in lines[0]
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("region, message", [("0,0,0,10", "zero size"), ("600,400,100,100", "outside the screen")])
def test_bad_regions(display, tmp_path, region, message):
    with pytest.raises(OptionError, match=message):
        gifsom.record(tmp_path / "x.gif", region=region, duration=1, status=False)
    assert not (tmp_path / "x.gif").exists()


def test_region_strings():
    assert Region.parse("100,200,640,480", "region") == Region(100, 200, 640, 480)
    assert Region.parse("640x480+100+200", "region") == Region(100, 200, 640, 480)
    with pytest.raises(OptionError, match="^region='640x480' is not X,Y,W,H"):
        Region.parse("640x480", "region")
    assert issubclass(SourceError, gifsom.GifsomError)


@pytest.fixture(autouse=True)
def own_config(tmp_path_factory, monkeypatch):
    """The last region is remembered in a folder of the test's own, never in the user's ~/.config."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


def _xdotool(*args: str) -> str:
    if not shutil.which("xdotool"):
        pytest.fail("these tests drive the mouse with xdotool: apt-get install xdotool (.ci/run installs it)",
                    pytrace=False)
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=60).stdout


def _window_named(title: str, timeout: float = 60.0) -> int:
    """The id of the first window whose title holds ``title``, once it is on screen."""
    waited = threading.Event()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _xdotool("search", "--onlyvisible", "--name", title).split()
        if found:
            return int(found[0])
        waited.wait(0.05)           # poll the X server until the window is mapped, up to the deadline
    raise AssertionError(f"no window titled {title!r} appeared within {timeout} s")


def _picker(args: list[str]) -> tuple[subprocess.Popen, int]:
    child = subprocess.Popen([sys.executable, "-m", "gifsom", "record", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    return child, _window_named("gifsom: drag")


def test_select_records_exactly_the_dragged_rectangle(tmp_path, colours):
    colours(step=1.0)                  # the right half of the helper (x 160..319, y 0..239) is magenta
    out = tmp_path / "picked.gif"
    child, _ = _picker([str(out), "--select", "--duration", "1", "--no-cursor", "-q"])
    _xdotool("mousemove", "170", "20", "mousedown", "1", "mousemove", "220", "50", "mousemove", "270", "80",
             "mouseup", "1")
    _, errors = child.communicate(timeout=120)
    assert child.returncode == 0, errors
    frames, _ = decode_gif(out)
    assert frames[0].shape == (60, 100, 3)
    assert all((f == MAGENTA).all() for f in frames)
    # and it is remembered: --region last records the same rectangle
    again = tmp_path / "again.gif"
    assert main("record", str(again), "--region", "last", "--duration", "0.5", "--no-cursor", "-q") == 0
    frames, _ = decode_gif(again)
    assert frames[0].shape == (60, 100, 3) and all((f == MAGENTA).all() for f in frames)


def test_escape_cancels_the_selection_and_writes_nothing(tmp_path, colours):
    colours(step=1.0)
    out = tmp_path / "cancelled.gif"
    child, _ = _picker([str(out), "--select", "--duration", "1"])
    _xdotool("mousemove", "300", "300", "key", "Escape")
    _, errors = child.communicate(timeout=120)
    assert child.returncode == 1
    assert errors.strip() == "gifsom: error: the selection was cancelled; nothing was recorded"
    assert not out.exists() and os.listdir(tmp_path) == []


def test_region_last_without_an_earlier_region_names_the_flag(display, tmp_path, capsys):
    assert main("record", str(tmp_path / "x.gif"), "--region", "last", "--duration", "1") == 2
    said = capsys.readouterr().err.strip()
    assert said.startswith("gifsom: error: --region 'last' needs an earlier recording") and "\n" not in said


def test_a_recorded_window_is_followed_when_it_moves(tmp_path, display):
    mover = subprocess.Popen([sys.executable, "-c", (
        "import tkinter as tk\n"
        "root = tk.Tk(); root.title('gifsom follow me'); root.geometry('120x90+20+300')\n"
        "root.configure(bg='#00ff00'); root.after(60000, root.destroy); root.mainloop()\n")])
    try:
        window = _window_named("gifsom follow me")
        out = tmp_path / "window.gif"
        recording = Recording([str(out), "--window", "follow me", "--fps", "10", "--no-cursor"])
        recording.started()
        recording.wait_for_frames(recording.frames_taken() + 5)
        _xdotool("windowmove", str(window), "400", "100")
        recording.wait_for_frames(recording.frames_taken() + 10)
        recording.process.send_signal(signal.SIGINT)
        returncode, _ = recording.finish()
        assert returncode == 0, bytes(recording.screen).decode(errors="replace")
    finally:
        mover.kill()
        mover.wait()
    frames, _ = decode_gif(out)
    assert frames[0].shape == (90, 120, 3)
    # before and after the move the window fills the frame; a grab during the move may catch part of it
    assert all(dominant(f) == GREEN for f in frames)
    assert (frames[0] == GREEN).all() and (frames[-1] == GREEN).all()


@given(first=st.tuples(st.integers(-50, 700), st.integers(-50, 500), st.integers(1, 640), st.integers(1, 480)),
       now=st.tuples(st.integers(-2000, 2000), st.integers(-2000, 2000)))
def test_a_followed_window_keeps_its_size_on_screen(first, now):
    from gifsom.sources.base import Rectangle
    from gifsom.sources.window import follow

    screen = Rectangle(0, 0, 640, 480)
    seen = Region(*first).clipped(screen)
    if seen is None:
        return
    box = follow(seen, Region(now[0], now[1], 10, 10), screen)
    assert (box.width, box.height) == (seen.width, seen.height)
    assert screen.contains(box)
