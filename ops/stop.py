"""Stop a running flow cleanly: the checkpoint first (so the customer is told on their next
turn and no parked task can write it again), then StopExecution, then the audit item.

Stopping is refused (and audited) when the execution is not running, or is not parked in
a wait for the customer (a task talking to PF360 must finish: stopping it could leave a
booking made that nobody is told about). The execution ends
ABORTED with error `OPERATOR_STOPPED` and the operator's reason as its cause.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from ops import audit
from ops.annotate import waiting_state
from ops.context import OpsContext
from ops.executions import describe
from tasks import checkpoint

STOPPED_ERROR = "OPERATOR_STOPPED"
CUSTOMER_MESSAGE = (
    "Our support team has closed this booking request, so nothing was booked. "
    "Ask to schedule again whenever you are ready."
)
MAX_REASON_CHARS = 200


@dataclass
class StopResult:
    name: str
    stopped: bool
    result: str
    checkpoint_marked: bool = False
    customer_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stop_flow(
    ctx: OpsContext, name_or_arn: str, *, reason: str, operator: str, channel: str = "cli"
) -> StopResult:
    arn = ctx.arn_for(name_or_arn)
    row = describe(ctx, arn)
    if row.status != "RUNNING":
        result = StopResult(row.name, False, f"refused: the execution is {row.status}, not running")
        _audit(ctx, row.name, arn, operator, result, reason, channel)
        return result
    state = waiting_state(ctx, arn)
    if not (state or "").startswith("Await"):
        result = StopResult(
            row.name,
            False,
            f"refused: it is in {state or 'a transition'}, not waiting for the customer; "
            "stopping a step that talks to PF360 could change PF360 without telling anyone",
        )
        _audit(ctx, row.name, arn, operator, result, reason, channel)
        return result
    flow = json.loads(ctx.sfn.describe_execution(executionArn=arn).get("input") or "{}")
    marked = False
    if flow.get("session_id") and flow.get("flow_id"):
        marked = (
            checkpoint.mark_stopped(
                ctx.flows_table, str(flow["session_id"]), str(flow["flow_id"]), CUSTOMER_MESSAGE
            )
            is not None
        )
    cause = f"Stopped by {operator}: {reason}"[: MAX_REASON_CHARS + 64]
    with contextlib.suppress(ctx.sfn.exceptions.ExecutionDoesNotExist):
        ctx.sfn.stop_execution(executionArn=arn, error=STOPPED_ERROR, cause=cause)
    after = describe(ctx, arn)
    if after.status != "ABORTED":  # it ended on its own between the two reads
        result = StopResult(row.name, False, f"refused: it ended {after.status} meanwhile", marked)
    else:
        result = StopResult(row.name, True, "stopped", marked, CUSTOMER_MESSAGE if marked else None)
    _audit(ctx, row.name, arn, operator, result, reason, channel)
    return result


def _audit(
    ctx: OpsContext,
    name: str,
    arn: str,
    operator: str,
    result: StopResult,
    reason: str,
    channel: str,
) -> None:
    text = result.result
    if result.stopped:
        text += (
            "; the customer is told on their next turn"
            if result.checkpoint_marked
            else ("; no chat session to tell")
        )
    audit.record(
        ctx,
        action=audit.STOP,
        source_name=name,
        source_arn=arn,
        operator=operator,
        result=text,
        reason=reason,
        channel=channel,
    )
