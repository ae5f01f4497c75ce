"""The booking state machine, end to end: the real ASL on the local engine, our task Lambdas
in-process, PF360 as the sandbox over HTTP, driven through the flow driver as the bridge
drives it. This module: the conversation (offers, choices, repeats, expiry, supersede, test
mode) and replays; test_booking_faults.py: PF360 faults and exactly-once booking.

Each test checks what the customer sees (the FlowView / checkpoint), what the execution
says (status, output, history) and what PF360 did (the sandbox ledger: exactly one
booking, or none). Waits expire on the engine's virtual clock, never in real minutes.

The last test scans every execution on this worker for auth tokens; keep it last (with
`--dist loadfile` a file runs on one worker, in order).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
import pytz
from botocore.exceptions import ClientError

from agent_bridge.flow_driver import (
    ENDED_MESSAGE,
    STATUS_DONE,
    STATUS_INVALID,
    STATUS_WAITING,
    resume_output,
)
from infra.local.pf360_sandbox import SandboxControl, SandboxServer
from infra.local.stack import LocalStack
from tasks import checkpoint
from tests.integration.workflow_helpers import (
    PROJECT,
    Flows,
    assert_booked_once,
    assert_no_credentials,
    entered_states,
    function_variables,
    history,
    make_driver,
    new_york_today,
    output_of,
    replay_input,
    start_replay,
    table,
    timezone_of,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def flows(local_stack: LocalStack, sandbox_control: SandboxControl) -> Flows:
    return Flows.on(local_stack, sandbox_control)


# --------------------------------------------------------------------------- happy path


def test_happy_path_books_once_with_the_checkpoint_at_every_turn(flows: Flows) -> None:
    session = flows.session()
    first = flows.start(session)
    assert first.status == STATUS_WAITING
    assert first.step == checkpoint.STEP_AWAIT_DATE
    assert len(first.offer["dates"]) == 10
    assert all(day > new_york_today() for day in first.offer["dates"])
    assert first.message.startswith("Which date works for you?")
    assert "task_token" not in first.to_dict()
    # The token waits in the flows table, and only there.
    assert flows.item(session)["task_token"]

    day = first.offer["dates"][0]
    slots = flows.driver.resume(session.session_id, {"date": day})
    assert slots.status == STATUS_WAITING and slots.step == checkpoint.STEP_AWAIT_SLOT
    assert slots.offer == {
        "date": day,
        "times": ["08:00", "09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"],
        "dates": first.offer["dates"],
    }
    assert slots.seq > first.seq

    done = flows.driver.resume(session.session_id, {"time": "10:00"})
    assert_booked_once(flows, done)
    assert done.result["date"] == day and done.result["time"] == "10:00"
    assert done.message.startswith("Your appointment is booked for")
    assert done.result["verified_after_ambiguity"] is False
    item = flows.item(session)
    assert item["step"] == checkpoint.STEP_DONE and item["outcome"] == "booked"
    assert "task_token" not in item

    booking = flows.books()[0]
    assert booking["project_id"] == PROJECT and booking["actor"] == "CUST001"
    assert booking["is_chatbot"] == "true"
    # created_at is PF360's IST wall clock: within a minute of now in Asia/Kolkata.
    created = pytz.timezone("Asia/Kolkata").localize(
        datetime.strptime(booking["created_at"], "%m-%d-%Y %H:%M:%S")
    )
    assert abs((created - datetime.now(pytz.utc)).total_seconds()) < 60
    # request_id lived in execution state: the dates call issued it, slots and booking used it.
    calls = flows.sandbox.requests()
    assert [r["endpoint"] for r in calls] == ["dates", "slots", "schedule"]
    assert booking["request_id"] == calls[1]["query"]["request_id"]

    assert done.execution_arn
    # Each wait fetched its own offer: 4 states, 3 task invocations per booking.
    assert entered_states(flows.sfn, done.execution_arn) == [
        "Route",
        "AwaitDate",
        "AwaitSlot",
        "Book",
    ]
    # The execution's state carried request_id and the choices (the flows table held the
    # flow state only while it waited, and holds none now).
    assert "flow" not in item
    assert output_of(flows.ended(done))["date"] == day


@pytest.mark.parametrize(
    ("customer_id", "project_id", "zone"),
    [("CUST001", "12345", "America/New_York"), ("CUST101", "31001", "Pacific/Auckland")],
)
def test_dates_are_asked_from_today_in_the_tenant_time_zone(
    flows: Flows, customer_id: str, project_id: str, zone: str
) -> None:
    before = datetime.now(pytz.timezone(zone)).date().isoformat()
    view = flows.start(flows.session(customer_id), project_id)
    after = datetime.now(pytz.timezone(zone)).date().isoformat()
    assert view.status == STATUS_WAITING, view
    (call,) = [r for r in flows.sandbox.requests() if r["endpoint"] == "dates"]
    asked = call["path"].split("/date/")[1].split("/")[0]
    assert asked in (before, after)


# --------------------------------------------------------------------------- choices


def test_a_date_not_offered_is_refused_by_the_driver_and_changes_nothing(flows: Flows) -> None:
    session = flows.session()
    first = flows.start(session)
    first_day = date.fromisoformat(first.offer["dates"][0])
    sunday = (first_day + timedelta(days=6 - first_day.weekday())).isoformat()
    refused = flows.driver.resume(session.session_id, {"date": sunday})
    assert refused.status == STATUS_INVALID
    assert f"{sunday} is not available" in refused.message
    assert refused.offer == first.offer
    unchanged = flows.driver.current(session.session_id)
    assert (unchanged.seq, unchanged.step) == (first.seq, checkpoint.STEP_AWAIT_DATE)
    assert "answer" not in flows.item(session)

    wrong_kind = flows.driver.resume(session.session_id, {"time": "10:00"})
    assert wrong_kind.status == STATUS_INVALID and "pick a date" in wrong_kind.message

    assert_booked_once(flows, flows.finish_from_dates(session))


def test_a_date_not_offered_sent_straight_to_the_execution_loops_back_with_a_notice(
    flows: Flows,
) -> None:
    """Defence in depth: even past the driver, the ASL sends a bad date back to AwaitDate."""
    session = flows.session()
    first = flows.start(session)
    item = flows.item(session)
    output = resume_output(checkpoint.Checkpoint.from_item(item), {"date": "2000-01-03"})
    flows.sfn.send_task_success(taskToken=item["task_token"], output=json.dumps(output))
    again = flows.driver.wait_for_change(session.session_id, first.seq)
    assert again.status == STATUS_WAITING and again.step == checkpoint.STEP_AWAIT_DATE, again
    assert again.message.startswith("2000-01-03 is not available; please pick one of:")
    assert again.offer == first.offer
    assert first.execution_arn
    assert entered_states(flows.sfn, first.execution_arn)[-3:] == [
        "AwaitDate",
        "AwaitSlot",
        "AwaitDate",
    ]
    # Back at AwaitDate the dates already fetched are offered again, without asking PF360.
    assert [r["endpoint"] for r in flows.sandbox.requests()] == ["dates"]
    assert_booked_once(flows, flows.finish_from_dates(session))


def test_a_time_not_offered_is_refused_and_sent_straight_it_loops_back_to_await_slot(
    flows: Flows,
) -> None:
    session = flows.session()
    slots = flows.to_slots(session)
    refused = flows.driver.resume(session.session_id, {"time": "12:00"})
    assert refused.status == STATUS_INVALID
    assert "12:00 is not free" in refused.message
    assert flows.driver.current(session.session_id).seq == slots.seq

    item = flows.item(session)
    output = resume_output(checkpoint.Checkpoint.from_item(item), {"time": "12:00"})
    flows.sfn.send_task_success(taskToken=item["task_token"], output=json.dumps(output))
    again = flows.driver.wait_for_change(session.session_id, slots.seq)
    assert again.step == checkpoint.STEP_AWAIT_SLOT and again.offer == slots.offer, again
    assert again.message.startswith("12:00 is not free on")
    assert flows.books() == []
    done = flows.driver.resume(session.session_id, {"time": "13:00"})
    assert_booked_once(flows, done)
    assert done.result["time"] == "13:00"


def test_no_dates_ends_no_availability(
    flows: Flows, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer_dates = sandbox.state.offer_dates

    def nothing_free(client_id: str, project_id: str, after: date) -> tuple[list[str], str]:
        _, request_id = offer_dates(client_id, project_id, after)
        return [], request_id

    monkeypatch.setattr(sandbox.state, "offer_dates", nothing_free)
    session = flows.session()
    view = flows.start(session)
    assert view.status == STATUS_DONE and view.outcome == checkpoint.OUTCOME_NO_AVAILABILITY
    assert view.message == "There are no available dates for this project right now."
    ended = flows.ended(view)
    assert ended["status"] == "SUCCEEDED"
    assert output_of(ended)["outcome"] == "no_availability"
    assert view.execution_arn
    # AwaitDate's task found nothing to offer: it failed before waiting, so nothing waited.
    assert entered_states(flows.sfn, view.execution_arn)[:3] == ["Route", "AwaitDate", "Finish"]
    assert "task_token" not in flows.item(session) and "flow" not in flows.item(session)
    assert flows.sandbox.bookings() == []


def test_no_slots_that_day_goes_back_to_the_dates_then_another_date_books(
    flows: Flows, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = flows.session()
    first = flows.start(session)
    full_day, other_day = first.offer["dates"][0], first.offer["dates"][1]
    free_slots = sandbox.state.free_slots

    def day_filled_up(client_id: str, project_id: str, request_id: str, day: date) -> list[str]:
        return (
            []
            if day.isoformat() == full_day
            else free_slots(client_id, project_id, request_id, day)
        )

    monkeypatch.setattr(sandbox.state, "free_slots", day_filled_up)
    back = flows.driver.resume(session.session_id, {"date": full_day})
    assert back.status == STATUS_WAITING and back.step == checkpoint.STEP_AWAIT_DATE, back
    assert back.message.startswith(f"There are no free times on {full_day}")
    assert back.offer == first.offer

    slots = flows.driver.resume(session.session_id, {"date": other_day})
    assert slots.step == checkpoint.STEP_AWAIT_SLOT and slots.offer["date"] == other_day
    done = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    assert_booked_once(flows, done)
    assert done.result["date"] == other_day


def test_another_date_at_the_time_step(flows: Flows) -> None:
    session = flows.session()
    slots = flows.to_slots(session)
    dates = flows.driver.resume(session.session_id, {"another_date": True})
    assert dates.status == STATUS_WAITING and dates.step == checkpoint.STEP_AWAIT_DATE, dates
    assert dates.message.startswith("Sure, which other date would you like?")
    second = dates.offer["dates"][3]
    assert second != slots.offer["date"]
    later = flows.driver.resume(session.session_id, {"date": second})
    assert later.step == checkpoint.STEP_AWAIT_SLOT and later.offer["date"] == second
    done = flows.driver.resume(session.session_id, {"time": "15:00"})
    assert_booked_once(flows, done)
    assert (done.result["date"], done.result["time"]) == (second, "15:00")


def test_repeated_answers_are_harmless_and_book_once(flows: Flows) -> None:
    """Agents call twice: the same date or time again returns where the flow stands."""
    session = flows.session()
    first = flows.start(session)
    day = first.offer["dates"][2]
    slots = flows.driver.resume(session.session_id, {"date": day})
    again = flows.driver.resume(session.session_id, {"date": day})
    assert again.status == STATUS_WAITING and again.step == checkpoint.STEP_AWAIT_SLOT
    assert (again.seq, again.offer) == (slots.seq, slots.offer)

    done = flows.driver.resume(session.session_id, {"time": "09:00"})
    twice = flows.driver.resume(session.session_id, {"time": "09:00"})
    assert twice.status == STATUS_DONE and twice.outcome == checkpoint.OUTCOME_BOOKED
    assert twice.message == done.message
    assert twice.result == done.result
    assert_booked_once(flows, done)
    assert len([r for r in flows.sandbox.requests() if r["endpoint"] == "schedule"]) == 1


def test_a_slot_taken_at_the_last_moment_offers_the_times_still_free(flows: Flows) -> None:
    """Two customers of one client see the same free time; the second is sent back to the
    times that are still free, and books another."""
    dana, luis = flows.session("CUST001"), flows.session("CUST002")
    dana_slots = flows.to_slots(dana, "12345")
    luis_first = flows.start(luis, "22345")
    day = dana_slots.offer["date"]
    assert day in luis_first.offer["dates"]
    flows.driver.resume(luis.session_id, {"date": day})
    luis_done = flows.driver.resume(luis.session_id, {"time": "10:00"})
    assert luis_done.outcome == checkpoint.OUTCOME_BOOKED, luis_done

    again = flows.driver.resume(dana.session_id, {"time": "10:00"})  # from a stale offer
    assert again.status == STATUS_WAITING and again.step == checkpoint.STEP_AWAIT_SLOT, again
    assert again.message.startswith(f"10:00 on {day} was just taken")
    assert again.offer["date"] == day and "10:00" not in again.offer["times"]
    dana_done = flows.driver.resume(dana.session_id, {"time": "11:00"})
    assert dana_done.outcome == checkpoint.OUTCOME_BOOKED, dana_done
    assert sorted((b["customer_id"], b["time"]) for b in flows.books()) == [
        ("CUST001", "11:00"),
        ("CUST002", "10:00"),
    ]
    assert dana_done.execution_arn
    assert entered_states(flows.sfn, dana_done.execution_arn)[-3:] == [
        "Book",
        "AwaitSlot",
        "Book",
    ]


def test_two_concurrent_confirmations_book_once(flows: Flows) -> None:
    """The agent fires the same confirmation twice at once: one SendTaskSuccess, one booking."""
    session = flows.session()
    slots = flows.to_slots(session)
    answer = {"time": slots.offer["times"][1]}
    with ThreadPoolExecutor(max_workers=2) as pool:
        views = list(pool.map(lambda _: flows.driver.resume(session.session_id, answer), [1, 2]))
    assert [v.outcome for v in views] == ["booked", "booked"], views
    assert views[0].message == views[1].message
    assert_booked_once(flows, views[0])


# --------------------------------------------------------------------------- expiry


@pytest.mark.parametrize("step", [checkpoint.STEP_AWAIT_DATE, checkpoint.STEP_AWAIT_SLOT])
def test_an_unanswered_wait_expires_on_the_engine_clock(flows: Flows, step: str) -> None:
    session = flows.session()
    if step == checkpoint.STEP_AWAIT_DATE:
        waiting = flows.start(session)
    else:
        waiting = flows.to_slots(session)
    assert waiting.step == step
    started = time.monotonic()
    flows.stack.clock.advance(1801)
    expired = flows.driver.wait_for_change(session.session_id, waiting.seq)
    assert time.monotonic() - started < 5
    assert expired.status == STATUS_DONE and expired.outcome == checkpoint.OUTCOME_EXPIRED
    assert "timed out waiting for an answer" in expired.message
    ended = flows.ended(expired)
    assert ended["status"] == "SUCCEEDED"
    assert output_of(ended)["outcome"] == "expired"
    assert "task_token" not in flows.item(session)
    assert flows.sandbox.bookings() == []

    # Answering afterwards is a normal outcome, not an error.
    late = flows.driver.resume(session.session_id, {"time": "10:00", "date": "2000-01-03"})
    assert late.status == STATUS_DONE and late.message.startswith(ENDED_MESSAGE)


def test_a_stale_token_is_a_normal_outcome(flows: Flows) -> None:
    """The checkpoint still shows a wait whose token the engine has already timed out (the
    bridge read it a moment before the expiry): the answer gets a sentence, not a crash."""
    session = flows.session()
    slots = flows.to_slots(session)
    parked = flows.item(session)
    flows.stack.clock.advance(1801)
    expired = flows.driver.wait_for_change(session.session_id, slots.seq)
    assert expired.outcome == checkpoint.OUTCOME_EXPIRED
    table(flows.stack, "FlowsTable").put_item(Item=parked)  # the moment before, replayed

    view = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    assert view.status == STATUS_DONE, view
    assert view.outcome == checkpoint.OUTCOME_EXPIRED
    assert view.message.startswith(ENDED_MESSAGE)
    assert flows.sandbox.bookings() == []


def test_a_wait_does_not_expire_before_its_timeout(flows: Flows) -> None:
    session = flows.session()
    waiting = flows.start(session)
    flows.stack.clock.advance(1700)
    time.sleep(0.2)
    assert flows.driver.current(session.session_id).seq == waiting.seq
    assert_booked_once(flows, flows.finish_from_dates(session))


# --------------------------------------------------------------------------- test mode


@pytest.fixture
def bookings_off(local_stack: LocalStack) -> Iterator[None]:
    with function_variables(local_stack, "BookFunction", CONFIRM_SCHEDULE_FLAG="0"):
        yield


@pytest.mark.usefixtures("bookings_off")
def test_test_mode_books_nothing_and_says_so(flows: Flows) -> None:
    session = flows.session()
    done = flows.book(session)
    assert done.status == STATUS_DONE and done.outcome == checkpoint.OUTCOME_BOOKED
    assert done.result["test_mode"] is True
    assert done.message.startswith("TEST MODE: nothing was booked.")
    ended = flows.ended(done)
    assert ended["status"] == "SUCCEEDED" and output_of(ended)["test_mode"] is True
    assert flows.sandbox.bookings() == []
    assert [r for r in flows.sandbox.requests() if r["endpoint"] == "schedule"] == []

    replayed = start_replay(
        flows.stack,
        replay_input("gone", "CUST001", PROJECT, done.result["date"], done.result["time"]),
    )
    assert replayed["status"] == "SUCCEEDED", replayed
    assert output_of(replayed)["test_mode"] is True
    assert flows.sandbox.bookings() == []


# --------------------------------------------------------------------------- supersede


def test_a_superseded_flow_ends_and_cannot_be_resumed(flows: Flows) -> None:
    session = flows.session()
    flow_a = flows.start(session)
    token_a = flows.item(session)["task_token"]

    flow_b = flows.start(session)
    assert flow_b.execution_arn != flow_a.execution_arn
    assert flow_b.status == STATUS_WAITING and flow_b.step == checkpoint.STEP_AWAIT_DATE

    ended_a = flows.ended(flow_a)
    assert ended_a["status"] == "SUCCEEDED"
    assert output_of(ended_a)["outcome"] == "superseded"
    with pytest.raises(ClientError) as refused:
        flows.sfn.send_task_success(
            taskToken=token_a, output=json.dumps({"date": flow_a.offer["dates"][0]})
        )
    assert refused.value.response["Error"]["Code"] in {
        "TaskTimedOut",
        "InvalidToken",
        "TaskDoesNotExist",
    }

    # A's ending did not touch B's checkpoint; the driver's answers go to B.
    current = flows.driver.current(session.session_id)
    assert current.execution_arn == flow_b.execution_arn and current.status == STATUS_WAITING
    slots = flows.driver.resume(session.session_id, {"date": flow_b.offer["dates"][1]})
    assert slots.execution_arn == flow_b.execution_arn
    done = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    assert_booked_once(flows, done)
    assert done.execution_arn == flow_b.execution_arn


def test_a_flow_superseded_before_it_parks_never_parks(flows: Flows) -> None:
    """A is still fetching dates (PF360 is slow) when B starts; A must not take B's item."""
    session = flows.session()
    flows.sandbox.add_fault("dates", "timeout", delay_ms=1500)
    impatient = make_driver(flows.stack, deadline_seconds=0.3)
    flow_a = impatient.start_booking(session, PROJECT, timezone_of(session))
    assert flow_a.status == "working" and flow_a.step == checkpoint.STEP_STARTING, flow_a

    flow_b = flows.start(session)
    assert flow_b.status == STATUS_WAITING and flow_b.flow_id != flow_a.flow_id
    # A had no task token yet, so the driver stopped it. AWS reports ABORTED; moto 5.2.5
    # lets the running task finish and ends the execution FAILED with that task's error.
    ended_a = flows.ended(flow_a)
    assert ended_a["status"] in ("ABORTED", "FAILED"), ended_a
    assert flow_a.execution_arn
    # A's AwaitDate task never got to wait (its token was never submitted), nor went on.
    events_a = history(flows.sfn, flow_a.execution_arn)
    assert not [e for e in events_a if e["type"] == "TaskSubmitted"], events_a
    assert "AwaitSlot" not in entered_states(flows.sfn, flow_a.execution_arn)
    current = flows.driver.current(session.session_id)
    assert (current.flow_id, current.execution_arn) == (flow_b.flow_id, flow_b.execution_arn)
    assert current.status == STATUS_WAITING
    assert_booked_once(flows, flows.finish_from_dates(session))


def test_supersede_of_a_waiting_flow_ends_it_and_later_answers_are_turned_away(
    flows: Flows,
) -> None:
    session = flows.session()
    slots = flows.to_slots(session)
    cp = checkpoint.read(table(flows.stack, "FlowsTable"), session.session_id)
    assert cp is not None and cp.waiting
    assert flows.driver.supersede(cp, "The customer moved on.") is True
    assert flows.driver.supersede(cp, "again") is False
    ended = flows.ended(slots)
    assert ended["status"] == "SUCCEEDED"
    assert output_of(ended)["outcome"] == "superseded"
    view = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    assert view.status == STATUS_DONE and view.outcome == checkpoint.OUTCOME_SUPERSEDED
    assert view.message.startswith(ENDED_MESSAGE)
    assert flows.sandbox.bookings() == []


# --------------------------------------------------------------------------- replay


def test_a_failed_booking_replays_once_with_the_recorded_choice(flows: Flows) -> None:
    session = flows.session()
    slots = flows.to_slots(session)
    chosen = (slots.offer["date"], slots.offer["times"][2])
    flows.sandbox.add_fault("schedule", "status", status=503, count=10)
    failed = flows.driver.resume(session.session_id, {"time": chosen[1]})
    assert failed.outcome == checkpoint.OUTCOME_FAILED
    failed_run = flows.ended(failed)
    assert (failed_run["status"], failed_run["error"]) == ("FAILED", "PF360_UNAVAILABLE")
    assert flows.sandbox.bookings() == []
    flows.sandbox.clear_faults()

    replayed = start_replay(
        flows.stack,
        replay_input(
            session.session_id, "CUST001", PROJECT, *chosen, source=failed_run["executionArn"]
        ),
    )
    assert replayed["status"] == "SUCCEEDED", replayed
    result = output_of(replayed)
    assert result["outcome"] == "booked" and result["already_booked"] is False
    assert result["replay_of"] == failed_run["executionArn"]
    (booking,) = flows.books()
    assert (booking["date"], booking["time"]) == chosen
    assert booking["actor"] == "service:acme-corp"  # the session may be gone; a service acts
    assert entered_states(flows.sfn, replayed["executionArn"]) == ["Route", "ReplayBook"]
    # The customer's checkpoint still tells the failed flow's story; a replay leaves it alone.
    assert flows.item(session)["outcome"] == "failed"

    again = start_replay(flows.stack, replay_input(session.session_id, "CUST001", PROJECT, *chosen))
    assert again["status"] == "SUCCEEDED"
    assert output_of(again)["already_booked"] is True
    assert len(flows.books()) == 1


def test_replay_of_an_already_booked_flow_books_nothing(flows: Flows) -> None:
    done = flows.book(flows.session())
    assert_booked_once(flows, done)
    replayed = start_replay(
        flows.stack,
        replay_input("gone-session", "CUST001", PROJECT, done.result["date"], done.result["time"]),
    )
    assert replayed["status"] == "SUCCEEDED", replayed
    result = output_of(replayed)
    assert result["outcome"] == "booked" and result["already_booked"] is True
    assert result["message"].startswith("Already booked:")
    assert len(flows.books()) == 1
    assert len([r for r in flows.sandbox.requests() if r["endpoint"] == "schedule"]) == 1


def test_replay_when_another_customer_took_the_slot_fails_slot_gone(flows: Flows) -> None:
    other = flows.book(flows.session("CUST002"), "22345")
    assert_booked_once(flows, other, customer_id="CUST002")
    taken = (other.result["date"], other.result["time"])
    replayed = start_replay(flows.stack, replay_input("gone", "CUST001", PROJECT, *taken))
    assert (replayed["status"], replayed["error"]) == ("FAILED", "SLOT_GONE")
    assert f"{taken[1]} on {taken[0]} is no longer free" in replayed["cause"]
    assert [b["customer_id"] for b in flows.books()] == ["CUST002"]


def test_replay_of_a_date_no_longer_offered_fails_slot_gone(flows: Flows) -> None:
    yesterday = (date.fromisoformat(new_york_today()) - timedelta(days=1)).isoformat()
    replayed = start_replay(
        flows.stack, replay_input("gone", "CUST001", PROJECT, yesterday, "10:00")
    )
    assert (replayed["status"], replayed["error"]) == ("FAILED", "SLOT_GONE")
    assert flows.sandbox.bookings() == []


def test_replay_retries_a_transient_dashboard_fault(flows: Flows) -> None:
    first = flows.start(flows.session())
    chosen = (first.offer["dates"][4], "14:00")
    flows.sandbox.add_fault("dashboard", "status", status=502)
    replayed = start_replay(flows.stack, replay_input("gone", "CUST001", PROJECT, *chosen))
    assert replayed["status"] == "SUCCEEDED", replayed
    (booking,) = flows.books()
    assert (booking["date"], booking["time"]) == chosen


# --------------------------------------------------------------------------- no token leaks


def test_zz_no_execution_or_checkpoint_holds_an_auth_token(local_stack: LocalStack) -> None:
    """Runs last in this module: every execution on this worker so far, scanned."""
    assert_no_credentials(local_stack, minimum_executions=20)


def test_the_item_names_the_execution_from_the_claim_and_a_failed_start_says_so(
    flows: Flows,
) -> None:
    """One write claims the session and names the execution (its ARN follows from the state
    machine and the name); when StartExecution fails the item says the booking failed, never
    that it is starting an execution that does not exist, and the next booking starts."""
    session = flows.session()
    broken = make_driver(flows.stack)
    broken.booking_arn = broken.booking_arn + "-missing"
    with pytest.raises(ClientError) as refused:
        broken.start_booking(session, PROJECT, timezone_of(session))
    assert refused.value.response["Error"]["Code"] == "StateMachineDoesNotExist"
    item = flows.item(session)
    assert (item["step"], item["outcome"]) == (checkpoint.STEP_DONE, checkpoint.OUTCOME_FAILED)
    assert item["result"]["error"] == "START_FAILED"
    assert (
        item["message"] == "Something went wrong on our side; nothing was booked. Please try again."
    )
    # (The claim named the execution it was about to start.)
    assert ":execution:scheduler-booking-dev-missing:book-" in item["execution_arn"]

    first = flows.start(session)
    assert first.status == STATUS_WAITING and first.execution_arn
    assert flows.sfn.describe_execution(executionArn=first.execution_arn)["status"] == "RUNNING"
    assert flows.item(session)["execution_arn"] == first.execution_arn
    assert_booked_once(flows, flows.finish_from_dates(session))
