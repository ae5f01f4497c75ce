"""schedctl against the local stack: executions in every status, made by the real flow
driver with sandbox faults, then listed, shown, grouped and replayed through click.

The module builds one `World` first (booked, failed with PF360_UNAVAILABLE, PF360_AUTH and
SLOT_GONE, expired, superseded, waiting, cancelled) and the read-only tests check exactly
those executions (`--since` the world's start: the stack keeps every earlier module's
executions). The replay tests come last in the file and make their own failures, with
their own `--since` marks, so they never change what the listing tests see.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agent_bridge.flow_driver import STATUS_WAITING, FlowView
from infra.local.pf360_sandbox import SandboxControl, SandboxServer
from infra.local.stack import LocalStack
from ops.cli import schedctl
from ops.context import OpsContext
from ops.replay import plan_replay, run_replay
from tests.integration.workflow_helpers import (
    Flows,
    make_session,
    timezone_of,
    wait_for_end,
)

pytestmark = pytest.mark.integration

ROW_FIELDS = {
    "name",
    "arn",
    "kind",
    "status",
    "started",
    "stopped",
    "client_id",
    "customer_id",
    "project_id",
    "outcome",
    "error",
    "cause",
    "replay_of",
    "failure_class",
    "repaired_by",
    "repair",
    "waiting_in",
    "operator_cause",
    "customer_name",
}


# --------------------------------------------------------------------------- helpers


def name_of(view: FlowView | dict[str, Any]) -> str:
    arn = view.execution_arn if isinstance(view, FlowView) else view["executionArn"]
    assert arn
    return str(arn).rsplit(":", 1)[-1]


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def fail_at_book(flows: Flows, customer_id: str, project_id: str) -> tuple[str, str, str]:
    """A flow that failed PF360_UNAVAILABLE at Book after the customer chose; its name,
    date and time."""
    session = make_session(flows.stack, customer_id)
    slots = flows.to_slots(session, project_id)
    chosen = slots.offer["times"][0]
    flows.sandbox.add_fault("schedule", "status", status=503, count=10)
    view = flows.driver.resume(session.session_id, {"time": chosen})
    flows.sandbox.clear_faults()
    ended = flows.ended(view)
    assert (ended["status"], ended["error"]) == ("FAILED", "PF360_UNAVAILABLE"), ended
    return name_of(view), str(slots.offer["date"]), str(chosen)


def fail_at_dates(flows: Flows, customer_id: str, project_id: str, status: int) -> str:
    """A flow that failed on its first PF360 call (no choice was ever made)."""
    flows.sandbox.add_fault("dates", "status", status=status, count=10 if status >= 500 else 1)
    view = flows.start(make_session(flows.stack, customer_id), project_id)
    flows.sandbox.clear_faults()
    assert flows.ended(view)["status"] == "FAILED"
    return name_of(view)


def book_at(flows: Flows, customer_id: str, project_id: str, day: str, hour: str) -> FlowView:
    session = make_session(flows.stack, customer_id)
    first = flows.start(session, project_id)
    assert first.status == STATUS_WAITING, first
    flows.driver.resume(session.session_id, {"date": day})
    done = flows.driver.resume(session.session_id, {"time": hour})
    assert done.outcome == "booked", done
    return done


class Schedctl:
    """The CLI through click's runner, pointed at this worker's local stack."""

    def __init__(self, local_stack: LocalStack) -> None:
        self.base = ["--endpoint-url", local_stack.endpoint_url, "--region", "us-east-1"]

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = CliRunner(env={"COLUMNS": "220"}).invoke(  # a wide terminal: names widen the table
            schedctl,
            [*self.base, *args],
            catch_exceptions=False,
        )
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self("--json", *args, code=code).stdout)

    def names(self, *args: str) -> list[str]:
        """Names listed by `executions list` (all pages)."""
        data = self.json("executions", "list", "--limit", "1000", *args)
        assert data["next_token"] is None
        return [row["name"] for row in data["executions"]]


@pytest.fixture(scope="module")
def cli(local_stack: LocalStack) -> Schedctl:
    return Schedctl(local_stack)


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    since: str  # just before the first execution of the world
    mid: str  # after the expiry and the failures, before the superseded and waiting flows
    booked: str
    booked_choice: tuple[str, str]
    failed_book: str
    failed_choice: tuple[str, str]
    failed_dates: str
    auth: str
    slot_gone: str
    expired: str
    cancelled: str
    superseded: str
    waiting: str

    def all(self) -> set[str]:
        return {
            self.booked,
            self.failed_book,
            self.failed_dates,
            self.auth,
            self.slot_gone,
            self.expired,
            self.cancelled,
            self.superseded,
            self.waiting,
        }


@pytest.fixture(scope="module")
def world(local_stack: LocalStack, sandbox: SandboxServer) -> World:
    """Executions in every status (names say client, customer and project):

    acme-corp/CUST001/12345  booked (one 503 on Book, retried)
    acme-corp/CUST001/12346  FAILED PF360_UNAVAILABLE at AwaitDate; a cancellation
    acme-corp/CUST002/22345  FAILED PF360_UNAVAILABLE at Book; its replay FAILED SLOT_GONE
    acme-corp/CUST002/22346  FAILED PF360_AUTH (401 on dates)
    sunrise-homes/CUST101/31001  expired at AwaitDate
    sunrise-homes/CUST101/31002  superseded, then a flow waiting at AwaitDate
    """
    control = SandboxControl(sandbox.base_url)
    control.reset()
    flows = Flows.on(local_stack, control)
    since = datetime.now(UTC)

    parked = flows.start(make_session(local_stack, "CUST101"), "31001")
    local_stack.clock.advance(1801)  # before any other wait of this module is parked
    assert json.loads(wait_for_end(flows.sfn, parked.execution_arn or "")["output"])["outcome"] == (
        "expired"
    )

    failed_book, day, hour = fail_at_book(flows, "CUST002", "22345")
    control.add_fault("schedule", "status", status=503)  # one transient failure on Book
    booked = book_at(flows, "CUST001", "12345", day, hour)  # takes 22345's chosen slot
    ctx = OpsContext(region="us-east-1", endpoint_url=local_stack.endpoint_url)
    gone = run_replay(ctx, plan_replay(ctx, failed_book), operator="world", wait_seconds=15)
    assert (gone.status, gone.error) == ("FAILED", "SLOT_GONE"), gone
    auth = fail_at_dates(flows, "CUST002", "22346", 401)
    failed_dates = fail_at_dates(flows, "CUST001", "12346", 503)
    cancel_session = make_session(local_stack, "CUST001")
    cancelled = flows.driver.cancel(cancel_session, "12346", timezone_of(cancel_session))
    assert cancelled.outcome == "cancelled", cancelled
    mid = datetime.now(UTC)

    session = make_session(local_stack, "CUST101")
    first = flows.start(session, "31002")
    second = flows.start(session, "31002")  # supersedes the first
    assert second.status == STATUS_WAITING
    assert json.loads(wait_for_end(flows.sfn, first.execution_arn or "")["output"])["outcome"] == (
        "superseded"
    )
    return World(
        since=iso(since),
        mid=iso(mid),
        booked=name_of(booked),
        booked_choice=(day, hour),
        failed_book=failed_book,
        failed_choice=(day, hour),
        failed_dates=failed_dates,
        auth=auth,
        slot_gone=(gone.execution_arn or "").rsplit(":", 1)[-1],
        expired=name_of(parked),
        cancelled=name_of(cancelled),
        superseded=name_of(first),
        waiting=name_of(second),
    )


# --------------------------------------------------------------------------- list


def test_list_filters_return_exactly_the_matching_executions(cli: Schedctl, world: World) -> None:
    since = ("--since", world.since)
    failed = {world.failed_book, world.slot_gone, world.auth, world.failed_dates}
    assert set(cli.names(*since, "--status", "FAILED")) == failed
    assert set(cli.names(*since, "--status", "RUNNING")) == {world.waiting}
    assert set(cli.names(*since, "--status", "SUCCEEDED")) == {
        world.booked,
        world.expired,
        world.superseded,
    }
    assert cli.names(*since, "--status", "TIMED_OUT") == []
    assert set(cli.names(*since, "--kind", "all")) == world.all()
    assert cli.names(*since, "--kind", "cancellation") == [world.cancelled]
    assert set(cli.names(*since)) == world.all() - {world.cancelled}
    # The business-key index: by client, client#customer, client#customer#project.
    assert set(cli.names(*since, "--client", "sunrise-homes")) == {
        world.expired,
        world.superseded,
        world.waiting,
    }
    assert set(cli.names(*since, "--client", "acme-corp", "--customer", "CUST002")) == {
        world.failed_book,
        world.slot_gone,
        world.auth,
    }
    project = ("--client", "acme-corp", "--customer", "CUST002", "--project", "22345")
    assert cli.names(*since, *project) == [world.slot_gone, world.failed_book]  # newest first
    project = ("--client", "acme-corp", "--customer", "CUST001", "--project", "12346")
    assert cli.names(*since, *project) == [world.failed_dates]
    assert set(cli.names(*since, *project, "--kind", "all")) == {
        world.failed_dates,
        world.cancelled,
    }
    assert cli.names(*since, *project, "--kind", "cancellation") == [world.cancelled]
    assert cli.names(*since, "--client", "acme-corp", "--status", "RUNNING") == []
    # Without a client, customer and project filter the listing.
    assert set(cli.names(*since, "--customer", "CUST002", "--status", "FAILED")) == {
        world.failed_book,
        world.slot_gone,
        world.auth,
    }
    assert cli.names(*since, "--project", "22346") == [world.auth]
    # --since cuts both ways of listing.
    mid = ("--since", world.mid)
    assert set(cli.names(*mid, "--client", "sunrise-homes")) == {world.superseded, world.waiting}
    assert set(cli.names(*mid)) == {world.superseded, world.waiting}
    assert world.all() <= set(cli.names("--since", "30m", "--kind", "all"))


def test_json_rows_have_every_field(cli: Schedctl, world: World) -> None:
    data = cli.json("executions", "list", "--since", world.since, "--kind", "all")
    rows = {row["name"]: row for row in data["executions"]}
    assert set(rows) == world.all()
    assert all(set(row) == ROW_FIELDS for row in rows.values())
    gone = rows[world.slot_gone]
    assert (gone["kind"], gone["status"], gone["error"]) == ("replay", "FAILED", "SLOT_GONE")
    assert gone["replay_of"].endswith(f":{world.failed_book}")
    assert gone["started"].endswith("Z") and gone["stopped"]
    assert rows[world.booked]["outcome"] == "booked"
    assert (rows[world.booked]["client_id"], rows[world.booked]["customer_id"]) == (
        "acme-corp",
        "CUST001",
    )
    assert rows[world.booked]["project_id"] == "12345"
    assert rows[world.expired]["outcome"] == "expired"
    assert rows[world.superseded]["outcome"] == "superseded"
    assert rows[world.cancelled]["kind"] == "cancellation"
    assert rows[world.cancelled]["outcome"] == "cancelled"
    assert rows[world.auth]["cause"] == "Your session has expired; please sign in again."
    assert (rows[world.waiting]["status"], rows[world.waiting]["stopped"]) == ("RUNNING", None)


def test_the_table_shows_each_execution_on_a_line(cli: Schedctl, world: World) -> None:
    out = cli("executions", "list", "--since", world.since, "--status", "FAILED").stdout
    header = out.splitlines()[0].split()
    assert header == [
        "name",
        "status",
        "outcome/error",
        "client",
        "customer",
        "project",
        "started",
        "(UTC)",
        "triage",
    ]
    lines = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line.strip()}
    assert world.auth in lines, out
    assert lines[world.auth][1:6] == ["FAILED", "PF360_AUTH", "acme-corp", "CUST002", "22346"]
    assert lines[world.slot_gone][2] == "SLOT_GONE"
    assert "next page" not in out


def follow_pages(cli: Schedctl, *args: str) -> list[str]:
    names: list[str] = []
    token: list[str] = []
    for _ in range(50):
        page = cli.json("executions", "list", "--limit", "1", *args, *token)
        assert len(page["executions"]) <= 1
        names += [row["name"] for row in page["executions"]]
        if not page["next_token"]:
            return names
        token = ["--page-token", page["next_token"]]
    raise AssertionError("paging never ended")


@pytest.mark.parametrize(
    "filters",
    [
        ("--client", "acme-corp"),  # the index
        ("--status", "FAILED"),  # ListExecutions with its status filter
        ("--kind", "all"),  # both state machines, one after the other
    ],
    ids=["index", "listing", "both-machines"],
)
def test_paging_one_at_a_time_sees_every_execution_once(
    cli: Schedctl, world: World, filters: tuple[str, ...]
) -> None:
    args = ("--since", world.since, *filters)
    paged = follow_pages(cli, *args)
    assert paged == cli.names(*args)
    assert len(paged) == len(set(paged)) >= 4


def test_the_next_page_token_is_printed_for_humans(cli: Schedctl, world: World) -> None:
    out = cli("executions", "list", "--since", world.since, "--limit", "2").stdout
    token = out.strip().splitlines()[-1].removeprefix("next page: --page-token ")
    rest = cli.json("executions", "list", "--since", world.since, "--page-token", token)
    assert len(rest["executions"]) == len(world.all()) - 1 - 2  # not the cancellation


# --------------------------------------------------------------------------- show


def steps_of(timeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["state"]: step for step in timeline["steps"]}


def test_the_timeline_of_a_booking_shows_offers_choices_and_retries(
    cli: Schedctl, world: World
) -> None:
    timeline = cli.json("executions", "show", world.booked)
    day, hour = world.booked_choice
    assert [step["state"] for step in timeline["steps"]] == [
        "Route",
        "AwaitDate",
        "AwaitSlot",
        "Book",
    ]
    steps = steps_of(timeline)
    assert day in steps["AwaitDate"]["offered"] and len(steps["AwaitDate"]["offered"]) > 3
    assert steps["AwaitDate"]["chosen"] == {"date": day}
    assert (steps["AwaitSlot"]["offered_date"], steps["AwaitSlot"]["chosen"]) == (
        day,
        {"time": hour},
    )
    assert hour in steps["AwaitSlot"]["offered"]
    assert (steps["Book"]["attempts"], steps["Book"]["failures"]) == (2, ["PF360_UNAVAILABLE"])
    assert all(step["entered"] and step["duration_seconds"] is not None for step in steps.values())
    assert timeline["waiting_in"] is None

    out = cli("executions", "show", world.booked).stdout
    assert out.startswith(f"{world.booked} (booking)")
    assert "SUCCEEDED  booked" in out
    assert "acme-corp / CUST001 / project 12345" in out
    book = next(line for line in out.splitlines() if " Book " in line)
    assert book.rstrip().endswith("attempts 2 (1 retry), failures: PF360_UNAVAILABLE")
    text = " ".join(out.split())
    assert "AwaitDate 0." in text and f"chosen {day}" in text
    assert "AwaitSlot 0." in text and f"offered {day}: " in text and f"chosen {hour}" in text
    assert "waiting in" not in out


def test_the_timeline_of_a_failure_shows_the_retries_error_and_cause(
    cli: Schedctl, world: World
) -> None:
    arn = cli.json("executions", "list", "--client", "acme-corp", "--customer", "CUST002")
    by_name = {row["name"]: row["arn"] for row in arn["executions"]}
    timeline = cli.json("executions", "show", by_name[world.failed_book])  # an ARN works too
    steps = steps_of(timeline)
    assert steps["Book"]["attempts"] == 4
    assert steps["Book"]["failures"] == ["PF360_UNAVAILABLE"] * 4
    last = timeline["steps"][-1]
    assert last["error"] == "PF360_UNAVAILABLE"
    assert "temporarily unavailable" in last["cause"]
    assert timeline["execution"]["error"] == "PF360_UNAVAILABLE"

    out = cli("executions", "show", world.failed_book).stdout
    assert "status    FAILED  PF360_UNAVAILABLE\n" in out
    # The operator's cause and the customer's sentence, apart.
    assert re.search(
        r"operator  PF360 schedule: HTTP 503 \(\w+\), 4 attempts, last \d+ ms, request sbx-\w+",
        out,
    ), out
    assert "customer  told: The scheduling system is temporarily unavailable" in out
    assert timeline["operator_cause"]["endpoint"] == "schedule"
    assert timeline["operator_cause"]["status"] == 503
    assert timeline["operator_cause"]["attempts"] == 4
    assert timeline["failed_state"] == "Book"
    assert [d["attempt"] for d in steps["Book"]["failure_details"]] == [1, 2, 3, 4]
    book = next(line for line in out.splitlines() if " Book " in line)
    assert book.rstrip().endswith("attempts 4 (3 retries), failures: 4x PF360_UNAVAILABLE")
    text = " ".join(out.split())
    assert "Failed … error PF360_UNAVAILABLE: The scheduling system is temporarily" in text

    gone = cli.json("executions", "show", world.slot_gone)
    assert [step["state"] for step in gone["steps"]][:2] == ["Route", "ReplayBook"]
    assert gone["steps"][-1]["error"] == "SLOT_GONE"
    assert "no longer free" in gone["steps"][-1]["cause"]
    assert f"replay of {world.failed_book}" in cli("executions", "show", world.slot_gone).stdout


def test_the_timeline_of_a_waiting_flow_says_where_and_since_when(
    cli: Schedctl, world: World
) -> None:
    timeline = cli.json("executions", "show", world.waiting)
    assert timeline["waiting_in"] == "AwaitDate"
    parked = steps_of(timeline)["AwaitDate"]
    assert timeline["waiting_since"] == parked["entered"]
    assert parked["exited"] is None and len(parked["offered"]) > 3
    assert 0 <= timeline["waiting_seconds"] < 600
    out = cli("executions", "show", world.waiting).stdout
    assert f"waiting in AwaitDate since {parked['entered']} (" in out
    assert " min)" in out
    assert "RUNNING" in out


def test_expired_and_superseded_flows_end_in_their_outcome(cli: Schedctl, world: World) -> None:
    expired = cli.json("executions", "show", world.expired)
    assert expired["execution"]["outcome"] == "expired"
    assert steps_of(expired)["AwaitDate"]["chosen"] is None
    superseded = cli.json("executions", "show", world.superseded)
    assert superseded["execution"]["outcome"] == "superseded"
    assert "SUCCEEDED  superseded" in cli("executions", "show", world.superseded).stdout


def test_an_unknown_execution_is_one_sentence_and_exit_2(cli: Schedctl) -> None:
    result = cli("executions", "show", "book-nobody-here", code=2)
    assert result.stdout == ""
    assert result.stderr.strip() == "No execution named 'book-nobody-here' in environment 'dev'."
    result = cli("--environment", "prod", "failures", code=2)
    assert result.stderr.startswith("No booking or cancellation state machine for environment")
    result = cli("executions", "list", "--page-token", "garbage!", code=2)
    assert "page token" in result.stderr
    assert "neither an age" in cli("failures", "--since", "yesterday", code=2).stderr


# --------------------------------------------------------------------------- failures


def test_failures_are_grouped_by_error_code(cli: Schedctl, world: World) -> None:
    data = cli.json("failures", "--since", world.since)
    groups = {group["error"]: group for group in data["groups"]}
    assert {code: group["count"] for code, group in groups.items()} == {
        "PF360_UNAVAILABLE": 2,
        "PF360_AUTH": 1,
        "SLOT_GONE": 1,
    }
    assert data["groups"][0]["error"] == "PF360_UNAVAILABLE"  # the biggest group first
    assert set(groups["PF360_UNAVAILABLE"]["examples"]) == {world.failed_book, world.failed_dates}
    assert groups["SLOT_GONE"]["examples"] == [world.slot_gone]
    assert "no longer free" in groups["SLOT_GONE"]["sample_cause"]
    assert groups["PF360_AUTH"]["latest"] >= world.since[:19]

    assert groups["SLOT_GONE"]["failure_class"] == "customer"
    assert groups["PF360_AUTH"]["failure_class"] == "system"
    assert groups["PF360_AUTH"]["operator_causes"] == {"PF360 dates: HTTP 401 (UNAUTHORIZED)": 1}

    out = cli("failures", "--since", world.since).stdout
    lines = out.splitlines()
    assert lines[0] == "system failure (ours: retryable, replayable)"
    assert lines[1].split()[:5] == ["error", "count", "open", "latest", "(UTC)"]
    auth = next(line for line in lines if line.startswith("PF360_AUTH"))
    assert auth.split()[1:3] == ["1", "1"]
    assert "1x PF360 dates: HTTP 401 (UNAUTHORIZED)" in auth
    assert "customer told: Your session has expired; please sign in again." in out
    assert "customer refusal (not our fault: never replayed)" in out
    assert out.strip().endswith(
        "4 failed bookings since " + data["since"] + " in 3 groups; 0 repaired since, 4 open."
    )
    customer = cli.json("failures", "--since", world.since, "--class", "customer")
    assert [group["error"] for group in customer["groups"]] == ["SLOT_GONE"]


# --------------------------------------------------------------------------- replay


def test_replay_refuses_what_must_not_be_replayed(cli: Schedctl, world: World) -> None:
    refusals = {
        world.booked: "the booking already succeeded",
        world.waiting: "the execution is still running",
        world.auth: "the customer never chose both a date and a time",
        world.cancelled: "only bookings can be replayed",
    }
    for name, reason in refusals.items():
        plan = cli.json("replay", name, code=1)
        assert (plan["dry_run"], plan["allowed"]) == (True, False)
        assert reason in plan["reason"]
        assert f"Refused: {reason}" in cli("replay", name, code=1).stdout
    result = cli.json("--operator", "carol", "replay", world.booked, "--yes", code=1)
    assert result["started"] is False and result["execution_arn"] is None
    assert result["result"] == "refused: the booking already succeeded"
    (item,) = cli.json("audit", world.booked)["audit"]
    assert (item["operator"], item["result"]) == ("carol", result["result"])
    assert item["new_execution"] == ""
    # The operator's AWS identity, from STS (moto answers GetCallerIdentity locally).
    assert item["aws_identity"].startswith("arn:aws:")


def test_a_replay_books_once_and_a_second_one_is_refused(
    cli: Schedctl, local_stack: LocalStack, sandbox_control: SandboxControl
) -> None:
    flows = Flows.on(local_stack, sandbox_control)
    mark = iso(datetime.now(UTC))
    source, day, hour = fail_at_book(flows, "CUST001", "12345")
    project = ("--client", "acme-corp", "--customer", "CUST001", "--project", "12345")

    dry = cli("replay", source)
    assert f"Would book project 12345 of customer CUST001 (acme-corp) on {day} at {hour}" in (
        " ".join(dry.stdout.split())
    )
    assert "Dry run: nothing was started" in dry.stdout
    plan = cli.json("replay", source)
    assert (plan["allowed"], plan["date"], plan["time"]) == (True, day, hour)
    assert cli.names("--since", mark, *project) == [source]
    assert cli.json("audit", source)["audit"] == []
    assert sandbox_control.bookings() == []

    done = cli.json("--operator", "alice", "replay", source, "--yes")
    assert (done["status"], done["outcome"], done["result"]) == (
        "SUCCEEDED",
        "booked",
        "succeeded: booked",
    )
    replay_name = done["execution_arn"].rsplit(":", 1)[-1]
    assert replay_name.startswith("replay-acme-corp-CUST001-12345-")
    (booking,) = flows.books()
    assert (booking["project_id"], booking["date"], booking["time"]) == ("12345", day, hour)

    again = cli("--operator", "bob", "replay", source, "--yes", code=1)
    assert f"refused: already replayed successfully: {replay_name}" in again.stdout
    assert len(flows.books()) == 1
    refused_dry = cli.json("replay", source, code=1)
    assert refused_dry["reason"] == f"already replayed successfully: {replay_name}"

    trail = cli.json("audit", source)["audit"]
    assert [(item["operator"], item["result"]) for item in trail] == [
        ("bob", f"refused: already replayed successfully: {replay_name}"),
        ("alice", "succeeded: booked"),
    ]
    assert trail[1]["new_execution"] == done["execution_arn"]
    assert trail[1]["source_arn"].endswith(f":{source}")
    assert trail[1]["at"] >= mark[:19] and trail[0]["at"] >= trail[1]["at"]
    out = cli("audit", trail[1]["source_arn"]).stdout  # by ARN too
    assert out.startswith(f"audit trail of {source}")
    alice = next(line for line in out.splitlines() if " alice " in line)
    assert alice.split()[2:] == ["replay", "(cli)", "alice", replay_name, "succeeded:", "booked"]

    rows = cli.json("executions", "list", "--since", mark, *project)["executions"]
    assert [(row["name"], row["kind"]) for row in rows] == [
        (replay_name, "replay"),
        (source, "booking"),
    ]
    assert rows[0]["replay_of"].endswith(f":{source}")
    # The replay itself booked: replaying it is refused like any booking that succeeded.
    assert "already succeeded" in cli.json("replay", replay_name, code=1)["reason"]


def test_replay_failed_since_replays_many_with_a_summary(
    cli: Schedctl, local_stack: LocalStack, sandbox_control: SandboxControl
) -> None:
    flows = Flows.on(local_stack, sandbox_control)
    since = datetime.now(UTC)
    mark = iso(since)
    taken, day, hour = fail_at_book(flows, "CUST001", "12345")
    book_at(flows, "CUST002", "22345", day, hour)  # someone else takes that slot
    bookable, _, _ = fail_at_book(flows, "CUST101", "31001")
    older_auth = fail_at_dates(flows, "CUST101", "31002", 401)
    newer_auth = fail_at_dates(flows, "CUST101", "31002", 401)
    books_before = len(flows.books())

    dry = cli.json("replay", "--failed", "--since", mark, code=1)  # some would be refused
    plans = {plan["source"]["name"]: plan for plan in dry["plans"]}
    assert set(plans) == {taken, bookable, older_auth, newer_auth}
    assert {name for name, plan in plans.items() if plan["allowed"]} == {taken, bookable}
    assert "never chose" in plans[newer_auth]["reason"]
    assert plans[older_auth]["reason"] == (
        f"only the newest failed booking of a project is replayed: {newer_auth}"
    )
    table_out = cli("replay", "--failed", "--since", mark, code=1).stdout
    assert "4 failed bookings since" in table_out and "2 would be replayed, 2 refused" in table_out
    assert "replay" not in {
        row["kind"] for row in cli.json("executions", "list", "--since", mark)["executions"]
    }

    result = cli("--json", "replay", "--failed", "--since", mark, "--yes", code=1)
    assert "replaying" in result.stderr and "4/4" in result.stderr  # the progress bar
    data = json.loads(result.stdout)
    assert data["summary"] == {"started": 2, "booked": 1, "refused": 2, "failed": 1, "running": 0}
    results = {item["plan"]["source"]["name"]: item for item in data["replays"]}
    assert results[taken]["result"] == "failed: SLOT_GONE"
    assert results[bookable]["result"] == "succeeded: booked"
    assert results[newer_auth]["started"] is False
    assert len(flows.books()) == books_before + 1
    assert {b["project_id"] for b in flows.books()} == {"22345", "31001"}
    for name in (taken, bookable, older_auth, newer_auth):
        (item,) = cli.json("audit", name)["audit"]
        assert item["result"] == results[name]["result"]

    again = cli("replay", "--failed", "--since", mark, "--yes", code=1)  # nothing left to do
    assert "0 started, 0 booked, 3 refused, 0 failed, 0 running" in again.stdout
    # The booked one is repaired and the SLOT_GONE replay a customer refusal: left out.
    assert "Left out: 1 customer refusals (never replayed), 1 repaired since." in again.stdout


def test_replay_usage_errors_exit_2(cli: Schedctl, world: World) -> None:
    assert "Name one execution" in cli("replay", code=2).stderr
    assert "Name one execution" in cli("replay", world.booked, "--failed", code=2).stderr
    assert "--failed needs --since" in cli("replay", "--failed", code=2).stderr
    assert (
        "--since goes with --failed" in cli("replay", world.booked, "--since", "2h", code=2).stderr
    )


def test_the_console_serves_ops_on_loopback_with_the_operators_credentials(
    local_stack: LocalStack,
) -> None:
    from ops.console_server import LOOPBACK, console_app

    ctx = OpsContext(region="us-east-1", endpoint_url=local_stack.endpoint_url)
    client = console_app(ctx, "a-token-of-sixteen-chars").test_client()
    assert client.get("/").headers["Location"].endswith("/ops/")
    page = client.get("/ops/")
    assert page.status_code == 200
    assert LOOPBACK == "127.0.0.1"
    assert ctx.caller_identity.startswith("arn:aws:")
