"""Failed bookings grouped for triage: system failures (ours: retryable, replayable) apart
from customer refusals (not our fault, never replayed), then by operator code, with the
PF360 calls that failed, how many were repaired since, and a few to look at."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ops.annotate import annotate
from ops.context import OpsContext
from ops.executions import ExecutionRow, list_executions
from ops.triage import CLASSES


@dataclass
class FailureGroup:
    error: str
    failure_class: str = ""
    count: int = 0
    repaired: int = 0
    examples: list[str] = field(default_factory=list)
    latest: str = ""
    sample_cause: str | None = None  # the customer's sentence, from one of them
    sample_operator_cause: str | None = None  # the operator's cause, from the latest
    # "PF360 schedule: HTTP 503" -> how many (latency and request id left out to group).
    operator_causes: dict[str, int] = field(default_factory=dict)

    @property
    def open(self) -> int:
        return self.count - self.repaired

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "open": self.open}


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


def triaged_failures(
    ctx: OpsContext,
    *,
    since: datetime | None = None,
    failure_class: str | None = None,
    repaired: bool | None = None,
) -> list[ExecutionRow]:
    """Failed bookings with their class, repair and operator cause, filtered."""
    rows = [
        row
        for row in failed_bookings(ctx, since=since)
        if not failure_class or row.failure_class == failure_class
    ]
    rows = annotate(ctx, rows, causes=True)
    if repaired is not None:
        rows = [row for row in rows if row.repaired == repaired]
    return rows


def _grouping_key(text: str | None) -> str:
    """An operator cause without latency and request id: what failures share."""
    if not text:
        return "no PF360 call (raised by the flow)"
    kept = [part for part in text.split(", ") if not part.startswith(("last ", "request "))]
    return ", ".join(part for part in kept if "attempt" not in part)


def group_failures(rows: list[ExecutionRow], examples: int = 3) -> list[FailureGroup]:
    groups: dict[tuple[str, str], FailureGroup] = {}
    causes: dict[tuple[str, str], Counter[str]] = {}
    for row in rows:
        error = row.error or "UNKNOWN"
        key = (row.failure_class or "system", error)
        group = groups.setdefault(key, FailureGroup(error, key[0]))
        group.count += 1
        group.repaired += row.repaired
        if len(group.examples) < examples:
            group.examples.append(row.name)
        if row.started > group.latest:
            group.latest = row.started
            group.sample_operator_cause = row.operator_cause or group.sample_operator_cause
        group.sample_cause = group.sample_cause or row.cause
        causes.setdefault(key, Counter())[_grouping_key(row.operator_cause)] += 1
    for key, group in groups.items():
        group.operator_causes = dict(causes[key].most_common())
    order = {name: position for position, name in enumerate(CLASSES)}
    return sorted(groups.values(), key=lambda g: (order.get(g.failure_class, 9), -g.count, g.error))
