"""``python -m gifsom``: the command line."""

from .launch import entry_point

entry_point()
