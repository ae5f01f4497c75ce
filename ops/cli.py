"""schedctl: the operator's command line over the ops core (ops/*.py).

Every command parses its options, calls the core, and hands the result to a view
(`ops/cli_views.py`) or, with `--json`, prints the core's own dictionaries on stdout (and
nothing else there). Progress bars go to stderr. Errors an operator must fix (a wrong name,
a missing table, no credentials) are one sentence on stderr and exit status 2; anything
refused (a replay or stop, one or any of a bulk run, dry run or not) or a replay that ended
badly is exit status 1; 0 means everything asked for was (or would be) done.
"""

from __future__ import annotations

import getpass
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ops import cli_views as views
from ops.annotate import annotate
from ops.context import OpsContext, OpsError
from ops.executions import list_executions
from ops.failures import group_failures, triaged_failures
from ops.funnel import booking_funnel
from ops.replay import (
    ReplayPlan,
    ReplayResult,
    audit_trail,
    plan_failed_replays,
    plan_replay,
    run_replay,
    skipped_in_bulk,
)
from ops.stop import MAX_REASON_CHARS, stop_flow
from ops.timeline import add_audit_events, build_timeline
from ops.triage import CLASSES, filter_rows

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
KINDS = ("booking", "cancellation", "all")
REPAIRS = ("open", "repaired")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
EXIT_REFUSED = 1
EXIT_ERROR = 2


class OperatorError(click.ClickException):
    """One sentence on stderr and exit status 2 (no 'Error:' prefix, no traceback)."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


class SinceType(click.ParamType):
    """`30m`, `2h`, `7d` (before now) or an ISO date/time (UTC unless it says otherwise)."""

    name = "SINCE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return parse_since(str(value))
        except ValueError:
            self.fail(f"{value!r} is neither an age like 30m, 2h, 7d nor an ISO date/time", param)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """A timezone-aware moment: relative ages count back from now, naive ISO times are UTC."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if match:
        amount, unit = int(match.group(1)), UNITS[match.group(2)]
        return (now or datetime.now(UTC)) - timedelta(**{unit: amount})
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class App:
    """What every command gets: where to look, who is acting, how to print."""

    ctx: OpsContext
    as_json: bool
    operator: str

    def emit(self, data: Any, render: Callable[[Console], None]) -> None:
        """`--json`: the data on stdout; otherwise the view."""
        if self.as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            render(views.console())


class OpsGroup(click.Group):
    """Turns the core's and AWS's errors into one sentence and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OpsError as error:
            raise OperatorError(str(error)) from error
        except ClientError as error:
            details = error.response.get("Error", {})
            raise OperatorError(
                f"AWS refused {error.operation_name}: {details.get('Code', 'error')}: "
                f"{details.get('Message', '')}".rstrip(": ")
            ) from error
        except BotoCoreError as error:
            raise OperatorError(f"AWS call failed: {str(error).rstrip('.')}.") from error


def default_operator() -> str:
    """Who the audit trail names when --operator is not given: the OS user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@click.group(cls=OpsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--environment", default="dev", show_default=True, help="Stack environment.")
@click.option("--region", default=None, help="AWS region (default: the AWS configuration).")
@click.option("--profile", default=None, help="AWS profile.")
@click.option(
    "--endpoint-url",
    envvar=["SCHEDCTL_ENDPOINT_URL", "AWS_ENDPOINT_URL"],
    default=None,
    help="Another AWS endpoint, e.g. the local stack (env SCHEDCTL_ENDPOINT_URL).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine output on stdout.")
@click.option("--operator", default=default_operator, help="Who acts (audit trail).")
@click.pass_context
def schedctl(
    click_ctx: click.Context,
    environment: str,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    as_json: bool,
    operator: str,
) -> None:
    """Inspect booking executions, triage failures, replay failed bookings, stop flows."""
    click_ctx.obj = App(
        OpsContext(environment, region=region, profile=profile, endpoint_url=endpoint_url),
        as_json=as_json,
        operator=operator,
    )


# --------------------------------------------------------------------------- executions


@schedctl.group(cls=OpsGroup)
def executions() -> None:
    """List executions and show one as a timeline."""


@executions.command("list")
@click.option("--status", type=click.Choice(STATUSES, case_sensitive=False))
@click.option("--client", "client_id", help="Tenant (client id); uses the business-key index.")
@click.option("--customer", "customer_id")
@click.option("--project", "project_id")
@click.option("--order", "order_number", help="PF360 order number (e.g. ORD-2025-001).")
@click.option(
    "--name", "customer_name", help="Part of the customer's name, any case (e.g. whitfield)."
)
@click.option("--since", type=SinceType(), help="30m, 2h, 7d or an ISO date/time.")
@click.option("--kind", type=click.Choice(KINDS), default="booking", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=25, show_default=True)
@click.option("--page-token", default=None, help="The token a previous page printed.")
@click.option(
    "--class", "failure_class", type=click.Choice(CLASSES), help="Failures of this class only."
)
@click.option(
    "--repair", type=click.Choice(REPAIRS), help="Failed bookings still open, or repaired since."
)
@click.pass_obj
def executions_list(
    app: App,
    status: str | None,
    client_id: str | None,
    customer_id: str | None,
    project_id: str | None,
    since: datetime | None,
    kind: str,
    limit: int,
    page_token: str | None,
    failure_class: str | None,
    repair: str | None,
    order_number: str | None,
    customer_name: str | None,
) -> None:
    """Executions newest first, filtered; by tenant through the business-key index. Running
    ones say where they wait; failed bookings say their class and whether they were
    repaired since (replayed, or the project booked again)."""
    try:
        page = list_executions(
            app.ctx,
            kind=kind,
            status=status.upper() if status else None,
            client_id=client_id,
            customer_id=customer_id,
            project_id=project_id,
            since=since,
            limit=limit,
            page_token=page_token,
            order_number=order_number,
            customer_name=customer_name,
        )
    except ValueError as error:  # a foreign page token
        raise click.UsageError(str(error)) from error
    page.rows[:] = filter_rows(annotate(app.ctx, page.rows), failure_class, repair)
    data = {"executions": [row.to_dict() for row in page.rows], "next_token": page.next_token}
    app.emit(data, lambda out: views.show_executions(out, page))


@executions.command("show")
@click.argument("execution")
@click.pass_obj
def executions_show(app: App, execution: str) -> None:
    """One execution as a timeline: states, retries, offers, choices, errors, waits."""
    timeline = build_timeline(app.ctx, app.ctx.arn_for(execution))
    timeline.execution = annotate(app.ctx, [timeline.execution])[0]
    add_audit_events(timeline, audit_trail(app.ctx, timeline.execution.name))
    app.emit(timeline.to_dict(), lambda out: views.show_timeline(out, timeline))


# --------------------------------------------------------------------------- failures


@schedctl.command()
@click.option("--since", type=SinceType(), default="24h", show_default=True)
@click.option("--examples", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option("--class", "failure_class", type=click.Choice(CLASSES), help="One class only.")
@click.option("--repair", type=click.Choice(REPAIRS), help="Open ones, or repaired ones.")
@click.pass_obj
def failures(
    app: App, since: datetime, examples: int, failure_class: str | None, repair: str | None
) -> None:
    """Failed bookings in two classes, system failures (ours: retryable, replayable) and
    customer refusals (never replayed), grouped by error code, with the PF360 calls that
    failed, how many were repaired since, the latest and examples."""
    rows = triaged_failures(
        app.ctx,
        since=since,
        failure_class=failure_class,
        repaired=None if repair is None else repair == "repaired",
    )
    groups = group_failures(rows, examples=examples)
    data = {"since": iso(since), "groups": [group.to_dict() for group in groups]}
    app.emit(data, lambda out: views.show_failures(out, groups, iso(since)))


# --------------------------------------------------------------------------- replay


@schedctl.command()
@click.argument("execution", required=False)
@click.option("--failed", "all_failed", is_flag=True, help="Every failed booking since --since.")
@click.option("--since", type=SinceType(), help="With --failed: 30m, 2h, 7d or ISO.")
@click.option("--yes", is_flag=True, help="Really start the replay (default: a dry run).")
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(0, 3600),
    default=60,
    show_default=True,
    help="Seconds to wait for each replay to end.",
)
@click.pass_obj
def replay(
    app: App,
    execution: str | None,
    all_failed: bool,
    since: datetime | None,
    yes: bool,
    wait_seconds: float,
) -> None:
    """Replay a failed booking with its recorded date and time (dry run unless --yes).

    Refused when the booking already succeeded, a replay already booked or is running, the
    project was booked again later, or the customer never chose a date and time.
    """
    if all_failed == bool(execution):
        raise click.UsageError("Name one execution, or use --failed --since AGE.")
    if all_failed and since is None:
        raise click.UsageError("--failed needs --since (e.g. --since 2h).")
    if since is not None and not all_failed:
        raise click.UsageError("--since goes with --failed.")
    if execution:
        replay_one(app, execution, yes=yes, wait_seconds=wait_seconds)
    else:
        assert since is not None
        replay_failed(app, since, yes=yes, wait_seconds=wait_seconds)


def replay_one(app: App, execution: str, *, yes: bool, wait_seconds: float) -> None:
    plan = plan_replay(app.ctx, execution)
    if not yes:
        app.emit({"dry_run": True, **plan.to_dict()}, lambda out: views.show_plan(out, plan))
        exit_if(not plan.allowed)
        return
    result = run_replay(app.ctx, plan, operator=app.operator, wait_seconds=wait_seconds)
    app.emit(result.to_dict(), lambda out: views.show_result(out, result))
    exit_if(not result.started or result.status in ("FAILED", "TIMED_OUT", "ABORTED"))


def replay_failed(app: App, since: datetime, *, yes: bool, wait_seconds: float) -> None:
    plans = plan_failed_replays(app.ctx, since)
    skipped = skipped_in_bulk(app.ctx, since)
    if not yes:
        data = {
            "dry_run": True,
            "since": iso(since),
            "skipped": skipped,
            "plans": [p.to_dict() for p in plans],
        }
        app.emit(data, lambda out: views.show_plans(out, plans, iso(since), skipped))
        exit_if(any(not plan.allowed for plan in plans))
        return
    results = run_all(app, plans, wait_seconds)
    summary = views.summarize(results)
    data = {
        "since": iso(since),
        "summary": summary,
        "skipped": skipped,
        "replays": [result.to_dict() for result in results],
    }
    app.emit(data, lambda out: views.show_results(out, results, summary, skipped))
    exit_if(summary["failed"] > 0 or summary["refused"] > 0)


def run_all(app: App, plans: list[ReplayPlan], wait_seconds: float) -> list[ReplayResult]:
    """Replays one after the other (each waits for its end), with a progress bar on stderr."""
    results: list[ReplayResult] = []
    progress = Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=views.console(stderr=True),
        transient=False,
    )
    with progress:
        task = progress.add_task("", total=len(plans))
        for plan in plans:
            progress.update(task, description=plan.source.name)
            results.append(
                run_replay(app.ctx, plan, operator=app.operator, wait_seconds=wait_seconds)
            )
            progress.advance(task)
        progress.update(task, description="done")
    return results


def exit_if(refused: bool) -> None:
    """Exit status 1 when a replay was (or would be) refused or ended badly."""
    if refused:
        click.get_current_context().exit(EXIT_REFUSED)


# --------------------------------------------------------------------------- funnel


@schedctl.command()
@click.option("--since", type=SinceType(), default="7d", show_default=True)
@click.option("--until", type=SinceType(), default=None, help="Default: now.")
@click.pass_obj
def funnel(app: App, since: datetime, until: datetime | None) -> None:
    """The booking funnel of the period: started, date chosen, time chosen, booked, and how
    the others ended (expired, failed, abandoned, no availability, still waiting)."""
    result = booking_funnel(app.ctx, since, until)
    app.emit(result.to_dict(), lambda out: views.show_funnel(out, result))


# --------------------------------------------------------------------------- stop


@schedctl.command()
@click.argument("execution")
@click.option("--reason", required=True, help="Why (kept in the audit and the execution).")
@click.pass_obj
def stop(app: App, execution: str, reason: str) -> None:
    """End a flow that waits for the customer: its checkpoint says so (the customer is told on
    their next turn), the execution ends ABORTED with OPERATOR_STOPPED, and the attempt is
    audited. Refused (exit 1) when it is not running or not waiting for the customer."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise click.UsageError(f"--reason must be 1 to {MAX_REASON_CHARS} characters.")
    result = stop_flow(app.ctx, execution, reason=reason, operator=app.operator)
    app.emit(result.to_dict(), lambda out: views.show_stop(out, result))
    exit_if(not result.stopped)


# --------------------------------------------------------------------------- audit


@schedctl.command()
@click.argument("execution")
@click.pass_obj
def audit(app: App, execution: str) -> None:
    """Who replayed or stopped an execution, when, what started, and the result (refused
    attempts included)."""
    source = execution.strip().rsplit(":", 1)[-1]  # a name or an ARN; the trail outlives both
    items = audit_trail(app.ctx, source)
    app.emit(
        {"source_execution": source, "audit": items},
        lambda out: views.show_audit(out, source, items),
    )


# --------------------------------------------------------------------------- console


@schedctl.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="0 = any free port.")
@click.option("--ops-token", envvar="OPS_TOKEN", default=None, help="Replay token (OPS_TOKEN).")
@click.pass_obj
def console(app: App, port: int, ops_token: str | None) -> None:
    """Serve the operations console on 127.0.0.1 with your AWS credentials."""
    from ops.console_server import serve

    serve(app.ctx, port=port, ops_token=ops_token, announce=click.echo)


def main() -> None:
    """The `schedctl` console script."""
    schedctl(prog_name="schedctl")


if __name__ == "__main__":
    main()
