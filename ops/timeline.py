"""One execution as a timeline: states with times, retries, offers, choices, errors, and
where it waits now. Read from the execution history; task tokens are never shown."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ops.context import OpsContext
from ops.executions import ExecutionRow, describe
from ops.triage import operator_text
from tasks.flow_errors import message_in_cause, operator_in_cause

AWAIT_STATES = {"AwaitDate": "date", "AwaitSlot": "time"}
BOOK_STATES = ("Book", "ReplayBook")
FINISH_STATE = "Finish"


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
    # One entry per failed attempt: {at, error, message (customer), operator (dict), text}.
    failure_details: list[dict[str, Any]] = field(default_factory=list)
    caught: dict[str, Any] | None = None  # the error this step ended with, when caught
    output: dict[str, Any] | None = None  # a Book step's result (exactly-once flags)


@dataclass
class Event:
    """Something an operator must see on the timeline besides states: an exactly-once
    save, a verification, a replay, a stop."""

    at: str
    kind: str  # exactly_once | already_booked | verification | replay | stop | audit
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Timeline:
    execution: ExecutionRow
    steps: list[Step]
    waiting_in: str | None = None
    waiting_since: str | None = None
    waiting_seconds: float | None = None
    # What the customer was last told (the flow's final sentence), and the operator's
    # cause of the failure (which PF360 call, what it answered, attempts, latency, id).
    customer_message: str | None = None
    operator_cause: dict[str, Any] | None = None
    failed_state: str | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def operator_cause_text(self) -> str:
        return operator_text(self.operator_cause)

    @property
    def path(self) -> list[str]:
        return [step.state for step in self.steps]

    def to_dict(self) -> dict[str, Any]:
        return {
            "execution": self.execution.to_dict(),
            "steps": [asdict(step) for step in self.steps],
            "waiting_in": self.waiting_in,
            "waiting_since": self.waiting_since,
            "waiting_seconds": self.waiting_seconds,
            "customer_message": self.customer_message,
            "operator_cause": self.operator_cause,
            "operator_cause_text": self.operator_cause_text,
            "failed_state": self.failed_state,
            "events": [event.to_dict() for event in self.events],
            "path": self.path,
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
    history_events = history(ctx, arn)
    for event in history_events:
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
        elif kind == "TaskSubmitted":
            _read_published_offer(steps[-1], event["taskSubmittedEventDetails"].get("output"))
        elif kind in ("TaskFailed", "TaskTimedOut", "LambdaFunctionFailed"):
            failure: dict[str, Any] = next(
                (v for k, v in event.items() if k.endswith("EventDetails")), {}
            )
            error = str(failure.get("error") or kind)
            steps[-1].failures.append(error)
            steps[-1].failure_details.append(_attempt(steps[-1], stamp, error, failure))
        elif kind.endswith("StateExited"):
            step = steps[-1]
            step.exited = _iso(stamp)
            step.duration_seconds = round((stamp - entered_at[len(steps) - 1]).total_seconds(), 3)
            output = _json(event["stateExitedEventDetails"].get("output"))
            if step.state in AWAIT_STATES and isinstance(output, dict):
                step.chosen = _answer_in(output)
                _read_carried_offer(step, output.get("flow"))
            if step.state in BOOK_STATES and isinstance(output, dict):
                step.output = output
        elif kind == "ExecutionFailed":
            details = event.get("executionFailedEventDetails", {})
            steps[-1].error, steps[-1].cause = details.get("error"), details.get("cause")
        elif kind == "ExecutionAborted":
            details = event.get("executionAbortedEventDetails", {})
            steps[-1].error, steps[-1].cause = details.get("error"), details.get("cause")
    timeline = Timeline(execution=execution, steps=steps)
    _diagnose(timeline, history_events)
    if execution.status == "RUNNING" and steps and steps[-1].exited is None:
        last = steps[-1]
        timeline.waiting_in, timeline.waiting_since = last.state, last.entered
        moment = now or datetime.now(UTC)
        timeline.waiting_seconds = round((moment - entered_at[len(steps) - 1]).total_seconds(), 1)
    return timeline


def _attempt(step: Step, stamp: datetime, error: str, failure: dict[str, Any]) -> dict[str, Any]:
    """One failed attempt of a task: the customer sentence and the operator cause apart."""
    operator = operator_in_cause(failure.get("cause"))
    if operator is not None:
        operator = {**operator, "attempt": step.attempts}
    return {
        "at": _iso(stamp),
        "attempt": step.attempts,
        "error": error,
        "message": message_in_cause(failure.get("cause")),
        "operator": operator,
        "text": operator_text(operator) if operator else error,
    }


def _diagnose(timeline: Timeline, events: list[dict[str, Any]]) -> None:
    """The failure's operator cause, what the customer was last told, and the events that a
    list of states hides (exactly-once saves, verifications, stops)."""
    steps = timeline.steps
    for index, step in enumerate(steps):
        if step.state == FINISH_STATE and index > 0:
            ending = _ending_of(events, index, steps)
            if ending.get("Error") == "OperatorStopped":
                timeline.events.append(
                    Event(step.entered, "stop", message_in_cause(ending.get("Cause")))
                )
            elif ending and timeline.execution.status == "FAILED":
                previous = steps[index - 1]
                previous.caught = ending
                timeline.failed_state = previous.state
                operator = operator_in_cause(ending.get("Cause"))
                if operator is not None:
                    operator = {
                        **operator,
                        "state": previous.state,
                        "attempts": max(previous.attempts, 1),
                    }
                timeline.operator_cause = operator or {
                    "code": ending.get("Error"),
                    "state": previous.state,
                    "attempts": max(previous.attempts, 1),
                }
        if step.state in BOOK_STATES and step.output:
            _book_events(timeline, step)
        if step.state.startswith("Verify"):
            timeline.events.append(
                Event(
                    step.entered, "verification", f"{step.state}: the outcome was checked in PF360"
                )
            )
    timeline.customer_message = _last_told(events)
    row = timeline.execution
    if row.status == "ABORTED" and row.error == "OperatorStopped":
        timeline.events.append(Event(row.stopped or "", "stop", row.cause or "Stopped"))


def _book_events(timeline: Timeline, step: Step) -> None:
    output = step.output or {}
    if output.get("verified_after_ambiguity"):
        lost = ", ".join(d["text"] for d in step.failure_details) or "the answer was lost"
        timeline.events.append(
            Event(
                step.exited or step.entered,
                "exactly_once",
                "Saved exactly once: the booking call's outcome was unknown "
                f"({lost}); the dashboard showed the booking, so it was not sent again "
                "(verified_after_ambiguity).",
            )
        )
    if output.get("already_booked"):
        timeline.events.append(
            Event(
                step.exited or step.entered,
                "already_booked",
                "The project was already booked at that time; nothing was booked again.",
            )
        )


def _ending_of(events: list[dict[str, Any]], index: int, steps: list[Step]) -> dict[str, Any]:
    """The caught error (`$.ending`) in the input of the index-th step (Finish)."""
    entered = [e for e in events if e["type"].endswith("StateEntered")]
    if index >= len(entered):
        return {}
    state_input = _json(entered[index]["stateEnteredEventDetails"].get("input")) or {}
    ending = state_input.get("ending") if isinstance(state_input, dict) else None
    return ending if isinstance(ending, dict) else {}


def _last_told(events: list[dict[str, Any]]) -> str | None:
    """The sentence the flow gave the customer last: the final result's `message`."""
    for event in reversed(events):
        if event["type"].endswith("StateExited"):
            output = _json(event["stateExitedEventDetails"].get("output"))
            if isinstance(output, dict) and isinstance(output.get("message"), str):
                return str(output["message"])
    return None


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


def _read_published_offer(step: Step, output: str | None) -> None:
    """What a waiting step offered, as its task returned it (the task fetches the offer, so
    its payload holds only what an earlier visit offered); never the token."""
    if step.state not in AWAIT_STATES:
        return
    returned = (_json(output) or {}).get("Payload")
    offer = returned.get("offer") if isinstance(returned, dict) else None
    if not isinstance(offer, dict):
        return
    if step.state == "AwaitDate":
        step.offered = list(offer.get("dates") or [])
    else:
        step.offered = list(offer.get("times") or [])
        step.offered_date = offer.get("date")


def _read_carried_offer(step: Step, flow: Any) -> None:
    """What an answered wait offered: the flow state it continued with holds the offer (its
    task payload holds what an earlier visit offered, if any)."""
    if not isinstance(flow, dict):
        return
    if step.state == "AwaitDate":
        step.offered = list(flow.get("dates") or [])
    else:
        step.offered = list(flow.get("times") or [])
        step.offered_date = flow.get("date")


def _answer_in(output: dict[str, Any]) -> dict[str, Any] | None:
    """The customer's answer in a waiting step's output: `$.flow.answer` (`$.answer` in
    executions started before the waits fetched their own offers)."""
    flow = output.get("flow")
    answer = flow.get("answer") if isinstance(flow, dict) else None
    if answer is None:
        answer = output.get("answer")
    return answer if isinstance(answer, dict) else None


def recorded_choice(timeline: Timeline) -> tuple[str, str] | None:
    """The last date and time the customer chose, for a replay."""
    day = time = None
    for step in timeline.steps:
        if step.chosen and step.state == "AwaitDate" and step.chosen.get("date"):
            day, time = step.chosen["date"], None
        if step.chosen and step.state == "AwaitSlot" and step.chosen.get("time"):
            time = step.chosen["time"]
    return (day, time) if day and time else None


def add_audit_events(timeline: Timeline, items: list[dict[str, Any]]) -> None:
    """Replays and stops operators attempted on this execution, refused ones included, as
    events (the audit trail is their record; newest first there, in time order here)."""
    for item in sorted(items, key=lambda entry: str(entry.get("at", ""))):
        new = str(item.get("new_execution") or "").rsplit(":", 1)[-1]
        text = (
            f"{item.get('action', 'replay')} by {item.get('operator', '?')}: {item.get('result')}"
        )
        if new:
            text += f" ({new})"
        timeline.events.append(
            Event(str(item.get("at", "")), str(item.get("action", "replay")), text)
        )
    timeline.events.sort(key=lambda event: event.at)
