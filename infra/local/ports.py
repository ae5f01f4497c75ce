"""Ports of the local commands: each has a variable, and a busy one stops start-up at once.

Without this check a busy port makes moto's server thread die quietly (the command hangs)
or waitress raise a bare OSError. `check_free` binds each port the way the servers will
(SO_REUSEADDR, so a socket in TIME_WAIT is not "busy") and releases it again.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class LocalPort:
    """One port a local command listens on, and the variable that changes it."""

    what: str
    variable: str
    port: int
    host: str = "127.0.0.1"


def chat(port: int, host: str = "127.0.0.1") -> LocalPort:
    return LocalPort("chat page and API", "CHAT_PORT", port, host)


def aws(port: int) -> LocalPort:
    return LocalPort("local AWS endpoint", "AWS_PORT", port)


def sandbox(port: int, host: str = "127.0.0.1") -> LocalPort:
    return LocalPort("PF360 sandbox", "SANDBOX_PORT", port, host)


class PortBusy(SystemExit):
    """Raised (exit status 1) with a sentence naming the port and its variable."""


def busy_sentence(port: LocalPort, *, denied: bool = False) -> str:
    host = port.host
    problem = "may not be used by this user" if denied else "is already in use"
    return (
        f"Port {port.port} on {host} ({port.what}) {problem}; stop what is using it or "
        f"choose another with {port.variable}, e.g. {port.variable}={suggest_free_port(host)}"
    )


def check_free(*ports: LocalPort) -> None:
    """Stop with one sentence if any of `ports` (0 = any free port) cannot be bound."""
    for port in ports:
        if port.port == 0:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((port.host, port.port))
            except OSError as error:
                if error.errno in (errno.EADDRINUSE, errno.EACCES):
                    denied = error.errno == errno.EACCES
                    raise PortBusy(busy_sentence(port, denied=denied)) from None
                raise


def suggest_free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    """`python -m infra.local.ports --chat 8080 --aws 5005`: the check alone, before the
    heavy imports of the servers, so a busy port stops a make target within a second."""
    import argparse

    parser = argparse.ArgumentParser(description="Stop with a sentence if a port is busy.")
    parser.add_argument("--chat", type=int)
    parser.add_argument("--aws", type=int)
    parser.add_argument("--sandbox", type=int)
    args = parser.parse_args(argv)
    wanted = [
        make(port)
        for make, port in ((chat, args.chat), (aws, args.aws), (sandbox, args.sandbox))
        if port is not None
    ]
    check_free(*wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
