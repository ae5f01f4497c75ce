"""Known, unknown, refused: what the customer is told equals what PF360 did, for every fault.

Each case runs through the deployed action-group Lambdas (Bedrock's events, lambda.invoke),
the real ASL on the local engine and the PF360 sandbox with injected faults. PF360's ledger
(GET /__sandbox/bookings) is the truth each answer is checked against: 0 doubled, 0 lost.
The unknown-outcome loop waits in Wait states on the engine's virtual clock (no real sleeps);
`advance_until` moves that clock until the flow settles.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tasks.verification import RECHECK_WAITS
from tests.integration.bedrock_events import Actions
from tests.integration.test_scheduling_actions import (
    PROJECT,
    SCHEDULED,
    refused,
    to_dates,
    to_slots,
)
from tests.integration.workflow_helpers import history

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

NEVER = ("try again", "already ended", "went wrong")
DASHBOARD_FAULTS = [
    pytest.param("timeout", None, id="timeout"),
    pytest.param("status", 503, id="503"),
    pytest.param("status", 401, id="401"),
    pytest.param("status", 404, id="404"),
]


@pytest.fixture
def actions(local_stack: LocalStack, sandbox_control: SandboxControl) -> Iterator[Actions]:
    """The test's handle; flows it leaves parked are ended afterwards, so that their waits
    do not load the engine for the tests that run after this module on this worker."""
    handle = Actions(local_stack, sandbox_control)
    flows = handle.table("FlowsTable")
    before = {item["session_id"] for item in flows.scan(ConsistentRead=True)["Items"]}
    yield handle
    for item in flows.scan(ConsistentRead=True)["Items"]:
        if item["session_id"] not in before and item.get("task_token"):
            with contextlib.suppress(handle.sfn.exceptions.ClientError):
                handle.sfn.send_task_failure(
                    taskToken=item["task_token"], error="Superseded", cause="test over"
                )


def advance_until(
    actions: Actions, done: Callable[[], bool], step_seconds: float = 60, limit: int = 60
) -> None:
    """Move the engine's clock a step at a time until `done()` (each Wait ends at once)."""
    for _ in range(limit):
        if done():
            return
        actions.stack.clock.advance(step_seconds)
        time.sleep(0.15)
    assert done(), "the flow never settled"


def flow_done(actions: Actions, session: Any) -> Callable[[], bool]:
    return lambda: (actions.flow_item(session) or {}).get("step") == "done"


def transitions(actions: Actions, execution_arn: str) -> int:
    """State transitions Standard bills: every state entered."""
    return sum(1 for e in history(actions.sfn, execution_arn) if e["type"].endswith("Entered"))


def states(actions: Actions, execution_arn: str) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"]
        for e in history(actions.sfn, execution_arn)
        if e["type"].endswith("StateEntered")
    ]


def never_says_failed(sentence: str) -> None:
    for phrase in NEVER:
        assert phrase not in sentence.lower(), sentence


def dashboard_fault(
    actions: Actions, kind: str, status: int | None, *, count: int, skip: int
) -> None:
    delay = 1500 if kind == "timeout" else None  # > the stack's 1 s PF360 timeout
    actions.sandbox.add_fault(
        "dashboard", kind, status=status, count=count, skip=skip, delay_ms=delay
    )


# --------------------------------------------------------------------------- booking


@pytest.mark.parametrize(("kind", "status"), DASHBOARD_FAULTS)
def test_a_booking_pf360_took_while_the_dashboard_fails_is_confirmed_never_failed(
    actions: Actions, kind: str, status: int | None
) -> None:
    session = actions.session()
    _, slots = to_slots(actions, session)
    day, at = slots.body["date"], slots.body["available_times"][0]
    actions.sandbox.add_fault("schedule", "drop-after-commit")
    # (The confirm turn answering a waiting flow reads no dashboard itself: the Book task
    # does.) Book's re-read and two rechecks fail.
    dashboard_fault(actions, kind, status, count=3, skip=0)

    told = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    assert told.status == 200, told.body
    assert told.body["step"] == "confirming" and told.body["status"] == "working", told.body
    assert told.body["message"].startswith("We're confirming your booking for"), told.body
    never_says_failed(told.body["message"])
    (booked,) = actions.ledger("book")  # PF360 did book, once
    assert (booked["date"], booked["time"]) == (day, at)

    advance_until(actions, flow_done(actions, session))
    item = actions.flow_item(session) or {}
    assert item["outcome"] == "booked", item
    ended = actions.ended(item["execution_arn"])
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"])["outcome"] == "booked"

    # The next turns tell the truth: booked, and dates to move it, not to book it anew.
    again = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    assert again.status == 200 and again.body["outcome"] == "booked", again.body
    assert again.body["message"].startswith("Your appointment is booked for")
    dates = actions.call("/get_available_dates", session, project_id=PROJECT)
    assert dates.status == 200, dates.body
    assert dates.body["message"].startswith("This project is already booked for"), dates.body
    assert len(actions.ledger("book")) == 1  # 0 doubled, 0 lost


def test_the_unknown_booking_path_costs_a_few_transitions_per_recheck(actions: Actions) -> None:
    """Measured: the happy path, and the unknown path with k rechecks that fail."""
    session = actions.session()
    _, slots = to_slots(actions, session)
    day, at = slots.body["date"], slots.body["available_times"][0]
    actions.sandbox.add_fault("schedule", "drop-after-commit")
    dashboard_fault(actions, "status", 503, count=3, skip=0)
    actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    advance_until(actions, flow_done(actions, session))
    arn = (actions.flow_item(session) or {})["execution_arn"]
    actions.ended(arn)
    path = states(actions, arn)
    assert path[4:] == [
        "VerifyBooking",  # look 1: unreadable
        "BookingSettled",
        "WaitToVerifyBooking",
        "VerifyBooking",  # look 2: unreadable
        "BookingSettled",
        "WaitToVerifyBooking",
        "VerifyBooking",  # look 3: booked
        "BookingSettled",
        "BookingVerified",
    ], path
    happy = ["Route", "AwaitDate", "AwaitSlot", "Book"]
    assert path[:4] == happy
    # Happy path 4 transitions; unknown adds 2 (VerifyBooking, BookingSettled) + 1 (the
    # Succeed) and 3 per failed recheck (Wait, VerifyBooking, BookingSettled).
    failed_rechecks = 2
    assert transitions(actions, arn) == 4 + 3 + 3 * failed_rechecks, path


def test_a_booking_that_did_not_commit_is_made_once_after_the_check(actions: Actions) -> None:
    """503 on the POST (PF360 never processed it) and a failing dashboard re-read: unknown,
    then the recheck sees nothing booked and books (safe: it just saw it undone)."""
    session = actions.session()
    _, slots = to_slots(actions, session)
    day, at = slots.body["date"], slots.body["available_times"][0]
    actions.sandbox.add_fault("schedule", "status", status=503)
    dashboard_fault(actions, "status", 503, count=1, skip=0)
    told = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    assert told.status == 200, told.body
    never_says_failed(told.body["message"])
    advance_until(actions, flow_done(actions, session))
    item = actions.flow_item(session) or {}
    assert item["outcome"] == "booked", item
    (booked,) = actions.ledger("book")
    assert (booked["date"], booked["time"]) == (day, at)
    after = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    assert after.status == 200 and after.body["outcome"] == "booked"


def test_a_dashboard_unreadable_for_the_whole_schedule_ends_honestly_and_the_next_turn_knows(
    actions: Actions,
) -> None:
    session = actions.session()
    _, slots = to_slots(actions, session)
    day, at = slots.body["date"], slots.body["available_times"][0]
    actions.sandbox.add_fault("schedule", "drop-after-commit")
    looks = len(RECHECK_WAITS) + 1
    dashboard_fault(actions, "status", 503, count=1 + looks, skip=0)
    told = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    assert told.body["step"] == "confirming", told.body
    advance_until(actions, flow_done(actions, session), step_seconds=300)
    item = actions.flow_item(session) or {}
    assert item["outcome"] == "failed", item
    ended = actions.ended(item["execution_arn"])
    assert (ended["status"], ended["error"]) == ("FAILED", "BOOKING_UNVERIFIED")
    assert "check your project list" in item["message"]
    never_says_failed(item["message"])
    # The worst case, measured: 4 to book + 3 per unreadable look (VerifyBooking,
    # BookingSettled, Wait) x 10 + the last look and its ending (Finish, Ended, Failed).
    assert transitions(actions, item["execution_arn"]) == 4 + 3 * len(RECHECK_WAITS) + 4
    assert actions.sandbox.faults() == []
    # The dashboard is readable again: the next turn says what PF360 did.
    after = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    assert after.status == 200 and after.body["outcome"] == "booked", after.body
    assert len(actions.ledger("book")) == 1


def test_while_confirming_nothing_new_starts_and_the_answer_stays_confirming(
    actions: Actions,
) -> None:
    session = actions.session()
    _, slots = to_slots(actions, session)
    day, at = slots.body["date"], slots.body["available_times"][0]
    actions.sandbox.add_fault("schedule", "drop-after-commit")
    dashboard_fault(actions, "status", 503, count=2, skip=0)
    actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    deadline = time.monotonic() + 5
    while actions.sandbox.faults():  # the first recheck has looked (and failed)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    executions = actions.execution_count()
    for path, extra in (
        ("/get_available_dates", {}),
        ("/get_time_slots", {"date": day}),
    ):
        answer = actions.call(path, session, project_id=PROJECT, **extra)
        assert answer.status == 200, answer.body
        assert answer.body["step"] == "confirming", answer.body
    assert actions.execution_count() == executions  # no new flow, nothing superseded
    actions.sandbox.clear_faults()
    advance_until(actions, flow_done(actions, session))
    assert (actions.flow_item(session) or {})["outcome"] == "booked"
    assert len(actions.ledger("book")) == 1


# --------------------------------------------------------------------------- cancellation


@pytest.mark.parametrize(("kind", "status"), DASHBOARD_FAULTS)
def test_a_cancel_pf360_accepted_is_cancelled_even_when_verification_fails(
    actions: Actions, kind: str, status: int | None
) -> None:
    session = actions.session()
    # The action's read and Cancel's read pass; every verification read fails.
    dashboard_fault(actions, kind, status, count=3, skip=2)
    told = actions.call("/cancel_appointment", session, project_id=SCHEDULED)
    assert told.status == 200, told.body
    assert told.body["outcome"] == "cancelled" and told.body["verified"] is False, told.body
    assert "is cancelled" in told.body["message"]
    never_says_failed(told.body["message"])
    (cancel,) = actions.ledger("cancel")
    assert cancel["project_id"] == SCHEDULED
    arn = actions.executions("CancellationStateMachine")[0]["executionArn"]
    ended = actions.ended(arn)
    assert ended["status"] == "SUCCEEDED"
    assert json.loads(ended["output"])["verification_error"].startswith("PF360_")


def test_a_cancel_whose_answer_is_lost_while_the_dashboard_fails_is_confirmed(
    actions: Actions,
) -> None:
    session = actions.session()
    actions.sandbox.add_fault("cancel", "drop-after-commit")
    dashboard_fault(actions, "status", 503, count=2, skip=2)
    told = actions.call("/cancel_appointment", session, project_id=SCHEDULED)
    assert told.status == 200, told.body
    assert told.body["step"] == "confirming", told.body
    assert told.body["message"].startswith("We're confirming your cancellation")
    never_says_failed(told.body["message"])
    assert len(actions.ledger("cancel")) == 1
    arn = max(actions.executions("CancellationStateMachine"), key=lambda e: e["startDate"])[
        "executionArn"
    ]
    advance_until(
        actions,
        lambda: actions.sfn.describe_execution(executionArn=arn)["status"] != "RUNNING",
    )
    ended = actions.ended(arn)
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"])["outcome"] == "cancelled"
    # The next turn: nothing left to cancel, and PF360 shows it unscheduled; one cancel.
    again = actions.call("/cancel_appointment", session, project_id=SCHEDULED)
    refused(again, 409, "no scheduled appointment")
    assert len(actions.ledger("cancel")) == 1


# --------------------------------------------------------------------------- expiry


def test_a_late_answer_to_an_expired_flow_says_it_expired_before_anything_new_starts(
    actions: Actions,
) -> None:
    session = actions.session()
    dates = to_dates(actions, session)
    actions.stack.clock.advance(1801)
    deadline = time.monotonic() + 5
    while (actions.flow_item(session) or {}).get("outcome") != "expired":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    executions = actions.execution_count()
    day = dates.body["available_dates"][0]
    late = actions.call("/get_time_slots", session, project_id=PROJECT, date=day)
    refused(late, 409, "expired", "nothing was booked", "available dates")
    late = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time="10:00")
    refused(late, 409, "expired", "nothing was booked")
    assert actions.execution_count() == executions  # nothing new started
    again = to_dates(actions, session)  # asking for dates starts over
    assert again.body["available_dates"]
    assert actions.execution_count() == executions + 1
    assert actions.ledger() == []


def test_a_flow_whose_session_expired_ends_when_the_bridge_finds_it_expired(
    actions: Actions,
) -> None:
    session = actions.session()
    to_dates(actions, session)
    arn = (actions.flow_item(session) or {})["execution_arn"]
    actions.table("SessionsTable").update_item(
        Key={"session_id": session.session_id},
        UpdateExpression="SET #ttl = :past",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":past": int(time.time()) - 1},
    )
    refused(actions.call("/list_projects", session), 401, "expired")
    ended = actions.ended(arn, deadline_seconds=5)  # at once, not after its 30 minutes
    assert ended["status"] == "SUCCEEDED"
    assert json.loads(ended["output"])["outcome"] == "expired"
    item = actions.flow_item(session) or {}
    assert item["step"] == "done" and item["outcome"] == "expired"
    assert "session expired" in item["message"]
    assert actions.ledger() == []
