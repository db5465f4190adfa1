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
