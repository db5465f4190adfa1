"""The one exception hierarchy of gifsom.

Every error that gifsom raises on purpose derives from :class:`GifsomError`.
Messages name the bad value and say what to do about it, in one line. Where a
message points at an option, it writes the option's library name between
backquotes (``raise `max_spool```): ``str(error)`` shows the name as a Python
caller passes it (``raise max_spool``), and the command line shows its flag
(``raise --max-spool``, see :meth:`GifsomError.naming_options`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: An option's library name in a message, between backquotes.
_OPTION = re.compile(r"`([a-z][a-z0-9_]*)`")


def _named(text: str, name_of: Callable[[str], str]) -> str:
    """``text`` with each option between backquotes called ``name_of(library name)``."""
    return _OPTION.sub(lambda found: name_of(found.group(1)), text)


class GifsomError(Exception):
    """Root of every error gifsom raises on purpose."""

    #: Exit code the command line uses for this kind of error.
    exit_code = 1

    def __str__(self) -> str:
        return self.naming_options(lambda name: name)

    def naming_options(self, name_of: Callable[[str], str]) -> str:
        """The message with each option it points at called ``name_of(library name)``."""
        return _named(super().__str__(), name_of)


class OptionError(GifsomError, ValueError):
    """An option or argument has a value gifsom cannot use (a usage error)."""

    exit_code = 2


class OptionValueError(OptionError):
    """One option's value is out of range or not one of the choices.

    The message names the option as the library calls it (``fps=200 is out of
    range; ...``); :meth:`naming` gives it with another name for the option,
    such as the command line's flag (``--fps 200 is out of range; ...``).

    Attributes:
        field: the option's name in the library (a dataclass field or keyword argument).
        value: the value given.
        problem: what is wrong and what to do, after the name and value.
    """

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field, self.value, self.problem = field, value, problem
        if value is None:                 # a missing option: "size is needed for ..."
            super().__init__(f"{field} {problem}")
        else:
            super().__init__(f"{field}={repr(value) if isinstance(value, str) else _plain(value)} {problem}")

    def naming(self, name: str, name_of: Callable[[str], str] = lambda name: name) -> str:
        """The message with the option called ``name`` (``"--fps 200 is out of range; ..."``), and each other
        option it points at called ``name_of(library name)``."""
        problem = _named(self.problem, name_of)
        if self.value is None:
            return f"{name} {problem}"
        return f"{name} {_plain(self.value)} {problem}"


def _plain(value: object) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


class InputError(GifsomError):
    """An input file, folder or stream is missing, unreadable or malformed."""


class SourceError(InputError):
    """A frame source (screen, ffmpeg, pipe) failed while producing frames."""


class OutputError(GifsomError):
    """The output file cannot be written where it was asked for."""


class ResourceError(GifsomError):
    """The work would need more memory or disk than allowed or available."""


class Cancelled(GifsomError):
    """The work was stopped by the user or a cancel callback; nothing was written."""
