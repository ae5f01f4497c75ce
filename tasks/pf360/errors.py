"""Typed PF360 errors: one class per failure that a caller handles differently.

`code` is a stable operator code to group failures by (ops console, metrics, Step
Functions `Retry`/`Catch` on the class name); `user_message` is a sentence a customer
may be shown; `str(error)` is for operators. None of them ever carries a credential:
every detail is passed through `redact` before it is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

# Logical endpoint names, shared with the sandbox's fault API and the logs.
DASHBOARD = "dashboard"
BUSINESS_HOURS = "business_hours"
DATES = "dates"
SLOTS = "slots"
SCHEDULE = "schedule"
CANCEL = "cancel"
ADD_NOTE = "add_note"

# Calls that change PF360 state: a timeout or 5xx on one of them may have committed.
MUTATING_ENDPOINTS = frozenset({SCHEDULE, CANCEL, ADD_NOTE})

# Conflicts mean different things to a customer depending on what they asked for.
CONFLICT_USER_MESSAGES: dict[str, str] = {
    DATES: "This project can't be scheduled in its current state.",
    SCHEDULE: "That time slot is no longer available; please choose another time.",
    CANCEL: "There is no scheduled appointment to cancel for this project.",
}

_MAX_DETAIL = 300
_BEARER = re.compile(r"(?i)bearer\s+\S+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_AUTH_HEADER = re.compile(r"(?i)(['\"]?authorization['\"]?\s*[:=]\s*)(['\"]?)[^'\",}]+")
REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secrets, bearer tokens, JWTs and authorization headers from `text`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _BEARER.sub(f"Bearer {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 3] + "..."
    return text


class PF360Error(Exception):
    """Any failure talking to PF360. Catch this to handle them all."""

    code: ClassVar[str] = "PF360_ERROR"
    transient: ClassVar[bool] = False
    # True where the request may have reached PF360 and committed before the failure.
    ambiguous_on_write: ClassVar[bool] = False
    default_user_message: ClassVar[str] = (
        "Something went wrong with the scheduling system; please try again later."
    )

    def __init__(
        self,
        detail: str = "",
        *,
        endpoint: str | None = None,
        status: int | None = None,
        upstream_code: str | None = None,
        user_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.detail = redact(detail)
        self.endpoint = endpoint
        self.status = status
        self.upstream_code = upstream_code
        self.user_message = user_message or self.default_user_message
        self.retry_after = retry_after
        # Filled in by the client after the call: what an operator needs to find the call.
        self.elapsed_ms: int | None = None
        self.request_id: str | None = None
        self.timeout_seconds: float | None = None
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [self.code]
        if self.endpoint:
            parts.append(f"[{self.endpoint}]")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.upstream_code:
            parts.append(f"({self.upstream_code})")
        head = " ".join(parts)
        return f"{head}: {self.detail}" if self.detail else head

    @property
    def may_have_committed(self) -> bool:
        """Whether a state-changing call may have taken effect: re-read before retrying."""
        return self.ambiguous_on_write and self.endpoint in MUTATING_ENDPOINTS

    def to_dict(self) -> dict[str, Any]:
        """A log- and execution-history-safe summary (no credentials, no raw bodies)."""
        return {
            "code": self.code,
            "error_type": type(self).__name__,
            "endpoint": self.endpoint,
            "status": self.status,
            "upstream_code": self.upstream_code,
            "transient": self.transient,
            "retry_after": self.retry_after,
            "message": str(self),
            "user_message": self.user_message,
            "elapsed_ms": self.elapsed_ms,
            "request_id": self.request_id,
            "timeout_seconds": self.timeout_seconds,
        }

    def operator_cause(self) -> dict[str, Any]:
        """What an operator groups and searches by: which PF360 call, what it answered (or
        that it timed out), how long it took, and PF360's request id. No customer sentence,
        no credential, no raw body."""
        cause: dict[str, Any] = {"code": self.code, "endpoint": self.endpoint}
        if self.status is not None:
            cause["status"] = self.status
        elif self.code == "PF360_TIMEOUT":
            cause["timeout_seconds"] = self.timeout_seconds
        else:
            cause["status"] = None  # no answer at all (connection refused or dropped)
        for key in ("upstream_code", "elapsed_ms", "request_id"):
            value = getattr(self, key)
            if value is not None:
                cause[key] = value
        if self.detail:
            cause["detail"] = self.detail
        return cause

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments defeat Exception's default pickling; restore the state.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[PF360Error], args: tuple[Any, ...], state: dict[str, Any]) -> PF360Error:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class PF360Timeout(PF360Error):
    """PF360 did not answer within the client timeout."""

    code = "PF360_TIMEOUT"
    transient = True
    ambiguous_on_write = True
    default_user_message = (
        "The scheduling system is taking too long to respond; please try again in a moment."
    )


class PF360ConnectionError(PF360Error):
    """The connection failed or was dropped before a complete answer arrived."""

    code = "PF360_UNAVAILABLE"
    transient = True
    ambiguous_on_write = True
    default_user_message = (
        "The scheduling system is temporarily unavailable; please try again in a few minutes."
    )


class PF360ServerError(PF360Error):
    """PF360 answered with a 5xx status."""

    code = "PF360_UNAVAILABLE"
    transient = True
    ambiguous_on_write = True
    default_user_message = PF360ConnectionError.default_user_message


class PF360RateLimited(PF360Error):
    """PF360 answered 429; `retry_after` holds its advice in seconds, when it gave one."""

    code = "PF360_RATE_LIMITED"
    transient = True
    default_user_message = "The scheduling system is busy right now; please try again in a minute."


class PF360Unauthorized(PF360Error):
    """401: the token is missing, expired or invalid."""

    code = "PF360_AUTH"
    default_user_message = "Your session has expired; please sign in again."


class PF360Forbidden(PF360Error):
    """403: the token is valid but not for this customer, client or project."""

    code = "PF360_FORBIDDEN"
    default_user_message = (
        "That project isn't available on your account; please choose one of your own projects."
    )


class PF360NotFound(PF360Error):
    """404: no such customer or project."""

    code = "PF360_NOT_FOUND"
    default_user_message = "We couldn't find that project; please check which project you mean."


class PF360BadRequest(PF360Error):
    """400 (or a request this client refuses to send): the input is not acceptable."""

    code = "PF360_BAD_REQUEST"
    default_user_message = (
        "That request couldn't be processed; please check the details and try again."
    )


class PF360Conflict(PF360Error):
    """409: the project's state changed, e.g. the slot was taken or there is nothing to cancel.

    Later layers decide what a conflict means for the flow (e.g. SLOT_GONE on a booking);
    `upstream_code` carries PF360's own code (SLOT_UNAVAILABLE, ...).
    """

    code = "PF360_CONFLICT"
    default_user_message = (
        "That change conflicts with the project's current schedule; "
        "please check its status and try again."
    )


class PF360RequestExpired(PF360Error):
    """410 / REQUEST_ID_EXPIRED: the scheduling request_id is too old; fetch dates again."""

    code = "REQUEST_EXPIRED"
    default_user_message = (
        "The available times have expired; please ask for the available dates again."
    )


class PF360MalformedResponse(PF360Error):
    """A success status whose body is not JSON or lacks a field the contract requires."""

    code = "PF360_MALFORMED"
    default_user_message = "The scheduling system sent an unexpected reply; please try again later."
