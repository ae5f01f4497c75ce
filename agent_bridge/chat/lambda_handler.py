"""The chat API on Lambda: the Flask app behind API Gateway (HTTP API) through apig-wsgi.

API Gateway's JWT authorizer has already checked issuer and audience; the app checks the
token again itself (defence in depth) with AUTH_MODE=jwks. The app is built on the first
request of each execution environment, from that environment's variables, so a bad
setting fails the request naming the variable instead of failing the import.
The operations console is never mounted here: operators run `schedctl console` locally.
"""

from __future__ import annotations

import threading
from typing import Any

from apig_wsgi import make_lambda_handler

from agent_bridge.chat.wsgi import create_production_app
from tasks.config import current_environ

_lock = threading.Lock()
_handlers: dict[frozenset[tuple[str, str]], Any] = {}


def _for_environment() -> Any:
    """The WSGI handler of this environment (one per set of variables; one on AWS)."""
    environ = {k: v for k, v in current_environ().items() if k != "OPS_TOKEN"}
    key = frozenset(environ.items())
    with _lock:
        if key not in _handlers:
            app = create_production_app(environ)
            _handlers[key] = make_lambda_handler(app, binary_support=False)
        return _handlers[key]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result: dict[str, Any] = _for_environment()(event, context)
    return result
