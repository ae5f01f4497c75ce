"""Operators' diagnosis, triage and actions through `schedctl`, on executions made by
sandbox faults on the local stack (issue 14): the operator cause apart from the customer's
sentence, the exactly-once save as an event, customer refusals apart from system failures
and out of bulk replays, repaired failures marked, `stop` with its checkpoint and audit,
replay plans that say what changes for the customer, and the booking funnel."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from agent_bridge.chat.app import open_session
from agent_bridge.chat.auth import TokenValidator
from agent_bridge.flow_driver import STATUS_DONE, STATUS_WAITING, FlowView
from agent_bridge.sessions import SessionStore
from infra.local.chat_server import local_ops_context, mint_for
from infra.local.dev_tokens import local_auth_config
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from ops.cli import schedctl
from ops.stop import CUSTOMER_MESSAGE
from ops.web import ops_console
from tasks.session_record import SessionRecord
from tests.integration.workflow_helpers import (
    MINTED_TOKENS,
    Flows,
    make_session,
    table,
    timezone_of,
    wait_for_end,
)

pytestmark = pytest.mark.integration


class Schedctl:
    def __init__(self, local_stack: LocalStack) -> None:
        self.base = ["--endpoint-url", local_stack.endpoint_url, "--region", "us-east-1"]

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = CliRunner(env={"COLUMNS": "200"}).invoke(
            schedctl, [*self.base, *args], catch_exceptions=False
        )
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str, code: int = 0) -> Any:
        """The command's JSON. The in-process Lambda runtime runs a replay's tasks inside the
        command, and a task's environment created then logs to the runner's stdout; those
        one-line log records are not the command's output."""
        out = self("--json", *args, code=code).stdout
        return json.loads(
            "\n".join(line for line in out.splitlines() if not line.startswith('{"level":'))
        )


@pytest.fixture(scope="module")
def cli(local_stack: LocalStack) -> Schedctl:
    return Schedctl(local_stack)


@pytest.fixture
def flows(local_stack: LocalStack, sandbox_control: SandboxControl) -> Flows:
    return Flows.on(local_stack, sandbox_control)


def name_of(view: FlowView) -> str:
    assert view.execution_arn
    return view.execution_arn.rsplit(":", 1)[-1]


def mark() -> str:
    return (datetime.now(UTC) - timedelta(milliseconds=5)).isoformat(timespec="microseconds")


def test_a_401_on_the_dates_call_names_the_call_apart_from_the_customer_sentence(
    cli: Schedctl, flows: Flows
) -> None:
    flows.sandbox.add_fault("dates", "status", status=401)
    view = flows.start(flows.session("CUST001"), "12345")
    assert flows.ended(view)["status"] == "FAILED"
    shown = cli.json("executions", "show", name_of(view))
    cause = shown["operator_cause"]
    assert (cause["endpoint"], cause["status"], cause["code"]) == ("dates", 401, "PF360_AUTH")
    assert cause["attempts"] == 1 and cause["state"] == "AwaitDate"
    assert cause["request_id"].startswith("sbx-") and cause["elapsed_ms"] >= 0
    # The request id is the one the sandbox logged for that call.
    logged = [r["request_id"] for r in flows.sandbox.requests() if r["endpoint"] == "dates"]
    assert cause["request_id"] in logged
    assert shown["customer_message"] == "Your session has expired; please sign in again."
    assert "sbx-" not in shown["customer_message"] and "401" not in shown["customer_message"]
    out = cli("executions", "show", name_of(view)).stdout
    assert "operator  PF360 dates: HTTP 401 (UNAUTHORIZED), 1 attempt, last " in out
    assert "customer  told: Your session has expired; please sign in again." in out
    assert "failed in AwaitDate" in out


def test_a_timeout_names_the_timeout_and_every_attempt(cli: Schedctl, flows: Flows) -> None:
    session = flows.session("CUST001")
    slots = flows.to_slots(session, "12345")
    flows.sandbox.add_fault("slots", "status", status=503, count=10)  # not used: Book next
    flows.sandbox.clear_faults()
    flows.sandbox.add_fault("schedule", "timeout", delay_ms=30_000, count=10)
    view = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    ended = flows.ended(view)
    flows.sandbox.clear_faults()
    shown = cli.json("executions", "show", name_of(view))
    if ended["status"] == "SUCCEEDED":  # a late commit was found by the dashboard check
        assert any(e["kind"] == "exactly_once" for e in shown["events"]), shown["events"]
        return
    book = next(step for step in shown["steps"] if step["state"] == "Book")
    assert book["attempts"] == 4
    texts = [detail["text"] for detail in book["failure_details"]]
    assert all(re.match(r"PF360 schedule: no answer within [\d.]+ s", t) for t in texts), texts
    assert shown["operator_cause"]["code"] == "PF360_TIMEOUT"
    assert shown["operator_cause"]["attempts"] == 4


def test_the_exactly_once_save_is_an_event_in_show_and_json(cli: Schedctl, flows: Flows) -> None:
    session = flows.session("CUST001")
    slots = flows.to_slots(session, "12345")
    flows.sandbox.add_fault("schedule", "drop-after-commit")
    done = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    assert done.outcome == "booked" and done.result["verified_after_ambiguity"] is True
    shown = cli.json("executions", "show", name_of(done))
    (event,) = [e for e in shown["events"] if e["kind"] == "exactly_once"]
    assert "verified_after_ambiguity" in event["text"]
    out = cli("executions", "show", name_of(done)).stdout
    assert "saved exactly once (verified_after_ambiguity)" in out
    assert "exactly_once" in out and "Saved exactly once" in out
    # A plain booking has no such event.
    plain = flows.book(flows.session("CUST002"), "22345")
    assert cli.json("executions", "show", name_of(plain))["events"] == []


def test_customer_refusals_are_apart_from_system_failures_and_out_of_bulk_replays(
    cli: Schedctl, flows: Flows
) -> None:
    since = mark()
    # A completed project takes no appointment: PF360 answers 409 on the dates call.
    refused = flows.start(flows.session("CUST001"), "12347")
    assert flows.ended(refused)["error"] == "PF360_CONFLICT"
    flows.sandbox.add_fault("dates", "status", status=503, count=10)
    outage = flows.start(flows.session("CUST002"), "22345")
    flows.sandbox.clear_faults()
    assert flows.ended(outage)["error"] == "PF360_UNAVAILABLE"

    groups = cli.json("failures", "--since", since)["groups"]
    assert [(g["failure_class"], g["error"]) for g in groups] == [
        ("system", "PF360_UNAVAILABLE"),
        ("customer", "PF360_CONFLICT"),
    ]
    assert groups[1]["operator_causes"] == {"PF360 dates: HTTP 409 (PROJECT_CLOSED)": 1} or (
        next(iter(groups[1]["operator_causes"])).startswith("PF360 dates: HTTP 409")
    )
    only = cli.json("failures", "--since", since, "--class", "customer")["groups"]
    assert [g["examples"] for g in only] == [[name_of(refused)]]
    listed = cli.json(
        "executions", "list", "--since", since, "--status", "FAILED", "--class", "customer"
    )
    assert [row["name"] for row in listed["executions"]] == [name_of(refused)]
    assert listed["executions"][0]["failure_class"] == "customer"
    # Never replayed, one by one or in bulk.
    plan = cli.json("replay", name_of(refused), code=1)
    assert "customer refusal" in plan["reason"]
    bulk = cli.json("replay", "--failed", "--since", since, code=1)  # the outage has no choice
    assert [p["source"]["name"] for p in bulk["plans"]] == [name_of(outage)]
    assert bulk["skipped"] == {"customer_refusals": 1, "repaired": 0}


def test_a_replayed_failure_is_marked_repaired_everywhere(cli: Schedctl, flows: Flows) -> None:
    since = mark()
    session = flows.session("CUST001")
    slots = flows.to_slots(session, "12345")
    flows.sandbox.add_fault("schedule", "status", status=503, count=10)
    failed = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    flows.sandbox.clear_faults()
    assert flows.ended(failed)["status"] == "FAILED"
    source = name_of(failed)
    open_rows = cli.json("executions", "list", "--since", since, "--repair", "open")
    assert [row["name"] for row in open_rows["executions"]] == [source]

    plan = cli.json("replay", source)
    assert plan["change"] == "new" and plan["customer_notified"] is False
    assert "will not be notified" in plan["plan"]
    assert plan["last_told"].startswith("The scheduling system is temporarily unavailable")
    done = cli.json("--operator", "ada", "replay", source, "--yes")
    assert done["result"] == "succeeded: booked"
    replay_name = done["execution_arn"].rsplit(":", 1)[-1]

    rows = {
        row["name"]: row for row in cli.json("executions", "list", "--since", since)["executions"]
    }
    assert (rows[source]["repair"], rows[source]["repaired_by"]) == ("replayed", replay_name)
    assert cli.json("executions", "list", "--since", since, "--repair", "open")["executions"] == []
    (group,) = cli.json("failures", "--since", since)["groups"]
    assert (group["count"], group["repaired"], group["open"]) == (1, 1, 0)
    assert "REPAIRED (replayed)" in cli("executions", "list", "--since", since).stdout
    shown = cli.json("executions", "show", source)
    assert shown["execution"]["repaired_by"] == replay_name
    replays = [e for e in shown["events"] if e["kind"] == "replay"]
    assert [e["text"] for e in replays] == [f"replay by ada: succeeded: booked ({replay_name})"]
    assert f"REPAIRED  replayed by {replay_name}" in cli("executions", "show", source).stdout


def test_a_replay_plan_says_it_moves_an_earlier_appointment(cli: Schedctl, flows: Flows) -> None:
    first = flows.book(flows.session("CUST001"), "12345")
    assert first.outcome == "booked"
    booked = (first.result["date"], first.result["time"])
    session = flows.session("CUST001")
    start = flows.start(session, "12345")
    day = start.offer["dates"][-1]
    slots = flows.driver.resume(session.session_id, {"date": day})
    hour = slots.offer["times"][-1]
    flows.sandbox.add_fault("schedule", "status", status=503, count=10)
    failed = flows.driver.resume(session.session_id, {"time": hour})
    flows.sandbox.clear_faults()
    assert flows.ended(failed)["status"] == "FAILED"
    plan = cli.json("replay", name_of(failed))
    assert plan["allowed"] and plan["change"] == "moved"
    assert plan["moves"] == f"{booked[0]} {booked[1]} (booked by {name_of(first)})"
    text = cli("replay", name_of(failed)).stdout
    flat = " ".join(text.split())
    assert f"This MOVES the customer's appointment of {booked[0]} {booked[1]}" in flat
    assert "They were last told:" in flat and "tell them yourself" in flat


def test_stop_ends_a_waiting_flow_tells_the_customer_and_is_audited(
    cli: Schedctl, flows: Flows
) -> None:
    session = flows.session("CUST101")
    waiting = flows.start(session, "31001")
    assert waiting.status == STATUS_WAITING
    name = name_of(waiting)
    listed = cli.json("executions", "list", "--client", "sunrise-homes", "--status", "RUNNING")
    assert {row["name"]: row["waiting_in"] for row in listed["executions"]}[name] == "AwaitDate"

    cli("stop", name, code=2)  # --reason is required
    result = cli.json("--operator", "ada", "stop", name, "--reason", "customer asked by phone")
    assert result["stopped"] is True and result["checkpoint_marked"] is True
    described = wait_for_end(flows.sfn, waiting.execution_arn or "")
    output = json.loads(described["output"])
    assert (described["status"], output["outcome"]) == ("SUCCEEDED", "stopped")
    assert output["stopped_by"] == "Stopped by ada: customer asked by phone"
    # The customer's next turn says so, and an answer to the old offer changes nothing.
    now = flows.driver.current(session.session_id)
    assert (now.status, now.outcome, now.message) == (STATUS_DONE, "stopped", CUSTOMER_MESSAGE)
    late = flows.driver.resume(session.session_id, {"date": waiting.offer["dates"][0]})
    assert late.status == STATUS_DONE and flows.books() == []

    again = cli.json("--operator", "bob", "stop", name, "--reason", "twice", code=1)
    assert again["stopped"] is False and "SUCCEEDED" in again["result"]
    trail = cli.json("audit", name)["audit"]
    assert [(i["action"], i["operator"], i["result"].split(";")[0]) for i in trail] == [
        ("stop", "bob", "refused: the execution is SUCCEEDED, not running"),
        ("stop", "ada", "stopped"),
    ]
    assert trail[1]["reason"] == "customer asked by phone"
    shown = cli.json("executions", "show", name)
    first = shown["events"][0]
    assert (first["kind"], first["text"]) == (
        "stop",
        "Stopped by ada: customer asked by phone",
    )
    assert [e["kind"] for e in shown["events"]] == ["stop", "stop", "stop"]  # and the audit
    assert shown["customer_message"] == CUSTOMER_MESSAGE and shown["operator_cause"] is None
    assert "Stopped by ada: customer asked by phone" in cli("executions", "show", name).stdout
    assert "stopped" in cli("audit", name).stdout


def test_stop_refuses_a_flow_that_is_not_waiting_for_the_customer(
    cli: Schedctl, flows: Flows
) -> None:
    done = flows.book(flows.session("CUST002"), "22345")
    result = cli.json("stop", name_of(done), "--reason", "tidy up", code=1)
    assert result["result"] == "refused: the execution is SUCCEEDED, not running"
    assert cli.json("audit", name_of(done))["audit"][0]["action"] == "stop"


def test_the_funnel_counts_how_far_each_flow_got(
    cli: Schedctl, flows: Flows, local_stack: LocalStack
) -> None:
    since = mark()
    booked = flows.book(flows.session("CUST001"), "12345")
    assert booked.outcome == "booked"
    make_session(local_stack, "CUST002")
    session = flows.session("CUST002")
    flows.to_slots(session, "22345")  # waits for a time
    flows.sandbox.add_fault("dates", "status", status=401)
    failed = flows.start(flows.session("CUST101"), "31001")
    assert flows.ended(failed)["status"] == "FAILED"
    data = cli.json("funnel", "--since", since)
    counts = data["counts"]
    assert (counts["started"], counts["date_chosen"], counts["time_chosen"], counts["booked"]) == (
        3,
        2,
        1,
        1,
    )
    assert (counts["failed"], counts["waiting"], counts["expired"]) == (1, 1, 0)
    out = cli("funnel", "--since", since).stdout
    assert re.search(r"Booked\s+1 \(33%\)", out), out


def test_search_by_order_number_finds_the_projects_executions(cli: Schedctl, flows: Flows) -> None:
    since = mark()
    session = flows.session("CUST001")
    # The bridge starts flows with the order number it read from the dashboard.
    with_number = flows.driver.start_booking(session, "12346", timezone_of(session), "ORD-2025-002")
    assert with_number.status == STATUS_WAITING
    later = flows.start(flows.session("CUST001"), "12346")  # no number given: same project
    other = flows.start(flows.session("CUST002"), "22345")
    names = {
        row["name"]
        for row in cli.json("executions", "list", "--order", "ORD-2025-002", "--since", since)[
            "executions"
        ]
    }
    assert names == {name_of(with_number), name_of(later)}
    assert name_of(other) not in names
    scoped = cli.json("executions", "list", "--order", "ORD-2025-002", "--client", "sunrise-homes")
    assert scoped["executions"] == []
    assert cli.json("executions", "list", "--order", "ORD-NOPE")["executions"] == []


def signed_in(local_stack: LocalStack, customer_id: str) -> SessionRecord:
    """A session made as the chat API makes it: the local sign-in's token (with the
    customer's `name` claim), validated, then opened in the stack's sessions table."""
    token = mint_for(customer_id)
    MINTED_TOKENS.append(token)
    identity = TokenValidator(local_auth_config()).validate(f"Bearer {token}")
    store = SessionStore(table(local_stack, "SessionsTable"))
    record = store.get(open_session(store, identity, None, "dev"))
    assert record is not None
    return record


def test_search_by_part_of_the_customers_name_in_any_case(
    cli: Schedctl, flows: Flows, local_stack: LocalStack
) -> None:
    since = mark()
    dana = signed_in(local_stack, "CUST001")  # Dana Whitfield
    assert dana.customer_name == "Dana Whitfield"
    booked = flows.book(dana)
    assert booked.status == STATUS_DONE, booked
    luis = flows.start(signed_in(local_stack, "CUST002"), "22345")  # Luis Romero

    def found(*args: str) -> dict[str, dict[str, Any]]:
        listed = cli.json("executions", "list", "--since", since, *args)["executions"]
        return {row["name"]: row for row in listed}

    for text in ("whitF", "DANA WHITFIELD", "  dana  "):
        rows = found("--name", text)
        assert set(rows) == {name_of(booked)}, (text, rows)
    row = rows[name_of(booked)]
    assert (row["customer_id"], row["customer_name"]) == ("CUST001", "Dana Whitfield")
    assert (row["status"], row["outcome"]) == ("SUCCEEDED", "booked")
    assert set(found("--name", "romero")) == {name_of(luis)}
    assert found("--name", "whitfield", "--client", "sunrise-homes") == {}
    assert found("--name", "nobody by that name") == {}
    table_out = cli("executions", "list", "--since", since, "--name", "whit").stdout
    assert "Dana Whitfield" in table_out and name_of(luis) not in table_out
    shown = cli("executions", "show", name_of(booked)).stdout
    assert "CUST001 (Dana Whitfield)" in shown

    # The console's list filter is the same field, with the same answers.
    app = Flask(__name__)
    app.register_blueprint(ops_console(lambda: local_ops_context(local_stack), None))
    console = app.test_client()
    answer = console.get(
        "/ops/", query_string={"name": "WHITfield", "since": since, "format": "json"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert [r["name"] for r in answer.get_json()["executions"]] == [name_of(booked)]
    page = console.get("/ops/", query_string={"name": "romero", "since": since, "kind": "all"})
    html = page.get_data(as_text=True)
    assert name_of(luis) in html and "Luis Romero" in html and name_of(booked) not in html
