"""A busy port stops `make run`, `make local-stack` and `make sandbox` at once, with a sentence.

Each case holds a real listening socket on an ephemeral port and runs the make target
with that port in its variable (the others 0 = any free port), as a newcomer would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANY = {"CHAT_PORT": "0", "AWS_PORT": "0", "SANDBOX_PORT": "0"}
SENTENCE_PARTS = {
    "CHAT_PORT": "(chat page and API) is already in use",
    "AWS_PORT": "(local AWS endpoint) is already in use",
    "SANDBOX_PORT": "(PF360 sandbox) is already in use",
}


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.mark.parametrize(
    ("target", "variable"),
    [
        ("run", "CHAT_PORT"),
        ("run", "AWS_PORT"),
        ("run", "SANDBOX_PORT"),
        ("local-stack", "AWS_PORT"),
        ("local-stack", "SANDBOX_PORT"),
        ("sandbox", "SANDBOX_PORT"),
    ],
)
def test_a_busy_port_stops_the_command_at_once_naming_port_and_variable(
    busy_port: int, target: str, variable: str
) -> None:
    env = {**os.environ, **ANY, variable: str(busy_port)}
    started = time.monotonic()
    finished = subprocess.run(
        ["make", "-s", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert finished.returncode != 0
    assert elapsed < 10, f"took {elapsed:.1f} s to stop"
    assert f"Port {busy_port} on 127.0.0.1 {SENTENCE_PARTS[variable]}" in finished.stderr
    assert f"choose another with {variable}, e.g. {variable}=" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_a_free_port_passes_the_check() -> None:
    from infra.local import ports

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    ports.check_free(ports.chat(free), ports.aws(0), ports.sandbox(0))


def test_the_server_itself_checks_too_when_started_without_make(busy_port: int) -> None:
    """`python -m infra.local.chat_server` alone (no make pre-check) stops instead of hanging."""
    finished = subprocess.run(
        [
            *(sys.executable, "-m", "infra.local.chat_server", "--port", "0"),
            *("--aws-port", str(busy_port), "--sandbox-port", "0"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # the server's imports are heavy on a loaded machine; a hang is forever
        check=False,
    )
    assert finished.returncode == 1
    assert f"Port {busy_port} on 127.0.0.1 {SENTENCE_PARTS['AWS_PORT']}" in finished.stderr
    assert "Traceback" not in finished.stderr
