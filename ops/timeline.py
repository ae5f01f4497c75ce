"""One execution as a timeline: states with times, retries, offers, choices, errors, and
where it waits now. Read from the execution history; task tokens are never shown."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ops.context import OpsContext
from ops.executions import ExecutionRow, describe

AWAIT_STATES = {"AwaitDate": "date", "AwaitSlot": "time"}


@dataclass
class Step:
    state: str
    entered: str
    exited: str | None = None
    duration_seconds: float | None = None
    attempts: int = 0
    failures: list[str] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)
    offered_date: str | None = None
    chosen: dict[str, Any] | None = None
    notice: str | None = None
    error: str | None = None
    cause: str | None = None


@dataclass
class Timeline:
    execution: ExecutionRow
    steps: list[Step]
    waiting_in: str | None = None
    waiting_since: str | None = None
    waiting_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "execution": self.execution.to_dict(),
            "steps": [asdict(step) for step in self.steps],
            "waiting_in": self.waiting_in,
            "waiting_since": self.waiting_since,
            "waiting_seconds": self.waiting_seconds,
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return None


def history(ctx: OpsContext, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in ctx.sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events


def build_timeline(ctx: OpsContext, arn: str, *, now: datetime | None = None) -> Timeline:
    execution = describe(ctx, arn)
    steps: list[Step] = []
    entered_at: dict[int, datetime] = {}
    for event in history(ctx, arn):
        kind, stamp = event["type"], event["timestamp"]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            step = Step(state=details["name"], entered=_iso(stamp))
            state_input = _json(details.get("input")) or {}
            notice = (
                ((state_input.get("flow") or {}).get("notice"))
                if isinstance(state_input, dict)
                else None
            )
            if isinstance(notice, dict) and notice.get("Error"):
                step.notice = str(notice["Error"])
            steps.append(step)
            entered_at[len(steps) - 1] = stamp
        elif not steps:
            continue
        elif kind == "TaskScheduled":
            steps[-1].attempts += 1
            _read_offer(steps[-1], event["taskScheduledEventDetails"].get("parameters"))
        elif kind in ("TaskFailed", "TaskTimedOut", "LambdaFunctionFailed"):
            failure: dict[str, Any] = next(
                (v for k, v in event.items() if k.endswith("EventDetails")), {}
            )
            steps[-1].failures.append(str(failure.get("error") or kind))
        elif kind.endswith("StateExited"):
            step = steps[-1]
            step.exited = _iso(stamp)
            step.duration_seconds = round((stamp - entered_at[len(steps) - 1]).total_seconds(), 3)
            output = _json(event["stateExitedEventDetails"].get("output"))
            if step.state in AWAIT_STATES and isinstance(output, dict):
                answer = output.get("answer")
                step.chosen = answer if isinstance(answer, dict) else None
        elif kind == "ExecutionFailed":
            details = event.get("executionFailedEventDetails", {})
            steps[-1].error, steps[-1].cause = details.get("error"), details.get("cause")
    timeline = Timeline(execution=execution, steps=steps)
    if execution.status == "RUNNING" and steps and steps[-1].exited is None:
        last = steps[-1]
        timeline.waiting_in, timeline.waiting_since = last.state, last.entered
        moment = now or datetime.now(UTC)
        timeline.waiting_seconds = round((moment - entered_at[len(steps) - 1]).total_seconds(), 1)
    return timeline


def _read_offer(step: Step, parameters: str | None) -> None:
    """What a parked step offered (from its task payload, leaving the token out)."""
    if step.state not in AWAIT_STATES:
        return
    payload = (_json(parameters) or {}).get("Payload") or {}
    flow = ((payload.get("state") or {}).get("flow")) or {}
    if step.state == "AwaitDate":
        step.offered = list(flow.get("dates") or [])
    else:
        step.offered = list(flow.get("times") or [])
        step.offered_date = flow.get("date")


def recorded_choice(timeline: Timeline) -> tuple[str, str] | None:
    """The last date and time the customer chose, for a replay."""
    day = time = None
    for step in timeline.steps:
        if step.chosen and step.state == "AwaitDate" and step.chosen.get("date"):
            day, time = step.chosen["date"], None
        if step.chosen and step.state == "AwaitSlot" and step.chosen.get("time"):
            time = step.chosen["time"]
    return (day, time) if day and time else None
