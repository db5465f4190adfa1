"""Benchmark ``gifsom record``: how long after Ctrl+C the GIF is on disk, and what encoding while recording costs.

    python scripts/bench_record.py [--takes 30 60] [--fps 10] [--size 720x560] [--compare 30] [--convert 2]

Starts its own virtual display (Xvfb) with a terminal-like window scrolling a build log
(``scripts/scrolling_terminal.py``), then:

1. **Stop to GIF.** For each take length, runs ``gifsom record take.gif --region 0,0,W,H`` in a child process,
   sends SIGINT (Ctrl+C) after that many seconds, and reports the seconds from the signal until the child has
   exited with the GIF in place (what a user waits for), with the GIF's frames and bytes.
2. **Live against after the take.** Grabs ``--compare`` seconds of the same window in this process, then
   encodes those very frames twice through :class:`gifsom.GifWriter`: as frames arrive (``live=True``, what
   ``record`` does) and after the last one (``live=False``). Reports bytes, PSNR, SSIMULACRA 2 and FLIP of each
   (every 10th frame for the last two, at each frame's own timestamp).
3. **Convert while decoding.** ``gifsom convert`` of 30 s of 1280x720 video (the bundled pan clip, looped and
   scaled by ffmpeg) with ``--no-live`` (the default) and ``--live``, ``--convert`` times each: the best wall
   time, and the CPU time of gifsom and ffmpeg together as a share of one core (200% is both of 2 cores).

Needs Xvfb and Tk (python3-tk). The machine should otherwise be idle: the figures are wall times.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import Clip, perceptual, shown_at_ms

ROOT = Path(__file__).resolve().parent.parent
TERMINAL = ROOT / "scripts" / "scrolling_terminal.py"


def start_display(width: int, height: int) -> subprocess.Popen:
    """An Xvfb server somewhat larger than the take; sets DISPLAY."""
    ready, ready_writer = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(ready_writer), "-screen", "0",
                               f"{width + 200}x{height + 200}x24", "-nolisten", "tcp"], pass_fds=(ready_writer,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(ready_writer)
    with os.fdopen(ready) as announced:
        if not select.select([announced], [], [], 60)[0]:
            sys.exit("Xvfb did not start within 60 s")
        os.environ["DISPLAY"] = f":{int(announced.readline())}"
    return server


def start_terminal(size: str, lines_per_second: float) -> subprocess.Popen:
    helper = subprocess.Popen([sys.executable, str(TERMINAL), "--size", size, "--lines-per-second",
                               str(lines_per_second)], stdout=subprocess.PIPE, text=True)
    if helper.stdout.readline().strip() != "ready":
        sys.exit("the terminal window did not start")
    return helper


def stop_to_gif(seconds: float, region: str, fps: float, work: Path) -> tuple[float, str]:
    """Record for ``seconds`` (from the first frame), send SIGINT; seconds until the GIF is complete, and the summary."""
    out = work / f"take_{seconds:g}.gif"
    out.unlink(missing_ok=True)
    child = subprocess.Popen([sys.executable, "-m", "gifsom", "record", str(out), "--region", region, "--fps",
                              str(fps), "--max-frames", str(int(seconds * fps * 4))],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(seconds + 0.5)               # about half a second of start-up (imports, the first grab)
    signalled = time.monotonic()
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=600)
    waited = time.monotonic() - signalled
    if child.returncode != 0 or not out.exists():
        sys.exit(f"record failed ({child.returncode}): {stderr.strip()}")
    return waited, stdout.strip().splitlines()[-1]


def grab(seconds: float, region: str, fps: float) -> tuple[list[np.ndarray], list[float]]:
    """``seconds`` of frames of ``region``, as ``gifsom record`` grabs them, and their timestamps."""
    from gifsom.sources.screen import CaptureOptions, Region, ScreenSource

    source = ScreenSource(CaptureOptions(region=Region.parse(region, "region"), fps=fps, duration=seconds))
    frames, times = [], []
    for frame in source.frames():
        frames.append(frame.pixels)
        times.append(frame.pts)
    return frames, times


def shown_at(path: Path, times: list[float]) -> list[np.ndarray]:
    """The GIF's picture on screen, decoded by Pillow, in the middle of each frame's time: a GIF starts a frame
    at the next whole centisecond, so the frame's own timestamp may still show the one before."""
    middles = [(a + b) / 2 for a, b in zip(times, times[1:] + [times[-1] + 0.1])]
    return shown_at_ms(path, [1000.0 * t for t in middles])


def compare(seconds: float, region: str, fps: float, work: Path) -> None:
    import gifsom

    frames, times = grab(seconds, region, fps)
    print(f"\nlive against after the take: {len(frames)} frames grabbed in {seconds:g} s")
    print(f"{'encoding':12s} {'bytes':>10s} {'PSNR dB':>8s} {'SSIMU2':>7s} {'FLIP':>7s} {'seconds':>8s}")
    rows = {}
    for name, live in (("after", False), ("live", True)):
        path = work / f"{name}.gif"
        start = time.perf_counter()
        with gifsom.GifWriter(path, live=live) as writer:
            for pixels, pts in zip(frames, times):
                writer.append(pixels, pts)
        spent = time.perf_counter() - start
        shown = shown_at(path, times)
        mse = np.mean([np.mean((a.astype(np.float64) - b) ** 2) for a, b in zip(shown, frames)])
        psnr = float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)
        score, flip = perceptual(shown, Clip(name, frames, fps, [], work, ""))
        rows[name] = (path.stat().st_size, psnr, score)
        print(f"{name:12s} {path.stat().st_size:10,d} {psnr:8.2f} {score or float('nan'):7.2f} "
              f"{flip or float('nan'):7.4f} {spent:8.2f}")
    after, live = rows["after"], rows["live"]
    print(f"live bytes {100 * (live[0] / after[0] - 1):+.2f}% (target within 3%), PSNR {live[1] - after[1]:+.2f} dB "
          f"(target within 0.3 dB), SSIMULACRA 2 {(live[2] or 0) - (after[2] or 0):+.2f} (target no lower)")


def convert_both_ways(repeats: int, work: Path) -> None:
    """Time ``gifsom convert`` of 30 s of 720p video after the last frame and while decoding."""
    import imageio_ffmpeg

    video = work / "720p.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "3", "-i",
                    str(ROOT / "fixtures" / "pan.mp4"), "-vf", "scale=1280:720", "-t", "30", "-c:v", "libx264",
                    "-crf", "20", "-pix_fmt", "yuv420p", str(video)], check=True)
    print(f"\nconvert: 30 s of 1280x720 video (pan.mp4 looped), best of {repeats}, {os.cpu_count()} cores")
    print(f"{'encoding':12s} {'bytes':>12s} {'wall s':>7s} {'CPU':>6s}")
    for flag in ("--no-live", "--live"):
        best = None
        for _ in range(repeats):
            out = work / f"convert{flag}.gif"
            before = os.times()
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "gifsom", "convert", str(video), str(out), "-q", flag], check=True)
            wall = time.perf_counter() - start
            after = os.times()
            cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
            if best is None or wall < best[0]:
                best = (wall, cpu, out.stat().st_size)
        wall, cpu, size = best
        print(f"{flag:12s} {size:12,d} {wall:7.2f} {100 * cpu / wall:5.0f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--takes", nargs="*", type=float, default=[30.0, 60.0], help="take lengths, seconds")
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--size", default="720x560")
    parser.add_argument("--lines-per-second", type=float, default=10.0)
    parser.add_argument("--compare", type=float, default=30.0, help="seconds grabbed for live against after (0: skip)")
    parser.add_argument("--convert", type=int, default=2, help="runs of each convert timing (0: skip)")
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.split("x"))
    region = f"0,0,{width},{height}"
    server = start_display(width, height)
    terminal = start_terminal(args.size, args.lines_per_second)
    try:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            print(f"stop to GIF: a terminal scrolling {args.lines_per_second:g} lines/s, {args.size}, "
                  f"{args.fps:g} fps, {os.cpu_count()} cores")
            for seconds in args.takes:
                waited, summary = stop_to_gif(seconds, region, args.fps, work)
                print(f"  {seconds:4.0f} s take: GIF complete {waited:5.2f} s after SIGINT (target 1.0 s); {summary}")
            if args.compare:
                compare(args.compare, region, args.fps, work)
            if args.convert:
                convert_both_ways(args.convert, work)
    finally:
        terminal.kill()
        terminal.wait()
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
