"""Choosing what to record with the mouse, and remembering the last region chosen.

:func:`select_region` shows a still picture of the screen in a borderless window
that covers it, and lets the user drag a rectangle over it (its size shown while
dragging; Esc or the right button cancels). When ``slop`` is installed, the tool
many X11 users already know, it draws the selection instead. :func:`last_region`
and :func:`remember_region` keep the last region in the user's config folder, for
``--region last``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from ..errors import Cancelled, OptionError, SourceError
from .screen import Region, _open_mss

#: The picker's window title (tests find the window by it).
PICKER_TITLE = "gifsom: drag to choose what to record (Esc cancels)"
#: How much of the frozen picture's brightness shows outside the selection.
DIMMED = 0.55


def config_folder() -> Path:
    """gifsom's folder in the user's configuration (``$XDG_CONFIG_HOME/gifsom``, by default ``~/.config/gifsom``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "gifsom"


def remember_region(region: Region) -> None:
    """Keep ``region`` as the last one recorded (a failure to write it is not an error: it is a convenience)."""
    try:
        folder = config_folder()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "last-region").write_text(f"{region.left},{region.top},{region.width},{region.height}\n")
    except OSError:
        pass


def last_region() -> Region:
    """The region recorded last (``--region last``)."""
    path = config_folder() / "last-region"
    try:
        text = path.read_text().strip()
    except OSError:
        raise OptionError("`region` 'last' needs an earlier recording of a region, and there is none "
                          f"({str(path)!r} is missing); give X,Y,W,H or select one") from None
    return Region.parse(text, "region")


def select_region(use_slop: bool | None = None) -> Region:
    """Let the user drag a rectangle on the screen; the rectangle in screen pixels.

    Args:
        use_slop: draw the selection with ``slop`` (None: when it is installed).

    Raises:
        Cancelled: the user pressed Esc (or the right button); nothing was recorded.
        SourceError: there is no screen, or no way to show the picker (Tk missing).
    """
    if use_slop is None:
        use_slop = shutil.which("slop") is not None
    if use_slop:
        return _slop()
    with _open_mss(False) as screen:
        whole = screen.monitors[0]
        shot = screen.grab(whole)
        picture = np.ascontiguousarray(np.asarray(shot)[:, :, 2::-1])
    chosen = select_on(picture)
    return Region(whole["left"] + chosen.left, whole["top"] + chosen.top, chosen.width, chosen.height)


def select_on(picture: np.ndarray) -> Region:
    """Let the user drag a rectangle on uint8 (H, W, 3) ``picture`` (a frame of a Wayland stream, shown from
    the top-left of the screen); the rectangle in the picture's pixels.

    Raises:
        Cancelled: the user pressed Esc (or the right button).
        SourceError: no way to show the picker (Tk missing, or no display for it).
    """
    chosen = _drag_on(picture)
    if chosen is None:
        raise Cancelled("the selection was cancelled; nothing was recorded")
    return Region(*chosen)


def _slop() -> Region:
    try:
        done = subprocess.run(["slop", "--format", "%x,%y,%w,%h"], capture_output=True, text=True)
    except OSError as exc:
        raise SourceError(f"cannot run slop ({exc.strerror}); reinstall it (apt-get install slop)") from None
    if done.returncode != 0 or not done.stdout.strip():
        raise Cancelled("the selection was cancelled; nothing was recorded")
    region = Region.parse(done.stdout.strip(), "region")
    if region.width <= 0 or region.height <= 0:
        raise Cancelled("the selection was empty; nothing was recorded")
    return region


def _drag_on(picture: np.ndarray) -> tuple[int, int, int, int] | None:
    """Show uint8 (H, W, 3) ``picture`` over the whole screen and let the user drag a rectangle on it:
    ``(left, top, width, height)`` in its pixels, or None when cancelled."""
    try:
        import tkinter as tk

        from PIL import Image, ImageTk
    except ImportError:
        raise SourceError("choosing a region with the mouse needs Tk: apt-get install python3-tk "
                          "(or install slop, which gifsom then uses)") from None
    height, width = picture.shape[:2]
    try:
        root = tk.Tk()
    except tk.TclError as exc:
        raise SourceError(f"cannot open the region picker ({exc}); run inside a desktop session") from None
    root.title(PICKER_TITLE)
    root.overrideredirect(True)
    root.geometry(f"{width}x{height}+0+0")
    dim = Image.fromarray((picture * DIMMED).astype(np.uint8))
    bright = Image.fromarray(picture)
    background = ImageTk.PhotoImage(dim, master=root)
    canvas = tk.Canvas(root, width=width, height=height, highlightthickness=0, cursor="crosshair")
    canvas.pack()
    canvas.create_image(0, 0, image=background, anchor="nw")
    state: dict = {"anchor": None, "result": None, "patch": None}
    lit = canvas.create_image(0, 0, anchor="nw")
    outline = canvas.create_rectangle(0, 0, 0, 0, outline="#ff3b30", width=1)
    size = canvas.create_text(0, 0, anchor="sw", fill="#ffffff", font=("TkDefaultFont", 11, "bold"))

    def box(x: int, y: int) -> tuple[int, int, int, int]:
        x0, y0 = state["anchor"]
        x = min(max(x, 0), width)
        y = min(max(y, 0), height)
        return min(x0, x), min(y0, y), abs(x - x0), abs(y - y0)

    def press(event) -> None:
        state["anchor"] = (min(max(event.x, 0), width), min(max(event.y, 0), height))

    def drag(event) -> None:
        if state["anchor"] is None:
            return
        left, top, w, h = box(event.x, event.y)
        canvas.coords(outline, left, top, left + w, top + h)
        if w > 0 and h > 0:
            state["patch"] = ImageTk.PhotoImage(bright.crop((left, top, left + w, top + h)), master=root)
            canvas.itemconfigure(lit, image=state["patch"])
            canvas.coords(lit, left, top)
        canvas.itemconfigure(size, text=f"{w} x {h}")
        canvas.coords(size, left + 2, top - 4 if top > 20 else top + h + 18)

    def release(event) -> None:
        if state["anchor"] is None:
            return
        left, top, w, h = box(event.x, event.y)
        state["anchor"] = None
        if w > 0 and h > 0:
            state["result"] = (left, top, w, h)
            root.destroy()

    def cancel(_event=None) -> None:
        state["result"] = None
        root.destroy()

    canvas.bind("<ButtonPress-1>", press)
    canvas.bind("<B1-Motion>", drag)
    canvas.bind("<ButtonRelease-1>", release)
    canvas.bind("<ButtonPress-3>", cancel)
    root.bind("<Escape>", cancel)
    def take_focus() -> None:
        root.focus_force()          # the window has no frame for a window manager to focus: take the keys for Esc
        canvas.focus_set()

    root.after(50, take_focus)
    root.mainloop()
    return state["result"]
