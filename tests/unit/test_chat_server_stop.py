"""The local chat server stops quietly: waitress's loop losing its sockets to `close()` is
the stop that was asked for, not an error printed at the end of `make demo`."""

from __future__ import annotations

import threading
import urllib.request
from typing import Any

import pytest
from flask import Flask

from infra.local.chat_server import ChatServer


def test_stop_ends_the_serving_thread_without_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    errors: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    app = Flask("stop-test")
    app.add_url_rule("/ping", "ping", lambda: "pong")
    for _ in range(5):  # the race between close() and the loop's select is not every time
        server = ChatServer(app).start()
        with urllib.request.urlopen(f"{server.base_url}/ping", timeout=5) as response:
            assert response.read() == b"pong"
        thread = server._thread
        server.stop()
        assert thread is not None and not thread.is_alive()
    assert errors == []
