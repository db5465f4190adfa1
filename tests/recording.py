"""Test helper: ``gifsom record`` in a child process, watched through its status line."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import threading


class Recording:
    """``gifsom record`` in a child process whose stderr is a terminal, so that it shows its status line.

    ``started()`` returns once the first status line is out, that is once frames are being taken: a slow
    start-up (imports, a cold machine) then cannot make a test miss what it puts on screen afterwards.
    """

    def __init__(self, args: list[str], env: dict[str, str] | None = None):
        self.controller, terminal = pty.openpty()
        # faulthandler prints every thread's stack on SIGABRT: what ``finish`` shows of a child that hangs
        env = {**(os.environ if env is None else env), "PYTHONFAULTHANDLER": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "gifsom", "record", *args],
                                        stdout=subprocess.PIPE, stderr=terminal, text=True, env=env)
        os.close(terminal)
        self.screen = bytearray()
        self.first_status = threading.Event()
        self.status_seen = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.controller, 4096)
            except OSError:          # the child closed its end
                return
            if not chunk:
                return
            with self.status_seen:
                self.screen += chunk
                self.status_seen.notify_all()
            if "●".encode() in self.screen:
                self.first_status.set()

    def started(self, timeout: float = 60.0) -> None:
        assert self.first_status.wait(timeout), bytes(self.screen).decode(errors="replace")

    def frames_taken(self) -> int:
        """Frames taken so far, as the last status line says (0 before the first)."""
        counts = re.findall(rb"(\d+) frames ", bytes(self.screen))
        return int(counts[-1]) if counts else 0

    def wait_for_frames(self, count: int, timeout: float = 60.0) -> None:
        """Block until a status line reports at least ``count`` frames taken."""
        with self.status_seen:
            assert self.status_seen.wait_for(lambda: self.frames_taken() >= count, timeout), \
                bytes(self.screen).decode(errors="replace")

    def finish(self, timeout: float = 120.0) -> tuple[int, str]:
        """Wait for the child to end; (exit status, stdout). A child still running after ``timeout`` seconds
        fails the test with its status lines, the programs it started and the stack of each of its threads."""
        try:
            stdout, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            children = subprocess.run(["ps", "-o", "pid,stat,etime,args", "--ppid", str(self.process.pid)],
                                      capture_output=True, text=True).stdout
            self.process.send_signal(signal.SIGABRT)
            self.process.communicate(timeout=30)
            self.reader.join(timeout=10)
            os.close(self.controller)
            for line in children.splitlines()[1:]:          # what it started outlives it: end that too
                try:
                    os.kill(int(line.split()[0]), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            raise AssertionError(f"gifsom record had not ended after {timeout:g} s.\n"
                                 f"Its programs:\n{children}\nIts output and thread stacks:\n"
                                 + bytes(self.screen).decode(errors="replace")) from None
        self.reader.join(timeout=10)
        os.close(self.controller)
        return self.process.returncode, stdout
