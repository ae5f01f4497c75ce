"""`make run` is quiet by default: its URLs, then one line per chat turn, no JSON logs.

Starts the real `make run` (all ports 0 = any free port), sends one chat message over HTTP
and reads what the terminal would show.
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
from pathlib import Path

import pytest
import requests

from infra.local.dev_tokens import mint_customer_token

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 180


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


@pytest.fixture
def make_run() -> Iterator[Terminal]:
    env = {**os.environ, "CHAT_PORT": "0", "AWS_PORT": "0", "SANDBOX_PORT": "0"}
    env.pop("VERBOSE", None)
    process = subprocess.Popen(
        ["make", "-s", "run"],
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


def test_make_run_prints_its_urls_then_one_line_per_turn_and_no_json(make_run: Terminal) -> None:
    api = make_run.wait_for(r"Chat API\s+: POST (\S+)", STARTUP_SECONDS).group(1)
    make_run.wait_for(r"Ctrl-C stops everything", 30)
    token = mint_customer_token("CUST001", "acme-corp")
    answer = requests.post(
        api,
        json={"message": "schedule project 1"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    turn = make_run.wait_for(r"turn\s+(\S+)\s+(.+?)\s+(\d+) ms$", 30)
    assert turn.group(1) == "CUST001"
    # Starting a booking runs the workflow's task Lambdas, which log JSON at INFO.
    assert turn.group(2).endswith("scheduling-actions /get_available_dates 200")
    time.sleep(1)  # anything logged after the turn would show up now
    while not make_run._queue.empty():
        make_run.lines.append(make_run._queue.get())
    assert not [line for line in make_run.lines if line.lstrip().startswith("{")]
    assert token not in "\n".join(make_run.lines)
