"""FetchDates task: the dates PF360 offers from today in the tenant's time zone."""

from __future__ import annotations

from typing import Any

from tasks import booking
from tasks.credentials import pf360_for_flow
from tasks.handlers.common import logger, parse_event, settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    current = settings()
    result = booking.fetch_dates(pf360_for_flow(current, task.flow), task.flow)
    logger.info("dates offered", extra={"dates": len(result["dates"])})
    # The whole next state: the ASL takes it as is (no path that could fail at run time).
    return {**task.state, "flow": result}
