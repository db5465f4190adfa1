"""The one table from the library's option names to the command line's flags.

The options types name a bad value by its field (``fps=200 is out of range``);
the command line shows the same message with the flag (``--fps 200 is out of
range``). A field is spelled as its flag by default (``max_frames`` is
``--max-frames``); the table lists only the exceptions.
"""

from __future__ import annotations

from ..errors import GifsomError, OptionValueError

#: Fields whose flag is not ``--`` + the field with ``-`` for ``_``.
FLAG_OF_FIELD = {
    "fixed_colors": "--fixed-color",
    "target": "--for",
}


def flag_of(field: str) -> str:
    """The command-line flag that sets the library's option ``field``."""
    return FLAG_OF_FIELD.get(field, "--" + field.replace("_", "-"))


def message(error: GifsomError) -> str:
    """``error``'s message as the command line says it: an option's error, and every option it points at,
    name their flags."""
    if isinstance(error, OptionValueError):
        return error.naming(flag_of(error.field), flag_of)
    return error.naming_options(flag_of)
