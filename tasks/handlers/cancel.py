"""Cancellation tasks: Cancel (honours CANCEL_SCHEDULE_FLAG) and Verify (dashboard check)."""

from __future__ import annotations

from typing import Any

from tasks import cancellation
from tasks.handlers.common import logger, parse_event, settings_and_pf360


@logger.inject_lambda_context(clear_state=True)
def cancel_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    current, api = settings_and_pf360(task.flow)
    result = cancellation.cancel(
        api, task.flow, confirm=current.cancel_schedule, attempt=task.attempt
    )
    logger.info("cancel", extra={"outcome": result["outcome"], "test_mode": result["test_mode"]})
    return result


@logger.inject_lambda_context(clear_state=True)
def verify_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    _, api = settings_and_pf360(task.flow)
    cancelled = task.state.get("cancel")
    previous = cancelled.get("result") if isinstance(cancelled, dict) else None
    result = cancellation.verify(
        api,
        task.flow,
        previous if isinstance(previous, dict) else {},
    )
    logger.info("cancel verified", extra={"verified": result["verified"]})
    return result
