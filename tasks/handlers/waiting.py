"""What AwaitDate and AwaitSlot share: publish the offer, the task token and the flow state.

Both are `lambda:invoke.waitForTaskToken` tasks: the function fetches its offer from PF360
and then, in one conditional write, puts the offer, the token and the execution's next
`$.flow` in the checkpoint; the execution waits for the bridge's SendTaskSuccess, whose
output (that flow plus the customer's answer) becomes `$.flow`. The token goes to the flows
table and nowhere else: not to the log, not to the return value (which history records).
"""

from __future__ import annotations

from typing import Any

from tasks import booking, checkpoint
from tasks.config import Settings
from tasks.flow_errors import Superseded
from tasks.handlers.common import TaskEvent, flows_table, logger


def park(
    task: TaskEvent, event: dict[str, Any], current: Settings, step: str, flow: dict[str, Any]
) -> dict[str, Any]:
    """Publish `flow`'s offer for `step` and wait; raises Superseded if another flow owns the
    session's item (a replaced flow never waits again)."""
    if step not in checkpoint.AWAIT_STEPS:
        raise ValueError(f"park: unknown step {step!r}")
    offer, message = booking.describe_offer(step, flow)
    parked = checkpoint.park(
        flows_table(current),
        session_id=task.flow.session_id,
        flow_id=task.flow.flow_id,
        execution_arn=task.execution_arn,
        step=step,
        offer=offer,
        message=message,
        task_token=str(event["token"]),
        flow=booking.carried_flow(flow),
    )
    if not parked:
        logger.info("superseded before parking", extra={"step": step})
        raise Superseded()
    logger.info("parked", extra={"step": step})
    # Recorded in the history (TaskSubmitted): what was offered, for operators.
    return {"parked": step, "offer": offer}
