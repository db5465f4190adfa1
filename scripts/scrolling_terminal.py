"""Bench helper: a window at the top-left of the screen that looks like a terminal scrolling a build log.

    python scripts/scrolling_terminal.py --size 720x560 --lines-per-second 10

A dark window in a monospaced font; a new line (a compiler command, a test result in green or red,
a progress count) is added ``--lines-per-second`` times a second and the view follows the end, as
``make`` or ``pytest -v`` scroll in a terminal. It prints "ready" once the first lines are on screen.
The text is the same on every run: a take of it is repeatable.
"""

from __future__ import annotations

import argparse
import sys
import tkinter as tk


def log_line(number: int) -> tuple[str, str]:
    """The ``number``-th line of the log and its colour tag."""
    kind = number % 7
    module = ["palette", "mapping", "gif", "sources", "cli", "spool", "fit"][number % 7 * 3 % 7]
    if kind == 0:
        return f"cc -O3 -fPIC -c gifsom/{module}/_kernel_{number % 13}_cy.c -o build/{module}_{number}.o", "plain"
    if kind in (1, 2, 3):
        verdict = "FAILED" if number % 29 == 3 else "PASSED"
        return (f"tests/test_{module}.py::test_case_{number:05d}[{number % 17}-{number % 5}] {verdict}"
                f"  [{number % 100:3d}%]", "bad" if verdict == "FAILED" else "good")
    if kind == 4:
        return f"  {module}: {number * 7919 % 100000:6d} frames, {number * 104729 % 9973 / 100:7.2f} ms each", "dim"
    if kind == 5:
        return f"warning: {module}.pyx:{number % 400}: unused variable 'step_{number % 9}'", "warn"
    return f"[{number:5d}] writing build/lib/gifsom/{module}/__init__.py", "plain"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="720x560")
    parser.add_argument("--lines-per-second", type=float, default=10.0)
    parser.add_argument("--linger", type=float, default=600.0, help="seconds before the window closes itself")
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.split("x"))
    root = tk.Tk()
    root.overrideredirect(True)
    root.geometry(f"{width}x{height}+0+0")
    text = tk.Text(root, bg="#1e1e1e", fg="#d4d4d4", font=("DejaVu Sans Mono", 10), borderwidth=0,
                   highlightthickness=0, insertwidth=0)
    text.place(x=0, y=0, width=width, height=height)
    for tag, colour in (("good", "#6a9955"), ("bad", "#f44747"), ("dim", "#808080"), ("warn", "#dcdcaa"),
                        ("plain", "#d4d4d4")):
        text.tag_configure(tag, foreground=colour)
    step_ms = max(1, round(1000 / args.lines_per_second))
    state = {"line": 0}

    def add_line() -> None:
        line, tag = log_line(state["line"])
        text.insert("end", line + "\n", tag)
        text.see("end")
        if state["line"] == 40:
            root.update_idletasks()
            print("ready", flush=True)
        state["line"] += 1
        root.after(step_ms, add_line)

    for _ in range(40):                 # a full screen before the take starts
        line, tag = log_line(state["line"])
        text.insert("end", line + "\n", tag)
        state["line"] += 1
    root.after(100, add_line)
    root.after(int(args.linger * 1000), root.destroy)
    root.mainloop()
    sys.exit(0)


if __name__ == "__main__":
    main()
