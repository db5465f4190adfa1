"""Frames on stdin: raw RGB and y4m through a real pipe, and truncated streams."""

from __future__ import annotations

import subprocess
import sys

import imageio_ffmpeg
import numpy as np

from .conftest import FIXTURES, decode_gif, psnr

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def pipe_into_gifsom(producer: list[str], *args: str, cut: int | None = None) -> subprocess.CompletedProcess:
    data = subprocess.run(producer, capture_output=True, check=True).stdout
    if cut is not None:
        data = data[:cut]
    return subprocess.run([sys.executable, "-m", "gifsom", "encode", "-", *args], input=data,
                          capture_output=True, timeout=300)


def source_frames(seconds: float) -> list[np.ndarray]:
    raw = subprocess.run([FFMPEG, "-v", "error", "-i", str(FIXTURES / "pan.mp4"), "-t", str(seconds), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return list(np.frombuffer(raw, np.uint8).reshape(-1, 360, 640, 3))


def test_y4m_pipe_is_detected_and_keeps_size_and_rate(tmp_path):
    out = tmp_path / "y4m.gif"
    result = pipe_into_gifsom([FFMPEG, "-v", "error", "-i", str(FIXTURES / "pan.mp4"), "-t", "1",
                               "-f", "yuv4mpegpipe", "-"], str(out), "-q")
    assert result.returncode == 0, result.stderr
    frames, durations = decode_gif(out)
    assert len(frames) == 15 and frames[0].shape == (360, 640, 3)
    assert sum(durations) == 1000
    assert psnr(np.stack(frames), np.stack(source_frames(1))) > 33


def test_raw_pipe_with_size_and_fps(tmp_path):
    out = tmp_path / "raw.gif"
    result = pipe_into_gifsom([FFMPEG, "-v", "error", "-i", str(FIXTURES / "pan.mp4"), "-t", "1", "-f", "rawvideo",
                               "-pix_fmt", "rgb24", "-"], str(out), "--size", "640x360", "--fps", "10", "-q")
    assert result.returncode == 0, result.stderr
    frames, durations = decode_gif(out)
    assert len(frames) == 15 and set(durations) == {100}


def test_truncated_raw_pipe_names_the_byte_count(tmp_path):
    out = tmp_path / "cut.gif"
    frame = 640 * 360 * 3
    producer = [FFMPEG, "-v", "error", "-i", str(FIXTURES / "pan.mp4"), "-t", "1", "-f", "rawvideo",
                "-pix_fmt", "rgb24", "-"]
    result = pipe_into_gifsom(producer, str(out), "--size", "640x360", "--fps", "15", cut=3 * frame + 1000)
    assert result.returncode == 1
    message = result.stderr.decode().strip()
    assert len(message.splitlines()) == 1 and "1000 bytes into frame 3" in message
    assert not out.exists()
    kept = pipe_into_gifsom(producer, str(out), "--size", "640x360", "--fps", "15", "--partial-ok", "-q",
                            cut=3 * frame + 1000)
    assert kept.returncode == 0
    assert len(decode_gif(out)[0]) == 3


def test_raw_pipe_without_size_is_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gifsom", "encode", "-", str(tmp_path / "x.gif")],
                            input=b"\x00" * 300, capture_output=True, timeout=120)
    assert result.returncode == 2 and b"--size" in result.stderr
    assert not (tmp_path / "x.gif").exists()
