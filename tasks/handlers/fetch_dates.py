"""AwaitDate's task: the dates PF360 offers from today in the tenant's time zone, published
with the task token in one checkpoint write (the execution then waits for the date).

Back at AwaitDate after a date that could not be used (not offered, no free times, another
date asked for), the dates already fetched are offered again with the reason, without
asking PF360 (or the session store) again.
"""

from __future__ import annotations

from typing import Any

from tasks import booking, checkpoint
from tasks.credentials import pf360_for_flow
from tasks.handlers.common import logger, parse_event, settings
from tasks.handlers.waiting import park


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    current = settings(task.flow)
    flow = task.flow_state
    if flow.get("dates"):
        logger.info("dates offered again", extra={"dates": len(flow["dates"])})
    else:
        flow = booking.fetch_dates(pf360_for_flow(current, task.flow), task.flow)
        logger.info("dates offered", extra={"dates": len(flow["dates"])})
    return park(task, event, current, checkpoint.STEP_AWAIT_DATE, flow)
