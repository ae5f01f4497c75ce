"""A make target running in its own process group, its output readable line by line.

For the tests that run the commands a newcomer types (`make run`, `make ops-demo`) on
ports 0 (any free port), and stop them (the whole process group) afterwards.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANY_PORTS = {"CHAT_PORT": "0", "AWS_PORT": "0", "SANDBOX_PORT": "0"}


class Terminal:
    """The output of a running command, line by line, readable with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, seconds: float) -> re.Match[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r}; output so far: {self.lines}")

    def drain(self) -> None:
        """Take in whatever has been printed so far."""
        while not self._queue.empty():
            self.lines.append(self._queue.get())


@contextmanager
def start_make(target: str) -> Iterator[Terminal]:
    """`make -s <target>` with every port 0 and VERBOSE unset; stopped on exit."""
    env = {**os.environ, **ANY_PORTS}
    env.pop("VERBOSE", None)
    process = subprocess.Popen(
        ["make", "-s", target],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield Terminal(process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
