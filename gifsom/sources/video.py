"""Video files, decoded by the ffmpeg binary that imageio-ffmpeg ships.

ffmpeg is run directly: one short probe for the stream's size and frame rate
(:mod:`gifsom.ffmpeg` finds the binary and runs the probe), then one decode
that trims, retimes and scales inside ffmpeg and writes raw RGB frames to a
pipe. The process is always reaped (killed at once if the reader stops
early), and its own error message is passed on to the user.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError, SourceError
from ..ffmpeg import description, ffmpeg_exe, run_failed
from ..frames import Frame
from .base import ClipPlan, SourceBase, SourceOptions, check_crop, planned_size, trimmed_seconds

#: Frame rate used for a video whose own rate ffmpeg cannot tell.
FALLBACK_FPS = 10.0
#: GIF cannot show more than 50 frames per second (delays are at least 2 cs).
MAX_GIF_FPS = 50.0

_SIZE = re.compile(r"Video:.*?[ ,](\d{1,5})x(\d{1,5})[ ,\[]")
_SAMPLE_ASPECT = re.compile(r"Video:.*?\[SAR (\d+):(\d+) DAR")
_FPS = re.compile(r"Video:.*?([\d.]+) (?:fps|tbr)")
_DURATION = re.compile(r"Duration: (\d+):(\d+):([\d.]+)")
_ROTATION = re.compile(r"display ?matrix: rotation of (-?[\d.]+) degrees", re.IGNORECASE)


def ffmpeg_reason(stderr: str) -> str:
    """The most telling line of ffmpeg's stderr."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error opening input" in line or "Invalid data" in line or "moov atom" in line:
            return line
    return lines[-1] if lines else "no message"


class VideoInfo:
    """What the probe learned of the first video stream.

    Attributes:
        width, height: the picture as a player shows it, in pixels: turned by the display
            matrix (phones store upright video sideways with a 90-degree rotation), and
            stretched to square pixels where the samples are not square (one side grows).
        fps: frames per second, or None when ffmpeg cannot tell.
        duration: seconds, or None.
        stored: (width, height) of the samples once ffmpeg has turned them, when they are not
            square (the decode stretches them to ``width`` x ``height``), else None.
    """

    def __init__(self, width: int, height: int, fps: float | None, duration: float | None,
                 stored: tuple[int, int] | None = None) -> None:
        self.width, self.height, self.fps, self.duration = width, height, fps, duration
        self.stored = stored


def shown_size(width: int, height: int, rotation: float,
               sample_aspect: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """The size a player shows a stream of ``width`` x ``height`` samples at: turned by ``rotation``
    degrees (ffmpeg turns the frames itself), then stretched to square pixels by the sample aspect
    ratio (width : height of one sample), growing one side so that no detail is lost.

    Returns:
        ``((width, height) shown, (width, height) turned)``: the second is None when the samples
        are square (nothing to stretch).
    """
    sar_w, sar_h = sample_aspect
    if round(rotation / 90) % 2:
        width, height, sar_w, sar_h = height, width, sar_h, sar_w
    if sar_w <= 0 or sar_h <= 0 or sar_w == sar_h:
        return (width, height), None
    if sar_w > sar_h:
        return (max(1, round(width * sar_w / sar_h)), height), (width, height)
    return (width, max(1, round(height * sar_h / sar_w))), (width, height)


def probe(path: Path) -> VideoInfo:
    """Read a video's size, frame rate and duration from ffmpeg's stream description."""
    text = description(path)
    size = _SIZE.search(text)
    if not size:
        if re.search(r"Stream #.*: Audio:", text):
            raise InputError(f"{str(path)!r} has no video stream (it holds sound only); give a video, a GIF or images")
        raise InputError(f"cannot read video {str(path)!r}: {ffmpeg_reason(text)}; check that the file is a complete video")
    fps = _FPS.search(text)
    duration = _DURATION.search(text)
    seconds = None
    if duration:
        h, m, s = duration.groups()
        seconds = int(h) * 3600 + int(m) * 60 + float(s)
    rate = float(fps.group(1)) if fps and float(fps.group(1)) > 0 else None
    rotation = _ROTATION.search(text)
    aspect = _SAMPLE_ASPECT.search(text)
    (width, height), turned = shown_size(int(size.group(1)), int(size.group(2)),
                                         float(rotation.group(1)) if rotation else 0.0,
                                         (int(aspect.group(1)), int(aspect.group(2))) if aspect else (1, 1))
    return VideoInfo(width, height, rate, seconds, turned)


class VideoSource(SourceBase):
    """Frames of any video ffmpeg reads (mp4, webm, mkv, mov, ...).

    Trimming, speed, frame rate and scaling are done inside ffmpeg, so only
    the frames that will be used reach Python.
    """

    def __init__(self, path: str | os.PathLike, options: SourceOptions = SourceOptions()) -> None:
        self.path = Path(path)
        self.options = options
        self.fps: float | None = options.fps
        self._prepared: tuple[list[str], tuple[int, int], float, ClipPlan] | None = None

    def command(self, info: VideoInfo) -> tuple[list[str], tuple[int, int], float]:
        """The ffmpeg command line, the output (width, height) and the output frame rate.

        ffmpeg turns rotated video before these filters, so every size here is in the
        pixels a player shows. Samples that are not square are stretched to square ones,
        at once when there is a crop (the crop is in shown pixels), else together with the
        output scaling. The crop is made in RGB, where any rectangle is exact (4:2:0 video
        would round it to even lines, and fails on a crop one line high).
        """
        opts = self.options
        fps = opts.fps or min(MAX_GIF_FPS, (info.fps or FALLBACK_FPS) * opts.speed)
        check_crop(opts.crop, info.width, info.height)
        width, height = planned_size(info.width, info.height, opts)
        filters = []
        arriving = (info.width, info.height) if info.stored is None else info.stored
        if opts.crop is not None:
            if info.stored is not None:
                filters.append(f"scale={info.width}:{info.height}:flags=lanczos")
            crop = opts.crop
            filters.append(f"format=rgb24,crop={crop.width}:{crop.height}:{crop.left}:{crop.top}")
            arriving = (crop.width, crop.height)
        if opts.speed != 1.0:
            filters.append(f"setpts=PTS/{opts.speed!r}")
        filters.append(f"fps={fps!r}")
        if (width, height) != arriving:
            filters.append(f"scale={width}:{height}:flags=lanczos")
        command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error"]
        if opts.start:
            command += ["-ss", f"{opts.start:.6f}"]
        if opts.end is not None:
            command += ["-t", f"{opts.end - (opts.start or 0.0):.6f}"]
        command += ["-i", str(self.path), "-vf", ",".join(filters), "-an", "-sn", "-dn",
                    "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        return command, (width, height), fps

    def _prepare(self) -> tuple[list[str], tuple[int, int], float, ClipPlan]:
        """Probe the file once: the ffmpeg command, output size and rate, and the plan."""
        if self._prepared is None:
            if not self.path.is_file():
                raise InputError(f"input {str(self.path)!r} does not exist; check the path")
            info = probe(self.path)
            command, (width, height), fps = self.command(info)
            # a container that gives no duration runs to the requested end, if any
            seconds = trimmed_seconds(info.duration or self.options.end or 0.0, self.options)
            self._prepared = command, (width, height), fps, ClipPlan(max(1, int(seconds * fps + 0.999)), width, height)
        return self._prepared

    def plan(self) -> ClipPlan:
        """Probe the file: the expected frame count and size of the output, before decoding."""
        return self._prepare()[3]

    def frames(self) -> Iterator[Frame]:
        command, (width, height), fps, _ = self._prepare()
        self.fps = fps
        frame_bytes = width * height * 3
        with tempfile.TemporaryFile() as errors:
            try:
                process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL)
            except OSError as exc:
                raise run_failed(exc) from None
            assert process.stdout is not None           # stdout=PIPE
            number = 0
            try:
                while True:
                    data = process.stdout.read(frame_bytes)
                    if len(data) < frame_bytes:
                        break           # end of stream (a partial last frame from a broken file is dropped)
                    yield Frame(np.frombuffer(data, np.uint8).reshape(height, width, 3), number / fps)
                    number += 1
                code = process.wait()
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
                process.stdout.close()
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace")
        if number == 0:
            if code != 0:
                raise SourceError(f"ffmpeg could not decode {str(self.path)!r}: {ffmpeg_reason(message)}")
            raise InputError(f"video {str(self.path)!r} has no frames in the requested range; "
                             "check `start`/`end` or the file")
