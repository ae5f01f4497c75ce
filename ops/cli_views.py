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
from ops.funnel import ENDINGS, LABELS, STAGES, Funnel
from ops.replay import ReplayPlan, ReplayResult
from ops.stop import StopResult
from ops.timeline import Step, Timeline
from ops.triage import CLASS_TEXT

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


def triage_note(row: ExecutionRow) -> str:
    """`waiting in AwaitDate`, `customer refusal`, `REPAIRED: replayed by …`."""
    if row.status == "RUNNING":
        return f"waits in {row.waiting_in}" if row.waiting_in else "running"
    if row.repaired_by:
        return "REPAIRED (replayed)" if row.repair == "replayed" else "REPAIRED (booked since)"
    if row.failure_class:
        return (
            f"{row.failure_class} failure"
            if row.failure_class == "system"
            else ("customer refusal")
        )
    return ""


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
            "triage",
            wrap="name",
        )
        for row in page.rows:
            grid.add_row(
                row.name,
                status_text(row.status),
                outcome_or_error(row),
                row.client_id,
                row.customer_id + (f" ({row.customer_name})" if row.customer_name else ""),
                row.project_id,
                moment(row.started),
                Text(triage_note(row), style="green" if row.repaired_by else ""),
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
        for detail in step.failure_details:
            lines.append((f"  attempt {detail['attempt']}: {detail['text']}", "yellow"))
    if step.output and step.output.get("verified_after_ambiguity"):
        lines.append(("saved exactly once (verified_after_ambiguity)", "green"))
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
    out.print(status)
    if row.failure_class:
        out.print(f"class     {CLASS_TEXT[row.failure_class]}")
    if row.repaired_by:
        how = "replayed" if row.repair == "replayed" else "the project was booked since"
        out.print(Text(f"REPAIRED  {how} by {row.repaired_by}", style="green"))
    if timeline.operator_cause_text:
        out.print(Text(f"operator  {timeline.operator_cause_text}", style="red"))
    if timeline.failed_state:
        out.print(f"failed in {timeline.failed_state}")
    told = timeline.customer_message or (row.cause if row.status == "FAILED" else None)
    if told:
        out.print(f"customer  told: {told}")
    elif row.status == "ABORTED" and row.cause:
        out.print(f"cause     {row.cause}")
    who = row.customer_id + (f" ({row.customer_name})" if row.customer_name else "")
    out.print(f"business  {row.client_id} / {who} / project {row.project_id}")
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
    if timeline.events:
        out.print(Text("events", style="bold"))
        for event in timeline.events:
            out.print(f"  {moment(event.at)}  {event.kind:<14} {event.text}", soft_wrap=True)


# --------------------------------------------------------------------------- failures


def show_failures(out: Console, groups: list[FailureGroup], since: str) -> None:
    if not groups:
        out.print(f"No failed bookings since {since}.")
        return
    for failure_class in ("system", "customer"):
        chosen = [group for group in groups if group.failure_class == failure_class]
        if not chosen:
            continue
        out.print(Text(CLASS_TEXT[failure_class], style="bold"))
        grid = table(
            "error",
            "count",
            "open",
            "latest (UTC)",
            "PF360 calls and examples",
            wrap="PF360 calls and examples",
        )
        for group in chosen:
            details = Text()
            for cause, count in group.operator_causes.items():
                details.append(f"{count}x {cause}\n", style="red")
            if group.sample_operator_cause:
                details.append(f"latest: {group.sample_operator_cause}\n", style="dim")
            if group.sample_cause:
                details.append(f"customer told: {group.sample_cause}\n", style="dim")
            details.append("\n".join(group.examples))
            grid.add_row(
                Text(group.error, style="red"),
                str(group.count),
                str(group.open),
                moment(group.latest),
                details,
            )
        out.print(grid)
    total = sum(group.count for group in groups)
    repaired = sum(group.repaired for group in groups)
    out.print(
        f"{total} failed bookings since {since} in {len(groups)} groups; "
        f"{repaired} repaired since, {total - repaired} open."
    )


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


def _skipped_sentence(skipped: dict[str, int]) -> str:
    return (
        f"Left out: {skipped.get('customer_refusals', 0)} customer refusals (never replayed), "
        f"{skipped.get('repaired', 0)} repaired since."
    )


def show_plans(
    out: Console, plans: list[ReplayPlan], since: str, skipped: dict[str, int] | None = None
) -> None:
    if not plans:
        out.print(f"No open system failures of bookings since {since}.")
    else:
        grid = table("source", "error", "would", wrap="would")
        for plan in plans:
            if plan.allowed:
                would = f"replay {plan.date} {plan.time}: " + (
                    f"MOVES {plan.moves}" if plan.change == "moved" else "new appointment"
                )
            else:
                would = f"refuse: {plan.reason}"
            grid.add_row(plan.source.name, plan.source.error or "", would)
        out.print(grid)
        allowed = sum(plan.allowed for plan in plans)
        out.print(
            f"{len(plans)} failed bookings since {since}: {allowed} would be replayed, "
            f"{len(plans) - allowed} refused. Dry run: nothing was started; add --yes to replay."
        )
        if allowed:
            out.print(
                "Customers are not notified by a replay: tell them yourself "
                "(see each plan with schedctl replay NAME)."
            )
    if skipped is not None:
        out.print(_skipped_sentence(skipped))


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


def show_results(
    out: Console,
    results: list[ReplayResult],
    summary: dict[str, int],
    skipped: dict[str, int] | None = None,
) -> None:
    grid = table("source", "replay", "result", wrap="result")
    for result in results:
        replay_name = (result.execution_arn or "-").rsplit(":", 1)[-1]
        grid.add_row(result.plan.source.name, replay_name, result.result)
    out.print(grid)
    out.print(", ".join(f"{count} {name}" for name, count in summary.items()))
    if skipped is not None:
        out.print(_skipped_sentence(skipped))


# --------------------------------------------------------------------------- funnel


def show_funnel(out: Console, funnel: Funnel) -> None:
    out.print(f"booking funnel {funnel.since} to {funnel.until}")
    most = max([*funnel.counts.values(), 1])
    for key in (*STAGES, *ENDINGS):
        count = funnel.counts.get(key, 0)
        bar = "#" * round(40 * count / most)
        share = "" if key == "started" else f" ({funnel.share(key):.0%})"
        if key == ENDINGS[0]:
            out.print("of the flows that did not book:")
        out.print(f"  {LABELS[key]:<34} {count:>5}{share:<7} {bar}")


# --------------------------------------------------------------------------- stop


def show_stop(out: Console, result: StopResult) -> None:
    style = "green" if result.stopped else "red"
    out.print(f"execution {result.name}")
    out.print(Text(f"result    {result.result}", style=style))
    if result.customer_message:
        out.print(f"customer  is told on their next turn: {result.customer_message}")
    elif result.stopped:
        out.print("customer  no chat session of this flow to tell; tell them yourself.")
    out.print("The attempt is recorded in the audit trail (schedctl audit <execution>).")


# --------------------------------------------------------------------------- audit


def show_audit(out: Console, source: str, items: list[dict[str, Any]]) -> None:
    if not items:
        out.print(f"No replay or stop of {source} was ever attempted.")
        return
    grid = table("at (UTC)", "action", "operator", "new execution", "result", wrap="result")
    for item in items:
        result = str(item.get("result", ""))
        if item.get("reason"):
            result += f" (reason: {item['reason']})"
        grid.add_row(
            moment(str(item.get("at", ""))),
            f"{item.get('action', 'replay')} ({item.get('channel', 'cli')})",
            str(item.get("operator", "")),
            str(item.get("new_execution") or "-").rsplit(":", 1)[-1],
            result,
        )
    out.print(f"audit trail of {source}")
    out.print(grid)
