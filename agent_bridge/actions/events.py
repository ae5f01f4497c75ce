"""The shape of a Bedrock OpenAPI action-group event, checked before anything else runs.

Anything else (`null`, a list, a string, `{}`, `parameters` as an object, a messageVersion
other than 1.0, ...) is answered with a 400 and a sentence in Bedrock's response format,
as far as the event lets us fill it in, instead of a stack trace. A `session_id` parameter
that disagrees with `sessionAttributes.session_id` is a security event: the agent (or a
prompt injection) is naming another session; the attributes, which Bedrock sets from the
chat API, win.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

MESSAGE_VERSION = "1.0"
SESSION_MISMATCH = "SESSION_MISMATCH"


def _text(event: Any, key: str) -> str:
    value = event.get(key) if isinstance(event, dict) else None
    return value if isinstance(value, str) else ""


def bedrock_error(event: Any, status: int, message: str) -> dict[str, Any]:
    """An error answer in Bedrock's action-group response format."""
    return {
        "messageVersion": MESSAGE_VERSION,
        "response": {
            "actionGroup": _text(event, "actionGroup"),
            "apiPath": _text(event, "apiPath"),
            "httpMethod": _text(event, "httpMethod") or "POST",
            "httpStatusCode": status,
            "responseBody": {"application/json": {"body": json.dumps({"error": message})}},
        },
    }


def problem_with(event: Any) -> str | None:
    """What makes this not a valid action-group event (a sentence), or None."""
    if not isinstance(event, dict):
        return "The request was not an action call this assistant understands."
    if event.get("messageVersion") != MESSAGE_VERSION:
        return "The request used an unsupported message version; only 1.0 is understood."
    for key in ("apiPath", "httpMethod", "actionGroup"):
        if not isinstance(event.get(key), str) or not event[key]:
            return "The request did not say which action to run."
    if not event["apiPath"].startswith("/"):
        return "The request did not say which action to run."
    parameters = event.get("parameters", [])
    if parameters is not None and not isinstance(parameters, list):
        return "The request's parameters were malformed."
    for parameter in parameters or []:
        if (
            not isinstance(parameter, dict)
            or not isinstance(parameter.get("name"), str)
            or not isinstance(parameter.get("value", ""), (str, int, float, bool))
        ):
            return "The request's parameters were malformed."
    for key in ("sessionAttributes", "promptSessionAttributes", "requestBody"):
        if event.get(key) is not None and not isinstance(event[key], dict):
            return "The request's session details were malformed."
    return None


def reject_malformed(event: Any, logger: Logger) -> dict[str, Any] | None:
    """A 400 answer for an event that is not a valid action-group event, else None."""
    problem = problem_with(event)
    if problem is None:
        check_session_ids(event, logger)
        return None
    logger.warning(
        "malformed action event",
        extra={"reason": "BAD_EVENT", "event_type": type(event).__name__, "problem": problem},
    )
    return bedrock_error(event, 400, problem)


def check_session_ids(event: dict[str, Any], logger: Logger) -> None:
    """Log a security event when the session_id parameter names another session."""
    attributes = event.get("sessionAttributes") or {}
    claimed = attributes.get("session_id") if isinstance(attributes, dict) else None
    passed = next(
        (
            p.get("value")
            for p in event.get("parameters") or []
            if isinstance(p, dict) and p.get("name") == "session_id"
        ),
        None,
    )
    if claimed and passed and str(passed).strip() != str(claimed):
        logger.warning(
            "security event",
            extra={
                "security_event": SESSION_MISMATCH,
                "session_id": str(claimed)[:80],
                "claimed_session_id": str(passed)[:80],
                "api_path": event.get("apiPath"),
            },
        )
