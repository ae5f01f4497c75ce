"""AwaitDate's task: the dates PF360 offers from today in the tenant's time zone, published
with the task token in one checkpoint write (the execution then waits for the date).

Back at AwaitDate after a date that could not be used (not offered, no free times, another
date asked for), the dates already fetched are offered again with the reason, without
asking PF360 (or the session store) again.
"""

from __future__ import annotations

from typing import Any

from tasks import booking, checkpoint
from tasks.handlers.common import logger, parse_event, settings, settings_and_pf360
from tasks.handlers.waiting import park


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    flow = task.flow_state
    if flow.get("dates"):
        current = settings(task.flow)
        logger.info("dates offered again", extra={"dates": len(flow["dates"])})
    else:
        current, api = settings_and_pf360(task.flow)
        flow = booking.fetch_dates(api, task.flow)
        logger.info("dates offered", extra={"dates": len(flow["dates"])})
    return park(task, event, current, checkpoint.STEP_AWAIT_DATE, flow)
