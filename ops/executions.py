"""Executions as operators see them: who, which project, status, outcome, error."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ops.context import OpsContext
from ops.triage import failure_class
from tasks.execution_index import IndexedExecution, name_key


@dataclass(frozen=True)
class ExecutionRow:
    name: str
    arn: str
    kind: str  # booking | replay | cancellation
    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    started: str
    stopped: str | None
    client_id: str
    customer_id: str
    project_id: str
    outcome: str | None
    error: str | None
    cause: str | None
    replay_of: str | None
    failure_class: str | None = None  # system | customer (ops/triage.py), None unless failed
    # Filled by `annotate`: a failed booking repaired since (replayed, or booked again).
    repaired_by: str | None = None
    repair: str | None = None  # replayed | booked_since
    waiting_in: str | None = None  # the state a RUNNING flow waits in
    operator_cause: str | None = None  # the operator's one-line cause (failures only)
    customer_name: str | None = None  # from the execution index (`annotate`); not identity

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def repaired(self) -> bool:
        return self.repaired_by is not None


@dataclass(frozen=True)
class Page:
    rows: list[ExecutionRow]
    next_token: str | None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return str(value)


def describe(ctx: OpsContext, arn: str) -> ExecutionRow:
    described = ctx.sfn.describe_execution(executionArn=arn)
    flow = json.loads(described.get("input") or "{}")
    output = json.loads(described.get("output") or "null") or {}
    replay = flow.get("replay") if isinstance(flow.get("replay"), dict) else None
    machine = described.get("stateMachineArn", "")
    kind = "cancellation" if machine == ctx.machines.get("cancellation") else "booking"
    if kind == "booking" and replay:
        kind = "replay"
    outcome = output.get("outcome") if isinstance(output, dict) else None
    if described["status"] == "FAILED":
        outcome = "failed"
    return ExecutionRow(
        name=described.get("name") or arn.rsplit(":", 1)[-1],
        arn=arn,
        kind=kind,
        status=described["status"],
        started=_iso(described.get("startDate")) or "",
        stopped=_iso(described.get("stopDate")),
        client_id=str((flow.get("tenant") or {}).get("client_id", "")),
        customer_id=str(flow.get("customer_id", "")),
        project_id=str(flow.get("project_id", "")),
        outcome=outcome,
        error=described.get("error"),
        cause=described.get("cause"),
        replay_of=(replay or {}).get("source") or None,
        failure_class=failure_class(described.get("error"))
        if described["status"] == "FAILED"
        else None,
    )


def _encode(token: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()


def _decode(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        decoded: Any = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        decoded = None
    if not isinstance(decoded, dict):  # valid base64 JSON of another shape is not ours either
        raise ValueError("That page token is not one this tool gave out.")
    return decoded


def list_executions(
    ctx: OpsContext,
    *,
    kind: str = "booking",
    status: str | None = None,
    client_id: str | None = None,
    customer_id: str | None = None,
    project_id: str | None = None,
    since: datetime | None = None,
    limit: int = 25,
    page_token: str | None = None,
    order_number: str | None = None,
    customer_name: str | None = None,
) -> Page:
    """Executions newest first. With an order number, a customer name (part of it, any
    case), or a client (and customer, project), the business-key index answers; otherwise
    ListExecutions on the state machine (native status filter)."""
    token = _decode(page_token)
    if order_number or customer_name or (client_id and (customer_id or not project_id)):
        entries: list[IndexedExecution]
        if customer_name and not order_number:
            entries = ctx.index.find_name(customer_name, client_id=client_id)
        elif order_number:
            entries = ctx.index.find_order(order_number, client_id=client_id)
        else:
            entries = ctx.index.find(
                client_id=client_id or "",
                customer_id=customer_id,
                project_id=project_id,
                since=since.timestamp() if since else None,
                limit=1000,
            )
        entries = [
            entry
            for entry in entries
            if (not customer_name or name_key(customer_name) in name_key(entry.customer_name or ""))
            and (not customer_id or entry.customer_id == customer_id)
            and (not project_id or entry.project_id == project_id)
            and (not client_id or entry.client_id == client_id)
            and (
                not since
                or datetime.fromisoformat(entry.started_at.replace("Z", "+00:00")) >= since
            )
        ]
        offset = int(token.get("offset", 0))
        rows: list[ExecutionRow] = []
        position = offset
        for position, entry in enumerate(entries[offset:], start=offset):  # noqa: B007
            row = describe(ctx, entry.execution_arn)
            if entry.customer_name:
                row = replace(row, customer_name=entry.customer_name)
            if _kind_matches(kind, row) and (not status or row.status == status):
                rows.append(row)
            if len(rows) >= limit:
                break
        more = position + 1 < len(entries) and len(rows) >= limit
        return Page(rows, _encode({"offset": position + 1}) if more else None)

    return _listed_page(ctx, kind, status, client_id, customer_id, project_id, since, limit, token)


def _listed_page(
    ctx: OpsContext,
    kind: str,
    status: str | None,
    client_id: str | None,
    customer_id: str | None,
    project_id: str | None,
    since: datetime | None,
    limit: int,
    token: dict[str, Any],
) -> Page:
    """ListExecutions, machine by machine (booking, then cancellation for `all`), newest
    first. Pages are filled up to `limit` (filters drop rows), asking only for what is still
    missing so no listed row is skipped; listing stops at the first execution older than
    `since`, because ListExecutions returns the newest first."""
    kinds = {"all": ["booking", "cancellation"], "cancellation": ["cancellation"]}
    machines = [ctx.machines[name] for name in kinds.get(kind, ["booking"])]
    position = int(token.get("machine", 0))
    next_sfn: str | None = token.get("sfn")
    rows: list[ExecutionRow] = []
    while len(rows) < limit and position < len(machines):
        request: dict[str, Any] = {
            "stateMachineArn": machines[position],
            "maxResults": min(limit - len(rows), 100),
        }
        if status:
            request["statusFilter"] = status
        if next_sfn:
            request["nextToken"] = next_sfn
        listed = ctx.sfn.list_executions(**request)
        next_sfn = listed.get("nextToken")
        for summary in listed["executions"]:
            started = summary.get("startDate")
            if since and isinstance(started, datetime) and started < since:
                next_sfn = None  # everything after this one is older still
                break
            row = describe(ctx, summary["executionArn"])
            if (
                _kind_matches(kind, row)
                and (not client_id or row.client_id == client_id)
                and (not customer_id or row.customer_id == customer_id)
                and (not project_id or row.project_id == project_id)
            ):
                rows.append(row)
        if not next_sfn:
            position += 1
    more = position < len(machines)
    return Page(rows, _encode({"machine": position, "sfn": next_sfn}) if more else None)


def _kind_matches(kind: str, row: ExecutionRow) -> bool:
    if kind == "all":
        return True
    if kind == "booking":
        return row.kind in ("booking", "replay")
    return row.kind == kind
