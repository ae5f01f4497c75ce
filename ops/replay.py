"""Replay a failed booking safely: dry run by default, refusals that protect the customer,
and an audit item for every attempt that was meant to act.

A replay starts the booking state machine with the recorded date and time (no waits, a
fresh request_id, the tenant's service token); the workflow itself books nothing when the
project is already booked at that time, and fails SLOT_GONE when the slot is gone.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from agent_bridge.flow_driver import execution_name
from ops.context import OpsContext
from ops.executions import ExecutionRow, describe
from ops.failures import failed_bookings
from ops.timeline import build_timeline, recorded_choice


@dataclass
class ReplayPlan:
    source: ExecutionRow
    allowed: bool
    reason: str
    date: str | None = None
    time: str | None = None

    def describe(self) -> str:
        if not self.allowed:
            return f"Refused: {self.reason}"
        return (
            f"Would book project {self.source.project_id} of customer {self.source.customer_id} "
            f"({self.source.client_id}) on {self.date} at {self.time} again, with a fresh "
            f"request_id and the tenant's service token. If it is already booked at that time, "
            f"nothing is booked; if the slot is gone, the replay fails SLOT_GONE."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.to_dict(),
            "allowed": self.allowed,
            "reason": self.reason,
            "date": self.date,
            "time": self.time,
            "plan": self.describe(),
        }


@dataclass
class ReplayResult:
    plan: ReplayPlan
    started: bool
    execution_arn: str | None = None
    status: str | None = None
    outcome: str | None = None
    error: str | None = None

    @property
    def result(self) -> str:
        if not self.started:
            return f"refused: {self.plan.reason}"
        if self.status == "SUCCEEDED":
            return f"succeeded: {self.outcome}"
        if self.status == "FAILED":
            return f"failed: {self.error}"
        return f"started: {self.status or 'RUNNING'}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["plan"] = self.plan.to_dict()
        data["result"] = self.result
        return data


def plan_replay(ctx: OpsContext, name_or_arn: str) -> ReplayPlan:
    source = describe(ctx, ctx.arn_for(name_or_arn))
    if source.kind == "cancellation":
        return ReplayPlan(source, False, "only bookings can be replayed")
    if source.status == "RUNNING":
        return ReplayPlan(source, False, "the execution is still running")
    if source.status == "SUCCEEDED" and source.outcome == "booked":
        return ReplayPlan(source, False, "the booking already succeeded")
    if source.error == "SLOT_GONE":  # a replay already found the slot taken
        return ReplayPlan(source, False, "the chosen slot is gone; the customer must choose again")
    choice = _choice(ctx, source)
    if choice is None:
        return ReplayPlan(
            source, False, "the customer never chose both a date and a time; nothing to replay"
        )
    replays = ctx.index.replays_of(
        client_id=source.client_id,
        customer_id=source.customer_id,
        project_id=source.project_id,
        source_arn=source.arn,
    )
    for replay in replays:
        previous = describe(ctx, replay.execution_arn)
        if previous.status == "RUNNING":
            return ReplayPlan(source, False, f"a replay is already running: {previous.name}")
        if previous.status == "SUCCEEDED" and previous.outcome == "booked":
            return ReplayPlan(source, False, f"already replayed successfully: {previous.name}")
    later = _booked_later(ctx, source)
    if later is not None:
        return ReplayPlan(source, False, f"the project was booked again later: {later}")
    return ReplayPlan(source, True, "ok", choice[0], choice[1])


def _booked_later(ctx: OpsContext, source: ExecutionRow) -> str | None:
    """A newer booking of the same project that booked: replaying the older choice would
    move the customer's newer appointment, so the replay is refused."""
    entries = ctx.index.find(
        client_id=source.client_id,
        customer_id=source.customer_id,
        project_id=source.project_id,
        limit=1000,
    )
    for entry in entries:  # newest first
        if entry.execution_arn == source.arn:
            return None
        if entry.kind == "cancellation" or entry.replay_of == source.arn:
            continue
        row = describe(ctx, entry.execution_arn)
        if row.started >= source.started and row.status == "SUCCEEDED" and row.outcome == "booked":
            return row.name
    return None


def plan_failed_replays(ctx: OpsContext, since: datetime | None) -> list[ReplayPlan]:
    """A plan for every failed booking since `since`, newest first. Only the newest failed
    booking of a project may be replayed in one batch: replaying two would book the project
    twice (the second moving the first)."""
    plans: list[ReplayPlan] = []
    newest: dict[tuple[str, str, str], str] = {}
    for row in failed_bookings(ctx, since=since):
        key = (row.client_id, row.customer_id, row.project_id)
        if key in newest:
            reason = f"only the newest failed booking of a project is replayed: {newest[key]}"
            plans.append(ReplayPlan(row, False, reason))
            continue
        newest[key] = row.name
        plans.append(plan_replay(ctx, row.arn))
    return plans


def _choice(ctx: OpsContext, source: ExecutionRow) -> tuple[str, str] | None:
    if source.kind == "replay":
        flow = json.loads(ctx.sfn.describe_execution(executionArn=source.arn)["input"])
        replay = flow.get("replay") or {}
        if replay.get("date") and replay.get("time"):
            return str(replay["date"]), str(replay["time"])
        return None
    return recorded_choice(build_timeline(ctx, source.arn))


def run_replay(
    ctx: OpsContext, plan: ReplayPlan, *, operator: str, wait_seconds: float = 60
) -> ReplayResult:
    """Start the replay (if allowed), record the attempt, and wait for its end."""
    if not plan.allowed:
        result = ReplayResult(plan, started=False)
        _audit(ctx, operator, result)
        return result
    source_input = json.loads(ctx.sfn.describe_execution(executionArn=plan.source.arn)["input"])
    flow_id = uuid.uuid4().hex
    replay_input = {
        key: source_input[key]
        for key in ("session_id", "tenant", "customer_id", "project_id")
        if key in source_input
    }
    replay_input.update(
        {
            "flow_id": flow_id,
            "replay": {"date": plan.date, "time": plan.time, "source": plan.source.arn},
        }
    )
    name = execution_name(
        "replay", plan.source.client_id, plan.source.customer_id, plan.source.project_id, flow_id
    )
    started = ctx.sfn.start_execution(
        stateMachineArn=ctx.machines["booking"], name=name, input=json.dumps(replay_input)
    )
    arn = started["executionArn"]
    ctx.index.record(
        kind="replay",
        execution_arn=arn,
        client_id=plan.source.client_id,
        customer_id=plan.source.customer_id,
        project_id=plan.source.project_id,
        replay_of=plan.source.arn,
    )
    result = ReplayResult(plan, started=True, execution_arn=arn, status="RUNNING")
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        row = describe(ctx, arn)
        if row.status != "RUNNING":
            result.status, result.outcome, result.error = row.status, row.outcome, row.error
            break
        time.sleep(0.1)
    _audit(ctx, operator, result)
    return result


def _audit(ctx: OpsContext, operator: str, result: ReplayResult) -> None:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    item = {
        "source_execution": result.plan.source.name,
        "recorded_at": f"{now}#{uuid.uuid4().hex[:8]}",
        "at": now,
        "operator": operator,
        "aws_identity": ctx.caller_identity,
        "source_arn": result.plan.source.arn,
        "new_execution": result.execution_arn or "",
        "result": result.result,
    }
    ctx.audit_table.put_item(Item=item)


def audit_trail(ctx: OpsContext, source_name: str) -> list[dict[str, Any]]:
    response = ctx.audit_table.query(
        KeyConditionExpression="source_execution = :name",
        ExpressionAttributeValues={":name": source_name},
        ScanIndexForward=False,
    )
    return list(response.get("Items", []))
