"""The checkpoint: one item per chat session in the flows table, the booking flow's public face.

The task of each Await state fetches the offer and writes `{step, offer, flow, task_token,
seq, message}` in one write (`flow` is the execution state the flow continues with, which the
bridge hands back with the customer's answer in SendTaskSuccess); the final states write
`step: done` with the outcome. The bridge, after StartExecution or
SendTaskSuccess, polls the item until `seq` moves. Task tokens never leave this table.

Ownership: the bridge writes `flow_id` when it starts a flow; a task writes only while the
item still names its flow. A parked task that finds another flow there has been
superseded and says so (raises `Superseded`), so a replaced flow can never park again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

STEP_STARTING = "starting"
STEP_AWAIT_DATE = "await_date"
STEP_AWAIT_SLOT = "await_slot"
STEP_DONE = "done"
# PF360 may have taken the booking and the workflow is verifying (tasks/verification.py).
STEP_CONFIRMING = "confirming"
AWAIT_STEPS = frozenset({STEP_AWAIT_DATE, STEP_AWAIT_SLOT})

OUTCOME_BOOKED = "booked"
OUTCOME_NO_AVAILABILITY = "no_availability"
OUTCOME_EXPIRED = "expired"
OUTCOME_SUPERSEDED = "superseded"
OUTCOME_FAILED = "failed"

# Keep a finished checkpoint a day for "what happened?" questions; a waiting one a little
# longer than the wait itself.
DONE_RETENTION_SECONDS = 86400
AWAIT_RETENTION_SECONDS = 1800 + 600


@dataclass
class Checkpoint:
    """The flows-table item, as the bridge reads it."""

    session_id: str
    flow_id: str
    step: str
    seq: int = 0
    execution_arn: str | None = None
    project_id: str | None = None
    offer: dict[str, Any] = field(default_factory=dict)
    # The execution's next `$.flow` (request_id, dates, date, times), written by the waiting
    # task with its token; the bridge resumes with it plus the answer. Empty when the task
    # that parked predates this (its state machine takes the bare answer).
    flow: dict[str, Any] = field(default_factory=dict, repr=False)
    message: str | None = None
    outcome: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    answer: dict[str, Any] | None = None
    answered_seq: int | None = None
    task_token: str | None = field(default=None, repr=False)
    updated_at: int = 0
    updated_ms: int = 0
    expires_at: int = 0

    @property
    def waiting(self) -> bool:
        return self.step in AWAIT_STEPS and bool(self.task_token)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Checkpoint:
        return cls(
            session_id=str(item["session_id"]),
            flow_id=str(item.get("flow_id", "")),
            step=str(item.get("step", "")),
            seq=int(item.get("seq", 0)),
            execution_arn=item.get("execution_arn"),
            project_id=item.get("project_id"),
            offer=_plain(item.get("offer") or {}),
            flow=_plain(item.get("flow") or {}),
            message=item.get("message"),
            outcome=item.get("outcome"),
            result=_plain(item.get("result") or {}),
            answer=_plain(item["answer"]) if item.get("answer") else None,
            answered_seq=int(item["answered_seq"]) if "answered_seq" in item else None,
            task_token=item.get("task_token"),
            updated_at=int(item.get("updated_at", 0)),
            updated_ms=int(item.get("updated_ms", 0)),
            expires_at=int(item.get("expires_at", 0)),
        )


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the bridge wants plain JSON values."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _now() -> int:
    return int(time.time())


def _now_ms() -> int:
    """When a write happened, to the millisecond: the bridge learns from it how long a step
    takes (its own polls only bound that from above)."""
    return int(time.time() * 1000)


def _update_if(table: Any, **request: Any) -> dict[str, Any] | None:
    """`update_item` with a ConditionExpression: None when the condition failed (the item
    has moved on to another flow or step), the response otherwise."""
    try:
        return table.update_item(**request)  # type: ignore[no-any-return]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise


def read(table: Any, session_id: str) -> Checkpoint | None:
    item = table.get_item(Key={"session_id": session_id}, ConsistentRead=True).get("Item")
    return Checkpoint.from_item(item) if item else None


def claim(table: Any, session_id: str, flow_id: str, project_id: str, execution_arn: str) -> int:
    """The bridge takes the session's item for a new flow; returns the new seq.

    `execution_arn` is the ARN the flow's execution will have (it follows from the state
    machine and the execution's name), recorded before StartExecution so that one write
    serves both. While `step` is `starting` it names an execution that may not exist yet
    (or never will, if StartExecution fails): readers treat ExecutionDoesNotExist as that."""
    now = _now()
    response = table.update_item(
        Key={"session_id": session_id},
        UpdateExpression=(
            "SET flow_id = :flow, project_id = :project, step = :step, updated_at = :now, "
            "updated_ms = :ms, expires_at = :expires, message = :none, outcome = :none, "
            "offer = :empty, #result = :empty, execution_arn = :arn ADD seq :one "
            "REMOVE task_token, answer, answered_seq, #flow"
        ),
        ExpressionAttributeNames={"#result": "result", "#flow": "flow"},
        ExpressionAttributeValues={
            ":flow": flow_id,
            ":project": project_id,
            ":step": STEP_STARTING,
            ":now": now,
            ":ms": _now_ms(),
            ":expires": now + AWAIT_RETENTION_SECONDS,
            ":none": None,
            ":empty": {},
            ":one": 1,
            ":arn": execution_arn,
        },
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["seq"])


def set_execution(table: Any, session_id: str, flow_id: str, execution_arn: str) -> None:
    """Correct the execution the flow's item names (StartExecution answered another ARN than
    the one `claim` recorded, e.g. when started through an alias); the flow's waiting task
    records its own ARN too."""
    try:
        table.update_item(
            Key={"session_id": session_id},
            UpdateExpression="SET execution_arn = :arn",
            ConditionExpression="flow_id = :flow",
            ExpressionAttributeValues={":arn": execution_arn, ":flow": flow_id},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def park(
    table: Any,
    *,
    session_id: str,
    flow_id: str,
    execution_arn: str,
    step: str,
    offer: dict[str, Any],
    message: str,
    task_token: str,
    flow: dict[str, Any] | None = None,
) -> bool:
    """The waiting task publishes its offer, token and the flow state to continue with, in
    one write; False if another flow owns the item."""
    now = _now()
    updated = _update_if(
        table,
        Key={"session_id": session_id},
        UpdateExpression=(
            "SET step = :step, offer = :offer, message = :message, task_token = :token, "
            "execution_arn = :arn, updated_at = :now, updated_ms = :ms, expires_at = :expires, "
            "#flow = :state ADD seq :one REMOVE answer, answered_seq"
        ),
        ExpressionAttributeNames={"#flow": "flow"},
        ConditionExpression="flow_id = :flow AND (attribute_not_exists(step) OR step <> :done)",
        ExpressionAttributeValues={
            ":step": step,
            ":offer": offer,
            ":message": message,
            ":token": task_token,
            ":state": flow or {},
            ":arn": execution_arn,
            ":now": now,
            ":ms": _now_ms(),
            ":expires": now + AWAIT_RETENTION_SECONDS,
            ":one": 1,
            ":flow": flow_id,
            ":done": STEP_DONE,
        },
    )
    return updated is not None


def record_answer(
    table: Any, session_id: str, flow_id: str, seq: int, answer: dict[str, Any]
) -> bool:
    """Mark the waiting step answered (once): False if it was answered or moved on already."""
    updated = _update_if(
        table,
        Key={"session_id": session_id},
        UpdateExpression="SET answer = :answer, answered_seq = :seq",
        ConditionExpression=(
            "flow_id = :flow AND seq = :seq AND attribute_not_exists(answered_seq)"
        ),
        ExpressionAttributeValues={":answer": answer, ":seq": seq, ":flow": flow_id},
    )
    return updated is not None


def finish(
    table: Any,
    *,
    session_id: str,
    flow_id: str,
    outcome: str,
    message: str,
    result: dict[str, Any],
    execution_arn: str | None = None,
) -> bool:
    """Write the final state; a flow that no longer owns the item leaves it alone."""
    now = _now()
    values: dict[str, Any] = {
        ":step": STEP_DONE,
        ":outcome": outcome,
        ":message": message,
        ":result": result,
        ":now": now,
        ":ms": _now_ms(),
        ":expires": now + DONE_RETENTION_SECONDS,
        ":one": 1,
        ":flow": flow_id,
    }
    update = (
        "SET step = :step, outcome = :outcome, message = :message, #result = :result, "
        "updated_at = :now, updated_ms = :ms, expires_at = :expires"
    )
    if execution_arn:
        update += ", execution_arn = :arn"
        values[":arn"] = execution_arn
    updated = _update_if(
        table,
        Key={"session_id": session_id},
        UpdateExpression=update + " ADD seq :one REMOVE task_token, #flow",
        ConditionExpression="flow_id = :flow",
        ExpressionAttributeNames={"#result": "result", "#flow": "flow"},
        ExpressionAttributeValues=values,
    )
    return updated is not None


def confirming(
    table: Any,
    *,
    session_id: str,
    flow_id: str,
    execution_arn: str,
    message: str,
    pending: dict[str, Any],
) -> bool:
    """The booking's outcome is unknown and being verified: say so (once; seq moves so the
    bridge answers at once). False if another flow owns the item or it is already done."""
    now = _now()
    updated = _update_if(
        table,
        Key={"session_id": session_id},
        UpdateExpression=(
            "SET step = :step, message = :message, #result = :pending, "
            "execution_arn = :arn, updated_at = :now, updated_ms = :ms, expires_at = :expires "
            "ADD seq :one REMOVE task_token, answer, answered_seq, #flow"
        ),
        ConditionExpression="flow_id = :flow AND step <> :done AND step <> :step",
        ExpressionAttributeNames={"#result": "result", "#flow": "flow"},
        ExpressionAttributeValues={
            ":step": STEP_CONFIRMING,
            ":message": message,
            ":pending": pending,
            ":arn": execution_arn,
            ":now": now,
            ":ms": _now_ms(),
            ":expires": now + DONE_RETENTION_SECONDS,
            ":one": 1,
            ":flow": flow_id,
            ":done": STEP_DONE,
        },
    )
    return updated is not None


def mark_superseded(
    table: Any,
    session_id: str,
    flow_id: str,
    message: str,
    outcome: str = OUTCOME_SUPERSEDED,
) -> Checkpoint | None:
    """Take the item away from `flow_id` before stopping it; returns the item as it was.
    A flow that is confirming an unknown outcome is never taken away (it must finish), nor
    one whose waiting step was answered (the answer may be booking in PF360 right now):
    the customer who gave it must hear how it ended."""
    return _end_taken_away(
        table,
        session_id,
        flow_id,
        outcome=outcome,
        message=message,
        marker="superseded",
        condition=(
            "flow_id = :flow AND step <> :step AND step <> :confirming "
            "AND (attribute_not_exists(answered_seq) OR answered_seq <> seq)"
        ),
        values={":confirming": STEP_CONFIRMING},
    )


OUTCOME_STOPPED = "stopped"


def mark_stopped(table: Any, session_id: str, flow_id: str, message: str) -> Checkpoint | None:
    """An operator ended the flow: the item says so (the customer is told `message` on the
    next turn) and no task of that flow can write it again; returns the item as it was, or
    None when the session has moved on to another flow or this one had ended."""
    return _end_taken_away(
        table,
        session_id,
        flow_id,
        outcome=OUTCOME_STOPPED,
        message=message,
        marker="stopped",
        condition="flow_id = :flow AND step <> :step",
    )


def _end_taken_away(
    table: Any,
    session_id: str,
    flow_id: str,
    *,
    outcome: str,
    message: str,
    marker: str,
    condition: str,
    values: dict[str, Any] | None = None,
) -> Checkpoint | None:
    """End `flow_id`'s item as `outcome` and rename its flow `<marker>:<flow_id>`, so no task
    of that flow can write it again; the item as it was, or None when `condition` failed."""
    now = _now()
    response = _update_if(
        table,
        Key={"session_id": session_id},
        UpdateExpression=(
            "SET step = :step, outcome = :outcome, message = :message, updated_at = :now, "
            "updated_ms = :ms, expires_at = :expires, flow_id = :marked ADD seq :one "
            "REMOVE task_token"
        ),
        ConditionExpression=condition,
        ExpressionAttributeValues={
            ":step": STEP_DONE,
            ":outcome": outcome,
            ":message": message,
            ":now": now,
            ":ms": _now_ms(),
            ":expires": now + DONE_RETENTION_SECONDS,
            ":one": 1,
            ":flow": flow_id,
            ":marked": f"{marker}:{flow_id}",
            **(values or {}),
        },
        ReturnValues="ALL_OLD",
    )
    if response is None:
        return None
    return Checkpoint.from_item(response["Attributes"])
