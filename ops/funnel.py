"""The booking funnel over a period: how many booking flows started, got as far as a chosen
date and a chosen time, and booked; and how the others ended (expired, failed, abandoned
or stopped, no availability) or still wait. Replays are left out: they are not customers'
conversations. Read from Step Functions (status, output, history), nothing kept aside.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from ops.context import OpsContext
from ops.executions import ExecutionRow, list_executions
from ops.timeline import history

STAGES = ("started", "date_chosen", "time_chosen", "booked")
ENDINGS = ("expired", "failed", "abandoned", "no_availability", "waiting")
LABELS = {
    "started": "Started",
    "date_chosen": "Date chosen",
    "time_chosen": "Time chosen",
    "booked": "Booked",
    "expired": "Expired (no answer)",
    "failed": "Failed",
    "abandoned": "Abandoned (superseded or stopped)",
    "no_availability": "No availability",
    "waiting": "Still waiting",
}
COLORS = {
    "started": "#93c5fd",
    "date_chosen": "#60a5fa",
    "time_chosen": "#3b82f6",
    "booked": "#16a34a",
    "expired": "#a3a3a3",
    "failed": "#dc2626",
    "abandoned": "#f59e0b",
    "no_availability": "#8b5cf6",
    "waiting": "#facc15",
}


@dataclass
class Funnel:
    since: str
    until: str
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def share(self, key: str) -> float:
        started = self.counts.get("started", 0)
        return self.counts.get(key, 0) / started if started else 0.0


def _reached(ctx: OpsContext, row: ExecutionRow) -> set[str]:
    entered = {
        event["stateEnteredEventDetails"]["name"]
        for event in history(ctx, row.arn)
        if event["type"].endswith("StateEntered")
    }
    reached = {"started"}
    if "AwaitSlot" in entered or "FetchSlots" in entered:  # (FetchSlots: older executions)
        reached.add("date_chosen")
    if "Book" in entered:
        reached.add("time_chosen")
    return reached


def ending_of(row: ExecutionRow) -> str | None:
    if row.status == "RUNNING":
        return "waiting"
    if row.status in ("FAILED", "TIMED_OUT"):
        return "failed"
    if row.status == "ABORTED" or row.outcome in ("superseded", "stopped"):
        return "abandoned"
    if row.outcome == "expired":
        return "expired"
    if row.outcome == "no_availability":
        return "no_availability"
    if row.outcome == "booked":
        return "booked"
    return None


def booking_funnel(
    ctx: OpsContext, since: datetime, until: datetime | None = None, limit: int = 2000
) -> Funnel:
    funnel = Funnel(since=_iso(since), until=_iso(until) if until else "now")
    counts = dict.fromkeys(STAGES + ENDINGS, 0)
    token: str | None = None
    seen = 0
    while seen < limit:
        page = list_executions(ctx, kind="booking", since=since, limit=100, page_token=token)
        for row in page.rows:
            if row.kind != "booking" or (until and _moment(row.started) > until):
                continue
            seen += 1
            reached = _reached(ctx, row)
            ending = ending_of(row)
            if ending == "booked":
                reached |= {"date_chosen", "time_chosen", "booked"}
            for key in reached:
                counts[key] += 1
            if ending and ending != "booked":
                counts[ending] += 1
                examples = funnel.examples.setdefault(ending, [])
                if len(examples) < 3:
                    examples.append(row.name)
        token = page.next_token
        if not token:
            break
    funnel.counts = counts
    return funnel


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def render_svg(funnel: Funnel) -> str:
    """Horizontal bars: the four stages, then how the rest ended; counts and shares."""
    keys = list(STAGES) + list(ENDINGS)
    label_w, bar_w, row_h, top = 250, 520, 34, 40
    width, height = label_w + bar_w + 160, top + len(keys) * row_h + 50
    most = max([funnel.counts.get(key, 0) for key in keys] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="funnel-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="system-ui, sans-serif" font-size="13">',
        f"<title>Booking funnel since {escape(funnel.since)}</title>",
        f'<text x="16" y="24" font-size="15" font-weight="700" fill="#111827">Booking funnel, '
        f"{escape(funnel.since)} to {escape(funnel.until)}</text>",
    ]
    for index, key in enumerate(keys):
        y = top + index * row_h + (26 if key in ENDINGS else 0)
        if key == ENDINGS[0]:
            parts.append(
                f'<text x="{label_w}" y="{y - 4}" font-size="12" fill="#6b7280">'
                "How the flows that did not book ended</text>"
            )
        count = funnel.counts.get(key, 0)
        length = max(2.0, bar_w * count / most) if count else 0
        share = f"{funnel.share(key):.0%}" if key != "started" else ""
        parts.append(
            f'<g class="bar" data-key="{key}" data-count="{count}">'
            f'<text x="{label_w - 10}" y="{y + 17}" text-anchor="end" fill="#374151">'
            f"{escape(LABELS[key])}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row_h - 10}" rx="3" '
            f'fill="{COLORS[key]}"/>'
            f'<text x="{label_w + length + 8:.1f}" y="{y + 17}" font-weight="700" '
            f'fill="#111827">{count}'
            + (
                f' <tspan font-weight="400" fill="#6b7280">({share} of started)</tspan>'
                if share
                else ""
            )
            + "</text></g>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
