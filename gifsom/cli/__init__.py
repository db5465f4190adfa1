"""The ``gifsom`` command line: ``convert``, ``encode``, ``record``, ``info`` and ``palette``.

- :mod:`.parser` declares the flags (syntax only);
- :mod:`.commands` builds each command's options once and runs it;
- :mod:`.flags` renames the library's option names to flags in error messages;
- :mod:`.palette_report` is the ``palette`` command, :mod:`.info` the ``info`` command.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

from ..errors import GifsomError
from . import commands, flags
from .parser import build_parser, parse_time

__all__ = ["build_parser", "entry_point", "main", "parse_time"]

COMMANDS = {"convert": commands.run_convert, "record": commands.run_record, "encode": commands.run_encode,
            "palette": commands.run_palette, "info": commands.run_info}


def main(*argv: str) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args_list: Sequence[str] = argv if argv else sys.argv[1:]
    parser = build_parser()
    debug = "--debug" in args_list
    try:
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return 2
        return COMMANDS[args.command](args)
    except GifsomError as exc:
        if debug:
            traceback.print_exc()
        print(f"gifsom: error: {flags.message(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gifsom: interrupted; no output was written", file=sys.stderr)
        return 130
    except MemoryError:
        if debug:
            traceback.print_exc()
        print("gifsom: error: out of memory; use a smaller --width or --fps, or a shorter clip", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line, and no output file (writers clean up on the way out)
        if debug:
            traceback.print_exc()
        print(f"gifsom: internal error: {type(exc).__name__}: {exc}; please report it "
              "(run again with --debug for the traceback)", file=sys.stderr)
        return 1


def entry_point() -> None:
    """Console-script entry: exit with :func:`main`'s code."""
    sys.exit(main())
