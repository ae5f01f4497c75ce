"""Connection-level tricks the sandbox plays below HTTP: reading the `client_id` header that
werkzeug would drop, and hanging up without an answer for drop-after-commit faults.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

from flask import request
from werkzeug.serving import WSGIRequestHandler

from .context import CLIENT_ID_HEADER_ENVIRON_KEY


class SandboxRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, keeping the contract's `client_id` header visible to the app."""

    def make_environ(self) -> dict[str, Any]:
        """Add the raw `client_id` header (None when absent) under our own environ key."""
        environ = super().make_environ()
        environ[CLIENT_ID_HEADER_ENVIRON_KEY] = self.headers.get("client_id")
        return environ


class QuietSandboxRequestHandler(SandboxRequestHandler):
    """The same, without a log line per request (tests make thousands)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Say nothing about successful requests."""


def client_id_header() -> str | None:
    """The `client_id` request header, from our handler's copy or (other servers) the headers."""
    if CLIENT_ID_HEADER_ENVIRON_KEY in request.environ:
        value = request.environ[CLIENT_ID_HEADER_ENVIRON_KEY]
        return value if isinstance(value, str) else None
    return request.headers.get("client_id")


def drop_connection(fallback_delay_ms: int) -> None:
    """Hang up on the client without a response; the work of the request is already done.

    On werkzeug's server the socket is shut down, so the client sees the connection close
    before any byte of a response. Elsewhere (no socket in the environ) the best imitation is
    to stall long enough for the client to time out.
    """
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        return
    time.sleep(fallback_delay_ms / 1000)
