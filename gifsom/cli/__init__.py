"""The ``gifsom`` command line: ``convert``, ``encode``, ``record``, ``info`` and ``palette``.

- :mod:`.parser` declares the flags (syntax only);
- :mod:`.commands` builds each command's options once and runs it;
- :mod:`.flags` renames the library's option names to flags in error messages;
- :mod:`.palette_report` is the ``palette`` command, :mod:`.info` the ``info`` command.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence

from ..errors import GifsomError
from ..launch import INTERRUPTED_EXIT, INTERRUPTED_LINE, say
from . import commands, flags
from .parser import build_parser, parse_time

__all__ = ["build_parser", "entry_point", "main", "parse_time"]

COMMANDS = {"convert": commands.run_convert, "record": commands.run_record, "encode": commands.run_encode,
            "palette": commands.run_palette, "info": commands.run_info}


#: What to do when memory runs out, by command.
_OUT_OF_MEMORY = {"convert": "use a smaller --width or --fps, or a shorter clip (--start/--end)",
                  "record": "record a smaller --region, or with --scale or --width",
                  "encode": "send smaller frames, or crop them with --crop"}


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwind as Ctrl+C does, so temporary files are removed."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


def _terminate(number: int, _frame) -> None:
    # later signals must not cut the cleanup short
    for other in _CLEAN_EXIT_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise Terminated(number)


#: Signals that end gifsom the way Ctrl+C does (systemd, docker stop and timeout send SIGTERM;
#: a closed terminal sends SIGHUP).
_CLEAN_EXIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def main(*argv: str) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    SIGTERM and SIGHUP end it as Ctrl+C does (nothing half-written is left), with exit
    code 128 + the signal's number; a reader that closes the pipe ends it quietly with 141.
    """
    args_list: Sequence[str] = argv if argv else sys.argv[1:]
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in _CLEAN_EXIT_SIGNALS:
            previous[number] = signal.signal(number, _terminate)
    try:
        return _run(args_list)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run(args_list: Sequence[str]) -> int:
    parser = build_parser()
    debug = "--debug" in args_list
    command = None
    try:
        args = parser.parse_args(args_list)
        command = args.command
        if args.command is None:
            parser.print_help()
            return 2
        return COMMANDS[args.command](args)
    except GifsomError as exc:
        if debug:
            traceback.print_exc()
        say(f"gifsom: error: {flags.message(exc)}")
        return exc.exit_code
    except Terminated as stop:
        say(f"gifsom: stopped by {signal.Signals(stop.number).name}; no output was written")
        return 128 + stop.number
    except KeyboardInterrupt:
        say(INTERRUPTED_LINE)
        return INTERRUPTED_EXIT
    except BrokenPipeError:
        _quiet_stdout()
        return BROKEN_PIPE_EXIT
    except MemoryError:
        if debug:
            traceback.print_exc()
        advice = _OUT_OF_MEMORY.get(command or "", "the input is too large for this machine's memory")
        say(f"gifsom: error: out of memory; {advice}")
        return 1
    except Exception as exc:  # a bug: still one line, and no output file (writers clean up on the way out)
        if debug:
            traceback.print_exc()
        say(f"gifsom: internal error: {type(exc).__name__}: {exc}; please report it "
             "(run again with --debug for the traceback)")
        return 1


#: Exit code when the reader of standard output went away (128 + SIGPIPE, as shell tools report).
BROKEN_PIPE_EXIT = 141


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that Python's last flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def entry_point() -> None:
    """Console-script entry: exit with :func:`main`'s code."""
    code = main()
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        code = BROKEN_PIPE_EXIT
    if code == 0 and _only_daemons_left():
        _exit_without_teardown()
    sys.exit(code)


def _only_daemons_left() -> bool:
    """Whether every thread but this one is a daemon, which the interpreter would not wait for at exit."""
    return all(thread.daemon for thread in threading.enumerate() if thread is not threading.current_thread())


def _exit_without_teardown() -> None:
    """End a run that succeeded without the interpreter's teardown: the exit handlers run (ffmpeg started
    early and not taken is stopped, temporary folders are removed), the standard streams are flushed, and
    the process ends with code 0 without freeing each module and object one by one. The teardown took 5 ms
    of a 0.35 s conversion of a 240x180 clip (the last exit handler to the parent's wait, medians of 15,
    9.8 against 4.5 to 4.9 ms, 2 cores, 2026-12-05). The GIF is closed and in place by then; what is still open is
    read-only or anonymous (a spool spilled to disk lives in an unlinked temporary file)."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)
