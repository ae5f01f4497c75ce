"""Refusals an action answers with: an HTTP status, a sentence for the customer, a reason for ops.

Bedrock shows the agent the body `{"error": "<sentence>"}`; operators group by `reason`
(logs and metrics). Nothing internal, and never a token, goes into either.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks import checkpoint


@dataclass
class ActionError(Exception):
    status: int
    message: str
    reason: str

    def __str__(self) -> str:
        return f"{self.status} {self.reason}: {self.message}"


SESSION_MISSING = "SESSION_MISSING"
SESSION_EXPIRED = "SESSION_EXPIRED"
TENANT_MISMATCH = "TENANT_MISMATCH"
PROJECT_NOT_OWNED = "PROJECT_NOT_OWNED"
BAD_INPUT = "BAD_INPUT"
NO_FLOW = "NO_FLOW"
FLOW_BUSY = "FLOW_BUSY"


def session_missing() -> ActionError:
    return ActionError(
        401, "I can't find your chat session; please sign in again.", SESSION_MISSING
    )


def session_expired() -> ActionError:
    return ActionError(
        401, "Your chat session has expired; please sign in again to continue.", SESSION_EXPIRED
    )


def bad_input(message: str) -> ActionError:
    return ActionError(400, message, BAD_INPUT)


# Failure codes of the workflows -> the HTTP status the action answers with.
_STATUS_BY_CODE = {
    "PF360_AUTH": 401,
    "SESSION_EXPIRED": 401,
    "PF360_FORBIDDEN": 403,
    "PF360_NOT_FOUND": 404,
    "PF360_CONFLICT": 409,
    "SLOT_GONE": 409,
    "REQUEST_EXPIRED": 410,
    "PF360_BAD_REQUEST": 400,
    "PF360_TIMEOUT": 503,
    "PF360_UNAVAILABLE": 503,
    "PF360_RATE_LIMITED": 503,
}


def status_for_code(code: str | None) -> int:
    """The status an operator code answers with (always 4xx/5xx; unknown codes are 502)."""
    return _STATUS_BY_CODE.get(code or "", 502)


def status_for_outcome(outcome: str | None, error: str | None) -> int:
    """The status of a flow that ended: failures by their code, other endings 200."""
    if outcome != checkpoint.OUTCOME_FAILED:
        return 200
    return status_for_code(error)
