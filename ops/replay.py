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
from datetime import datetime
from typing import Any

from agent_bridge.flow_driver import execution_name
from ops import audit
from ops.annotate import annotate
from ops.audit import audit_trail
from ops.context import OpsContext
from ops.executions import ExecutionRow, describe
from ops.failures import failed_bookings
from ops.timeline import build_timeline, recorded_choice
from ops.triage import CUSTOMER

__all__ = ["ReplayPlan", "ReplayResult", "audit_trail", "plan_replay", "run_replay"]


NEW = "new"
MOVED = "moved"
NOT_NOTIFIED = (
    "The customer will not be notified: the replay sends no message to the chat, so tell "
    "them yourself."
)


@dataclass
class ReplayPlan:
    source: ExecutionRow
    allowed: bool
    reason: str
    date: str | None = None
    time: str | None = None
    # What the replay changes for the customer, and what they were told when it failed.
    change: str | None = None  # new | moved
    moves: str | None = None  # "2026-12-03 09:00 (booked by <execution>)"
    last_told: str | None = None

    def change_sentence(self) -> str:
        when = f"{self.date} at {self.time}"
        if self.change == MOVED:
            return (
                f"This MOVES the customer's appointment of {self.moves} to {when}: the earlier "
                "time is given up."
            )
        return (
            f"This gives the customer a new appointment on {when} (no booking of this project "
            "by the assistant is on record; one made elsewhere would be moved)."
        )

    def describe(self) -> str:
        if not self.allowed:
            return f"Refused: {self.reason}"
        told = (
            f'They were last told: "{self.last_told}"'
            if self.last_told
            else "What they were last told is not on record."
        )
        return (
            f"Would book project {self.source.project_id} of customer {self.source.customer_id} "
            f"({self.source.client_id}) on {self.date} at {self.time} again, with a fresh "
            f"request_id and the tenant's service token. {self.change_sentence()} {told} "
            f"{NOT_NOTIFIED} If it is already booked at that time, nothing is booked; if the "
            "slot is gone, the replay fails SLOT_GONE."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.to_dict(),
            "allowed": self.allowed,
            "reason": self.reason,
            "date": self.date,
            "time": self.time,
            "change": self.change,
            "moves": self.moves,
            "last_told": self.last_told,
            "customer_notified": False,
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
    if source.failure_class == CUSTOMER:
        return ReplayPlan(
            source,
            False,
            f"{source.error} is a customer refusal (not our fault); a replay would be "
            "refused again",
        )
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
        if previous.error == "SLOT_GONE":
            return ReplayPlan(
                source,
                False,
                f"a replay found the slot gone ({previous.name}); the customer must choose again",
            )
    later = _booked_later(ctx, source)
    if later is not None:
        return ReplayPlan(source, False, f"the project was booked again later: {later}")
    plan = ReplayPlan(source, True, "ok", choice[0], choice[1], change=NEW)
    plan.last_told = build_timeline(ctx, source.arn).customer_message
    earlier = _appointment_before(ctx, source)
    if earlier is not None and earlier[:2] != choice:
        plan.change = MOVED
        plan.moves = f"{earlier[0]} {earlier[1]} (booked by {earlier[2]})"
    return plan


def _appointment_before(ctx: OpsContext, source: ExecutionRow) -> tuple[str, str, str] | None:
    """The project's appointment as the assistant last left it before `source`: (date,
    time, execution) of the newest booking that booked, unless a cancellation came after."""
    entries = ctx.index.find(
        client_id=source.client_id,
        customer_id=source.customer_id,
        project_id=source.project_id,
        limit=1000,
    )
    for entry in entries:  # newest first
        if entry.execution_arn == source.arn:
            continue
        row = describe(ctx, entry.execution_arn)
        if row.started > source.started or row.status != "SUCCEEDED":
            continue
        if row.kind == "cancellation":
            return None
        if row.outcome == "booked":
            output = json.loads(
                ctx.sfn.describe_execution(executionArn=row.arn).get("output") or "{}"
            )
            if output.get("test_mode"):
                continue
            return str(output.get("date")), str(output.get("time")), row.name
    return None


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
    """A plan for every open system failure of a booking since `since`, newest first.
    Customer refusals (never replayed) and failures repaired since are left out (see
    `skipped_in_bulk`). Only the newest failed booking of a project may be replayed in one
    batch: replaying two would book the project twice (the second moving the first)."""
    plans: list[ReplayPlan] = []
    newest: dict[tuple[str, str, str], str] = {}
    for row in bulk_candidates(ctx, since):
        key = (row.client_id, row.customer_id, row.project_id)
        if key in newest:
            reason = f"only the newest failed booking of a project is replayed: {newest[key]}"
            plans.append(ReplayPlan(row, False, reason))
            continue
        newest[key] = row.name
        plans.append(plan_replay(ctx, row.arn))
    return plans


def bulk_candidates(ctx: OpsContext, since: datetime | None) -> list[ExecutionRow]:
    return [
        row for row in _triaged(ctx, since) if row.failure_class != CUSTOMER and not row.repaired
    ]


def skipped_in_bulk(ctx: OpsContext, since: datetime | None) -> dict[str, int]:
    """What a bulk replay leaves out on purpose, counted."""
    rows = _triaged(ctx, since)
    return {
        "customer_refusals": sum(row.failure_class == CUSTOMER for row in rows),
        "repaired": sum(row.failure_class != CUSTOMER and row.repaired for row in rows),
    }


def _triaged(ctx: OpsContext, since: datetime | None) -> list[ExecutionRow]:
    return annotate(ctx, failed_bookings(ctx, since=since))


def _choice(ctx: OpsContext, source: ExecutionRow) -> tuple[str, str] | None:
    if source.kind == "replay":
        flow = json.loads(ctx.sfn.describe_execution(executionArn=source.arn)["input"])
        replay = flow.get("replay") or {}
        if replay.get("date") and replay.get("time"):
            return str(replay["date"]), str(replay["time"])
        return None
    return recorded_choice(build_timeline(ctx, source.arn))


def _indexed_name(ctx: OpsContext, source: ExecutionRow) -> str | None:
    """The customer's name the index recorded for the source, so replays are found by it."""
    if not (source.client_id and source.customer_id and source.project_id):
        return None
    entries = ctx.index.find(
        client_id=source.client_id,
        customer_id=source.customer_id,
        project_id=source.project_id,
        limit=1000,
    )
    named = [entry for entry in entries if entry.customer_name]
    mine = [entry for entry in named if entry.execution_arn == source.arn]
    return (mine or named)[0].customer_name if named else None


def run_replay(
    ctx: OpsContext,
    plan: ReplayPlan,
    *,
    operator: str,
    wait_seconds: float = 60,
    channel: str = "cli",
) -> ReplayResult:
    """Start the replay (if allowed), record the attempt, and wait for its end."""
    if not plan.allowed:
        result = ReplayResult(plan, started=False)
        _audit(ctx, operator, result, channel)
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
        customer_name=plan.source.customer_name or _indexed_name(ctx, plan.source),
    )
    result = ReplayResult(plan, started=True, execution_arn=arn, status="RUNNING")
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        row = describe(ctx, arn)
        if row.status != "RUNNING":
            result.status, result.outcome, result.error = row.status, row.outcome, row.error
            break
        time.sleep(0.1)
    _audit(ctx, operator, result, channel)
    return result


def _audit(ctx: OpsContext, operator: str, result: ReplayResult, channel: str) -> None:
    audit.record(
        ctx,
        action=audit.REPLAY,
        source_name=result.plan.source.name,
        source_arn=result.plan.source.arn,
        operator=operator,
        new_execution=result.execution_arn or "",
        result=result.result,
        channel=channel,
    )
