"""Option checks: each quantity's limit, stated once, and the checks every options type uses.

Options are frozen dataclasses that check themselves once, when made
(:class:`gifsom.options.EncodeOptions`, :class:`gifsom.sources.base.SourceOptions`,
:class:`gifsom.sources.pipe.PipeOptions`, :class:`gifsom.sources.screen.CaptureOptions`).
A bad value raises :class:`gifsom.errors.OptionValueError`, which carries the
field's name; the command line renames it to its flag.
"""

from __future__ import annotations

from collections.abc import Collection

from .errors import OptionValueError

#: GIF delays are whole centiseconds: at most 100 frames a second (browsers show at most 50).
MAX_FPS = 100.0
#: GIF stores widths and heights in 16 bits.
GIF_MAX_SIDE = 65535
#: A GIF colour table holds 2 to 256 entries.
MIN_COLORS, MAX_COLORS = 2, 256
#: Playback speed factors.
MIN_SPEED, MAX_SPEED = 0.01, 100.0
#: Default cap on the bytes of frames a clip may spool (memory and disk together): ``max_spool``.
DEFAULT_MAX_SPOOL = 64 << 30
#: Largest canvas decoded without being asked (pixels), Pillow's decompression-bomb limit: ``max_pixels``.
DEFAULT_MAX_PIXELS = 89_478_485


def in_range(field: str, value: float, low: float, high: float, use: str) -> None:
    """Refuse ``value`` outside ``low..high`` (inclusive); ``use`` says what to give instead."""
    if not low <= value <= high:
        raise OptionValueError(field, value, f"is out of range; use {use}")


def positive(field: str, value: float, use: str) -> None:
    """Refuse ``value`` at or below 0."""
    if not value > 0:
        raise OptionValueError(field, value, f"is out of range; use {use}")


def frame_rate(field: str, value: float) -> None:
    """Refuse a frame rate a GIF cannot show: at or below 0, or above :data:`MAX_FPS`."""
    if not 0 < value <= MAX_FPS:
        raise OptionValueError(field, value, f"is out of range; use a frame rate above 0 and at most {MAX_FPS:g} "
                                             "(GIF delays are whole centiseconds, 50 fps is the most browsers show)")


def side(field: str, value: int) -> None:
    """Refuse a width or height a GIF cannot hold."""
    in_range(field, value, 1, GIF_MAX_SIDE, f"1 to {GIF_MAX_SIDE} pixels")


def one_of(field: str, value: str, choices: Collection[str], what: str) -> None:
    """Refuse ``value`` when it is not one of ``choices``; ``what`` names the kind of choice."""
    if value not in choices:
        raise OptionValueError(field, value, f"is not {what}; use one of {', '.join(choices)}")
