"""What a bare execution row lacks for triage: where a running flow waits, whether a failed
booking was repaired since (replayed successfully, or the project booked again), and the
operator's cause of a failure. Each needs another read, so listings ask for them here."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ops.context import OpsContext
from ops.executions import ExecutionRow, describe
from tasks.execution_index import IndexedExecution

REPLAYED = "replayed"
BOOKED_SINCE = "booked_since"


def waiting_state(ctx: OpsContext, arn: str) -> str | None:
    """The state a running execution is in now: its latest StateEntered event."""
    page = ctx.sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=10)
    events = page.get("events", [])
    if len(events) > 1 and events[0]["id"] < events[-1]["id"]:
        # An engine that ignores reverseOrder (moto's) answered oldest first: read it all.
        from ops.timeline import history

        events = list(reversed(history(ctx, arn)))
    for event in events:
        if event["type"].endswith("StateEntered"):
            return str(event["stateEnteredEventDetails"]["name"])
    return None


def _moment(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


class RepairFinder:
    """Finds the execution that repaired a failed booking; one index query per project."""

    def __init__(self, ctx: OpsContext) -> None:
        self.ctx = ctx
        self._entries: dict[tuple[str, str, str], list[IndexedExecution]] = {}
        self._rows: dict[str, ExecutionRow] = {}

    def _project(self, row: ExecutionRow) -> list[IndexedExecution]:
        key = (row.client_id, row.customer_id, row.project_id)
        if key not in self._entries:
            if not all(key):
                self._entries[key] = []
            else:
                self._entries[key] = self.ctx.index.find(
                    client_id=row.client_id,
                    customer_id=row.customer_id,
                    project_id=row.project_id,
                    limit=1000,
                )
        return self._entries[key]

    def _row(self, arn: str) -> ExecutionRow:
        if arn not in self._rows:
            self._rows[arn] = describe(self.ctx, arn)
        return self._rows[arn]

    def customer_name_of(self, row: ExecutionRow) -> str | None:
        """The name the index recorded for this very execution (the customer id is the
        identity; the name only labels it). Not a sibling's: a name is what the customer's
        token said when that flow started, and another session may have said otherwise."""
        for entry in self._project(row):
            if entry.execution_arn == row.arn:
                return entry.customer_name or None
        return None

    def repair_of(self, row: ExecutionRow) -> tuple[str, str] | None:
        """(`replayed` or `booked_since`, the repairing execution's name), or None."""
        entries = self._project(row)
        # The failed flow's own index entry has the index's precision; the row's start is
        # whole seconds, which would count a booking made just before it as a repair.
        own = next((entry for entry in entries if entry.execution_arn == row.arn), None)
        started = _moment(own.started_at if own is not None else row.started)
        for entry in entries:  # newest first
            if entry.execution_arn == row.arn or entry.kind == "cancellation":
                continue
            entered = _moment(entry.started_at)
            if started and entered and entered < started:
                break
            later = self._row(entry.execution_arn)
            if later.status == "SUCCEEDED" and later.outcome == "booked":
                how = REPLAYED if entry.replay_of == row.arn else BOOKED_SINCE
                return how, later.name
        return None


def annotate(
    ctx: OpsContext, rows: list[ExecutionRow], *, causes: bool = False
) -> list[ExecutionRow]:
    """Rows with `customer_name` (when the index knows it), `waiting_in` (running),
    `repaired_by`/`repair` (failed bookings) and, with `causes`, the operator cause of each
    failure (reads its history)."""
    from ops.timeline import build_timeline  # the timeline module reads rows too

    finder = RepairFinder(ctx)
    annotated: list[ExecutionRow] = []
    for row in rows:
        changes: dict[str, Any] = {}
        if row.customer_name is None:
            name = finder.customer_name_of(row)
            if name:
                changes["customer_name"] = name
        if row.status == "RUNNING":
            changes["waiting_in"] = waiting_state(ctx, row.arn)
        if row.status == "FAILED" and row.kind in ("booking", "replay"):
            repair = finder.repair_of(row)
            if repair:
                changes["repair"], changes["repaired_by"] = repair
        if causes and row.status == "FAILED":
            changes["operator_cause"] = build_timeline(ctx, row.arn).operator_cause_text or None
        annotated.append(replace(row, **changes) if changes else row)
    return annotated
