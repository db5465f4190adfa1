"""What ffmpeg says of a video, and the ffmpeg command that decodes it to raw RGB frames.

Nothing here loads numpy: the program builds the command for the first video its
command line names, and starts ffmpeg decoding it, while Python loads numpy and
the pipeline (:func:`gifsom.ffmpeg.describe_early`). The video source builds its
command here too, so that it can tell whether that decode is the one it needs.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:
    from .sources.base import Rectangle

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


def video_info(text: str, path: str | os.PathLike) -> VideoInfo:
    """A video's size, frame rate and duration, from what ffmpeg says of ``path`` when it opens it (``text``).

    Raises:
        InputError: ``path`` has no video stream, or ffmpeg cannot read it.
    """
    size = _SIZE.search(text)
    if not size:
        if re.search(r"Stream #.*: Audio:", text):
            raise InputError(f"{str(path)!r} has no video stream (it holds sound only); give a video, a GIF or images")
        raise InputError(f"cannot read video {str(path)!r}: {ffmpeg_reason(text)}; "
                         "check that the file is a complete video")
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


def output_fps(info: VideoInfo, fps: float | None, speed: float) -> float:
    """Frames per second of the decoded frames: ``fps`` where it is asked for, else the video's own rate (or
    :data:`FALLBACK_FPS`) times ``speed``, at most :data:`MAX_GIF_FPS`."""
    return fps or min(MAX_GIF_FPS, (info.fps or FALLBACK_FPS) * speed)


def decoded_frame_bytes(size: tuple[int, int]) -> int:
    """Bytes of one frame of ``size`` (width, height) pixels as :func:`decode_command`'s ffmpeg writes it:
    RGB, one byte a channel."""
    return size[0] * size[1] * 3


def decode_command(exe: str, path: str | os.PathLike, info: VideoInfo, size: tuple[int, int], fps: float, *,
                   crop: Rectangle | None = None, speed: float = 1.0, start: float | None = None,
                   end: float | None = None) -> list[str]:
    """The ffmpeg command line (``exe``: the binary) that writes the video at ``path`` to its stdout as raw
    RGB frames of ``size`` (width, height) pixels, at ``fps`` frames per second of output: cut to
    ``crop`` (in the pixels a player shows) before scaling, played at ``speed``, from ``start`` to ``end``
    (seconds of the video; None: its start, its end).

    ffmpeg turns rotated video before these filters, so every size here is in the
    pixels a player shows. Samples that are not square are stretched to square ones,
    at once when there is a crop (the crop is in shown pixels), else together with the
    output scaling. The crop is made in RGB, where any rectangle is exact (4:2:0 video
    would round it to even lines, and fails on a crop one line high).
    """
    filters = []
    arriving = (info.width, info.height) if info.stored is None else info.stored
    if crop is not None:
        if info.stored is not None:
            filters.append(f"scale={info.width}:{info.height}:flags=lanczos")
        filters.append(f"format=rgb24,crop={crop.width}:{crop.height}:{crop.left}:{crop.top}")
        arriving = (crop.width, crop.height)
    if speed != 1.0:
        filters.append(f"setpts=PTS/{speed!r}")
    filters.append(f"fps={fps!r}")
    if tuple(size) != arriving:
        filters.append(f"scale={size[0]}:{size[1]}:flags=lanczos")
    command = [exe, "-hide_banner", "-nostdin", "-v", "error"]
    if start:
        command += ["-ss", f"{start:.6f}"]
    if end is not None:
        command += ["-t", f"{end - (start or 0.0):.6f}"]
    return command + ["-i", str(path), "-vf", ",".join(filters), "-an", "-sn", "-dn",
                      "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
