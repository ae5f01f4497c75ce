"""One error shape for every PF360 and control response, so clients parse failures one way.

Body: `{"status": "error", "code": "<CODE>", "message": "<sentence>"}`.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, jsonify

# Codes a fault of kind "status" answers with; anything else falls back to HTTP_<status>.
STATUS_CODES: Mapping[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    410: "GONE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


def code_for_status(status: int) -> str:
    """The error code the sandbox uses for a bare HTTP status."""
    return STATUS_CODES.get(status, f"HTTP_{status}")


class ApiError(Exception):
    """A refusal that becomes an error body; raised anywhere below a view."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_response(error: ApiError) -> Response:
    """Render an ApiError as the sandbox's JSON error body."""
    response = jsonify({"status": "error", "code": error.code, "message": error.message})
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def bad_request(message: str) -> ApiError:
    """A request whose body, path or query breaks the contract's formats."""
    return ApiError(400, "VALIDATION_ERROR", message)


def not_found(message: str) -> ApiError:
    """An unknown client, customer or project."""
    return ApiError(404, "NOT_FOUND", message)


def forbidden(message: str) -> ApiError:
    """A valid token asking for data outside its customer or client."""
    return ApiError(403, "FORBIDDEN", message)


def unauthorized(message: str) -> ApiError:
    """A missing, malformed, expired or forged token."""
    return ApiError(401, "UNAUTHORIZED", message)
