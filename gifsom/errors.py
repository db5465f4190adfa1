"""The one exception hierarchy of gifsom.

Every error that gifsom raises on purpose derives from :class:`GifsomError`.
Messages name the bad value and say what to do about it, in one line, so that
the command line can print them as they are.
"""

from __future__ import annotations


class GifsomError(Exception):
    """Root of every error gifsom raises on purpose."""

    #: Exit code the command line uses for this kind of error.
    exit_code = 1


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

    def naming(self, name: str) -> str:
        """The message with the option called ``name``: ``"--fps 200 is out of range; ..."``."""
        if self.value is None:
            return f"{name} {self.problem}"
        return f"{name} {_plain(self.value)} {self.problem}"


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
