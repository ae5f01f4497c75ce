"""Stop a running flow cleanly: the checkpoint first (so the customer is told on their next
turn and no parked task can write it again), then StopExecution, then the audit item.

Stopping is refused (and audited) when the execution is not running, or is not parked in
a wait for the customer (a task talking to PF360 must finish: stopping it could leave a
booking made that nobody is told about). An Await state's task fetches its offer before it
waits: stop waits a moment for it to park. The execution ends
ABORTED with error `OPERATOR_STOPPED` and the operator's reason as its cause.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from ops import audit
from ops.annotate import waiting_state
from ops.context import OpsContext
from ops.executions import ExecutionRow, describe
from tasks import checkpoint
from tasks.flow_errors import OperatorStopped

STOPPED_ERROR = OperatorStopped.__name__
CUSTOMER_MESSAGE = OperatorStopped.default_message
MAX_REASON_CHARS = 200
STALE = ("TaskDoesNotExist", "TaskTimedOut", "InvalidToken", "ExecutionDoesNotExist")


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
    cause = f"Stopped by {operator}: {reason}"[: MAX_REASON_CHARS + 80]
    old = None
    if flow.get("session_id") and flow.get("flow_id") and not _parked(ctx, flow):
        # An Await state's task fetches its offer (a PF360 read) before it waits.
        result = StopResult(
            row.name,
            False,
            f"refused: {state} is still fetching its offer from PF360; try again in a moment",
        )
        _audit(ctx, row.name, arn, operator, result, reason, channel)
        return result
    if flow.get("session_id") and flow.get("flow_id"):
        old = checkpoint.mark_stopped(
            ctx.flows_table, str(flow["session_id"]), str(flow["flow_id"]), CUSTOMER_MESSAGE
        )
    marked = old is not None
    try:
        if old is not None and old.task_token:
            ctx.sfn.send_task_failure(taskToken=old.task_token, error=STOPPED_ERROR, cause=cause)
        else:
            ctx.sfn.stop_execution(executionArn=arn, error=STOPPED_ERROR, cause=cause)
    except ClientError as error:  # it ended (or moved on) between the reads: said below
        if error.response["Error"]["Code"] not in STALE:
            raise
    after = _settled(ctx, arn)
    if after.outcome != "stopped" and after.status != "ABORTED":  # it ended on its own
        ending = after.outcome or after.status
        result = StopResult(row.name, False, f"refused: it ended {ending} meanwhile", marked)
    else:
        result = StopResult(row.name, True, "stopped", marked, CUSTOMER_MESSAGE if marked else None)
    _audit(ctx, row.name, arn, operator, result, reason, channel)
    return result


def _parked(ctx: OpsContext, flow: dict[str, Any], seconds: float = 10.0) -> bool:
    """Has the flow's waiting task written its checkpoint (or has the session's item moved on
    to another flow, so there is nothing of this one to wait for)? Waits a moment for it."""
    deadline = time.monotonic() + seconds
    while True:
        cp = checkpoint.read(ctx.flows_table, str(flow["session_id"]))
        if cp is None or cp.flow_id != flow["flow_id"]:
            return True
        if cp.waiting and cp.answered_seq != cp.seq:  # (answered: the next task is fetching)
            return True
        if cp.step == checkpoint.STEP_DONE or time.monotonic() >= deadline:
            return cp.step == checkpoint.STEP_DONE
        time.sleep(0.1)


def _settled(ctx: OpsContext, arn: str, seconds: float = 10.0) -> ExecutionRow:
    """The execution once it is no longer RUNNING (an engine may take a moment)."""
    deadline = time.monotonic() + seconds
    row = describe(ctx, arn)
    while row.status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
        row = describe(ctx, arn)
    return row


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
