"""A real HTTP server for the sandbox on loopback: threaded werkzeug in a daemon thread."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, make_server

from .app import create_app
from .state import SandboxState
from .transport import QuietSandboxRequestHandler, SandboxRequestHandler


class SandboxServer:
    """Start, stop and locate one sandbox; port 0 picks a free ephemeral port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state: SandboxState | None = None,
        quiet: bool = True,
    ) -> None:
        self.host = host
        self.state = state or SandboxState()
        self.app = create_app(self.state)
        self._requested_port = port
        self._quiet = quiet
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _bind(self) -> BaseWSGIServer:
        if self._server is None:
            handler = QuietSandboxRequestHandler if self._quiet else SandboxRequestHandler
            self._server = make_server(
                self.host,
                self._requested_port,
                self.app,
                threaded=True,
                request_handler=handler,
            )
        return self._server

    def start(self) -> None:
        """Bind and serve in a daemon thread; returns once the port is accepting."""
        if self._thread is not None:
            return
        server = self._bind()
        self._thread = threading.Thread(
            target=server.serve_forever, name="pf360-sandbox", daemon=True
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in the calling thread (the command line's foreground mode)."""
        self._bind().serve_forever()

    def stop(self) -> None:
        """Stop serving and release the port; requests still sleeping are abandoned."""
        if self._server is None:
            return
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self._server = None

    @property
    def port(self) -> int:
        """The bound port (binding now if not started yet)."""
        return int(self._bind().server_port)

    @property
    def base_url(self) -> str:
        """Where PF360 clients point CUSTOMER_SCHEDULER_BASE_API_URL."""
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
