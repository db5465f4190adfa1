"""A small flat-UI window that types text and moves a highlight: the screen to record.

Run under an X display (for example Xvfb): ``python scripts/demo_ui.py --seconds 5``.
It draws at the top-left corner of the screen, 480 x 320 pixels, so a recorder
can grab the region 0,0,480,320.
"""

from __future__ import annotations

import argparse
import tkinter as tk

TEXT = ("$ gifsom convert talk.mp4 talk.gif --fps 12\n"
        "reading frames... 120 frames\n"
        "learning palette (SOM, 256 colours)\n"
        "writing talk.gif: 412 KiB, 38.9 dB\n"
        "done in 1.4 s\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    root = tk.Tk()
    root.overrideredirect(True)
    root.geometry("480x320+0+0")
    root.configure(bg="#f3f4f6")
    side = tk.Frame(root, bg="#1f2937", width=110, height=320)
    side.place(x=0, y=0)
    buttons = []
    for i, name in enumerate(["Record", "Convert", "Palette", "Settings"]):
        label = tk.Label(root, text=name, bg="#1f2937", fg="#e5e7eb", font=("TkFixedFont", 11), anchor="w")
        label.place(x=12, y=20 + 40 * i, width=90, height=28)
        buttons.append(label)
    title = tk.Label(root, text="gifsom demo", bg="#f3f4f6", fg="#111827", font=("TkFixedFont", 14, "bold"))
    title.place(x=125, y=12)
    text = tk.Text(root, bg="#ffffff", fg="#111827", font=("TkFixedFont", 10), relief="flat",
                   highlightthickness=1, highlightbackground="#d1d5db")
    text.place(x=125, y=50, width=340, height=180)
    bar_back = tk.Frame(root, bg="#d1d5db")
    bar_back.place(x=125, y=250, width=340, height=14)
    bar = tk.Frame(root, bg="#2563eb")
    ok = tk.Label(root, text="OK", bg="#10b981", fg="white", font=("TkFixedFont", 11, "bold"))
    ok.place(x=405, y=280, width=60, height=28)

    state = {"chars": 0, "tick": 0}
    ticks = int(args.seconds * 20)

    def step() -> None:
        state["tick"] += 1
        tick = state["tick"]
        if state["chars"] < len(TEXT):
            state["chars"] += 2
            text.delete("1.0", "end")
            text.insert("1.0", TEXT[: state["chars"]])
        active = (tick // 10) % len(buttons)
        for i, label in enumerate(buttons):
            label.configure(bg="#2563eb" if i == active else "#1f2937")
        bar.place(x=125, y=250, width=max(1, int(340 * min(1.0, tick / ticks))), height=14)
        if tick >= ticks:
            root.destroy()
            return
        root.after(50, step)

    root.after(50, step)
    root.mainloop()


if __name__ == "__main__":
    main()
