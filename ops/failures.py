"""Failed bookings grouped by their operator code: how many, and a few to look at."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ops.context import OpsContext
from ops.executions import ExecutionRow, list_executions


@dataclass
class FailureGroup:
    error: str
    count: int = 0
    examples: list[str] = field(default_factory=list)
    latest: str = ""
    sample_cause: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def failed_bookings(
    ctx: OpsContext, *, since: datetime | None = None, limit: int = 1000
) -> list[ExecutionRow]:
    rows: list[ExecutionRow] = []
    token: str | None = None
    while len(rows) < limit:
        page = list_executions(
            ctx, kind="booking", status="FAILED", since=since, limit=100, page_token=token
        )
        rows.extend(page.rows)
        token = page.next_token
        if not token:
            break
    return rows[:limit]


def group_failures(rows: list[ExecutionRow], examples: int = 3) -> list[FailureGroup]:
    groups: dict[str, FailureGroup] = {}
    for row in rows:
        group = groups.setdefault(row.error or "UNKNOWN", FailureGroup(row.error or "UNKNOWN"))
        group.count += 1
        if len(group.examples) < examples:
            group.examples.append(row.name)
        if row.started > group.latest:
            group.latest = row.started
        group.sample_cause = group.sample_cause or row.cause
    return sorted(groups.values(), key=lambda g: (-g.count, g.error))
