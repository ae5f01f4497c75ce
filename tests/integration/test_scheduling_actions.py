"""`scheduling-actions` as Bedrock calls it: the deployed function on the local stack, invoked
with `lambda.invoke` and Bedrock's OpenAPI action-group events, for every action.

Each test checks what the agent sees (status and JSON body, a customer sentence on every
refusal), and what changed: the sandbox ledger (PF360's books and cancels), the session's
checkpoint in the flows table and the executions of the state machines. A refused input
changes none of them.

Logs are captured (the local Lambda runtime copies what each invocation printed, Powertools'
JSON lines, to this process's stderr). The last test proves that no minted JWT and no task
token read from the flows table appears in any answer or log line of the module; keep it last (with
`--dist loadfile` a file runs on one worker, in order).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import pytz

from agent_bridge.actions import common, errors
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tasks.pf360.errors import PF360MalformedResponse, PF360Unauthorized
from tasks.session_record import SESSION_TTL_SECONDS, SessionRecord
from tests.integration.bedrock_events import (
    LOGS,
    MINTED_TOKENS,
    RESPONSES,
    TASK_TOKENS,
    ActionAnswer,
    Actions,
    bedrock_event,
    invoke,
    log_records,
    logs_to_current_stdout,
)
from tests.integration.workflow_helpers import JWT_PATTERN, function_variables, history

pytestmark = [
    pytest.mark.integration,
    # A read-only action publishes no metric; Powertools warns about it on every call.
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

PROJECT = "12345"  # CUST001's unscheduled project at acme-corp
SCHEDULED = "12346"  # CUST001's scheduled project
ACME_TIMES = ["08:00", "09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"]
ALL_ACTIONS = [
    "/list_projects",
    "/get_available_dates",
    "/get_time_slots",
    "/confirm_appointment",
    "/cancel_appointment",
    "/get_business_hours",
]
INTERNALS = ("PF360_", "HTTP ", "Traceback", "request_id", "arn:aws", "Bearer", "_ERROR")


# --------------------------------------------------------------------------- fixtures


class Logs:
    """The output captured while a test runs; everything read is kept for the leak scan."""

    def __init__(self, capfd: pytest.CaptureFixture[str]) -> None:
        self.capfd = capfd

    def read(self) -> str:
        out, err = self.capfd.readouterr()
        LOGS.append(out + err)
        return out + err


@pytest.fixture(autouse=True)
def logs(capfd: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    captured = Logs(capfd)
    with logs_to_current_stdout():
        yield captured
    captured.read()


# Where this module's answers and logs start in the worker-wide lists (other modules may use
# the helper too; their inputs are theirs to scan, every minted token is checked here).
MODULE_START: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def module_start() -> None:
    MODULE_START.update(responses=len(RESPONSES), logs=len(LOGS), tokens=len(TASK_TOKENS))


@pytest.fixture
def actions(local_stack: LocalStack, sandbox_control: SandboxControl) -> Actions:
    return Actions(local_stack, sandbox_control)


def bookings_on(actions: Actions) -> None:
    if not actions.flag("ConfirmScheduleFlag"):
        pytest.skip("the local stack runs in booking test mode (ConfirmScheduleFlag=0)")


# --------------------------------------------------------------------------- helpers


def acme_today() -> date:
    return datetime.now(pytz.timezone("America/New_York")).date()


def next_weekday(after: date, weekday: int) -> date:
    """The first day strictly after `after` that falls on `weekday` (Monday is 0)."""
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def full_width(text: str) -> str:
    """The same text with full-width digits (which look like, but are not, the format)."""
    return text.translate({ord("0") + i: 0xFF10 + i for i in range(10)})


def first_working_day() -> str:
    """acme-corp's first offered day: its next Monday-to-Friday day after today."""
    day = acme_today() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.isoformat()


@dataclass
class Snapshot:
    """What a refused input must leave alone."""

    ledger: list[dict[str, Any]]
    executions: int
    flow: dict[str, Any] | None


def snapshot(actions: Actions, session: SessionRecord) -> Snapshot:
    return Snapshot(actions.ledger(), actions.execution_count(), actions.flow_item(session))


def assert_unchanged(actions: Actions, session: SessionRecord, before: Snapshot) -> None:
    after = snapshot(actions, session)
    assert after.ledger == before.ledger
    assert after.executions == before.executions
    assert after.flow == before.flow


def refused(answer: ActionAnswer, status: int, *phrases: str) -> None:
    """A refusal: the status, a sentence with these phrases, nothing internal."""
    assert answer.status == status, answer.body
    for phrase in phrases:
        assert phrase in answer.error, answer.error
    for internal in INTERNALS:
        assert internal not in answer.error, answer.error


def project_params(path: str, project_id: str) -> dict[str, str]:
    """Well-formed parameters for an action (a future working day, an offered time)."""
    params = {"project_id": project_id}
    if path in ("/get_time_slots", "/confirm_appointment"):
        params["date"] = first_working_day()
    if path == "/confirm_appointment":
        params["time"] = "10:00"
    if path in ("/list_projects", "/get_business_hours"):
        params = {}
    return params


def to_dates(actions: Actions, session: SessionRecord, project_id: str = PROJECT) -> ActionAnswer:
    answer = actions.call("/get_available_dates", session, project_id=project_id)
    assert answer.status == 200, answer.body
    assert answer.body["step"] == "await_date", answer.body
    assert actions.flow_item(session) is not None  # remembers the parked task token
    return answer


def to_slots(
    actions: Actions, session: SessionRecord, day: str | None = None
) -> tuple[ActionAnswer, ActionAnswer]:
    dates = to_dates(actions, session)
    chosen = day or dates.body["available_dates"][0]
    slots = actions.call("/get_time_slots", session, project_id=PROJECT, date=chosen)
    assert slots.status == 200, slots.body
    assert slots.body["step"] == "await_slot" and slots.body["date"] == chosen, slots.body
    assert actions.flow_item(session) is not None
    return dates, slots


def entered(actions: Actions, execution_arn: str, state: str) -> int:
    return sum(
        1
        for event in history(actions.sfn, execution_arn)
        if event["type"].endswith("StateEntered")
        and event["stateEnteredEventDetails"]["name"] == state
    )


# --------------------------------------------------------------------------- sessions


@pytest.mark.parametrize("place", ["attributes", "session_id", "parameter"])
def test_the_session_is_found_in_each_place_bedrock_may_put_it(
    actions: Actions, place: str
) -> None:
    session = actions.session()
    answer = actions.call("/list_projects", session, place=place)
    assert answer.status == 200, answer.body
    assert [p["project_id"] for p in answer.body["projects"]] == [
        "12345",
        "12346",
        "12347",
        "12348",
    ]
    assert answer.body["total"] == 4
    assert all(p["project_url"].endswith(f"/{p['project_id']}") for p in answer.body["projects"])
    assert "https://" in answer.body["message"]


def test_session_attributes_win_over_session_id_which_wins_over_the_parameter(
    actions: Actions,
) -> None:
    dana, luis = actions.session("CUST001"), actions.session("CUST002")
    event = bedrock_event("/list_projects", session_id=dana.session_id, place="attributes")
    event["sessionId"] = luis.session_id
    answer = invoke(actions.lambdas, actions.function_name, event)
    assert answer.status == 200 and answer.body["projects"][0]["project_id"] == "12345"

    event = bedrock_event("/list_projects", session_id=luis.session_id, place="session_id")
    event["parameters"].append({"name": "session_id", "type": "string", "value": dana.session_id})
    answer = invoke(actions.lambdas, actions.function_name, event)
    assert answer.status == 200 and answer.body["projects"][0]["project_id"] == "22345"


@pytest.mark.parametrize("path", ALL_ACTIONS)
def test_no_session_anywhere_is_401_and_changes_nothing(actions: Actions, path: str) -> None:
    ledger, executions = actions.ledger(), actions.execution_count()
    event = bedrock_event(path, session_id=None, parameters=project_params(path, SCHEDULED))
    del event["sessionAttributes"]
    answer = invoke(actions.lambdas, actions.function_name, event)
    refused(answer, 401, "sign in again")
    # An empty sessionAttributes and an empty parameter are no session either.
    event = bedrock_event(path, session_id=None, parameters=project_params(path, SCHEDULED))
    event["parameters"].append({"name": "session_id", "type": "string", "value": ""})
    refused(invoke(actions.lambdas, actions.function_name, event), 401, "sign in again")
    assert actions.ledger() == ledger
    assert actions.execution_count() == executions


@pytest.mark.parametrize("path", ALL_ACTIONS)
def test_an_expired_or_unknown_session_is_401_and_changes_nothing(
    actions: Actions, path: str
) -> None:
    expired = actions.session(now=time.time() - 7200)
    before = snapshot(actions, expired)
    ttl = actions.session_item(expired)["ttl"]
    params = project_params(path, SCHEDULED)
    refused(actions.call(path, expired, **params), 401, "expired", "sign in again")
    refused(actions.call(path, "sess-test-never-created", **params), 401, "sign in again")
    assert actions.session_item(expired)["ttl"] == ttl  # an expired session is not revived
    assert_unchanged(actions, expired, before)


def test_every_use_slides_the_session_ttl_forward(actions: Actions) -> None:
    session = actions.session(now=time.time() - 600)  # 20 of its 30 minutes left
    first = int(actions.session_item(session)["ttl"])
    assert first <= time.time() + SESSION_TTL_SECONDS - 590
    started = time.time()
    assert actions.call("/get_business_hours", session).status == 200
    second = int(actions.session_item(session)["ttl"])
    assert second >= int(started) + SESSION_TTL_SECONDS > first
    to_dates(actions, session)  # a flow action slides it too
    assert int(actions.session_item(session)["ttl"]) >= second


# --------------------------------------------------------------------------- tenant isolation


def security_events(text: str, kind: str) -> list[dict[str, Any]]:
    return [r for r in log_records(text) if r.get("security_event") == kind]


@pytest.mark.parametrize("path", ALL_ACTIONS)
@pytest.mark.parametrize("claimed", ["CUST002", "CUST101"])
def test_a_forged_customer_id_is_403_logged_as_a_security_event_and_changes_nothing(
    actions: Actions, logs: Logs, path: str, claimed: str
) -> None:
    session = actions.session()
    before = snapshot(actions, session)
    params = project_params(path, SCHEDULED if path == "/cancel_appointment" else PROJECT)
    answer = actions.call(path, session, customer_id=claimed, **params)
    refused(answer, 403, "your own account")
    assert_unchanged(actions, session, before)
    events = security_events(logs.read(), errors.TENANT_MISMATCH)
    assert len(events) == 1, events
    assert events[0]["claimed_customer_id"] == claimed
    assert events[0]["session_customer_id"] == "CUST001"
    assert events[0]["session_id"] == session.session_id
    line = json.dumps(events[0])
    assert MINTED_TOKENS[-1] not in line and "Bearer" not in line
    assert not JWT_PATTERN.search(line)


def test_the_sessions_own_customer_id_is_accepted(actions: Actions) -> None:
    session = actions.session()
    answer = actions.call("/list_projects", session, customer_id=" CUST001 ")
    assert answer.status == 200 and answer.body["total"] == 4
    assert actions.call("/get_business_hours", session, customer_id="CUST001").status == 200


PROJECT_ACTIONS = ["/get_available_dates", "/get_time_slots", "/confirm_appointment"]


@pytest.mark.parametrize(
    ("path", "project_id"),
    [
        *[pytest.param(path, "31001", id=f"{path}-other-tenant") for path in PROJECT_ACTIONS],
        *[pytest.param(path, "22345", id=f"{path}-other-customer") for path in PROJECT_ACTIONS],
        pytest.param("/cancel_appointment", "31002", id="cancel-other-tenant"),
        pytest.param("/cancel_appointment", "22346", id="cancel-other-customer"),
        pytest.param("/get_available_dates", "99999", id="no-such-project"),
    ],
)
def test_a_project_not_on_the_customers_dashboard_is_403_and_changes_nothing(
    actions: Actions, logs: Logs, path: str, project_id: str
) -> None:
    session = actions.session()
    before = snapshot(actions, session)
    answer = actions.call(path, session, **project_params(path, project_id))
    refused(answer, 403, "not on your account")
    assert_unchanged(actions, session, before)
    events = security_events(logs.read(), errors.PROJECT_NOT_OWNED)
    assert [e["claimed_project_id"] for e in events] == [project_id]
    assert MINTED_TOKENS[-1] not in json.dumps(events)


def test_a_missing_project_id_is_400(actions: Actions) -> None:
    session = actions.session()
    for path in ("/get_available_dates", "/cancel_appointment"):
        refused(actions.call(path, session), 400, "Which project?")
    assert actions.flow_item(session) is None


# --------------------------------------------------------------------------- reads


def test_business_hours_are_the_tenants_own(actions: Actions) -> None:
    weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    answer = actions.call("/get_business_hours", actions.session("CUST001"))
    assert answer.status == 200 and answer.body["working_days"] == weekdays
    assert answer.body["message"] == "We work " + ", ".join(weekdays) + "."
    answer = actions.call("/get_business_hours", actions.session("CUST101"))
    assert answer.status == 200 and answer.body["working_days"] == [*weekdays, "Saturday"]
    listed = actions.call("/list_projects", actions.session("CUST101"))
    assert [p["project_id"] for p in listed.body["projects"]] == ["31001", "31002"]


# --------------------------------------------------------------------------- bad dates and times


def test_bad_dates_are_400_with_a_sentence_and_change_nothing(actions: Actions) -> None:
    session = actions.session()
    offered = to_dates(actions, session).body["available_dates"]
    sunday = next_weekday(acme_today(), 6).isoformat()
    far = (acme_today() + timedelta(days=120)).isoformat()
    yesterday = (acme_today() - timedelta(days=1)).isoformat()
    assert sunday not in offered and far not in offered
    cases = [
        ("12/03/2026", "YYYY-MM-DD"),
        ("2026-13-45", "is not a real date"),
        ("2026-02-30", "is not a real date"),
        ("next tuesday", "YYYY-MM-DD"),
        (full_width("2026-12-03"), "YYYY-MM-DD"),
        (yesterday, "in the past"),
        (sunday, f"{sunday} is not available"),
        (far, f"{far} is not available"),
    ]
    before = snapshot(actions, session)
    for path in ("/get_time_slots", "/confirm_appointment"):
        extra = {"time": "10:00"} if path == "/confirm_appointment" else {}
        for value, phrase in cases:
            answer = actions.call(path, session, project_id=PROJECT, date=value, **extra)
            refused(answer, 400, phrase)
            if "is not available" in phrase:
                assert all(day in answer.error for day in offered), answer.error
        refused(actions.call(path, session, project_id=PROJECT, **extra), 400, "YYYY-MM-DD")
    assert_unchanged(actions, session, before)
    assert before.flow is not None and before.flow["step"] == "await_date"


def test_a_date_not_offered_at_the_time_step_is_refused_without_leaving_it(
    actions: Actions,
) -> None:
    session = actions.session()
    dates, _ = to_slots(actions, session)
    sunday = next_weekday(acme_today(), 6).isoformat()
    before = snapshot(actions, session)
    for path in ("/get_time_slots", "/confirm_appointment"):
        extra = {"time": "10:00"} if path == "/confirm_appointment" else {}
        answer = actions.call(path, session, project_id=PROJECT, date=sunday, **extra)
        refused(answer, 400, f"{sunday} is not available")
        assert all(day in answer.error for day in dates.body["available_dates"])
    assert_unchanged(actions, session, before)
    assert before.flow is not None and before.flow["step"] == "await_slot"


def test_bad_times_are_400_with_a_sentence_and_change_nothing(actions: Actions) -> None:
    session = actions.session()
    _, slots = to_slots(actions, session)
    day = slots.body["date"]
    assert slots.body["available_times"] == ACME_TIMES
    before = snapshot(actions, session)
    for value in ("25:00", "10am", "9:00", "10:00:00", "", "ten", full_width("10:00")):
        answer = actions.call(
            "/confirm_appointment", session, project_id=PROJECT, date=day, time=value
        )
        refused(answer, 400, "HH:MM")
    answer = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day)
    refused(answer, 400, "HH:MM")
    # A well-formed time that is not free that day (acme has no 12:00 slot).
    answer = actions.call(
        "/confirm_appointment", session, project_id=PROJECT, date=day, time="12:00"
    )
    refused(answer, 400, f"12:00 is not free on {day}")
    assert all(t in answer.error for t in ACME_TIMES), answer.error
    assert_unchanged(actions, session, before)
    assert before.flow is not None and before.flow["step"] == "await_slot"


# --------------------------------------------------------------------------- agents call twice


def test_the_same_dates_and_the_same_date_twice_answer_the_same_in_one_execution(
    actions: Actions,
) -> None:
    session = actions.session()
    executions = actions.execution_count()
    first = to_dates(actions, session)
    again = to_dates(actions, session)
    assert again.body == first.body
    item = actions.flow_item(session)
    assert item is not None
    arn = item["execution_arn"]

    day = first.body["available_dates"][0]
    slots = actions.call("/get_time_slots", session, project_id=PROJECT, date=day)
    twice = actions.call("/get_time_slots", session, project_id=PROJECT, date=day)
    assert slots.status == twice.status == 200
    assert twice.body == slots.body
    assert slots.body["available_times"] == ACME_TIMES
    item = actions.flow_item(session)
    assert item is not None and item["execution_arn"] == arn
    assert actions.execution_count() == executions + 1
    assert entered(actions, arn, "AwaitDate") == 1
    assert entered(actions, arn, "AwaitSlot") == 1
    assert actions.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"


def test_a_full_conversation_books_once_and_confirm_twice_gives_the_same_confirmation(
    actions: Actions,
) -> None:
    bookings_on(actions)
    session = actions.session()
    listed = actions.call("/list_projects", session)
    assert listed.status == 200
    assert listed.body["projects"][0]["status"] == "Unscheduled"
    assert actions.call("/get_business_hours", session).status == 200
    _, slots = to_slots(actions, session)
    day, at = slots.body["date"], slots.body["available_times"][0]

    confirmed = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    assert confirmed.status == 200, confirmed.body
    assert confirmed.body["outcome"] == "booked"
    assert (confirmed.body["date"], confirmed.body["time"]) == (day, at)
    assert confirmed.body["test_mode"] is False
    assert confirmed.body["message"].startswith("Your appointment is booked for")
    assert confirmed.body["project_url"].endswith(f"/{PROJECT}")

    again = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    assert again.status == 200 and again.body == confirmed.body

    books = actions.ledger("book")
    assert len(books) == 1, books
    assert (books[0]["project_id"], books[0]["customer_id"]) == (PROJECT, "CUST001")
    assert (books[0]["date"], books[0]["time"]) == (day, at)
    item = actions.flow_item(session)
    assert item is not None and item["step"] == "done" and "task_token" not in item
    assert actions.ended(item["execution_arn"])["status"] == "SUCCEEDED"

    # Another time for the finished booking is refused, and books nothing.
    other = actions.call(
        "/confirm_appointment", session, project_id=PROJECT, date=day, time=ACME_TIMES[-1]
    )
    refused(other, 409, "is booked for", "available dates")
    listed = actions.call("/list_projects", session)
    assert listed.body["projects"][0]["status"] == "Scheduled"
    assert listed.body["projects"][0]["scheduled_date"] == day
    assert len(actions.ledger("book")) == 1


def test_confirm_in_test_mode_books_nothing_and_says_so(actions: Actions) -> None:
    session = actions.session()
    _, slots = to_slots(actions, session)
    day, at = slots.body["date"], slots.body["available_times"][0]
    # What a deploy with ConfirmScheduleFlag=0 gives the Book task (whatever the stack has).
    with function_variables(actions.stack, "BookFunction", CONFIRM_SCHEDULE_FLAG="0"):
        answer = actions.call(
            "/confirm_appointment", session, project_id=PROJECT, date=day, time=at
        )
    assert answer.status == 200, answer.body
    assert answer.body["outcome"] == "booked" and answer.body["test_mode"] is True
    assert "TEST MODE" in answer.body["message"] and "nothing was booked" in answer.body["message"]
    assert actions.ledger() == []


def test_an_expired_wait_is_a_clear_sentence_and_books_nothing(actions: Actions) -> None:
    session = actions.session()
    _, slots = to_slots(actions, session)
    day, at = slots.body["date"], slots.body["available_times"][0]
    parked = actions.flow_item(session)
    assert parked is not None
    actions.stack.clock.advance(1801)  # the engine's clock: the 30-minute wait times out
    # Every flow still waiting in this module expires too, and each ending is a Finish
    # invocation in its own (often new) execution environment: allow for a busy machine.
    deadline = time.monotonic() + 20
    item = parked
    while item.get("step") != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
        item = actions.flow_item(session) or {}
    assert item.get("outcome") == "expired", item
    answer = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    refused(answer, 409, "expired", "nothing was booked", "available dates")
    assert actions.ledger() == []
    # Asking again starts over with a new flow.
    again = to_dates(actions, session)
    assert again.body["available_dates"]
    restarted = actions.flow_item(session)
    assert restarted is not None and restarted["execution_arn"] != parked["execution_arn"]


# --------------------------------------------------------------------------- moving around


def test_dates_for_another_project_supersede_the_waiting_flow(actions: Actions) -> None:
    session = actions.session()
    to_dates(actions, session, PROJECT)
    first = actions.flow_item(session)
    assert first is not None
    other = to_dates(actions, session, SCHEDULED)  # rescheduling the scheduled one
    assert other.body["project_id"] == SCHEDULED
    second = actions.flow_item(session)
    assert second is not None and second["execution_arn"] != first["execution_arn"]

    ended = actions.ended(first["execution_arn"])
    assert ended["status"] == "SUCCEEDED"
    assert json.loads(ended["output"])["outcome"] == "superseded"
    # The dropped flow cannot be confirmed; the new one is untouched.
    day = other.body["available_dates"][0]
    answer = actions.call(
        "/confirm_appointment", session, project_id=PROJECT, date=day, time="10:00"
    )
    refused(answer, 409, "available dates")
    assert actions.flow_item(session) == second
    assert actions.ledger() == []


def test_asking_for_dates_again_at_the_time_step_goes_back_to_the_dates(actions: Actions) -> None:
    session = actions.session()
    dates, _ = to_slots(actions, session)
    offered = dates.body["available_dates"]
    arn = (actions.flow_item(session) or {})["execution_arn"]

    back = actions.call("/get_available_dates", session, project_id=PROJECT)
    assert back.status == 200, back.body
    assert back.body["step"] == "await_date"
    assert back.body["available_dates"] == offered
    assert offered[0] in back.body["message"]

    # Another date from the dates step, then another straight from the time step.
    second = actions.call("/get_time_slots", session, project_id=PROJECT, date=offered[1])
    assert second.status == 200 and second.body["date"] == offered[1]
    third = actions.call("/get_time_slots", session, project_id=PROJECT, date=offered[2])
    assert third.status == 200 and third.body["date"] == offered[2], third.body
    assert third.body["available_times"] == ACME_TIMES
    item = actions.flow_item(session)
    assert item is not None and item["execution_arn"] == arn
    assert actions.ledger() == []


def test_time_slots_without_asking_for_dates_first_start_the_flow(actions: Actions) -> None:
    session = actions.session()
    day = first_working_day()
    answer = actions.call("/get_time_slots", session, project_id=PROJECT, date=day)
    assert answer.status == 200, answer.body
    assert answer.body["step"] == "await_slot" and answer.body["date"] == day
    assert actions.flow_item(session) is not None


def test_an_action_this_group_does_not_have_is_404(actions: Actions) -> None:
    session = actions.session()
    before = snapshot(actions, session)
    for path in ("/get_project_details", "/book_everything"):
        refused(actions.call(path, session, project_id=PROJECT), 404, "isn't available")
    assert_unchanged(actions, session, before)


def test_confirm_without_a_flow_is_409_and_changes_nothing(actions: Actions) -> None:
    session = actions.session()
    before = snapshot(actions, session)
    answer = actions.call(
        "/confirm_appointment",
        session,
        project_id=PROJECT,
        date=first_working_day(),
        time="10:00",
    )
    refused(answer, 409, "available dates")
    assert_unchanged(actions, session, before)
    assert before.flow is None


# --------------------------------------------------------------------------- cancellation


def test_cancel_a_scheduled_project(actions: Actions) -> None:
    session = actions.session()
    answer = actions.call("/cancel_appointment", session, project_id=SCHEDULED)
    assert answer.status == 200, answer.body
    assert answer.body["outcome"] == "cancelled"
    assert answer.body["project_url"].endswith(f"/{SCHEDULED}")
    cancels = actions.ledger("cancel")
    if actions.flag("CancelScheduleFlag"):
        assert answer.body["test_mode"] is False
        assert "is cancelled" in answer.body["message"]
        assert [(c["project_id"], c["customer_id"]) for c in cancels] == [(SCHEDULED, "CUST001")]
        listed = actions.call("/list_projects", session)
        assert listed.body["projects"][1]["status"] == "Unscheduled"
    else:
        assert answer.body["test_mode"] is True and cancels == []
    assert actions.ledger("book") == []


@pytest.mark.parametrize("project_id", ["12345", "12347", "12348"])
def test_cancel_a_project_without_an_appointment_is_409_and_changes_nothing(
    actions: Actions, project_id: str
) -> None:
    session = actions.session()
    before = snapshot(actions, session)
    answer = actions.call("/cancel_appointment", session, project_id=project_id)
    refused(answer, 409, "no scheduled appointment")
    assert_unchanged(actions, session, before)


# --------------------------------------------------------------------------- PF360 faults


@pytest.mark.parametrize(
    ("path", "endpoint", "kind", "status", "answer_status", "phrase"),
    [
        pytest.param(
            "/list_projects", "dashboard", "status", 503, 503, "temporarily unavailable", id="503"
        ),
        pytest.param("/list_projects", "dashboard", "status", 401, 401, "sign in again", id="401"),
        pytest.param(
            "/list_projects", "dashboard", "timeout", None, 503, "taking too long", id="timeout"
        ),
        pytest.param("/list_projects", "dashboard", "status", 429, 503, "busy", id="429"),
        pytest.param(
            "/get_business_hours", "business_hours", "status", 500, 503, "unavailable", id="hours"
        ),
        pytest.param(
            "/get_available_dates", "dashboard", "status", 503, 503, "unavailable", id="dates-dash"
        ),
        pytest.param(
            "/cancel_appointment", "dashboard", "status", 401, 401, "sign in again", id="cancel"
        ),
    ],
)
def test_a_pf360_fault_on_a_read_is_a_customer_sentence(
    actions: Actions,
    path: str,
    endpoint: str,
    kind: str,
    status: int | None,
    answer_status: int,
    phrase: str,
) -> None:
    session = actions.session()
    before = snapshot(actions, session)
    delay = 1500 if kind == "timeout" else None  # > the stack's 1 s PF360 timeout
    actions.sandbox.add_fault(endpoint, kind, status=status, delay_ms=delay)
    params = project_params(path, SCHEDULED if path == "/cancel_appointment" else PROJECT)
    refused(actions.call(path, session, **params), answer_status, phrase)
    assert_unchanged(actions, session, before)
    assert actions.sandbox.faults() == []  # one call, no blind retry
    # The next call, without the fault, works.
    assert actions.call("/list_projects", session).status == 200


@pytest.mark.parametrize(
    ("status", "count", "answer_status", "phrase", "code"),
    [
        pytest.param(401, 1, 401, "sign in again", "PF360_AUTH", id="401"),
        pytest.param(503, 10, 503, "unavailable", "PF360_UNAVAILABLE", id="503-persistent"),
    ],
)
def test_a_pf360_fault_while_fetching_dates_ends_the_flow_with_a_sentence(
    actions: Actions, status: int, count: int, answer_status: int, phrase: str, code: str
) -> None:
    session = actions.session()
    actions.sandbox.add_fault("dates", "status", status=status, count=count)
    answer = actions.call("/get_available_dates", session, project_id=PROJECT)
    refused(answer, answer_status, phrase)
    item = actions.flow_item(session)
    assert item is not None and item["step"] == "done" and item["outcome"] == "failed"
    ended = actions.ended(item["execution_arn"])
    assert (ended["status"], ended["error"]) == ("FAILED", code)
    assert actions.ledger() == []


def test_a_persistent_schedule_fault_at_confirm_is_503_and_books_nothing(
    actions: Actions,
) -> None:
    bookings_on(actions)
    session = actions.session()
    _, slots = to_slots(actions, session)
    day, at = slots.body["date"], slots.body["available_times"][0]
    actions.sandbox.add_fault("schedule", "status", status=503, count=10)
    answer = actions.call("/confirm_appointment", session, project_id=PROJECT, date=day, time=at)
    refused(answer, 503, "unavailable")
    assert actions.ledger() == []
    item = actions.flow_item(session)
    assert item is not None and item["outcome"] == "failed"
    ended = actions.ended(item["execution_arn"])
    assert (ended["status"], ended["error"]) == ("FAILED", "PF360_UNAVAILABLE")
    listed = actions.call("/list_projects", session)
    assert listed.body["projects"][0]["status"] == "Unscheduled"


def test_a_pf360_reply_is_never_answered_as_a_success_whatever_its_raw_status() -> None:
    """A 200 reply with an error body, or an unreadable 2xx, still answers as a failure."""

    def fails(error: Exception) -> Any:
        def call() -> None:
            raise error

        return call

    with pytest.raises(errors.ActionError) as caught:
        common.pf360_call(fails(PF360MalformedResponse("not JSON", endpoint="x", status=200)))
    assert caught.value.status == 502
    with pytest.raises(errors.ActionError) as caught:
        common.pf360_call(fails(PF360Unauthorized("error body", endpoint="x", status=200)))
    assert caught.value.status == 401


# --------------------------------------------------------------------------- secrets (keep last)


def test_no_auth_token_or_task_token_in_any_answer_or_log_of_this_module(logs: Logs) -> None:
    logs.read()
    text = "\n".join(LOGS[MODULE_START["logs"] :])
    answers = "\n".join(RESPONSES[MODULE_START["responses"] :])
    task_tokens = set(TASK_TOKENS[MODULE_START["tokens"] :])
    records = log_records(text)
    assert MINTED_TOKENS and task_tokens and answers
    # The capture really holds the functions' logs: the bridge's and the tasks'.
    services = {r.get("service") for r in records}
    assert {"pf360-scheduler-bridge", "pf360-scheduler-tasks"} <= services, services
    assert any(r.get("security_event") == errors.TENANT_MISMATCH for r in records)
    assert any(r.get("message") == "parked" for r in records)
    for where, haystack in (("logs", text), ("answers", answers)):
        leaked = [t[:12] for t in MINTED_TOKENS if t in haystack]
        assert leaked == [], f"customer tokens in {where}: {leaked}"
        leaked = [t[:12] for t in task_tokens if t in haystack]
        assert leaked == [], f"task tokens in {where}: {leaked}"
        assert not JWT_PATTERN.search(haystack), where
        assert "bearer" not in haystack.lower(), where
