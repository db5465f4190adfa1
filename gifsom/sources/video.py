"""Video files, decoded by the ffmpeg binary that imageio-ffmpeg ships.

ffmpeg is run directly: one short probe for the stream's size and frame rate
(:mod:`gifsom.ffmpeg` finds the binary and runs the probe, :mod:`gifsom.video_probe`
reads what it says and builds the decode's command), then one decode that trims,
retimes and scales inside ffmpeg and writes raw RGB frames to a pipe. The
process is always reaped (killed at once if the reader stops early), and its
own error message is passed on to the user.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError, SourceError
from ..ffmpeg import description, ffmpeg_exe, start_decode, take_early_decode
from ..frames import Frame
from ..video_probe import VideoInfo, decode_command, decoded_frame_bytes, ffmpeg_reason, output_fps, video_info
from .base import ClipPlan, SourceBase, SourceOptions, check_crop, planned_size, trimmed_seconds


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
        """The ffmpeg command line (see :func:`gifsom.video_probe.decode_command`), the output (width, height)
        and the output frame rate."""
        opts = self.options
        fps = output_fps(info, opts.fps, opts.speed)
        check_crop(opts.crop, info.width, info.height)
        size = planned_size(info.width, info.height, opts)
        return decode_command(ffmpeg_exe(), self.path, info, size, fps, crop=opts.crop, speed=opts.speed,
                              start=opts.start, end=opts.end), size, fps

    def _prepare(self) -> tuple[list[str], tuple[int, int], float, ClipPlan]:
        """Probe the file once: the ffmpeg command, output size and rate, and the plan."""
        if self._prepared is None:
            if not self.path.is_file():
                raise InputError(f"input {str(self.path)!r} does not exist; check the path")
            info = video_info(description(self.path), self.path)
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
        frame_bytes = decoded_frame_bytes((width, height))
        # the decode the program started while it loaded, where it is this very command; else a new one
        decoding = take_early_decode(command) or start_decode(command)
        number = 0
        try:
            while True:
                data = decoding.frames.read(frame_bytes)
                if len(data) < frame_bytes:
                    break           # end of stream (a partial last frame from a broken file is dropped)
                yield Frame(np.frombuffer(data, np.uint8).reshape(height, width, 3), number / fps)
                number += 1
            code = decoding.process.wait()
            message = decoding.error_text()
        finally:
            decoding.close()
        if number == 0:
            if code != 0:
                raise SourceError(f"ffmpeg could not decode {str(self.path)!r}: {ffmpeg_reason(message)}")
            raise InputError(f"video {str(self.path)!r} has no frames in the requested range; "
                             "check `start`/`end` or the file")
