"""The booking state machine under PF360 faults: the real ASL on the local engine, our task
Lambdas in-process, the sandbox's injected faults over HTTP.

Transient faults (timeout, 5xx, 429) on every call are retried and the flow still books
exactly once; auth and not-found faults end at once with their operator code; a booking
whose answer is lost is settled by the dashboard, never repeated (the sandbox ledger is
the proof). The stack's PF360 timeout is 1 s, so a 1.5 s delay is a timeout.

The last test scans this worker's executions for auth tokens; keep it last.
"""

from __future__ import annotations

import json
import time

import pytest

from agent_bridge.flow_driver import STATUS_DONE
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tasks import checkpoint
from tests.integration.workflow_helpers import (
    Flows,
    assert_booked_once,
    assert_no_credentials,
    history,
    make_session,
    wait_for_late_request,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def flows(local_stack: LocalStack, sandbox_control: SandboxControl) -> Flows:
    return Flows.on(local_stack, sandbox_control)


# --------------------------------------------------------------------------- PF360 faults

TIMEOUT = pytest.param("timeout", None, "PF360_TIMEOUT", id="timeout")
HTTP_500 = pytest.param("status", 500, "PF360_UNAVAILABLE", id="500")
HTTP_503 = pytest.param("status", 503, "PF360_UNAVAILABLE", id="503")
HTTP_429 = pytest.param("status", 429, "PF360_RATE_LIMITED", id="429")
STEP_OF = {"dates": "AwaitDate", "slots": "AwaitSlot", "schedule": "Book"}


@pytest.mark.parametrize("endpoint", ["dates", "slots", "schedule"])
@pytest.mark.parametrize(("kind", "status", "code"), [TIMEOUT, HTTP_503, HTTP_429])
def test_a_transient_fault_on_each_call_is_retried_and_books_once(
    flows: Flows, endpoint: str, kind: str, status: int | None, code: str
) -> None:
    session = flows.session()
    delay = 1500 if kind == "timeout" else None  # > the 1 s API timeout of the stack
    flows.sandbox.add_fault(endpoint, kind, status=status, delay_ms=delay)
    done = flows.book(session)
    assert_booked_once(flows, done)
    assert flows.failed_tasks(done, STEP_OF[endpoint]) == [code]
    if kind == "timeout" and endpoint == "schedule":
        wait_for_late_request(flows.sandbox, "schedule")
        assert len(flows.books()) == 1, flows.books()


def test_a_500_on_the_booking_is_checked_on_the_dashboard_then_retried(flows: Flows) -> None:
    session = flows.session()
    flows.sandbox.add_fault("schedule", "status", status=500)
    done = flows.book(session)
    assert_booked_once(flows, done)
    assert flows.failed_tasks(done, "Book") == ["PF360_UNAVAILABLE"]
    assert done.result["verified_after_ambiguity"] is False
    # POST (500) -> dashboard check (not booked) -> retry: dashboard check -> POST (200).
    calls = [(r["endpoint"], r["status"]) for r in flows.sandbox.requests()]
    assert calls[-4:] == [
        ("schedule", 500),
        ("dashboard", 200),
        ("dashboard", 200),
        ("schedule", 200),
    ]


@pytest.mark.parametrize(("kind", "status", "code"), [TIMEOUT, HTTP_500, HTTP_429])
def test_a_fault_on_the_dashboard_check_after_an_ambiguous_booking_is_confirmed_then_booked(
    flows: Flows, kind: str, status: int | None, code: str
) -> None:
    """A 5xx on the POST makes Book read the dashboard; that read fails too, so the outcome
    is unknown: the customer hears that we are confirming, the recheck finds nothing booked
    and books once (safe: it just saw it undone)."""
    session = flows.session()
    slots = flows.to_slots(session)
    flows.sandbox.add_fault("schedule", "status", status=503)
    flows.sandbox.add_fault("dashboard", kind, status=status, delay_ms=1500)
    told = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    assert told.step in (checkpoint.STEP_CONFIRMING, checkpoint.STEP_DONE), told
    assert "try again" not in told.message
    deadline = time.monotonic() + 10
    while flows.item(session)["step"] != checkpoint.STEP_DONE:
        assert time.monotonic() < deadline
        flows.stack.clock.advance(60)
        time.sleep(0.1)
    done = flows.driver.current(session.session_id)
    assert_booked_once(flows, done)
    assert flows.failed_tasks(done, "Book") == ["BookingUnknown"]
    if kind == "timeout":
        wait_for_late_request(flows.sandbox, "dashboard")
    dashboard_reads = [r for r in flows.sandbox.requests() if r["endpoint"] == "dashboard"]
    assert len(dashboard_reads) >= 2
    assert len(flows.books()) == 1


@pytest.mark.parametrize(
    ("endpoint", "status", "code"),
    [("dates", 429, "PF360_RATE_LIMITED"), ("schedule", 503, "PF360_UNAVAILABLE")],
)
def test_a_transient_fault_that_persists_fails_with_its_code_after_the_retries(
    flows: Flows, endpoint: str, status: int, code: str
) -> None:
    session = flows.session()
    if endpoint == "dates":
        flows.sandbox.add_fault(endpoint, "status", status=status, count=10)
        view = flows.start(session)
    else:
        slots = flows.to_slots(session)
        flows.sandbox.add_fault(endpoint, "status", status=status, count=10)
        view = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    assert view.status == STATUS_DONE and view.outcome == checkpoint.OUTCOME_FAILED, view
    assert view.result["error"] == code
    ended = flows.ended(view)
    assert (ended["status"], ended["error"]) == ("FAILED", code)
    assert flows.failed_tasks(view, STEP_OF[endpoint]) == [code] * 4  # first try + 3 retries
    assert view.execution_arn
    contexts = [
        json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]["context"]
        for e in history(flows.sfn, view.execution_arn)
        if e["type"] == "TaskScheduled"
    ]
    attempts = [c["attempt"] for c in contexts if c["state_name"] == STEP_OF[endpoint]]
    assert attempts == [0, 1, 2, 3]  # what Book reads to check the dashboard before a retry
    assert flows.sandbox.bookings() == []
    assert len(flows.sandbox.faults()) == 1 and flows.sandbox.faults()[0]["count"] == 6


@pytest.mark.parametrize(
    ("endpoint", "status", "code"),
    [
        ("dates", 401, "PF360_AUTH"),
        ("slots", 401, "PF360_AUTH"),
        ("schedule", 401, "PF360_AUTH"),
        ("dates", 404, "PF360_NOT_FOUND"),
    ],
)
def test_auth_and_not_found_end_cleanly_without_retries(
    flows: Flows, endpoint: str, status: int, code: str
) -> None:
    session = flows.session()
    flows.sandbox.add_fault(endpoint, "status", status=status)
    if endpoint == "dates":
        view = flows.start(session)
    else:
        first = flows.start(session)
        view = flows.driver.resume(session.session_id, {"date": first.offer["dates"][0]})
        if endpoint == "schedule":
            view = flows.driver.resume(session.session_id, {"time": view.offer["times"][0]})
    assert view.status == STATUS_DONE and view.outcome == checkpoint.OUTCOME_FAILED, view
    assert view.result["error"] == code
    if code == "PF360_AUTH":
        assert "sign in again" in view.message
    ended = flows.ended(view)
    assert (ended["status"], ended["error"]) == ("FAILED", code)
    assert flows.failed_tasks(view, STEP_OF[endpoint]) == [code]
    assert [r["status"] for r in flows.sandbox.requests() if r["endpoint"] == endpoint] == [status]
    assert flows.sandbox.bookings() == []
    assert flows.item(session)["outcome"] == "failed"


def test_an_expired_session_ends_the_flow_with_a_clear_reason(flows: Flows) -> None:
    session = make_session(flows.stack, "CUST001", ttl_seconds=-1)
    view = flows.start(session)
    assert view.status == STATUS_DONE and view.outcome == checkpoint.OUTCOME_FAILED, view
    assert view.result["error"] == "SESSION_EXPIRED"
    assert view.message == "Your chat session has expired; please sign in again."
    ended = flows.ended(view)
    assert (ended["status"], ended["error"]) == ("FAILED", "SESSION_EXPIRED")
    assert flows.sandbox.requests() == []


@pytest.mark.parametrize("turn", ["slots", "schedule"])
def test_an_expired_request_id_is_renewed_between_turns(flows: Flows, turn: str) -> None:
    """PF360's request_id lives 900 s; a customer who pauses longer still books once."""
    session = flows.session()
    first = flows.start(session)
    day = first.offer["dates"][1]
    if turn == "slots":
        flows.sandbox.advance_clock(901)
        slots = flows.driver.resume(session.session_id, {"date": day})
    else:
        slots = flows.driver.resume(session.session_id, {"date": day})
        flows.sandbox.advance_clock(901)
    assert slots.step == checkpoint.STEP_AWAIT_SLOT, slots
    done = flows.driver.resume(session.session_id, {"time": "11:00"})
    assert_booked_once(flows, done)
    calls = flows.sandbox.requests()
    assert [r["status"] for r in calls if r["status"] == 410] == [410]
    assert len([r for r in calls if r["endpoint"] == "dates"]) == 2
    (booking,) = flows.books()
    assert (booking["date"], booking["time"]) == (day, "11:00")


# --------------------------------------------------------------------------- exactly once


def test_a_booking_whose_answer_is_lost_is_verified_not_repeated(flows: Flows) -> None:
    """drop-after-commit: PF360 books, the connection drops; the dashboard settles it."""
    session = flows.session()
    slots = flows.to_slots(session)
    flows.sandbox.add_fault("schedule", "drop-after-commit")
    done = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    assert_booked_once(flows, done)
    assert done.result["verified_after_ambiguity"] is True
    assert done.message.startswith("Your appointment is booked for")
    schedule_calls = [r for r in flows.sandbox.requests() if r["endpoint"] == "schedule"]
    assert len(schedule_calls) == 1
    assert flows.failed_tasks(done, "Book") == []


def test_a_booking_that_times_out_but_commits_late_is_booked_once(flows: Flows) -> None:
    session = flows.session()
    slots = flows.to_slots(session)
    flows.sandbox.add_fault("schedule", "timeout", delay_ms=1500)
    done = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    assert_booked_once(flows, done)
    wait_for_late_request(flows.sandbox, "schedule")
    assert len(flows.books()) == 1, flows.books()
    statuses = sorted(r["status"] for r in flows.sandbox.requests() if r["endpoint"] == "schedule")
    assert statuses in ([200, 409], [200]), statuses


@pytest.mark.parametrize(
    ("project_id", "code", "message"),
    [
        ("12347", "PF360_CONFLICT", "This project can't be scheduled in its current state."),
        ("22345", "PF360_FORBIDDEN", "That project isn't available on your account"),
    ],
    ids=["completed-project", "another-customers-project"],
)
def test_a_project_pf360_will_not_schedule_ends_at_once(
    flows: Flows, project_id: str, code: str, message: str
) -> None:
    view = flows.start(flows.session("CUST001"), project_id)
    assert view.outcome == checkpoint.OUTCOME_FAILED, view
    assert view.result["error"] == code
    assert view.message.startswith(message)
    assert flows.failed_tasks(view, "AwaitDate") == [code]
    assert flows.sandbox.bookings() == []


# --------------------------------------------------------------------------- no token leaks


def test_zz_no_execution_or_checkpoint_holds_an_auth_token(local_stack: LocalStack) -> None:
    """Runs last in this module: every execution on this worker so far, scanned."""
    assert_no_credentials(local_stack, minimum_executions=20)
