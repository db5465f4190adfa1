"""Test helper: a stand-in for xdg-desktop-portal's ScreenCast, on the session bus the test started.

    python tests/fake_portal.py MODE NODE LOG

MODE says how ``Start`` answers: ``ok`` (shares PipeWire node NODE, with a restore token),
``cancel`` (response 1, as when the user closes the dialog) or ``fail`` (response 2);
``no-screencast`` owns the portal's name but answers every call as an unknown method.
``OpenPipeWireRemote`` hands over a new connection to the PipeWire daemon of
``$XDG_RUNTIME_DIR``. Each call's method and options are appended to LOG as a JSON line.
It prints "ready" once it owns the name.
"""

from __future__ import annotations

import json
import os
import socket
import sys

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


def main() -> None:
    mode, node, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
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
                results = {"streams": ("a(ua{sv})", [(node, {"size": ("(ii)", (320, 240))})]),
                           "restore_token": ("s", f"fake-token-{takes}")}
        bus.send(new_signal(DBusAddress(request, interface="org.freedesktop.portal.Request"), "Response",
                            "ua{sv}", (response, results)))


if __name__ == "__main__":
    main()
