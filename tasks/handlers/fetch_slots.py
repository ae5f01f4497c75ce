"""AwaitSlot's task: the free times on the chosen date, with the stored request_id, published
with the task token in one checkpoint write (the execution then waits for the time)."""

from __future__ import annotations

from typing import Any

from tasks import booking, checkpoint
from tasks.handlers.common import logger, parse_event, settings_and_pf360
from tasks.handlers.waiting import park


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    current, api = settings_and_pf360(task.flow)
    flow = booking.fetch_slots(api, task.flow, task.flow_state, task.answer)
    logger.info("times offered", extra={"date": flow["date"], "times": len(flow["times"])})
    return park(task, event, current, checkpoint.STEP_AWAIT_SLOT, flow)
