"""The ffmpeg binary that imageio-ffmpeg ships: where it is, what it says about a file, and its decodes.

Nothing here loads numpy, so the program can start ffmpeg describing its video
inputs (``ffmpeg -i``) as its very first step (:func:`describe_early`), while
Python loads numpy and the pipeline (about 0.1 s). The video source's probe
then takes that description (:func:`description`) instead of starting ffmpeg
again: about 20 ms less of each conversion of a video. As soon as the first
video is described, a thread starts ffmpeg decoding it as the default options
would, so that its first frames are waiting in the pipe when the pipeline has
loaded; the video source takes that decode where its own command is the same
(:func:`take_early_decode`), else it is stopped when the program exits.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import subprocess
import tempfile
import threading
from collections import deque
from pathlib import Path
from typing import BinaryIO

from .append_only import AppendOnlyMemory
from .errors import GifsomError, SourceError

#: Seconds ffmpeg may take to describe a file before gifsom gives up on it.
DESCRIBE_TIMEOUT = 60
#: File name suffixes that :func:`describe_early` takes for videos (any other input is described when
#: its source opens it, if it is a video at all).
VIDEO_SUFFIXES = frozenset((".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".mpg", ".mpeg",
                            ".ts", ".mts", ".m2ts", ".3gp", ".ogv"))
#: At most this many inputs are described early.
MOST_DESCRIBED_EARLY = 8
#: The ``convert`` flags that change how a video is decoded (the fields of
#: :class:`gifsom.sources.SourceOptions` that :func:`gifsom.video_probe.decode_command` reads): a command line
#: with one of them would not take a decode started as the default options decode, so none is started. One
#: that was not taken cost small with ``--width`` 10 ms (0.445 against 0.435 s, 2 cores, 2026-12-04).
DECODE_FLAGS = frozenset(("--fps", "--width", "--height", "--start", "--end", "--speed", "--crop"))
#: Bytes that the pipe from a decoding ffmpeg holds, where the system lets a pipe grow (Linux; elsewhere
#: its default, often 64 KiB): a decode started early runs this far ahead of a reader still loading.
#: The dark star field (480x270) and small (176x144) converted 36 and 33 ms faster with the decode started
#: early than without, against 14 and 21 ms with a 64 KiB pipe (medians of 15 interleaved runs, 2 cores,
#: 2026-12-04).
PIPE_BYTES = 1 << 20
#: Bytes of decoded frames that a decode started early keeps in memory ahead of the reader (see
#: :class:`PrefetchedPipe`): 250 frames of 240x180, 4 of 1920x1080.
PREFETCH_BYTES = 32 << 20
#: How much lower the priority of an ffmpeg decoding ahead (:func:`start_decode` with ``prefetch``) is than
#: the program's (its niceness, added): loading numpy and the pipeline is what the program waits for, and
#: the decode took the core from it where both wanted one, though it had the other core's idle time to
#: spare (the loading waited 13 to 25 ms a run for ffmpeg's threads; sched traces of the dark star field,
#: 2 cores, 2026-12-05). Medians of 25 interleaved runs that day, the same GIFs: the star field 0.520
#: against 0.544 s, the sky 0.345 against 0.352 s; 5 and 19 did about as well as 10.
AHEAD_NICENESS = 10

_ffmpeg: str | None = None         # the binary found, once looked for
_ffmpeg_shipped = False             # ...and whether it is imageio-ffmpeg's own, taken unchecked
#: ffmpeg describing a file, started by :func:`describe_early`, by (binary, absolute path)
_early: dict[tuple[str, str], subprocess.Popen] = {}
#: the first video described early, by the same key: a thread takes its description and starts its decode
#: (see :class:`_FirstVideo`), and :func:`description` waits for that thread
_first: dict[tuple[str, str], "_FirstVideo"] = {}
#: decodes started early and not taken yet, by command line; ``_stopping`` once the program exits
_decodes: dict[tuple[str, ...], "Decoding"] = {}
_stopping = False
_lock = threading.Lock()


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: the one IMAGEIO_FFMPEG_EXE names, else the one imageio-ffmpeg ships, else
    the one imageio-ffmpeg finds elsewhere (a system or conda ffmpeg).

    The shipped binary is taken without running it first (imageio-ffmpeg's own lookup runs ``ffmpeg
    -version``, 12 ms a video); :func:`description` runs it anyway, and falls back to imageio-ffmpeg's
    lookup where it cannot run here.
    """
    global _ffmpeg, _ffmpeg_shipped
    named = os.environ.get("IMAGEIO_FFMPEG_EXE")
    if named:
        return named
    if _ffmpeg is None:
        shipped = _shipped_ffmpeg()
        _ffmpeg, _ffmpeg_shipped = (shipped, True) if shipped else (_searched_ffmpeg(), False)
    return _ffmpeg


def _imageio_ffmpeg():
    try:
        import imageio_ffmpeg
    except ImportError:
        raise SourceError("ffmpeg is not available (imageio-ffmpeg is not installed); install it with "
                          "'pip install imageio-ffmpeg'") from None
    return imageio_ffmpeg


def _shipped_ffmpeg() -> str | None:
    """The ffmpeg binary in imageio-ffmpeg's wheel (its ``binaries`` folder), or None where it has none.

    The package is found, not imported: importing it loads ``logging``, ``platform`` and more, 15 to 17 ms
    before ffmpeg could start describing the input (:func:`describe_early`; 2 cores, 2026-12-04).
    """
    spec = importlib.util.find_spec("imageio_ffmpeg")
    if spec is None or not spec.submodule_search_locations:
        _imageio_ffmpeg()               # not installed: its error
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "binaries"
    found = [p for p in folder.glob("ffmpeg*") if p.is_file() and os.access(p, os.X_OK)]
    return str(found[0]) if len(found) == 1 else None


def _searched_ffmpeg() -> str:
    """imageio-ffmpeg's own lookup, which runs each binary it tries."""
    try:
        return _imageio_ffmpeg().get_ffmpeg_exe()
    except RuntimeError as exc:
        raise SourceError(f"ffmpeg is not available ({exc}); reinstall with 'pip install imageio-ffmpeg'") from None


def _distrust_shipped() -> bool:
    """After the shipped binary failed to start: look again the way imageio-ffmpeg does. False when the
    binary that failed was not the shipped one (there is nothing else to try)."""
    global _ffmpeg, _ffmpeg_shipped
    if not _ffmpeg_shipped or os.environ.get("IMAGEIO_FFMPEG_EXE"):
        return False
    _ffmpeg, _ffmpeg_shipped = _searched_ffmpeg(), False
    return True


def run_failed(exc: OSError) -> SourceError:
    """The error for an ffmpeg that cannot be started."""
    return SourceError(f"cannot run ffmpeg at {ffmpeg_exe()!r} ({exc.strerror or exc}); reinstall imageio-ffmpeg "
                       "or set IMAGEIO_FFMPEG_EXE to a working ffmpeg")


def _describing(path: str) -> subprocess.Popen:
    """ffmpeg, started describing ``path`` on its stderr."""
    return subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-i", path], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def describe_early(arguments: list[str]) -> None:
    """Start ffmpeg describing the videos that a ``gifsom convert`` command line names, and decoding the first.

    ``arguments`` are the program's (``sys.argv[1:]``). Any word that names an existing file with a suffix
    of :data:`VIDEO_SUFFIXES` is taken, up to :data:`MOST_DESCRIBED_EARLY` of them; an option's value that
    is one is described for nothing. Where ffmpeg cannot start, nothing is started: the probe will say why.
    The first is decoded as the default options decode it, on a thread, once described (see the module's
    docstring), unless a flag of :data:`DECODE_FLAGS` asks for another decode. Descriptions and decodes not
    taken are stopped when the program exits.
    """
    if not arguments or arguments[0] != "convert":
        return
    decode_first = not any(word.split("=")[0] in DECODE_FLAGS for word in arguments)
    for word in arguments[1:]:
        if len(_early) + len(_first) >= MOST_DESCRIBED_EARLY:
            break
        if word.startswith("-") or Path(word).suffix.lower() not in VIDEO_SUFFIXES or not os.path.isfile(word):
            continue                    # (a FIFO is not a file: ffmpeg would take what the reader needs)
        try:
            key = (ffmpeg_exe(), os.path.abspath(word))
            if key in _early or key in _first:
                continue                # named twice: one description serves both
            process = _describing(word)
        except (OSError, SourceError):
            break
        if not _early and not _first:
            atexit.register(_stop_early)
        if _first or not decode_first:
            _early[key] = process
            continue
        first = _first[key] = _FirstVideo(Path(word), process)
        threading.Thread(target=first.describe_and_decode, name="gifsom-early-decode", daemon=True).start()


class _FirstVideo:
    """The first video a command line names: described (by ``describing``, an ffmpeg process), then decoded
    as the default options decode it, on a thread of its own while the program loads."""

    def __init__(self, path: Path, describing: subprocess.Popen) -> None:
        self.path = path
        self.describing = describing
        self.text = ""
        self.error: GifsomError | None = None
        self.described = threading.Event()

    def describe_and_decode(self) -> None:
        from .video_probe import decode_command, decoded_frame_bytes, output_fps, video_info

        try:
            self.text = _described(self.describing, self.path)
        except GifsomError as exc:
            self.error = exc            # the probe raises it
            self.described.set()
            return
        try:
            # the command of a video source with the default options (SourceOptions()): no crop, the size
            # shown, the video's own rate
            info = video_info(self.text, self.path)
            size = (info.width, info.height)
            command = decode_command(ffmpeg_exe(), self.path, info, size, output_fps(info, None, 1.0))
            with _lock:
                if not _stopping:
                    _decodes[tuple(command)] = start_decode(command, prefetch=True,
                                                            frame_bytes=decoded_frame_bytes(size))
        except (GifsomError, OSError, ValueError):
            pass                        # the source builds this command again, and says what is wrong
        finally:
            self.described.set()        # only now: the source then finds the decode, if there is one


def take_early_decode(command: list[str]) -> Decoding | None:
    """The decode started early with exactly this ``command``, or None; it is the caller's from here on.

    A decode started early of the same input with another command is stopped here: its reader never comes,
    and it would go on decoding into memory (up to :data:`PREFETCH_BYTES`) beside the decode that serves.
    """
    source = _input_of(command)
    with _lock:
        found = _decodes.pop(tuple(command), None)
        unread = [_decodes.pop(other) for other in list(_decodes) if _input_of(other) == source]
    for decoding in unread:
        decoding.close()
    return found


def _input_of(command: list[str] | tuple[str, ...]) -> str | None:
    """The input file a decoding ffmpeg command names (after ``-i``), or None."""
    return command[command.index("-i") + 1] if "-i" in command[:-1] else None


def _stop_early() -> None:
    """Stop and reap the descriptions and decodes nobody took."""
    global _stopping
    with _lock:
        _stopping = True
        while _decodes:
            _decodes.popitem()[1].close()
    for first in _first.values():
        if not first.described.is_set():
            first.describing.kill()     # its thread then finds the program stopping, and starts no decode
            first.described.wait()
    while _early:
        _, process = _early.popitem()
        process.kill()
        process.communicate()


def _start_describing(path: Path) -> subprocess.Popen:
    """:func:`_describing`, with imageio-ffmpeg's own lookup where the shipped binary cannot start here."""
    try:
        try:
            return _describing(str(path))
        except OSError:
            if not _distrust_shipped():
                raise
            return _describing(str(path))
    except OSError as exc:
        raise run_failed(exc) from None


def description(path: Path) -> str:
    """What ffmpeg says about ``path`` when asked to open it (its stderr for ``ffmpeg -hide_banner -i``):
    the description :func:`describe_early` started, where there is one, else a new one.

    Raises:
        SourceError: ffmpeg cannot be started, or took over :data:`DESCRIBE_TIMEOUT` seconds.
    """
    key = (ffmpeg_exe(), os.path.abspath(path))
    first = _first.pop(key, None)
    if first is not None:
        first.described.wait()
        if first.error is not None:
            raise first.error
        return first.text
    process = _early.pop(key, None)
    return _described(process if process is not None else _start_describing(path), path)


def _described(process: subprocess.Popen, path: Path) -> str:
    """What the describing ``process`` says of ``path`` (see :func:`description`)."""
    try:
        _, stderr = process.communicate(timeout=DESCRIBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise SourceError(f"ffmpeg took over a minute to open {str(path)!r}; check the file") from None
    return stderr.decode("utf-8", "replace")


class Decoding:
    """ffmpeg decoding a video: the ``process``, the raw frames it writes (``frames``, a binary file to read
    from, or a :class:`PrefetchedPipe`) and its stderr, kept in a temporary file (:meth:`error_text`)."""

    def __init__(self, process: subprocess.Popen, frames: BinaryIO | PrefetchedPipe, errors: BinaryIO) -> None:
        self.process, self.frames, self.errors = process, frames, errors

    def error_text(self) -> str:
        """What ffmpeg wrote to its stderr so far."""
        self.errors.seek(0)
        return self.errors.read().decode("utf-8", "replace")

    def close(self) -> None:
        """Stop ffmpeg where it still runs (at once: nobody reads on), reap it, and close its files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.frames.close()
        self.errors.close()


class PrefetchedPipe:
    """The read end of a pipe, drained by a thread of its own into memory, up to :data:`PREFETCH_BYTES` ahead
    of the reader: ffmpeg decoding a video while the program loads runs that far ahead, where a pipe would hold
    :data:`PIPE_BYTES` (the system's cap for a user's pipe).

    While the program loads, the one core that imports numpy and the pipeline leaves the other to ffmpeg, and
    a 240x180 video of 50 frames (6.5 MB) decodes in about 30 ms. With the pipe's megabyte, ffmpeg stopped
    after 8 frames and decoded the rest while the program read the clip, surveyed it and learned its first
    palette on the same two cores.

    The drainer reads into buffers of whole records (frames) of ``record_bytes``, at least :data:`PIPE_BYTES`
    each, filled one after another, so that every record lies in one buffer and :meth:`read` hands it on as a
    view, without a copy. A copy takes fresh pages, and each page faulted in cost 3.5 to 5 us on the 2-core
    machine: where the drainer's reads fell as the pipe gave them, a frame in four of the dark star field
    (480x270) straddled two of them and was put together, 976 page faults on the thread that surveys the clip
    (2026-12-05).

    Args:
        descriptor: the pipe's read end; the pipe owns it from here on.
        record_bytes: the size of the records the reader takes (1: any).
    """

    def __init__(self, descriptor: int, record_bytes: int = 1) -> None:
        self._pipe = os.fdopen(descriptor, "rb", buffering=0)
        record_bytes = max(1, record_bytes)
        self._buffer_bytes = -(-PIPE_BYTES // record_bytes) * record_bytes
        #: what the drainer read and the reader has not taken: (a read-only view of a buffer, start, stop)
        self._chunks: deque[tuple[memoryview, int, int]] = deque()
        self._held = 0                  # bytes in the chunks
        self._ended = False             # the writer closed the pipe (or reading it failed)
        self._closed = False
        self._changed = threading.Condition()
        self._drainer = threading.Thread(target=self._drain, name="gifsom-prefetch", daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        buffer = shown = memoryview(b"")
        filled = 0
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._held < PREFETCH_BYTES or self._closed)
                if self._closed:
                    return
            if filled == len(buffer):
                buffer = memoryview(AppendOnlyMemory(-1, self._buffer_bytes))
                shown, filled = buffer.toreadonly(), 0
            try:
                count = self._pipe.readinto(buffer[filled:]) or 0   # what the pipe holds, up to that (GIL released)
            except (OSError, ValueError):
                count = 0                                   # the reader sees the stream end; ffmpeg says why
            with self._changed:
                if count:
                    self._chunks.append((shown, filled, filled + count))
                    self._held += count
                    filled += count
                else:
                    self._ended = True
                self._changed.notify_all()
            if not count:
                return

    def read(self, size: int) -> bytes | memoryview:
        """The next ``size`` bytes, fewer only at the end of the stream (waits for the writer meanwhile): a
        read-only view into the drainer's buffer where they lie in one, else a copy (only where a record
        straddles two buffers: records of another size than the reader's)."""
        pieces: list[tuple[memoryview, int, int]] = []
        filled = 0
        with self._changed:
            while filled < size:
                self._changed.wait_for(lambda: self._chunks or self._ended or self._closed)
                if not self._chunks:
                    break
                shown, start, stop = self._chunks.popleft()
                if stop - start > size - filled:
                    self._chunks.appendleft((shown, start + size - filled, stop))
                    stop = start + size - filled
                if pieces and pieces[-1][0] is shown and pieces[-1][2] == start:
                    pieces[-1] = (shown, pieces[-1][1], stop)       # on from the piece before, in one buffer
                else:
                    pieces.append((shown, start, stop))
                filled += stop - start
                self._held -= stop - start
                self._changed.notify_all()
        if len(pieces) == 1:
            shown, start, stop = pieces[0]
            return shown[start:stop]
        return b"".join(shown[start:stop] for shown, start, stop in pieces)

    def close(self) -> None:
        """Stop draining (the writer must have closed the pipe, or be stopped) and close the pipe."""
        with self._changed:
            self._closed = True
            self._chunks.clear()
            self._held = 0
            self._changed.notify_all()
        self._drainer.join()
        self._pipe.close()


def start_decode(command: list[str], prefetch: bool = False, frame_bytes: int = 1) -> Decoding:
    """Start the decoding ffmpeg ``command``, which writes raw frames to its stdout, through a pipe of
    :data:`PIPE_BYTES` where the system allows one, drained into memory as it comes with ``prefetch`` (see
    :class:`PrefetchedPipe`; its reader takes frames of ``frame_bytes``). A decode with ``prefetch`` runs
    ahead of a program still loading, at a lower priority (:data:`AHEAD_NICENESS`).

    Raises:
        SourceError: ffmpeg cannot be started.
    """
    errors = tempfile.TemporaryFile()
    read, write = os.pipe()
    try:
        _widen_pipe(write)
        process = subprocess.Popen(command, stdout=write, stderr=errors, stdin=subprocess.DEVNULL)
    except OSError as exc:
        os.close(read)
        errors.close()
        raise run_failed(exc) from None
    finally:
        os.close(write)
    if prefetch:
        _lower_priority(process.pid)
    return Decoding(process, PrefetchedPipe(read, frame_bytes) if prefetch else os.fdopen(read, "rb"), errors)


def _lower_priority(pid: int) -> None:
    """Lower the priority of the just started process ``pid`` by :data:`AHEAD_NICENESS`, where the system
    lets it. On Linux this reaches the process's first thread, and the threads it starts later (ffmpeg
    starts its decoding threads once it has opened its input)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, pid) + AHEAD_NICENESS))
    except (AttributeError, OSError):       # no priorities here (Windows), or the process is gone
        pass


def _widen_pipe(descriptor: int) -> None:
    """Let the pipe hold :data:`PIPE_BYTES`, where the system allows it (Linux); else leave it as it is."""
    try:
        import fcntl

        fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass
