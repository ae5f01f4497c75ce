"""Triage: is a failure ours (a system failure: retryable, replayable) or the customer's
(a refusal PF360 or the flow gave for a reason a replay cannot change), and the operator's
one-line reading of a failure's cause.

The class is decided by the operator code alone, so list, failures, console and replay
plans agree without reading history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # ops.executions imports this module
    from ops.executions import ExecutionRow

SYSTEM = "system"
CUSTOMER = "customer"
CLASSES = (SYSTEM, CUSTOMER)

# Not our fault, and a replay would get the same answer (or move the customer's choice).
CUSTOMER_CODES = frozenset(
    {
        "PF360_CONFLICT",  # the project takes no appointment in its state (completed, ...)
        "PF360_FORBIDDEN",  # not the customer's project
        "PF360_NOT_FOUND",  # no such project
        "PF360_BAD_REQUEST",  # PF360 refused what was asked
        "SLOT_GONE",  # the chosen time is gone: the customer must choose again
        "SESSION_EXPIRED",  # the customer's session ended before the flow could act
        "INVALID_FLOW_INPUT",
    }
)

CLASS_TEXT = {
    SYSTEM: "system failure (ours: retryable, replayable)",
    CUSTOMER: "customer refusal (not our fault: never replayed)",
}


def failure_class(error: str | None) -> str | None:
    """`system`, `customer`, or None when there is no error."""
    if not error:
        return None
    return CUSTOMER if error in CUSTOMER_CODES else SYSTEM


def operator_text(cause: dict[str, Any] | None) -> str:
    """`PF360 schedule: HTTP 503 (SERVICE_UNAVAILABLE), 4 attempts, last 12 ms, request
    sbx-1f2e…`: the cause an operator can act on or quote to PF360 support."""
    if not cause:
        return ""
    parts: list[str] = []
    endpoint = cause.get("endpoint")
    head = f"PF360 {endpoint}" if endpoint else str(cause.get("state") or "task")
    if "status" in cause and cause["status"] is not None:
        answer = f"HTTP {cause['status']}"
        if cause.get("upstream_code"):
            answer += f" ({cause['upstream_code']})"
    elif cause.get("code") == "PF360_TIMEOUT":
        timeout = cause.get("timeout_seconds")
        answer = f"no answer within {timeout:g} s" if timeout else "timed out"
    elif endpoint:
        answer = "no answer (connection failed)"
    else:
        answer = str(cause.get("code") or "")
    parts.append(f"{head}: {answer}" if answer else head)
    attempts = cause.get("attempts")
    if attempts:
        parts.append(f"{attempts} attempt{'s' if attempts != 1 else ''}")
    if cause.get("elapsed_ms") is not None:
        parts.append(f"last {cause['elapsed_ms']} ms")
    if cause.get("request_id"):
        parts.append(f"request {cause['request_id']}")
    return ", ".join(parts)


def filter_rows(
    rows: list[ExecutionRow], failure_class: str | None, repair: str | None
) -> list[ExecutionRow]:
    """The class and repair filters, the same in schedctl and the console."""
    if failure_class:
        rows = [row for row in rows if row.failure_class == failure_class]
    if repair:
        rows = [
            row for row in rows if row.status == "FAILED" and row.repaired == (repair == "repaired")
        ]
    return rows
