"""Output files that appear whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from ..errors import OutputError


def check_output_path(path: str | os.PathLike) -> Path:
    """Check, before any work is done, that a GIF can be written at ``path``.

    Raises:
        OutputError: the folder is missing or not writable, or the path is a folder.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise OutputError(f"output {str(target)!r} is a folder; give a file name such as {str(target / 'out.gif')!r}")
    if not folder.is_dir():
        raise OutputError(f"output folder {str(folder)!r} does not exist; create it or choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {str(folder)!r} is not writable; choose another path")
    return target


class AtomicOutput:
    """A temporary file beside ``path`` that replaces ``path`` only on :meth:`commit`.

    Use as a context manager: leaving the block without committing (an error,
    Ctrl+C, a cancel) removes the temporary file and leaves any existing file
    at ``path`` untouched.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = check_output_path(path)
        self.file: BinaryIO | None = None
        self._temp_name: str | None = None

    def __enter__(self) -> BinaryIO:
        folder = self.path.parent if str(self.path.parent) else Path(".")
        try:
            handle, self._temp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise OutputError(f"cannot create a file in {str(folder)!r}: {exc.strerror}; choose another path") from exc
        self.file = os.fdopen(handle, "wb", buffering=1 << 20)
        return self.file

    def commit(self) -> None:
        """Flush, sync and move the finished file into place."""
        assert self.file is not None and self._temp_name is not None
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.chmod(self._temp_name, 0o644)
            os.replace(self._temp_name, self.path)
        except OSError as exc:
            raise OutputError(f"cannot write {str(self.path)!r}: {exc.strerror}; free some disk space or choose another path") from exc
        self._temp_name = None

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.file is not None and not self.file.closed:
            try:
                self.file.close()
            except OSError:
                pass
        if self._temp_name is not None:
            try:
                os.unlink(self._temp_name)
            except FileNotFoundError:
                pass
            self._temp_name = None
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"cannot write {str(self.path)!r}: {exc.strerror or exc}; "
                              "free some disk space or choose another path") from exc
