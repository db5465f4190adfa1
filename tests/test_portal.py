"""Recording on Wayland through the ScreenCast portal: a fake portal on a private session bus hands out a
real PipeWire stream (a GStreamer test pattern), which the tests start themselves. ``pytest -k portal``."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import decode_gif
from .recording import Recording

FAKE_PORTAL = Path(__file__).with_name("fake_portal.py")
NEEDED = {"dbus-daemon": "dbus", "pipewire": "pipewire", "wireplumber": "wireplumber",
          "gst-launch-1.0": "gstreamer1.0-tools", "pw-dump": "pipewire-bin"}
#: GStreamer's SMPTE bars as it draws them in BGRx, top row from the left: white, yellow, cyan, green (RGB).
BARS = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0)]


#: A session bus of the tests' own that starts no service by itself: with the machine's service files, a
#: call to the portal's name would start a real xdg-desktop-portal wherever one is installed.
PRIVATE_BUS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={folder}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _poll(condition, timeout: float, what: str):
    """Wait, polling, until ``condition()`` gives something true; fail after ``timeout`` seconds."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        pause.wait(0.05)
    raise AssertionError(f"{what} within {timeout} s")


def _stop(process: subprocess.Popen, how: int) -> None:
    """Stop a helper with signal ``how``, and by force if it has not ended within 10 s."""
    process.send_signal(how)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclasses.dataclass
class Session:
    """A private session bus, PipeWire and WirePlumber: ``env`` is the environment to run gifsom in."""

    env: dict[str, str]
    runtime: Path
    daemons: dict[str, subprocess.Popen]

    def check(self) -> None:
        """Fail, quoting its log, if one of the session's daemons has ended."""
        for name, process in self.daemons.items():
            if process.poll() is not None:
                log = (self.runtime / f"{name}.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"{name} exited (status {process.returncode}) while the portal tests ran; "
                            f"its log ends:\n{log}", pytrace=False)


@pytest.fixture(scope="module")
def pipewire(tmp_path_factory):
    """The session of a module's portal tests (see Session); PipeWire logs its warnings and errors."""
    missing = sorted({package for program, package in NEEDED.items() if shutil.which(program) is None})
    if missing:
        pytest.fail(f"the portal tests need {', '.join(missing)}: apt-get install dbus pipewire pipewire-bin "
                    "wireplumber gstreamer1.0-tools gstreamer1.0-pipewire gstreamer1.0-plugins-base "
                    "(.ci/run installs them)", pytrace=False)
    runtime = tmp_path_factory.mktemp("runtime")
    runtime.chmod(0o700)
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(XDG_RUNTIME_DIR=str(runtime), PIPEWIRE_RUNTIME_DIR=str(runtime))
    started: list[subprocess.Popen] = []
    with contextlib.ExitStack() as files:
        def log(name: str):
            return files.enter_context(open(runtime / f"{name}.log", "w"))
        try:
            config = runtime / "bus.conf"
            config.write_text(PRIVATE_BUS.format(folder=runtime))
            bus = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile",
                                    "--print-address=1"], stdout=subprocess.PIPE, stderr=log("dbus"), text=True,
                                   env=env)
            started.append(bus)
            files.callback(bus.stdout.close)
            env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()
            daemon = subprocess.Popen(["pipewire"], env={**env, "PIPEWIRE_DEBUG": "2"}, stdout=log("pipewire"),
                                      stderr=subprocess.STDOUT)
            started.append(daemon)
            _poll(lambda: (runtime / "pipewire-0").exists(), 30, "PipeWire did not open its socket")
            started.append(subprocess.Popen(["wireplumber"], env=env, stdout=log("wireplumber"),
                                            stderr=subprocess.STDOUT))
            yield Session(env, runtime, {"dbus": bus, "pipewire": daemon, "wireplumber": started[-1]})
        finally:
            for process in reversed(started):
                _stop(process, signal.SIGTERM)


@pytest.fixture
def portal(pipewire, tmp_path):
    """Start the fake portal in a mode (see tests/fake_portal.py); returns the environment to run gifsom in
    and a function that reads the calls the portal got. Each take it starts gets a stream of its own, as with
    a real portal (pipewiresink 0.3 serves a handful of consumers of one stream, then stalls)."""
    pipewire.check()
    env = pipewire.env
    started: list[subprocess.Popen] = []
    log = tmp_path / "portal-calls.jsonl"

    def start(mode: str = "ok") -> dict:
        child = subprocess.Popen([sys.executable, str(FAKE_PORTAL), mode, str(log)], env=env,
                                 stdout=subprocess.PIPE, text=True)
        started.append(child)
        assert child.stdout.readline().strip() == "ready"
        return _gifsom_env(env, tmp_path)
    yield start, lambda: [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    for child in started:
        _stop(child, signal.SIGTERM)            # the portal ends its streams first
        child.stdout.close()
    pipewire.check()


def _gifsom_env(env: dict, tmp_path: Path) -> dict:
    """A Wayland session as gifsom sees it: WAYLAND_DISPLAY set (so the portal is chosen), no X11, and a
    config folder of the test's own."""
    return {**env, "WAYLAND_DISPLAY": "wayland-test", "XDG_CONFIG_HOME": str(tmp_path / "config")}


def _record(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gifsom", "record", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def _near(a, b, tolerance: int = 12) -> bool:
    return all(abs(int(x) - int(y)) <= tolerance for x, y in zip(a, b))


def test_portal_recording_shows_the_test_pattern(portal, tmp_path):
    start, calls = portal
    out = tmp_path / "pattern.gif"
    result = _record(start("ok"), str(out), "--duration", "1.5", "--fps", "10", "-q")
    assert result.returncode == 0, result.stderr
    frames, durations = decode_gif(out)
    assert frames[0].shape == (240, 320, 3)
    for number, colour in enumerate(BARS):          # the bars, left to right, in the upper part of the picture
        x = int((number + 0.5) * 320 / 7)
        assert _near(frames[-1][40, x], colour), (number, frames[-1][40, x])
    assert abs(sum(durations) - 1500) <= 200
    methods = [call["method"] for call in calls()]
    assert methods == ["CreateSession", "SelectSources", "Start", "OpenPipeWireRemote"]
    chosen = calls()[1]["options"]
    assert chosen["types"] == 1 and chosen["cursor_mode"] == 2 and chosen["persist_mode"] == 2


def test_portal_region_crops_in_the_streams_pixels(portal, tmp_path):
    start, _ = portal
    out = tmp_path / "cropped.gif"
    x = int(2.5 * 320 / 7)                          # inside the cyan bar
    result = _record(start("ok"), str(out), "--duration", "1", "--region", f"{x - 10},20,20,30", "-q")
    assert result.returncode == 0, result.stderr
    frames, _ = decode_gif(out)
    assert frames[0].shape == (30, 20, 3)
    assert all(_near(pixel, BARS[2]) for pixel in frames[-1].reshape(-1, 3))
    outside = _record(start("ok"), str(tmp_path / "outside.gif"), "--duration", "1", "--region", "300,0,40,40")
    assert outside.returncode == 2 and "outside the 320x240 stream" in outside.stderr
    assert not (tmp_path / "outside.gif").exists()


def test_portal_keeps_the_permission_for_the_next_take_and_forgets_it_when_asked(portal, tmp_path):
    start, calls = portal
    env = start("ok")
    assert _record(env, str(tmp_path / "a.gif"), "--duration", "0.5", "-q").returncode == 0
    token = tmp_path / "config" / "gifsom" / "portal-restore-token"
    assert token.read_text().strip() == "fake-token-1"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert _record(env, str(tmp_path / "b.gif"), "--duration", "0.5", "-q").returncode == 0
    selected = [call["options"] for call in calls() if call["method"] == "SelectSources"]
    assert "restore_token" not in selected[0] and selected[1]["restore_token"] == "fake-token-1"
    assert token.read_text().strip() == "fake-token-2"
    assert _record(env, str(tmp_path / "c.gif"), "--duration", "0.5", "--forget-permission", "-q").returncode == 0
    selected = [call["options"] for call in calls() if call["method"] == "SelectSources"]
    assert "restore_token" not in selected[2]


@pytest.mark.parametrize("mode, exit_code, said", [
    ("cancel", 1, "gifsom: error: the screen-sharing dialog was cancelled; nothing was recorded"),
    ("fail", 1, "gifsom: error: the desktop portal could not share the screen (Start answered 2); "
                "nothing was recorded"),
    ("no-screencast", 1, "gifsom: error: the desktop portal has no ScreenCast interface "
                         "(org.freedesktop.portal.ScreenCast); install your desktop's portal backend "
                         "(xdg-desktop-portal-gnome, -kde or -wlr)"),
])
def test_portal_answers_that_end_the_take_are_one_line(portal, tmp_path, mode, exit_code, said):
    start, _ = portal
    out = tmp_path / "never.gif"
    result = _record(start(mode), str(out), "--duration", "1")
    assert (result.returncode, result.stderr.strip()) == (exit_code, said)
    assert not out.exists()


def test_portal_missing_from_the_session_bus_is_one_line(pipewire, tmp_path):
    env = pipewire.env
    result = _record(_gifsom_env(env, tmp_path), str(tmp_path / "x.gif"), "--duration", "1")
    assert result.returncode == 1
    assert result.stderr.strip() == ("gifsom: error: no desktop portal on the session bus "
                                     "(org.freedesktop.portal.Desktop); install xdg-desktop-portal and your "
                                     "desktop's backend (xdg-desktop-portal-gnome, -kde or -wlr)")


def test_portal_without_gstreamer_names_the_packages(pipewire, tmp_path):
    env = pipewire.env
    empty = tmp_path / "bin"
    empty.mkdir()
    result = _record({**_gifsom_env(env, tmp_path), "PATH": str(empty)}, str(tmp_path / "x.gif"), "--duration", "1")
    assert result.returncode == 1
    assert result.stderr.strip() == ("gifsom: error: recording on Wayland needs GStreamer, which is not installed: "
                                     "apt-get install gstreamer1.0-tools gstreamer1.0-pipewire "
                                     "gstreamer1.0-plugins-base")


def test_portal_sigint_ends_the_take_and_writes_the_gif(portal, tmp_path):
    start, _ = portal
    out = tmp_path / "stopped.gif"
    recording = Recording([str(out), "--fps", "10"], env=start("ok"))
    recording.started()
    recording.wait_for_frames(5)
    recording.process.send_signal(signal.SIGINT)
    returncode, _ = recording.finish()
    assert returncode == 0, bytes(recording.screen).decode(errors="replace")
    frames, _ = decode_gif(out)
    assert frames[0].shape == (240, 320, 3) and _near(frames[0][40, 20], BARS[0])


def test_portal_without_a_session_bus_is_one_line(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DBUS_SESSION_BUS_ADDRESS"}
    result = _record({**env, "WAYLAND_DISPLAY": "wayland-test", "XDG_CONFIG_HOME": str(tmp_path)},
                     str(tmp_path / "x.gif"), "--duration", "1")
    if shutil.which("gst-launch-1.0") is None:
        pytest.fail("the portal tests need gstreamer1.0-tools (.ci/run installs it)", pytrace=False)
    assert result.returncode == 1
    assert result.stderr.strip() == ("gifsom: error: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): "
                                     "the Wayland screen is shared through the desktop portal on it; run inside a "
                                     "desktop session")
    assert not (tmp_path / "x.gif").exists()


def test_portal_backend_is_checked_and_named(tmp_path):
    result = _record(dict(os.environ), str(tmp_path / "x.gif"), "--backend", "wayland", "--duration", "1")
    assert result.returncode == 2
    assert result.stderr.strip() == "gifsom: error: --backend wayland is not a capture backend; use one of x11, portal"


def test_portal_select_drags_on_a_frame_of_the_stream(portal, display, tmp_path):
    start, _ = portal
    out = tmp_path / "picked.gif"
    child = subprocess.Popen([sys.executable, "-m", "gifsom", "record", str(out), "--select", "--duration", "1", "-q"],
                             env={**start("ok"), "DISPLAY": display}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)

    def picker() -> bool:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "gifsom: drag"], capture_output=True,
                               text=True, env={**os.environ, "DISPLAY": display}).stdout
        return bool(found.split())
    errors = "the recorder did not finish after six drags"
    try:
        _poll(picker, 60, "the region picker did not appear")
        # the picker shows the stream's frame from the screen's top-left corner: drag inside the white bar.
        # A loaded machine may show the window before it takes input: drag again until the recording runs.
        for _ in range(6):
            subprocess.run(["xdotool", "mousemove", "10", "30", "mousedown", "1", "mousemove", "25", "50",
                            "mousemove", "40", "70", "mouseup", "1"], env={**os.environ, "DISPLAY": display},
                           check=True, timeout=60)
            try:
                _, errors = child.communicate(timeout=20)
                break
            except subprocess.TimeoutExpired:
                if not picker():
                    _, errors = child.communicate(timeout=120)    # the drag was taken: the take is running
                    break
    finally:
        if child.poll() is None:
            child.terminate()          # as a user's Ctrl+C would: the recorder stops its capture pipeline
            child.communicate(timeout=60)
    assert child.returncode == 0, errors
    frames, _ = decode_gif(out)
    assert frames[0].shape == (40, 30, 3)
    assert all(_near(pixel, BARS[0]) for pixel in frames[-1].reshape(-1, 3))

