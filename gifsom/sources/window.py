"""One window to record, found with ``xdotool``, and where it is now.

:func:`find_window` picks a window by a click (``xdotool selectwindow``) or by a part of
its title (``xdotool search --name``); :func:`window_region` reads where it is on the
screen, which the screen source asks before every grab so that a moved window stays in
frame. Both run ``xdotool`` (Debian: ``apt-get install xdotool``), about 2 ms a call.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from ..errors import Cancelled, InputError, SourceError
from .base import Rectangle
from .screen import Region, no_screen


def _xdotool(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("xdotool") is None:
        raise SourceError("recording a window needs xdotool, which is not installed: apt-get install xdotool")
    done = subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and "open display" in done.stderr:
        raise no_screen()
    return done


def find_window(title: str | None) -> int:
    """The X window id of the window whose title contains ``title`` (the first one mapped, in stacking
    order), or of the window the user clicks when ``title`` is None or empty."""
    if not title:
        done = _xdotool("selectwindow")
        if done.returncode != 0 or not done.stdout.strip():
            raise Cancelled("no window was clicked; nothing was recorded")
        return int(done.stdout.split()[0])
    done = _xdotool("search", "--onlyvisible", "--name", re.escape(title))
    found = [int(line) for line in done.stdout.split() if line.isdigit()]
    if not found:
        raise InputError(f"no window on screen has {title!r} in its title; check the title, or give `window` "
                         "without one and click the window")
    return found[-1]


def window_region(window: int) -> Region:
    """Where ``window`` is on the screen now, in screen pixels (its inside, without the frame)."""
    done = _xdotool("getwindowgeometry", "--shell", str(window))
    if done.returncode != 0:
        raise SourceError(f"window {window} is gone (closed while recording?); nothing more can be grabbed")
    fields = dict(line.split("=", 1) for line in done.stdout.split() if "=" in line)
    try:
        return Region(int(fields["X"]), int(fields["Y"]), int(fields["WIDTH"]), int(fields["HEIGHT"]))
    except (KeyError, ValueError):
        raise SourceError(f"xdotool did not say where window {window} is ({done.stdout.strip()!r})") from None


def follow(first: Region, now: Region, screen: Rectangle) -> Region:
    """The box to grab for a window first seen at ``first`` and now at ``now``: its top-left corner moves
    with it, the size stays the first one (a window made larger is cropped at its right and bottom, one
    made smaller shows what is behind it there), and the box is kept on ``screen``."""
    left = min(max(now.left, screen.left), screen.left + screen.width - first.width)
    top = min(max(now.top, screen.top), screen.top + screen.height - first.height)
    return Region(max(left, screen.left), max(top, screen.top), first.width, first.height)
