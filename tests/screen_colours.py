"""Test helper: a window at the top-left of the screen whose left half cycles through colours.

    python tests/screen_colours.py --colours ff0000,00ff00,0000ff --step 1.0

The window is 320 x 240: the left half shows each colour for ``--step``
seconds (then stays on the last one), the right half is always magenta.
It prints "ready" once the first colour is on screen, then "shown N T" each time
colour N is on screen (T: time.monotonic(), the same clock as gifsom's recorder).
"""

from __future__ import annotations

import argparse
import sys
import time
import tkinter as tk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--colours", default="ff0000,00ff00,0000ff")
    parser.add_argument("--step", type=float, default=1.0)
    parser.add_argument("--linger", type=float, default=30.0)
    args = parser.parse_args()
    colours = ["#" + c for c in args.colours.split(",")]
    root = tk.Tk()
    root.overrideredirect(True)
    root.geometry("320x240+0+0")
    left = tk.Frame(root, bg=colours[0], width=160, height=240)
    left.place(x=0, y=0)
    tk.Frame(root, bg="#ff00ff", width=160, height=240).place(x=160, y=0)

    def show(number: int) -> None:
        left.configure(bg=colours[number])
        root.update_idletasks()
        if number == 0:
            print("ready", flush=True)
        print(f"shown {number} {time.monotonic():.4f}", flush=True)
        if number + 1 < len(colours):
            root.after(int(args.step * 1000), show, number + 1)

    root.after(300, show, 0)
    root.after(int(args.linger * 1000), root.destroy)
    root.mainloop()
    sys.exit(0)


if __name__ == "__main__":
    main()
