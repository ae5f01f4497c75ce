"""The chat API on Lambda: the Flask app behind API Gateway (HTTP API) through apig-wsgi.

API Gateway's JWT authorizer has already checked issuer and audience; the app checks the
token again itself (defence in depth) with AUTH_MODE=jwks. The app is built on the first
request of each execution environment, from that environment's variables, so a bad
setting fails the request naming the variable instead of failing the import.
The operations console is never mounted here: operators run `schedctl console` locally.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from apig_wsgi import make_lambda_handler

from agent_bridge.chat.wsgi import create_production_app

_lock = threading.Lock()
_handler: Any = None


def _build() -> Any:
    environ = {k: v for k, v in os.environ.items() if k != "OPS_TOKEN"}
    return make_lambda_handler(create_production_app(environ), binary_support=False)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _handler
    if _handler is None:
        with _lock:
            if _handler is None:
                _handler = _build()
    result: dict[str, Any] = _handler(event, context)
    return result
