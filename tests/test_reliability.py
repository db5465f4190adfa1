"""Bad input gets a clear answer, nothing is lost, nothing is left half-written."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import gifsom
from gifsom.errors import GifsomError, ResourceError
from gifsom.sources.gif import GifSource
from gifsom.sources.pipe import PipeOptions, PipeSource
from gifsom.sources.video import VideoSource

from .conftest import FIXTURES


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gifsom", *args], capture_output=True, text=True, timeout=300,
                          env=env)


def single_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def command_line(pid: int) -> bytes:
    """The command line of process ``pid`` (empty once it has gone)."""
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def wait_until(condition, process: subprocess.Popen, timeout: float) -> bool:
    """Poll ``condition`` until it holds (True), ``process`` ends or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if condition():
            return True
        time.sleep(0.02)
    return False


def ffmpeg_children(parent_pid: int | None = None) -> list[int]:
    """Process ids of ffmpeg processes whose parent is ``parent_pid`` (default: this process)."""
    parent_pid = os.getpid() if parent_pid is None else parent_pid
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        if parent == parent_pid and "ffmpeg" in name:
            found.append(int(entry.name))
    return found


def signal_handling(pid: int) -> dict[str, str]:
    """The signal masks (hexadecimal) of process ``pid`` and of each of its threads, from /proc."""
    found = {}
    for status in [Path("/proc") / str(pid) / "status", *(Path("/proc") / str(pid) / "task").glob("*/status")]:
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue
        masks = " ".join(line.replace("\t", "") for line in lines if line.startswith(("SigBlk", "SigIgn", "SigCgt")))
        found[str(status.relative_to("/proc"))] = masks
    return found


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".")]


def test_truncated_mp4(tmp_path):
    data = (FIXTURES / "pan.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    out = tmp_path / "out.gif"
    result = cli("convert", str(cut), str(out))
    assert result.returncode == 1
    assert "cut.mp4" in single_line(result)
    assert not out.exists() and not leftovers(tmp_path)


def test_gif_with_bad_lzw_stream(tmp_path):
    rng = np.random.default_rng(2)
    noisy = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    source = tmp_path / "good.gif"
    gifsom.encode([noisy, 255 - noisy], source, fps=10)
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(rng.integers(0, 256, 64, dtype=np.uint8))   # garbage in the LZW codes
    bad = tmp_path / "bad.gif"
    bad.write_bytes(bytes(data))
    out = tmp_path / "out.gif"
    result = cli("convert", str(bad), str(out), "-q")
    assert result.returncode in (0, 1)    # a decoder may recover or refuse, but never crash
    if result.returncode == 1:
        assert "bad.gif" in single_line(result)
        assert not out.exists()


def test_absurd_option_values_are_usage_errors(tmp_path):
    for args in (["--fps", "1e9"], ["--fps", "nan"], ["--width", "0"], ["--speed", "0"], ["--start", "-1"],
                 ["--loop", "-2"], ["--max-spool", "lots"], ["--lossy", "300"]):
        result = cli("convert", str(FIXTURES / "pan.mp4"), str(tmp_path / "o.gif"), *args)
        assert result.returncode == 2, args
        single_line(result)
    assert not (tmp_path / "o.gif").exists()


def test_end_before_start_is_refused(tmp_path):
    result = cli("convert", str(FIXTURES / "pan.mp4"), str(tmp_path / "o.gif"), "--start", "5", "--end", "2")
    assert result.returncode == 2 and "--end" in single_line(result)


def test_output_in_a_folder_that_cannot_be_written(tmp_path):
    result = cli("convert", str(FIXTURES / "photo.jpg"), "/proc/gifsom-test.gif")
    assert result.returncode == 1
    assert "/proc" in single_line(result)


def test_clip_over_the_spool_limit_is_refused_up_front(tmp_path):
    out = tmp_path / "big.gif"
    result = cli("convert", str(FIXTURES / "pan.mp4"), str(out), "--max-spool", "10M")
    assert result.returncode == 1
    line = single_line(result)
    assert "120 frames of 640x360" in line and "--max-spool" in line
    # a Python caller is told the parameter's name, not the command line's flag
    with pytest.raises(ResourceError, match="raise max_spool$") as refused:
        with gifsom.GifWriter(out, fps=10, max_spool=1000) as writer:
            for _ in range(3):
                writer.append(np.zeros((10, 20, 3), np.uint8))
    assert "--" not in str(refused.value)
    assert not out.exists()


FULL_DISK = textwrap.dedent("""
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # a write past the limit fails instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
    from gifsom.cli import main
    sys.exit(main(*sys.argv[1:]))
""")


def test_full_disk_while_writing_leaves_nothing_behind(tmp_path):
    out = tmp_path / "full.gif"
    out.write_bytes(b"the old file")
    # frames small enough to stay in the spool's memory, a GIF larger than the disk has room for
    result = subprocess.run([sys.executable, "-c", FULL_DISK, "convert", str(FIXTURES / "pan.mp4"), str(out),
                             "--fps", "5", "--width", "320"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "cannot write" in single_line(result)
    assert out.read_bytes() == b"the old file"
    assert not leftovers(tmp_path)


def test_missing_ffmpeg_is_named(tmp_path):
    env = dict(os.environ, IMAGEIO_FFMPEG_EXE=str(tmp_path / "no-ffmpeg-here"))
    result = cli("convert", str(FIXTURES / "pan.mp4"), str(tmp_path / "o.gif"), env=env)
    assert result.returncode == 1
    assert "ffmpeg" in single_line(result)


def test_ctrl_c_while_reading_leaves_no_file_and_no_ffmpeg(tmp_path):
    out = tmp_path / "o.gif"
    out.write_bytes(b"old")
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    process = subprocess.Popen([sys.executable, "-m", "gifsom", "convert", str(FIXTURES / "pan.mp4"), str(out),
                                "--fps", "50", "--width", "1280"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        # interrupt while frames are being decoded: once ffmpeg writes raw video to the pipe
        # (a slow start-up must not turn this into "Ctrl+C while importing")
        assert wait_until(lambda: any(b"rawvideo" in command_line(pid) for pid in ffmpeg_children(process.pid)),
                          process, timeout=60), "the conversion never started decoding"
        # how the child takes signals when interrupted (blocked, ignored, caught), said if the test fails
        handling = signal_handling(process.pid)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:    # a failure above must not leave the child running into later tests
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode in (1, 130), f"{stderr}\nthe child's signal masks when interrupted: {handling}"
    assert out.read_bytes() == b"old" and not leftovers(tmp_path)


def test_ctrl_c_while_the_program_loads_says_one_line_and_leaves_the_output_alone(tmp_path):
    # the interrupt arrives while the command line is being imported, before it takes over Ctrl+C
    out = tmp_path / "o.gif"
    out.write_bytes(b"old")
    code = textwrap.dedent(f"""
        import os, signal, sys
        class InterruptTheImport:
            def find_spec(self, name, path=None, target=None):
                if name == "gifsom.cli":
                    os.kill(os.getpid(), signal.SIGINT)
                return None
        sys.meta_path.insert(0, InterruptTheImport())
        sys.argv = ["gifsom", "convert", {str(FIXTURES / "pan.mp4")!r}, {str(out)!r}]
        from gifsom.launch import entry_point
        entry_point()
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 130
    assert "interrupted" in single_line(result)
    assert out.read_bytes() == b"old" and not leftovers(tmp_path)


def test_interrupt_during_reading_and_writing_in_the_library(tmp_path):
    out = tmp_path / "o.gif"

    def frames_then_interrupt():
        for i in range(5):
            yield np.full((16, 16, 3), i * 40, np.uint8)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        gifsom.encode(frames_then_interrupt(), out, fps=10)
    assert not out.exists()

    def interrupt_while_writing(done, total):
        if total is not None and done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        gifsom.encode([np.full((16, 16, 3), i * 40, np.uint8) for i in range(6)], out, fps=10,
                      progress=interrupt_while_writing)
    assert not out.exists() and not leftovers(tmp_path)


def test_stopping_early_leaves_no_ffmpeg_running():
    source = VideoSource(FIXTURES / "pan.mp4")
    frames = source.frames()
    next(frames)
    assert ffmpeg_children()
    frames.close()
    assert not ffmpeg_children()


@given(st.binary(max_size=2000))
def test_fuzz_gif_reader_random_bytes(data):
    check_gif_reader(b"GIF89a" + data)


@given(st.integers(0, 10 ** 6), st.binary(min_size=1, max_size=8), st.integers(0, 3))
def test_fuzz_gif_reader_mutations(position, patch, which):
    check_gif_reader(_mutated(SAMPLE_GIFS[which], position, patch))


@given(st.binary(max_size=3000), st.booleans())
def test_fuzz_pipe_parser(data, as_y4m):
    payload = (b"YUV4MPEG2 W4 H2 F10:1 C420jpeg\nFRAME\n" + data) if as_y4m else data
    source = PipeSource(io.BytesIO(payload), PipeOptions(size=(4, 2), fps=10))
    try:
        for frame in source.frames():
            assert frame.pixels.shape[:2] == (2, 4)
    except GifsomError:
        pass


def _sample_gifs() -> list[bytes]:
    samples = []
    for mode, count in (("RGB", 3), ("P", 2), ("RGBA", 2), ("L", 1)):
        buffer = io.BytesIO()
        frames = [Image.new(mode, (12, 9), (i * 60, 30, 200, 255)[: len(mode)] if mode != "P" and mode != "L"
                            else i * 60) for i in range(count)]
        frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=2)
        samples.append(buffer.getvalue())
    return samples


SAMPLE_GIFS = _sample_gifs()


def _mutated(data: bytes, position: int, patch: bytes) -> bytes:
    position %= len(data)
    return data[:position] + patch + data[position + len(patch):]


def check_gif_reader(data: bytes) -> None:
    """Reading any bytes as a GIF gives frames or a GifsomError, nothing else."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".gif") as handle:
        handle.write(data)
        handle.flush()
        try:
            for frame in GifSource(handle.name).frames():
                assert frame.pixels.dtype == np.uint8
        except GifsomError:
            pass


@pytest.mark.parametrize("stop", ["before the file is made", "once it is made"])
def test_a_stop_while_the_temporary_file_is_made_leaves_no_file(tmp_path, monkeypatch, stop):
    # SIGTERM (raised as Terminated, a KeyboardInterrupt) can land in the call that makes the file, before
    # the ``with`` block has it: that file must go too, and the file at the output path stays
    from gifsom import output

    out = tmp_path / "o.gif"
    out.write_bytes(b"old")
    make = output._create

    def stopped(path: str):
        if stop == "once it is made":
            make(path).close()
        raise KeyboardInterrupt

    monkeypatch.setattr(output, "_create", stopped)
    with pytest.raises(KeyboardInterrupt):
        with output.AtomicOutput(output.GifPath(out)):
            pass
    assert out.read_bytes() == b"old" and not leftovers(tmp_path)


def test_the_temporary_file_takes_the_mode_a_new_file_of_the_users_takes(tmp_path):
    from gifsom import output

    previous = os.umask(0o027)
    try:
        with output.AtomicOutput(output.GifPath(tmp_path / "o.gif")) as file:
            mode = os.stat(file.fileno()).st_mode & 0o777
    finally:
        os.umask(previous)
    assert mode == 0o640 and not leftovers(tmp_path)



def test_work_given_to_a_commit_runs_on_the_calling_thread_while_the_file_syncs(tmp_path, monkeypatch):
    import threading

    from gifsom import output

    out = tmp_path / "o.gif"
    out.write_bytes(b"old")
    done, ran_on = threading.Event(), []
    real_sync = os.fsync

    def sync(descriptor: int) -> None:
        assert done.wait(10), "the sync waits for the work given: they must run at once"
        real_sync(descriptor)

    def work() -> None:
        ran_on.append(threading.current_thread())
        done.set()

    monkeypatch.setattr(output.os, "fsync", sync)
    committing = output.AtomicOutput(output.GifPath(out))
    with committing as file:
        file.write(b"GIF89a new")
        committing.commit(meanwhile=work)
    assert out.read_bytes() == b"GIF89a new" and ran_on == [threading.current_thread()]
    assert not leftovers(tmp_path)


def test_a_sync_that_fails_beside_the_work_given_leaves_the_old_file_and_says_so(tmp_path, monkeypatch):
    import errno

    from gifsom import output
    from gifsom.errors import OutputError

    out = tmp_path / "o.gif"
    out.write_bytes(b"old")
    ran = []

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output.os, "fsync", full)
    committing = output.AtomicOutput(output.GifPath(out))
    with pytest.raises(OutputError, match="free some disk space"):
        with committing as file:
            file.write(b"GIF89a new")
            committing.commit(meanwhile=lambda: ran.append(True))
    assert out.read_bytes() == b"old" and ran == [True] and not leftovers(tmp_path)


def _write_in_pieces(descriptor: int, sent: bytes, sizes) -> None:
    """Write ``sent`` to the pipe's write end ``descriptor`` in pieces of the ``sizes`` in turn, then close it."""
    with os.fdopen(descriptor, "wb", buffering=0) as out:
        start = 0
        for size in sizes:
            out.write(sent[start:start + size])
            start += size
            if start >= len(sent):
                return


def test_a_prefetched_pipe_gives_the_bytes_written_in_any_sizes():
    import threading

    from gifsom.ffmpeg import PrefetchedPipe

    rng = np.random.default_rng(4)
    sent = rng.integers(0, 256, 3_000_000, dtype=np.uint8).tobytes()
    read_end, write_end = os.pipe()
    pipe = PrefetchedPipe(read_end)

    writer = threading.Thread(target=_write_in_pieces, args=(write_end, sent, rng.integers(1, 200_000, 1000)))
    writer.start()
    writer.join()                                   # all of it drained, in the pipe's pieces, before any read
    sizes = [1, 7, 65_536, 129_600, 1_000_001]
    got = [pipe.read(sizes[n % len(sizes)]) for n in range(12)]
    got.append(pipe.read(len(sent)))
    pipe.close()
    assert [len(chunk) for chunk in got[:-1]] == [sizes[n % len(sizes)] for n in range(12)]
    assert b"".join(got) == sent and pipe.read(10) == b""


def test_a_prefetched_pipe_gives_frames_within_one_of_its_reads_without_a_copy():
    """Frames that lie in one of the drainer's reads come as views into it, one after another in memory; a
    frame split between two reads is put together."""
    from gifsom.ffmpeg import PrefetchedPipe

    sent = bytes(range(250)) * 12                       # three frames of 1,000 bytes
    read_end, write_end = os.pipe()
    os.write(write_end, sent[:2500])                    # in the pipe before the drainer starts: one read
    pipe = PrefetchedPipe(read_end)
    first, second = pipe.read(1000), pipe.read(1000)
    os.write(write_end, sent[2500:])
    os.close(write_end)
    third = pipe.read(1000)
    pipe.close()
    assert bytes(first) + bytes(second) + bytes(third) == sent
    start = np.frombuffer(first, np.uint8).ctypes.data
    assert np.frombuffer(second, np.uint8).ctypes.data == start + 1000      # views of the one read
    assert not np.frombuffer(third, np.uint8).flags.writeable


def test_a_prefetched_pipe_of_frames_gives_every_frame_as_a_view_however_the_pipe_splits_them(monkeypatch):
    """Told the frame size, the drainer reads into buffers of whole frames: no frame straddles two, so each comes
    as a read-only view, however the writes fell, and the bytes are those written."""
    import threading

    from gifsom import ffmpeg
    from gifsom.frames import unchangeable

    monkeypatch.setattr(ffmpeg, "PIPE_BYTES", 1000)          # buffers of 4 frames of 300 bytes (1,200)
    rng = np.random.default_rng(6)
    frames = [rng.integers(0, 256, 300, dtype=np.uint8).tobytes() for _ in range(13)]
    read_end, write_end = os.pipe()
    pipe = ffmpeg.PrefetchedPipe(read_end, record_bytes=300)

    writer = threading.Thread(target=_write_in_pieces, args=(write_end, b"".join(frames), rng.integers(1, 700, 100)))
    writer.start()
    got = [pipe.read(300) for _ in frames]
    writer.join()
    assert pipe.read(300) == b""
    pipe.close()
    assert all(isinstance(frame, memoryview) and frame.readonly for frame in got)
    assert all(unchangeable(np.frombuffer(frame, np.uint8)) for frame in got)      # kept without a copy
    assert [bytes(frame) for frame in got] == frames
    starts = [np.frombuffer(frame, np.uint8).ctypes.data for frame in got]
    assert all(starts[n + 1] == starts[n] + 300 for n in range(len(frames) - 1) if (n + 1) % 4)   # within a buffer


def test_only_read_only_views_of_bytes_or_append_only_memory_count_as_unchangeable():
    import mmap

    from gifsom.append_only import AppendOnlyMemory
    from gifsom.frames import unchangeable

    filled = memoryview(AppendOnlyMemory(-1, 4096))          # its writer's own view
    assert unchangeable(np.frombuffer(filled.toreadonly()[100:200], np.uint8))
    assert unchangeable(np.frombuffer(bytes(300), np.uint8).reshape(10, 10, 3)[2:5])
    assert not unchangeable(np.frombuffer(filled, np.uint8))                       # writable
    locked = np.frombuffer(filled, np.uint8)
    locked.flags.writeable = False
    assert not unchangeable(locked)                         # read-only itself, over the writer's view
    assert not unchangeable(np.frombuffer(memoryview(mmap.mmap(-1, 4096)).toreadonly(), np.uint8))
    read_only = np.zeros(300, np.uint8)
    read_only.flags.writeable = False
    assert not unchangeable(read_only)                      # its owner may make it writable again


def test_a_prefetched_pipe_stops_draining_at_its_limit_until_read(monkeypatch):
    """The drainer parks once it holds :data:`PREFETCH_BYTES`: ffmpeg then waits on the full pipe, as it would
    for a reader without the prefetch."""
    import threading

    from gifsom import ffmpeg

    monkeypatch.setattr(ffmpeg, "PREFETCH_BYTES", 200_000)
    monkeypatch.setattr(ffmpeg, "PIPE_BYTES", 16_384)        # the size of each of the drainer's reads
    read_end, write_end = os.pipe()
    pipe = ffmpeg.PrefetchedPipe(read_end)
    parked = threading.Event()

    class Watched(threading.Condition):
        def wait_for(self, predicate, timeout=None):
            if threading.current_thread().name == "gifsom-prefetch" and not predicate():
                parked.set()
                self.notify_all()
            return super().wait_for(predicate, timeout)

    with pipe._changed:                             # nothing written yet: the drainer waits in its read
        pipe._changed = Watched()
    sent = bytes(range(256)) * 20_000               # 5 MB: more than the limit and the system's pipe hold
    written = threading.Event()

    def write() -> None:
        with os.fdopen(write_end, "wb", buffering=0) as out:
            out.write(sent)
        written.set()

    writer = threading.Thread(target=write)
    writer.start()
    with pipe._changed:                             # until the drainer parks, or takes the whole stream
        pipe._changed.wait_for(lambda: parked.is_set() or pipe._ended)
    assert parked.is_set() and not written.is_set()
    assert pipe._held < ffmpeg.PREFETCH_BYTES + ffmpeg.PIPE_BYTES
    assert pipe.read(len(sent)) == sent                 # reading lets the drainer on
    writer.join()
    pipe.close()


def test_a_decode_started_early_is_read_whole_through_its_prefetch_and_stopped_when_left():
    import threading

    from gifsom.ffmpeg import description, start_decode
    from gifsom.video_probe import video_info

    path = FIXTURES / "pan.mp4"
    command = VideoSource(path).command(video_info(description(path), path))[0]
    plain, prefetched = start_decode(command), start_decode(command, prefetch=True)
    try:
        whole = plain.frames.read()
        assert prefetched.frames.read(len(whole) + 1) == whole     # the stream's end: fewer bytes than asked
    finally:
        plain.close()
        prefetched.close()
    left = start_decode(command, prefetch=True)
    assert len(left.frames.read(1000)) == 1000
    left.close()                                    # mid-stream, as a reader that stops early closes it
    assert not ffmpeg_children()
    assert not [t for t in threading.enumerate() if t.name == "gifsom-prefetch"]



@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="process priorities are a POSIX thing")
def test_a_decode_started_ahead_runs_at_a_lower_priority_than_the_program_and_one_read_as_needed_does_not():
    from gifsom import ffmpeg
    from gifsom.video_probe import video_info

    path = FIXTURES / "pan.mp4"
    command = VideoSource(path).command(video_info(ffmpeg.description(path), path))[0]
    own = os.getpriority(os.PRIO_PROCESS, 0)
    if own >= 19:
        pytest.skip("the tests run at the lowest priority already")
    ahead, plain = ffmpeg.start_decode(command, prefetch=True), ffmpeg.start_decode(command)
    try:
        assert os.getpriority(os.PRIO_PROCESS, ahead.process.pid) == min(19, own + ffmpeg.AHEAD_NICENESS) > own
        assert os.getpriority(os.PRIO_PROCESS, plain.process.pid) == own
        assert ahead.frames.read(1000) == plain.frames.read(1000)
    finally:
        ahead.close()
        plain.close()


def test_a_decode_started_early_that_the_source_does_not_take_is_stopped_at_once(tmp_path, monkeypatch):
    """The source decodes the video with a command of its own (options changed the decode): the decode started
    early of that video must stop, not go on decoding into memory until the program ends. One of another input
    stays for its reader."""
    import shutil

    from gifsom import ffmpeg
    from gifsom.sources.base import SourceOptions
    from gifsom.video_probe import video_info

    path = FIXTURES / "pan.mp4"
    info = video_info(ffmpeg.description(path), path)
    default = VideoSource(path).command(info)[0]
    other = shutil.copy(path, tmp_path / "other.mp4")
    other_input = VideoSource(other).command(info)[0]
    early, kept = ffmpeg.start_decode(default, prefetch=True), ffmpeg.start_decode(other_input, prefetch=True)
    monkeypatch.setattr(ffmpeg, "_decodes", {tuple(default): early, tuple(other_input): kept})
    own = VideoSource(path, SourceOptions(fps=2)).command(info)[0]
    assert own != default
    try:
        assert ffmpeg.take_early_decode(own) is None
        assert early.process.poll() is not None and early.frames._closed        # stopped, reaped and closed
        assert list(ffmpeg._decodes) == [tuple(other_input)] and not kept.frames._closed
    finally:
        early.close()
        kept.close()
