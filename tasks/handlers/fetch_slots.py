"""FetchSlots task: the free times on the chosen date, with the stored request_id."""

from __future__ import annotations

from typing import Any

from tasks import booking
from tasks.credentials import pf360_for_flow
from tasks.handlers.common import logger, parse_event, settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    current = settings()
    api = pf360_for_flow(current, task.flow)
    result = booking.fetch_slots(api, task.flow, task.flow_state, task.answer)
    logger.info("times offered", extra={"date": result["date"], "times": len(result["times"])})
    # The whole next state: the ASL takes it as is (no path that could fail at run time).
    return {**task.state, "flow": result}
