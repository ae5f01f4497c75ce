"""HTTP outcomes -> JSON bodies or typed errors (the seed's Challenge 5, done thoroughly).

PF360 errors look like `{"status": "error", "code": "<CODE>", "message": "..."}`.
The HTTP status picks the error class; PF360's own `code` is kept as `upstream_code`
and decides where the status alone is ambiguous (REQUEST_ID_EXPIRED, or an error body
sent with a 2xx status).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from .errors import (
    CONFLICT_USER_MESSAGES,
    PF360BadRequest,
    PF360Conflict,
    PF360ConnectionError,
    PF360Error,
    PF360Forbidden,
    PF360MalformedResponse,
    PF360NotFound,
    PF360RateLimited,
    PF360RequestExpired,
    PF360ServerError,
    PF360Timeout,
    PF360Unauthorized,
    redact,
)

REQUEST_ID_EXPIRED = "REQUEST_ID_EXPIRED"

_STATUS_CLASSES: dict[int, type[PF360Error]] = {
    400: PF360BadRequest,
    401: PF360Unauthorized,
    403: PF360Forbidden,
    404: PF360NotFound,
    408: PF360Timeout,
    409: PF360Conflict,
    410: PF360RequestExpired,
    429: PF360RateLimited,
}

# Where a 2xx carries an error body, PF360's code stands in for the missing status.
_CODE_STATUS: dict[str, int] = {
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "SLOT_UNAVAILABLE": 409,
    REQUEST_ID_EXPIRED: 410,
}


def read_body(
    response: requests.Response, endpoint: str, secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """The JSON object of a successful reply, or the typed error the reply stands for."""
    body = _json(response)
    status = response.status_code
    if not 200 <= status < 300:
        raise error_for_status(status, body, response, endpoint, secrets)
    if body is None:
        raise PF360MalformedResponse(
            f"HTTP {status} reply is not a JSON object", endpoint=endpoint, status=status
        )
    if str(body.get("status", "")).lower() == "error":
        code = _upstream_code(body)
        raise error_for_status(
            status, body, response, endpoint, secrets, as_status=_CODE_STATUS.get(code or "", 400)
        )
    return body


def error_for_status(
    status: int,
    body: Mapping[str, Any] | None,
    response: requests.Response,
    endpoint: str,
    secrets: Iterable[str] = (),
    *,
    as_status: int | None = None,
) -> PF360Error:
    """The typed error for a non-2xx reply (`as_status` overrides the class choice)."""
    effective = as_status or status
    upstream = _upstream_code(body)
    detail = redact(_message(body, response), secrets)
    common: dict[str, Any] = {"endpoint": endpoint, "status": status, "upstream_code": upstream}
    if upstream == REQUEST_ID_EXPIRED:
        return PF360RequestExpired(detail, **common)
    if effective == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return PF360RateLimited(detail, retry_after=retry_after, **common)
    if effective == 409:
        return PF360Conflict(detail, user_message=CONFLICT_USER_MESSAGES.get(endpoint), **common)
    if effective in _STATUS_CLASSES:
        return _STATUS_CLASSES[effective](detail, **common)
    if effective >= 500:
        return PF360ServerError(detail, **common)
    if 400 <= effective < 500:
        return PF360BadRequest(detail, **common)
    return PF360MalformedResponse(f"unexpected HTTP status; {detail}", **common)


def error_for_exception(
    exc: requests.RequestException, endpoint: str, timeout: float, secrets: Iterable[str] = ()
) -> PF360Error:
    """The typed error for a transport failure (no reply, or an incomplete one)."""
    summary = redact(f"{type(exc).__name__}: {exc}", secrets)
    if isinstance(exc, requests.Timeout):
        return PF360Timeout(f"no reply within {timeout:g}s ({summary})", endpoint=endpoint)
    return PF360ConnectionError(summary, endpoint=endpoint)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date; None if absent or bad."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _json(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _upstream_code(body: Mapping[str, Any] | None) -> str | None:
    code = body.get("code") if body else None
    return code.strip() if isinstance(code, str) and code.strip() else None


def _message(body: Mapping[str, Any] | None, response: requests.Response) -> str:
    if body:
        for key in ("message", "error", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    text = (response.text or "").strip()
    return " ".join(text.split())[:200] if text else response.reason or ""
