"""How schedctl shows things on a terminal: rich tables and sentences, no AWS calls.

Kept apart from the commands so that `ops/cli.py` stays a list of thin handlers, and so
that every view reads only the core's dataclasses (the same ones `--json` prints).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ops.executions import ExecutionRow, Page
from ops.failures import FailureGroup
from ops.replay import ReplayPlan, ReplayResult
from ops.timeline import Step, Timeline

STATUS_STYLES = {
    "SUCCEEDED": "green",
    "FAILED": "red",
    "RUNNING": "yellow",
    "TIMED_OUT": "magenta",
    "ABORTED": "magenta",
}
PIPE_WIDTH = 160  # tables piped to a file or grep are not cut at 80 columns


def console(*, stderr: bool = False) -> Console:
    """A console without markup (names and causes are data, never rich markup); stdout is
    wide when it is not a terminal, so a piped table keeps one execution per line."""
    piped = not (sys.stderr if stderr else sys.stdout).isatty()
    width = PIPE_WIDTH if piped and not stderr and not os.environ.get("COLUMNS") else None
    return Console(stderr=stderr, markup=False, highlight=False, emoji=False, width=width)


def status_text(status: str | None) -> Text:
    return Text(status or "", style=STATUS_STYLES.get(status or "", ""))


def outcome_or_error(row: ExecutionRow) -> str:
    """What an operator wants next to the status: the outcome, or the error code."""
    if row.status == "SUCCEEDED":
        return row.outcome or ""
    return row.error or ""


# --------------------------------------------------------------------------- executions


def table(*columns: str, wrap: str | None = None) -> Table:
    """A borderless table whose columns never wrap, except `wrap`, which folds: on a narrow
    terminal the long column breaks instead of the short ones being cut to `…`."""
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        if column == wrap:
            grid.add_column(column, overflow="fold")
        else:
            grid.add_column(column, no_wrap=True, justify="right" if column == "count" else "left")
    return grid


def moment(value: str | None) -> str:
    """`2026-11-25 10:03:51` from an ISO time in UTC (the tables say UTC once, in words)."""
    if not value:
        return ""
    return value.replace("T", " ")[:19]


def show_executions(out: Console, page: Page) -> None:
    if not page.rows:
        out.print("No executions match.")
    else:
        grid = table(
            "name",
            "status",
            "outcome/error",
            "client",
            "customer",
            "project",
            "started (UTC)",
            wrap="name",
        )
        for row in page.rows:
            grid.add_row(
                row.name,
                status_text(row.status),
                outcome_or_error(row),
                row.client_id,
                row.customer_id,
                row.project_id,
                moment(row.started),
            )
        out.print(grid)
    if page.next_token:
        out.print(f"next page: --page-token {page.next_token}", soft_wrap=True)  # one piece


# --------------------------------------------------------------------------- timeline


def waiting_sentence(timeline: Timeline) -> str | None:
    """'waiting in AwaitDate since <time> (N min)' for a parked execution, else None."""
    if not timeline.waiting_in:
        return None
    minutes = int((timeline.waiting_seconds or 0) // 60)
    return f"waiting in {timeline.waiting_in} since {timeline.waiting_since} ({minutes} min)"


def _counted(names: Iterable[str]) -> str:
    """`4x PF360_UNAVAILABLE` rather than the same code four times."""
    counts = Counter(names)
    return ", ".join(f"{count}x {name}" if count > 1 else name for name, count in counts.items())


def _chosen(chosen: dict[str, Any]) -> str:
    if set(chosen) <= {"date", "time"}:
        return " ".join(str(chosen[key]) for key in ("date", "time") if key in chosen)
    return ", ".join(f"{key}={value}" for key, value in chosen.items())


def step_details(step: Step) -> Text:
    """Everything worth knowing about one step, one line each: retries and their errors,
    the offer, the choice, a notice, the error and cause the execution ended with."""
    lines: list[tuple[str, str]] = []
    if step.attempts > 1 or step.failures:
        retries = max(step.attempts - 1, 0)
        line = f"attempts {step.attempts} ({retries} {'retry' if retries == 1 else 'retries'})"
        if step.failures:
            line += f", failures: {_counted(step.failures)}"
        lines.append((line, "yellow"))
    if step.offered:
        offer = ", ".join(step.offered)
        lines.append(
            (
                f"offered {step.offered_date}: {offer}"
                if step.offered_date
                else f"offered {offer}",
                "",
            )
        )
    if step.chosen:
        lines.append((f"chosen {_chosen(step.chosen)}", "bold"))
    if step.notice:
        lines.append((f"notice {step.notice}", ""))
    if step.error:
        lines.append((f"error {step.error}" + (f": {step.cause}" if step.cause else ""), "red"))
    return Text("\n").join(Text(line, style=style) for line, style in lines)


def _entered(step: Step, day: str) -> str:
    """The time of day when the step entered on the execution's start day, else date too."""
    return step.entered.replace("T", " ").removeprefix(f"{day} ")


def _duration(step: Step) -> str:
    return "…" if step.duration_seconds is None else f"{step.duration_seconds:.3f} s"


def show_timeline(out: Console, timeline: Timeline) -> None:
    row = timeline.execution
    out.print(Text(row.name, style="bold"), f"({row.kind})")
    status = Text("status    ").append(status_text(row.status))
    detail = outcome_or_error(row)
    if detail:
        status.append(f"  {detail}")
    if row.status != "SUCCEEDED" and row.cause:
        status.append(f": {row.cause}")
    out.print(status)
    out.print(f"business  {row.client_id} / {row.customer_id} / project {row.project_id}")
    out.print(f"started   {row.started}" + (f"   stopped {row.stopped}" if row.stopped else ""))
    if row.replay_of:
        out.print(f"replay of {row.replay_of.rsplit(':', 1)[-1]}")
    waiting = waiting_sentence(timeline)
    if waiting:
        out.print(Text(waiting, style="yellow"))
    grid = table("entered", "state", "duration", "details", wrap="details")
    day = row.started[:10]
    for step in timeline.steps:
        grid.add_row(_entered(step, day), step.state, _duration(step), step_details(step))
    out.print(grid)


# --------------------------------------------------------------------------- failures


def show_failures(out: Console, groups: list[FailureGroup], since: str) -> None:
    if not groups:
        out.print(f"No failed bookings since {since}.")
        return
    grid = table("error", "count", "latest (UTC)", "examples and cause", wrap="examples and cause")
    for group in groups:
        examples = Text("\n".join(group.examples))
        if group.sample_cause:
            examples.append(f"\ncause: {group.sample_cause}", style="dim")
        grid.add_row(
            Text(group.error, style="red"), str(group.count), moment(group.latest), examples
        )
    out.print(grid)
    total = sum(group.count for group in groups)
    out.print(f"{total} failed bookings since {since} in {len(groups)} groups.")


# --------------------------------------------------------------------------- replay


def show_plan(out: Console, plan: ReplayPlan) -> None:
    source = plan.source
    detail = ", ".join(part for part in (source.status, outcome_or_error(source)) if part)
    out.print(f"source    {source.name} ({detail})")
    if plan.allowed:
        out.print(plan.describe())
        out.print("Dry run: nothing was started. Run again with --yes to replay.")
    else:
        out.print(Text(plan.describe(), style="red"))


def show_result(out: Console, result: ReplayResult) -> None:
    out.print(f"source    {result.plan.source.name}")
    style = "green" if result.status == "SUCCEEDED" else "red"
    out.print(Text(f"result    {result.result}", style=style))
    if result.execution_arn:
        out.print(f"replay    {result.execution_arn.rsplit(':', 1)[-1]}")
    out.print("The attempt is recorded in the audit trail (schedctl audit <source>).")


def show_plans(out: Console, plans: list[ReplayPlan], since: str) -> None:
    if not plans:
        out.print(f"No failed bookings since {since}.")
        return
    grid = table("source", "error", "would", wrap="would")
    for plan in plans:
        would = f"replay {plan.date} {plan.time}" if plan.allowed else f"refuse: {plan.reason}"
        grid.add_row(plan.source.name, plan.source.error or "", would)
    out.print(grid)
    allowed = sum(plan.allowed for plan in plans)
    out.print(
        f"{len(plans)} failed bookings since {since}: {allowed} would be replayed, "
        f"{len(plans) - allowed} refused. Dry run: nothing was started; add --yes to replay."
    )


def summarize(results: list[ReplayResult]) -> dict[str, int]:
    """Counts for the bulk summary: started, booked, refused, failed, still running."""
    started = [r for r in results if r.started]
    return {
        "started": len(started),
        "booked": sum(r.status == "SUCCEEDED" and r.outcome == "booked" for r in started),
        "refused": len(results) - len(started),
        "failed": sum(r.status in ("FAILED", "TIMED_OUT", "ABORTED") for r in started),
        "running": sum(r.status == "RUNNING" for r in started),
    }


def show_results(out: Console, results: list[ReplayResult], summary: dict[str, int]) -> None:
    grid = table("source", "replay", "result", wrap="result")
    for result in results:
        replay_name = (result.execution_arn or "-").rsplit(":", 1)[-1]
        grid.add_row(result.plan.source.name, replay_name, result.result)
    out.print(grid)
    out.print(", ".join(f"{count} {name}" for name, count in summary.items()))


# --------------------------------------------------------------------------- audit


def show_audit(out: Console, source: str, items: list[dict[str, Any]]) -> None:
    if not items:
        out.print(f"No replay of {source} was ever attempted.")
        return
    grid = table("at (UTC)", "operator", "new execution", "result", wrap="result")
    for item in items:
        grid.add_row(
            moment(str(item.get("at", ""))),
            str(item.get("operator", "")),
            str(item.get("new_execution") or "-").rsplit(":", 1)[-1],
            str(item.get("result", "")),
        )
    out.print(f"audit trail of {source}")
    out.print(grid)
