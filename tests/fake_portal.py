"""Test helper: a stand-in for xdg-desktop-portal's ScreenCast, on the session bus the test started.

    python tests/fake_portal.py MODE LOG

MODE says how ``Start`` answers: ``ok`` shares a new PipeWire stream of GStreamer's SMPTE test pattern
(320x240, 10 fps) with a restore token, as a real portal starts a new stream for each take;
``cancel`` answers 1, as when the user closes the dialog, and ``fail`` answers 2;
``no-screencast`` owns the portal's name but answers every call as an unknown method.
``OpenPipeWireRemote`` hands over a new connection to the PipeWire daemon of
``$XDG_RUNTIME_DIR``. Each call's method and options are appended to LOG as a JSON line, and each
stream's GStreamer messages go to LOG's folder. It prints "ready" once it owns the name. On SIGTERM it
ends its streams, then exits.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
INTERFACE = "org.freedesktop.portal.ScreenCast"


def plain(value):
    """A jeepney variant tree as JSON-friendly values."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return plain(value[1])
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def node_named(name: str) -> int | None:
    """The id of the PipeWire node called ``name``, or None while there is none."""
    dump = subprocess.run(["pw-dump"], capture_output=True, text=True).stdout
    for item in json.loads(dump or "[]"):
        props = (item.get("info") or {}).get("props") or {}
        if props.get("node.name") == name:
            return int(item["id"])
    return None


def start_stream(name: str, log: Path) -> tuple[subprocess.Popen, int]:
    """Start the test pattern as PipeWire node ``name``; the producer and the node's id, once it is there."""
    with open(log, "w") as messages:
        producer = subprocess.Popen(
            ["gst-launch-1.0", "-q", "videotestsrc", "pattern=smpte", "is-live=true", "!",
             "video/x-raw,format=BGRx,width=320,height=240,framerate=10/1", "!", "pipewiresink", "mode=provide",
             f"stream-properties=p,media.class=Video/Source,node.name={name}"],
            stdout=subprocess.DEVNULL, stderr=messages)
    pause = threading.Event()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and producer.poll() is None:
        node = node_named(name)
        if node is not None:
            return producer, node
        pause.wait(0.05)
    producer.kill()
    raise SystemExit(f"fake portal: the test pattern {name} did not appear in PipeWire; see {log}")


def stop_streams(producers: list[subprocess.Popen]) -> None:
    """End each stream as GStreamer leaves PipeWire cleanly, on SIGINT; by force after 10 s."""
    for producer in producers:
        producer.send_signal(signal.SIGINT)
    for producer in producers:
        try:
            producer.wait(timeout=10)
        except subprocess.TimeoutExpired:
            producer.kill()
            producer.wait()


def main() -> None:
    mode, log = sys.argv[1], sys.argv[2]
    producers: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(mode, log, producers)
    finally:
        stop_streams(producers)


def serve(mode: str, log: str, producers: list[subprocess.Popen]) -> None:
    """Answer portal calls until stopped; each stream started is added to ``producers``."""
    bus = open_dbus_connection(bus="SESSION", enable_fds=True)
    bus.send_and_get_reply(message_bus.RequestName(NAME))
    print("ready", flush=True)
    sender_of = {}
    takes = 0
    while True:
        message = bus.receive()
        header = message.header
        if header.message_type != MessageType.method_call:
            continue
        method = header.fields.get(HeaderFields.member)
        interface = header.fields.get(HeaderFields.interface)
        if mode == "no-screencast" or interface != INTERFACE:
            bus.send(new_error(message, "org.freedesktop.DBus.Error.UnknownMethod", "s",
                               (f"no method {method} here",)))
            continue
        options = message.body[-1] if message.body and isinstance(message.body[-1], dict) else {}
        with open(log, "a") as file:
            file.write(json.dumps({"method": method, "options": plain(options)}) + "\n")
        sender = header.fields.get(HeaderFields.sender, ":0").lstrip(":").replace(".", "_")
        if method == "OpenPipeWireRemote":
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.connect(os.path.join(os.environ["XDG_RUNTIME_DIR"], "pipewire-0"))
            bus.send(new_method_return(message, "h", (connection.fileno(),)))
            connection.close()
            continue
        token = plain(options.get("handle_token", "t"))
        request = f"{PATH}/request/{sender}/{token}"
        bus.send(new_method_return(message, "o", (request,)))
        results: dict = {}
        response = 0
        if method == "CreateSession":
            session = f"{PATH}/session/{sender}/{plain(options['session_handle_token'])}"
            sender_of[session] = sender
            results = {"session_handle": ("o", session)}
        elif method == "Start":
            if mode == "cancel":
                response = 1
            elif mode == "fail":
                response = 2
            else:
                takes += 1
                name = f"gifsom-test-{os.getpid()}-{takes}"
                producer, node = start_stream(name, Path(log).with_name(f"{name}.log"))
                producers.append(producer)
                results = {"streams": ("a(ua{sv})", [(node, {"size": ("(ii)", (320, 240))})]),
                           "restore_token": ("s", f"fake-token-{takes}")}
        bus.send(new_signal(DBusAddress(request, interface="org.freedesktop.portal.Request"), "Response",
                            "ua{sv}", (response, results)))


if __name__ == "__main__":
    main()
