"""The ffmpeg binary that imageio-ffmpeg ships: where it is, and what it says about a file.

Nothing here loads numpy, so the program can start ffmpeg describing its video
inputs (``ffmpeg -i``) as its very first step (:func:`describe_early`), while
Python loads numpy and the pipeline (about 0.1 s). The video source's probe
then takes that description (:func:`description`) instead of starting ffmpeg
again: about 20 ms less of each conversion of a video.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import subprocess
from pathlib import Path

from .errors import SourceError

#: Seconds ffmpeg may take to describe a file before gifsom gives up on it.
DESCRIBE_TIMEOUT = 60
#: File name suffixes that :func:`describe_early` takes for videos (any other input is described when
#: its source opens it, if it is a video at all).
VIDEO_SUFFIXES = frozenset((".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".mpg", ".mpeg",
                            ".ts", ".mts", ".m2ts", ".3gp", ".ogv"))
#: At most this many inputs are described early.
MOST_DESCRIBED_EARLY = 8

_ffmpeg: str | None = None         # the binary found, once looked for
_ffmpeg_shipped = False             # ...and whether it is imageio-ffmpeg's own, taken unchecked
#: ffmpeg describing a file, started by :func:`describe_early`, by (binary, absolute path)
_early: dict[tuple[str, str], subprocess.Popen] = {}


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
    """Start ffmpeg describing the videos that a ``gifsom convert`` command line names.

    ``arguments`` are the program's (``sys.argv[1:]``). Any word that names an existing file with a suffix
    of :data:`VIDEO_SUFFIXES` is taken, up to :data:`MOST_DESCRIBED_EARLY` of them; an option's value that
    is one is described for nothing. Where ffmpeg cannot start, nothing is started: the probe will say why.
    Descriptions not taken are stopped when the program exits.
    """
    if not arguments or arguments[0] != "convert":
        return
    for word in arguments[1:]:
        if len(_early) >= MOST_DESCRIBED_EARLY:
            break
        if word.startswith("-") or Path(word).suffix.lower() not in VIDEO_SUFFIXES or not os.path.isfile(word):
            continue                    # (a FIFO is not a file: ffmpeg would take what the reader needs)
        try:
            key = (ffmpeg_exe(), os.path.abspath(word))
            if key in _early:
                continue                # named twice: one description serves both
            process = _describing(word)
        except (OSError, SourceError):
            break
        if not _early:
            atexit.register(_stop_early)
        _early[key] = process


def _stop_early() -> None:
    """Stop and reap the descriptions nobody took."""
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
    process = _early.pop((ffmpeg_exe(), os.path.abspath(path)), None) or _start_describing(path)
    try:
        _, stderr = process.communicate(timeout=DESCRIBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise SourceError(f"ffmpeg took over a minute to open {str(path)!r}; check the file") from None
    return stderr.decode("utf-8", "replace")
