"""The sandbox's Flask app: PF360 endpoints, control API, one error shape, a request log."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from . import control_api, pf360_api
from .context import CONTROL_PREFIX, EXTENSION_KEY, current_state
from .errors import ApiError, code_for_status, error_response
from .state import SandboxState
from .transport import client_id_header

# A JWT pasted into a query string by mistake is still a credential: never log it.
_JWT_LIKE = re.compile(r"(?:Bearer\s+)?eyJ[\w-]*\.[\w-]+\.[\w-]*", re.IGNORECASE)


def create_app(state: SandboxState | None = None) -> Flask:
    """A sandbox app around `state` (fresh seed data when omitted)."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = state or SandboxState()
    app.register_blueprint(pf360_api.bp)
    app.register_blueprint(control_api.bp)
    app.register_error_handler(ApiError, error_response)
    app.register_error_handler(HTTPException, _http_error)
    app.before_request(_note_generation)
    app.after_request(_log_pf360_request)
    return app


def _http_error(error: HTTPException) -> Response:
    """Routing and server errors in the same JSON shape as everything else."""
    status = error.code or 500
    message = "The sandbox failed to handle the request." if status >= 500 else error.description
    return error_response(ApiError(status, code_for_status(status), message or error.name))


def _note_generation() -> None:
    """Remember which reset generation this request belongs to."""
    g.sandbox_generation = current_state().generation


def _log_pf360_request(response: Response) -> Response:
    """Record every non-control request; the authorization header is never stored. Each
    PF360 answer carries an `X-Request-Id` (as PF360's gateway does), which the client keeps
    in its errors so an operator can quote it to PF360 support."""
    if not request.path.startswith(CONTROL_PREFIX):
        request_id = f"sbx-{uuid.uuid4().hex[:16]}"
        response.headers["X-Request-Id"] = request_id
        current_state().log_request(
            {
                "method": request.method,
                "path": request.path,
                "query": {
                    key: _JWT_LIKE.sub("[redacted]", value) for key, value in request.args.items()
                },
                "status": response.status_code,
                "client_id_header": client_id_header(),
                "endpoint": g.get("pf360_endpoint"),
                "fault": g.get("pf360_fault"),
                "request_id": request_id,
            },
            g.get("sandbox_generation", -1),
        )
    return response
