"""The parked task of AwaitDate and AwaitSlot: publish the offer and the task token.

Invoked with `lambda:invoke.waitForTaskToken`; the execution then waits for the bridge's
SendTaskSuccess. The token goes to the flows table and nowhere else (not to the log).
"""

from __future__ import annotations

from typing import Any

from tasks import booking, checkpoint
from tasks.flow_errors import Superseded
from tasks.handlers.common import flows_table, logger, parse_event, settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    step = str(event.get("step") or "")
    if step not in checkpoint.AWAIT_STEPS:
        raise ValueError(f"park: unknown step {step!r}")
    offer, message = booking.describe_offer(step, task.flow_state)
    parked = checkpoint.park(
        flows_table(settings()),
        session_id=task.flow.session_id,
        flow_id=task.flow.flow_id,
        execution_arn=task.execution_arn,
        step=step,
        offer=offer,
        message=message,
        task_token=str(event["token"]),
    )
    if not parked:
        logger.info("superseded before parking", extra={"step": step})
        raise Superseded()
    logger.info("parked", extra={"step": step})
    return {"parked": step}
