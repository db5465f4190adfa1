"""The screen on Wayland: the desktop portal's ScreenCast interface, and frames from the PipeWire stream it opens.

Wayland gives no program the screen; the xdg-desktop-portal asks the user (a dialog of the
desktop's own) and hands over a PipeWire stream. The portal speaks D-Bus, through jeepney (a
small pure-Python client that passes file descriptors). Each call returns a *request* object and
answers later with its ``Response`` signal, so the signal is subscribed to before each call:
``CreateSession``, ``SelectSources`` (a monitor or a window, the cursor drawn in or not, and
``persist_mode`` with the ``restore_token`` of the last take, so that the second take needs no
dialog), ``Start`` and ``OpenPipeWireRemote``. A response of 1 is the user's cancel, 2 a failure.

Frames come from ``gst-launch-1.0 pipewiresrc`` in a subprocess that writes raw RGB to a pipe,
as gifsom reads ffmpeg (Debian: ``gstreamer1.0-tools``, ``gstreamer1.0-pipewire``). The stream
sends a frame only when the screen changes; a reader thread keeps the newest, and the steady
clock of :class:`gifsom.sources.screen.SteadyCapture` takes it at the frame rate (the last one
again while nothing changes), with real timestamps, as on X11. The size comes from the caps
GStreamer reports (``-v``): ``region`` crops in the stream's own pixels (HiDPI included).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import Cancelled, OptionError, SourceError
from .screen import CaptureOptions, Region, SteadyCapture
from .select import config_folder, select_on

PORTAL_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SCREENCAST = "org.freedesktop.portal.ScreenCast"
REQUEST = "org.freedesktop.portal.Request"
#: ``SelectSources`` ``types``: a monitor, a window.
MONITOR, WINDOW = 1, 2
#: ``cursor_mode``: hidden, drawn into the frames.
CURSOR_HIDDEN, CURSOR_EMBEDDED = 1, 2
#: ``persist_mode``: keep the permission until the user revokes it.
PERSIST_UNTIL_REVOKED = 2
#: What to install when GStreamer or its PipeWire element is missing (Debian's package names).
GSTREAMER_PACKAGES = "gstreamer1.0-tools gstreamer1.0-pipewire gstreamer1.0-plugins-base"
#: Seconds to wait for the stream's first frame.
FIRST_FRAME_SECONDS = 15.0
#: D-Bus errors that mean nothing owns the portal's name.
_NO_PORTAL = ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner")
#: D-Bus errors that mean the portal is there but has no ScreenCast.
_NO_SCREENCAST = ("org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.UnknownInterface",
                  "org.freedesktop.DBus.Error.UnknownObject")


def token_path() -> Path:
    """Where the portal's restore token is kept (mode 0600): the permission of the last take."""
    return config_folder() / "portal-restore-token"


def saved_token() -> str | None:
    try:
        return token_path().read_text().strip() or None
    except OSError:
        return None


def save_token(token: str) -> None:
    """Keep ``token`` for the next take, readable by the user alone."""
    path = token_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "w") as file:
            file.write(token + "\n")
        os.chmod(path, 0o600)                 # a file made earlier with another mode
    except OSError:
        pass                                  # the next take asks again: a convenience, not an error


def forget_permission() -> bool:
    """Remove the saved restore token, so that the next take asks again; whether there was one."""
    try:
        token_path().unlink()
        return True
    except FileNotFoundError:
        return False


@dataclass(frozen=True)
class PortalStream:
    """What the portal shared: a PipeWire connection (``fd``), the stream's node, and the token for next time."""

    fd: int
    node: int
    restore_token: str | None


class ScreenCastPortal:
    """A ScreenCast session with the desktop portal, over the D-Bus session bus."""

    def __init__(self) -> None:
        try:
            from jeepney.io.blocking import open_dbus_connection
        except ImportError:
            raise SourceError("recording on Wayland needs jeepney: pip install jeepney") from None
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            raise SourceError("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): the Wayland screen is "
                              "shared through the desktop portal on it; run inside a desktop session")
        try:
            self.connection = open_dbus_connection(bus="SESSION", enable_fds=True)
        except (OSError, ValueError, KeyError) as exc:
            raise SourceError(f"cannot reach the D-Bus session bus ({exc}); run inside a desktop session") from None
        self.sender = self.connection.unique_name.lstrip(":").replace(".", "_")

    def close(self) -> None:
        self.connection.close()

    def _call(self, method: str, signature: str, body: tuple):
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg

        address = DBusAddress(PORTAL_PATH, bus_name=PORTAL_NAME, interface=SCREENCAST)
        try:
            return unwrap_msg(self.connection.send_and_get_reply(new_method_call(address, method, signature, body)))
        except DBusErrorResponse as error:
            if error.name in _NO_PORTAL:
                raise SourceError(f"no desktop portal on the session bus ({PORTAL_NAME}); install xdg-desktop-portal "
                                  "and your desktop's backend (xdg-desktop-portal-gnome, -kde or -wlr)") from None
            if error.name in _NO_SCREENCAST:
                raise SourceError(f"the desktop portal has no ScreenCast interface ({SCREENCAST}); install your "
                                  "desktop's portal backend (xdg-desktop-portal-gnome, -kde or -wlr)") from None
            raise SourceError(f"the desktop portal refused {method} ({error.name}: {error.data}); "
                              "nothing was recorded") from None

    def _request(self, method: str, signature: str, body: tuple, options: dict) -> dict:
        """Call a method that answers through a request object; the results of its ``Response``."""
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus

        token = "gifsom_" + secrets.token_hex(6)
        path = f"{PORTAL_PATH}/request/{self.sender}/{token}"
        rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=path)
        self.connection.send_and_get_reply(message_bus.AddMatch(rule))
        with self.connection.filter(rule) as answers:      # subscribed before the call, as the portal asks
            self._call(method, signature, body + ({**options, "handle_token": ("s", token)},))
            response, results = self.connection.recv_until_filtered(answers).body
        if response == 1:
            raise Cancelled("the screen-sharing dialog was cancelled; nothing was recorded")
        if response != 0:
            raise SourceError(f"the desktop portal could not share the screen ({method} answered {response}); "
                              "nothing was recorded")
        return {key: value[1] for key, value in results.items()}

    def open(self, *, window: bool, cursor: bool, restore_token: str | None) -> PortalStream:
        """Ask for a monitor (or a window) and open its stream."""
        session_token = "gifsom_" + secrets.token_hex(6)
        created = self._request("CreateSession", "a{sv}", (), {"session_handle_token": ("s", session_token)})
        session = created.get("session_handle") or f"{PORTAL_PATH}/session/{self.sender}/{session_token}"
        options: dict[str, tuple[str, object]] = {"types": ("u", WINDOW if window else MONITOR), "multiple": ("b", False),
                   "cursor_mode": ("u", CURSOR_EMBEDDED if cursor else CURSOR_HIDDEN),
                   "persist_mode": ("u", PERSIST_UNTIL_REVOKED)}
        if restore_token:
            options["restore_token"] = ("s", restore_token)
        self._request("SelectSources", "oa{sv}", (session,), options)
        started = self._request("Start", "osa{sv}", (session, ""), {})
        streams = started.get("streams") or []
        if not streams:
            raise SourceError("the desktop portal started no stream; nothing was recorded")
        node = int(streams[0][0])
        (descriptor,) = self._call("OpenPipeWireRemote", "oa{sv}", (session, {}))
        return PortalStream(descriptor.to_raw_fd(), node, started.get("restore_token"))


def _check_gstreamer() -> str:
    launcher = shutil.which("gst-launch-1.0")
    if launcher is None:
        raise SourceError(f"recording on Wayland needs GStreamer, which is not installed: apt-get install "
                          f"{GSTREAMER_PACKAGES}")
    inspector = shutil.which("gst-inspect-1.0")
    if inspector is not None and subprocess.run([inspector, "pipewiresrc"], capture_output=True).returncode != 0:
        raise SourceError(f"GStreamer has no PipeWire element (pipewiresrc): apt-get install {GSTREAMER_PACKAGES}")
    return launcher


#: GStreamer's ``-v`` line for the caps the frames reach the pipe with, and the size in it.
_SINK_CAPS = re.compile(r"GstFdSink:\w+\.GstPad:sink: caps = video/x-raw")
_WIDTH, _HEIGHT = re.compile(r"width=\(int\)(\d+)"), re.compile(r"height=\(int\)(\d+)")


def sink_size(line: str) -> tuple[int, int] | None:
    """(width, height) from a ``gst-launch-1.0 -v`` line that gives the sink's caps, or None for other lines."""
    if not _SINK_CAPS.search(line):
        return None
    width, height = _WIDTH.search(line), _HEIGHT.search(line)
    return (int(width.group(1)), int(height.group(1))) if width and height else None


class _StreamReader:
    """``gst-launch-1.0 pipewiresrc`` in a subprocess (``launcher``: the program's path), and a thread that
    keeps its newest frame."""

    def __init__(self, stream: PortalStream, launcher: str) -> None:
        frames_out, frames_in = os.pipe()
        self.process = subprocess.Popen(
            [launcher, "-v", "pipewiresrc", f"fd={stream.fd}", f"path={stream.node}", "always-copy=true", "!",
             "videoconvert", "!", "video/x-raw,format=RGB", "!", "fdsink", f"fd={frames_in}", "sync=false"],
            pass_fds=(stream.fd, frames_in), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        os.close(frames_in)
        os.close(stream.fd)
        self.frames = os.fdopen(frames_out, "rb")     # buffered: read(n) gives n bytes, fewer only at the end
        self.size: tuple[int, int] | None = None
        self.newest: np.ndarray | None = None
        self.failure: str | None = None
        self.arrived = threading.Condition()
        self._log: list[str] = []
        threading.Thread(target=self._watch, name="gifsom-gst-log", daemon=True).start()
        threading.Thread(target=self._read, name="gifsom-gst-frames", daemon=True).start()

    def _watch(self) -> None:
        """Read GStreamer's messages: the caps give the frame size."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._log.append(line.strip())
            size = sink_size(line)
            if size is None:
                continue
            with self.arrived:
                if self.size is None:
                    self.size = size
                elif size != self.size:        # frames of another size would be read out of step: stop here
                    self.failure = f"the stream changed size from {self.size[0]}x{self.size[1]} to {size[0]}x{size[1]}"
                    self.process.terminate()
                self.arrived.notify_all()
        with self.arrived:
            self.failure = self.failure or "; ".join(line for line in self._log[-3:] if line) or "it stopped"
            self.arrived.notify_all()

    def _read(self) -> None:
        with self.arrived:
            self.arrived.wait_for(lambda: self.size is not None or self.failure is not None)
            size = self.size
        if size is None:
            return
        width, height = size
        frame_bytes = width * height * 3
        while True:
            data = self.frames.read(frame_bytes)
            if len(data) < frame_bytes:
                return                      # the stream ended (a part frame is dropped)
            with self.arrived:
                self.newest = np.frombuffer(data, np.uint8).reshape(height, width, 3)
                self.arrived.notify_all()

    def first_frame(self) -> np.ndarray:
        with self.arrived:
            if not self.arrived.wait_for(lambda: self.newest is not None or self.failure is not None,
                                         FIRST_FRAME_SECONDS):
                raise SourceError(f"the PipeWire stream sent no frame within {FIRST_FRAME_SECONDS:g} s; "
                                  "nothing was recorded")
            if self.newest is None:
                raise SourceError(f"GStreamer could not read the PipeWire stream ({self.failure}); "
                                  f"check that {GSTREAMER_PACKAGES} are installed")
            return self.newest

    def close(self) -> None:
        """Stop GStreamer as Ctrl+C would: it leaves the PipeWire stream cleanly (a stream cut off with
        SIGTERM leaves the producer slow to serve the next one), then by force if it lingers."""
        for stop in (lambda: self.process.send_signal(signal.SIGINT), self.process.kill):
            if self.process.poll() is not None:
                break
            stop()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                continue
        self.frames.close()


class PortalSource(SteadyCapture):
    """Timestamped frames of a monitor or window shared by the desktop portal (Wayland), as an iterator.

    ``options.region`` crops the stream, in its own pixels; ``options.window`` is not used (ask for
    a window with ``window=True``: the portal's dialog picks it). See :class:`SteadyCapture`.

    Args:
        options: what to grab and how often.
        window: ask the portal for a window instead of a monitor.
        select: let the user drag the region on the stream's first frame (see
            :func:`gifsom.sources.select.select_on`), instead of ``options.region``.
        stop_event: ends the recording when set.
    """

    def __init__(self, options: CaptureOptions = CaptureOptions(), *, window: bool = False, select: bool = False,
                 stop_event: threading.Event | None = None) -> None:
        super().__init__(options, stop_event=stop_event)
        self.window = window
        self.select = select
        self._reader: _StreamReader | None = None
        self._portal: ScreenCastPortal | None = None

    def _open(self) -> Callable[[], np.ndarray]:
        launcher = _check_gstreamer()            # before the dialog, not after it
        self._portal = ScreenCastPortal()
        stream = self._portal.open(window=self.window, cursor=self.options.cursor, restore_token=saved_token())
        if stream.restore_token:
            save_token(stream.restore_token)
        reader = self._reader = _StreamReader(stream, launcher)
        first = reader.first_frame()
        height, width = first.shape[:2]
        region = self.options.region or Region(0, 0, width, height)
        if self.select:
            region = select_on(first)
        if region.clipped(Region(0, 0, width, height)) != region or region.width <= 0 or region.height <= 0:
            raise OptionError(f"`region` {region} is outside the {width}x{height} stream (its own pixels); "
                              "choose a region inside it")
        self.region = region
        rows, columns = slice(region.top, region.top + region.height), slice(region.left, region.left + region.width)

        def grab() -> np.ndarray:
            with reader.arrived:
                newest = reader.newest
            assert newest is not None
            if reader.process.poll() is not None:
                self.stop()                 # the stream ended (sharing was stopped): the take ends here
            return np.ascontiguousarray(newest[rows, columns])
        return grab

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._portal is not None:
            self._portal.close()
            self._portal = None


def wayland_session() -> bool:
    """Whether this is a Wayland session, where X11 capture shows native windows black."""
    return bool(os.environ.get("WAYLAND_DISPLAY")) or os.environ.get("XDG_SESSION_TYPE") == "wayland"
