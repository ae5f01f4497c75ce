"""The booking and cancellation steps as plain functions, over the mock PF360 client.

No network, no state machine: what each task decides, given what PF360 answers. Small
fakes wrap the mock where PF360 must misbehave (an expired request_id, a lost answer).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tasks import booking, cancellation
from tasks.flow_errors import (
    CANCEL_UNVERIFIED,
    PF360_AUTH,
    PF360_NOT_FOUND,
    PF360_RATE_LIMITED,
    PF360_UNAVAILABLE,
    SLOT_GONE,
    AnotherDateRequested,
    DateNotOffered,
    NoAvailability,
    NoSlotsOnDate,
    SlotTaken,
    TimeNotOffered,
    message_in_cause,
    operator_in_cause,
)
from tasks.flow_input import FlowInput, Replay, Tenant
from tasks.handlers.finish import EXPIRED_MESSAGE, INTERNAL_MESSAGE, decide
from tasks.pf360 import (
    MockPF360Client,
    MockStore,
    PF360ConnectionError,
    PF360RateLimited,
    PF360RequestExpired,
    PF360Unauthorized,
    ScheduleResult,
)
from tasks.pf360.mock import SLOT_TIMES

TODAY = date(2026, 3, 2)  # a Monday
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York, the same day
CUSTOMER = "CUST001"


def working_days_after(day: date, count: int) -> list[str]:
    days: list[str] = []
    current = day
    while len(days) < count:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days.append(current.isoformat())
    return days


@pytest.fixture
def api() -> MockPF360Client:
    return MockPF360Client("acme-corp", store=MockStore(clock=lambda: TODAY))


def project_ids(api: MockPF360Client) -> dict[str, str]:
    """The mock's canned projects for CUSTOMER, by status."""
    return {p.status or "": p.project_id for p in api.list_projects(CUSTOMER)}


def flow_for(
    api: MockPF360Client, status: str = "Unscheduled", replay: Replay | None = None
) -> FlowInput:
    return FlowInput(
        session_id="s-1",
        flow_id="f-1",
        tenant=Tenant("acme-corp", "acme-corp", "dev", "America/New_York"),
        customer_id=CUSTOMER,
        project_id=project_ids(api)[status],
        replay=replay,
    )


def take_every_slot(api: MockPF360Client, days: list[str]) -> None:
    api.store.taken.update(("acme-corp", day, slot) for day in days for slot in SLOT_TIMES)


# --------------------------------------------------------------------------- tenant_today


@pytest.mark.parametrize(
    ("instant", "new_york", "auckland"),
    [
        # 12:00 UTC: 07:00 in New York, 01:00 the next day in Auckland (NZDT, UTC+13).
        (datetime(2026, 1, 15, 12, 0, tzinfo=UTC), "2026-01-15", "2026-01-16"),
        # 03:00 UTC: 22:00 the day before in New York, 16:00 in Auckland.
        (datetime(2026, 1, 15, 3, 0, tzinfo=UTC), "2026-01-14", "2026-01-15"),
        # Naive instants are UTC, never the server's local time.
        (datetime(2026, 7, 1, 11, 30), "2026-07-01", "2026-07-01"),
    ],
)
def test_tenant_today_is_the_date_where_the_tenant_is(
    instant: datetime, new_york: str, auckland: str
) -> None:
    assert booking.tenant_today("America/New_York", instant) == new_york
    assert booking.tenant_today("Pacific/Auckland", instant) == auckland


# --------------------------------------------------------------------------- fetch_dates


def test_fetch_dates_offers_dates_from_tenant_today_with_a_request_id(
    api: MockPF360Client,
) -> None:
    flow = flow_for(api)
    state = booking.fetch_dates(api, flow, now=NOW)
    assert state["dates"] == working_days_after(TODAY, 5)
    assert state["request_id"].startswith("mock_req_")
    assert (state["date"], state["times"], state["notice"]) == (None, [], None)


def test_fetch_dates_asks_from_the_tenant_date_not_utc(api: MockPF360Client) -> None:
    """At 02:00 UTC on Tuesday it is still Monday in New York: Tuesday is offered."""
    flow = flow_for(api)
    tuesday_2am_utc = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    state = booking.fetch_dates(api, flow, now=tuesday_2am_utc)
    assert state["dates"][0] == "2026-03-03"


def test_fetch_dates_with_no_dates_raises_no_availability(api: MockPF360Client) -> None:
    flow = flow_for(api)
    take_every_slot(api, working_days_after(TODAY, 15))
    with pytest.raises(NoAvailability):
        booking.fetch_dates(api, flow, now=NOW)


def test_fetch_dates_turns_pf360_errors_into_flow_errors() -> None:
    class Unauthorized(MockPF360Client):
        def get_available_dates(self, project_id: str, today: date | str) -> Any:
            raise PF360Unauthorized("token expired", endpoint="dates", status=401)

    api = Unauthorized("acme-corp", store=MockStore(clock=lambda: TODAY))
    with pytest.raises(PF360_AUTH) as raised:
        booking.fetch_dates(api, flow_for(api), now=NOW)
    assert raised.value.message == "Your session has expired; please sign in again."
    # The operator cause rides behind the sentence; the customer's reader drops it.
    assert raised.value.operator == {
        "code": "PF360_AUTH",
        "endpoint": "dates",
        "status": 401,
        "detail": "token expired",
    }
    payload = json.dumps({"errorMessage": str(raised.value), "errorType": "PF360_AUTH"})
    assert message_in_cause(payload) == "Your session has expired; please sign in again."
    assert operator_in_cause(payload) == raised.value.operator


# --------------------------------------------------------------------------- fetch_slots


def test_fetch_slots_offers_the_free_times_of_the_chosen_date(api: MockPF360Client) -> None:
    flow = flow_for(api)
    state = booking.fetch_dates(api, flow, now=NOW)
    day = state["dates"][1]
    api.store.taken.add(("acme-corp", day, "10:00"))
    slots = booking.fetch_slots(api, flow, state, {"date": day}, now=NOW)
    assert slots["date"] == day
    assert slots["times"] == [t for t in SLOT_TIMES if t != "10:00"]
    assert slots["request_id"] == state["request_id"]
    assert slots["dates"] == state["dates"]


@pytest.mark.parametrize("answer", [{"date": "2026-03-07"}, {"date": None}, {}])
def test_fetch_slots_refuses_a_date_not_offered(
    api: MockPF360Client, answer: dict[str, Any]
) -> None:
    flow = flow_for(api)
    state = booking.fetch_dates(api, flow, now=NOW)
    with pytest.raises(DateNotOffered) as raised:
        booking.fetch_slots(api, flow, state, answer, now=NOW)
    assert "please pick one of: " + ", ".join(state["dates"]) in str(raised.value)


def test_fetch_slots_with_no_free_time_that_day_raises_no_slots(api: MockPF360Client) -> None:
    flow = flow_for(api)
    state = booking.fetch_dates(api, flow, now=NOW)
    day = state["dates"][0]
    take_every_slot(api, [day])  # someone took the last times after the offer
    with pytest.raises(NoSlotsOnDate, match=f"no free times on {day}"):
        booking.fetch_slots(api, flow, state, {"date": day}, now=NOW)


def test_fetch_slots_tells_the_notice_of_its_visit_once(api: MockPF360Client) -> None:
    """A notice that comes with AwaitSlot's visit (from Book) prefixes the offer; the flow the
    wait continues with carries none (and no stale answer)."""
    flow = flow_for(api)
    state = booking.fetch_dates(api, flow, now=NOW)
    taken = {"Error": "SlotTaken", "Cause": json.dumps({"errorMessage": "10:00 was just taken."})}
    kept = booking.fetch_slots(
        api,
        flow,
        {**state, "notice": taken, "answer": {"time": "10:00"}},
        {"date": state["dates"][0]},
    )
    assert kept["notice"] == taken and "answer" not in kept
    _, message = booking.describe_offer("await_slot", kept)
    assert message.startswith("10:00 was just taken. Free times on")
    carried = booking.carried_flow(kept)
    assert carried == {
        "request_id": kept["request_id"],
        "dates": kept["dates"],
        "date": kept["date"],
        "times": kept["times"],
        "notice": None,
    }


class ExpiresOnce(MockPF360Client):
    """The first `expiring` call answers 410, as PF360 does once a request_id is 900 s old."""

    expiring = "slots"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expired_calls: list[str] = []

    def _expire_once(self, name: str) -> None:
        if name == self.expiring and not self.expired_calls:
            self.expired_calls.append(name)
            raise PF360RequestExpired("expired", endpoint=name, status=410)

    def get_time_slots(self, project_id: str, day: date | str, request_id: str) -> list[str]:
        self._expire_once("slots")
        return super().get_time_slots(project_id, day, request_id)

    def schedule(self, *args: Any, **kwargs: Any) -> ScheduleResult:
        self._expire_once("schedule")
        return super().schedule(*args, **kwargs)


def test_fetch_slots_renews_an_expired_request_id() -> None:
    api = ExpiresOnce("acme-corp", store=MockStore(clock=lambda: TODAY))
    flow = flow_for(api)
    state = booking.fetch_dates(api, flow, now=NOW)
    slots = booking.fetch_slots(api, flow, state, {"date": state["dates"][0]}, now=NOW)
    assert api.expired_calls == ["slots"]
    assert slots["request_id"] != state["request_id"]
    assert slots["times"] == list(SLOT_TIMES)


# --------------------------------------------------------------------------- book


def offered(api: MockPF360Client, flow: FlowInput, index: int = 0) -> dict[str, Any]:
    state = booking.fetch_dates(api, flow, now=NOW)
    return booking.fetch_slots(api, flow, state, {"date": state["dates"][index]}, now=NOW)


def test_book_books_the_chosen_time_once(api: MockPF360Client) -> None:
    flow = flow_for(api)
    state = offered(api, flow)
    outcome = booking.book(api, flow, state, {"time": "13:00"}, confirm=True, now=NOW)
    assert outcome.to_dict()["outcome"] == "booked"
    assert (outcome.date, outcome.time, outcome.test_mode) == (state["date"], "13:00", False)
    assert outcome.message.startswith("Your appointment is booked for")
    assert outcome.message.endswith("at 1:00 PM.")
    assert [(b["date"], b["time"]) for b in api.store.bookings] == [(state["date"], "13:00")]


@pytest.mark.parametrize("answer", [{"time": "12:00"}, {"time": None}, {"date": "2026-03-04"}])
def test_book_refuses_a_time_not_offered(api: MockPF360Client, answer: dict[str, Any]) -> None:
    flow = flow_for(api)
    state = offered(api, flow)
    with pytest.raises(TimeNotOffered, match="please pick one of: 08:00, 09:00"):
        booking.book(api, flow, state, answer, confirm=True)
    assert api.store.bookings == []


def test_book_hands_another_date_back_to_the_date_step(api: MockPF360Client) -> None:
    flow = flow_for(api)
    state = offered(api, flow)
    with pytest.raises(AnotherDateRequested):
        booking.book(api, flow, state, {"another_date": True, "time": "08:00"}, confirm=True)
    assert api.store.bookings == []


def test_book_in_test_mode_books_nothing_and_says_so(api: MockPF360Client) -> None:
    flow = flow_for(api)
    state = offered(api, flow)
    outcome = booking.book(api, flow, state, {"time": "08:00"}, confirm=False)
    assert outcome.test_mode is True
    assert outcome.message.startswith("TEST MODE: nothing was booked.")
    assert outcome.to_dict()["test_mode"] is True
    assert api.store.bookings == []


def test_a_retry_finds_its_own_booking_and_does_not_post_again(api: MockPF360Client) -> None:
    flow = flow_for(api)
    state = offered(api, flow)
    booking.book(api, flow, state, {"time": "09:00"}, confirm=True)
    again = booking.book(api, flow, state, {"time": "09:00"}, confirm=True, attempt=1)
    assert again.verified_after_ambiguity is True
    assert len(api.store.bookings) == 1


def test_a_slot_taken_by_someone_else_sends_the_customer_back_to_the_times(
    api: MockPF360Client,
) -> None:
    flow = flow_for(api)
    state = offered(api, flow)
    api.store.taken.add(("acme-corp", state["date"], "09:00"))
    with pytest.raises(SlotTaken, match="was just taken"):
        booking.book(api, flow, state, {"time": "09:00"}, confirm=True)
    assert api.store.bookings == []


class LosesTheAnswer(MockPF360Client):
    """schedule commits (or not), then the connection drops: the answer is lost."""

    commit = True

    def schedule(self, *args: Any, **kwargs: Any) -> ScheduleResult:
        if self.commit:
            super().schedule(*args, **kwargs)
        raise PF360ConnectionError("connection dropped", endpoint="schedule")


def test_a_lost_answer_is_settled_by_the_dashboard() -> None:
    api = LosesTheAnswer("acme-corp", store=MockStore(clock=lambda: TODAY))
    flow = flow_for(api)
    state = offered(api, flow)
    outcome = booking.book(api, flow, state, {"time": "10:00"}, confirm=True)
    assert outcome.verified_after_ambiguity is True
    assert len(api.store.bookings) == 1


def test_a_lost_answer_that_did_not_commit_is_retried_by_the_state_machine() -> None:
    api = LosesTheAnswer("acme-corp", store=MockStore(clock=lambda: TODAY))
    api.commit = False
    flow = flow_for(api)
    state = offered(api, flow)
    with pytest.raises(PF360_UNAVAILABLE):
        booking.book(api, flow, state, {"time": "10:00"}, confirm=True)
    assert api.store.bookings == []


def test_a_rate_limited_booking_is_not_ambiguous() -> None:
    class RateLimited(MockPF360Client):
        dashboard_reads = 0

        def list_projects(self, customer_id: str) -> Any:
            self.dashboard_reads += 1
            return super().list_projects(customer_id)

        def schedule(self, *args: Any, **kwargs: Any) -> ScheduleResult:
            raise PF360RateLimited("slow down", endpoint="schedule", status=429)

    api = RateLimited("acme-corp", store=MockStore(clock=lambda: TODAY))
    flow = flow_for(api)
    state = offered(api, flow)
    reads = api.dashboard_reads
    with pytest.raises(PF360_RATE_LIMITED):
        booking.book(api, flow, state, {"time": "10:00"}, confirm=True)
    assert api.dashboard_reads == reads  # a 429 never committed: no dashboard check


def test_book_renews_an_expired_request_id_and_books_once() -> None:
    api = ExpiresOnce("acme-corp", store=MockStore(clock=lambda: TODAY))
    api.expiring = "schedule"
    flow = flow_for(api)
    slots = offered(api, flow)
    outcome = booking.book(api, flow, slots, {"time": "11:00"}, confirm=True, now=NOW)
    assert api.expired_calls == ["schedule"]
    assert outcome.request_id_renewed is True
    assert [(b["date"], b["time"]) for b in api.store.bookings] == [(slots["date"], "11:00")]


# --------------------------------------------------------------------------- replay


def test_replay_books_the_recorded_choice(api: MockPF360Client) -> None:
    day = working_days_after(TODAY, 3)[-1]
    flow = flow_for(api, replay=Replay(day, "14:00", "arn:failed"))
    outcome = booking.replay(api, flow, confirm=True, now=NOW)
    assert (outcome.date, outcome.time, outcome.already_booked) == (day, "14:00", False)
    assert [(b["date"], b["time"]) for b in api.store.bookings] == [(day, "14:00")]


def test_replay_of_an_already_booked_choice_books_nothing(api: MockPF360Client) -> None:
    day = working_days_after(TODAY, 3)[-1]
    flow = flow_for(api, replay=Replay(day, "14:00", "arn:failed"))
    booking.replay(api, flow, confirm=True, now=NOW)
    again = booking.replay(api, flow, confirm=True, now=NOW)
    assert again.already_booked is True
    assert again.message.startswith("Already booked:")
    assert len(api.store.bookings) == 1


@pytest.mark.parametrize("gone", ["time", "date"])
def test_replay_of_a_vanished_slot_is_slot_gone(api: MockPF360Client, gone: str) -> None:
    day = working_days_after(TODAY, 2)[-1]
    if gone == "time":
        api.store.taken.add(("acme-corp", day, "14:00"))
    else:
        day = "2026-03-07"  # a Saturday: never offered
    flow = flow_for(api, replay=Replay(day, "14:00", "arn:failed"))
    with pytest.raises(SLOT_GONE, match="no longer"):
        booking.replay(api, flow, confirm=True, now=NOW)
    assert api.store.bookings == []


# --------------------------------------------------------------------------- offers


def test_describe_offer_puts_the_notice_first() -> None:
    notice = {
        "Error": "NoSlotsOnDate",
        "Cause": json.dumps({"errorMessage": "There are no free times on 2026-03-03."}),
    }
    offer, message = booking.describe_offer(
        "await_date", {"dates": ["2026-03-04"], "notice": notice}
    )
    assert offer == {"dates": ["2026-03-04"]}
    assert message == (
        "There are no free times on 2026-03-03. Which date works for you? Available: 2026-03-04."
    )
    offer, message = booking.describe_offer(
        "await_slot",
        {"date": "2026-03-04", "times": ["08:00"], "dates": ["2026-03-04"], "notice": None},
    )
    assert offer == {"date": "2026-03-04", "times": ["08:00"], "dates": ["2026-03-04"]}
    assert message == "Free times on 2026-03-04: 08:00. Which time works, or another date?"


# --------------------------------------------------------------------------- finish.decide


def cause(message: str, error_type: str = "X") -> str:
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": []})


@pytest.mark.parametrize(
    ("ending", "expected"),
    [
        (
            {"Error": "States.Timeout", "Cause": ""},
            {"outcome": "expired", "message": EXPIRED_MESSAGE},
        ),
        (
            {"Error": "Superseded", "Cause": "You started a new booking."},
            {"outcome": "superseded", "message": "You started a new booking."},
        ),
        (
            {"Error": "Superseded"},
            {"outcome": "superseded", "message": "This booking was replaced by a newer one."},
        ),
        (
            {"Error": "NoAvailability", "Cause": cause("No dates right now.")},
            {"outcome": "no_availability", "message": "No dates right now."},
        ),
        (
            {"Error": "PF360_AUTH", "Cause": cause("Please sign in again.")},
            {
                "outcome": "failed",
                "error": "PF360_AUTH",
                "cause": "Please sign in again.",
                "message": "Please sign in again.",
            },
        ),
        (
            {"Error": "SLOT_GONE", "Cause": "not json"},
            {
                "outcome": "failed",
                "error": "SLOT_GONE",
                "cause": "not json",
                "message": "not json",
            },
        ),
        (
            {"Error": "Sandbox.Timedout", "Cause": cause("Task timed out")},
            {
                "outcome": "failed",
                "error": "TASK_TIMEOUT",
                "cause": "Sandbox.Timedout: Task timed out",
                "message": INTERNAL_MESSAGE,
            },
        ),
        (
            {"Error": "KeyError", "Cause": cause("'flow'")},
            {
                "outcome": "failed",
                "error": "INTERNAL_ERROR",
                "cause": "KeyError: 'flow'",
                "message": INTERNAL_MESSAGE,
            },
        ),
        (
            {},
            {
                "outcome": "failed",
                "error": "INTERNAL_ERROR",
                "cause": "States.Runtime: ",
                "message": INTERNAL_MESSAGE,
            },
        ),
    ],
)
def test_finish_decides_the_outcome_of_every_ending(
    ending: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert decide(ending) == expected


def test_finish_never_repeats_a_credential_from_a_cause() -> None:
    leaky = cause("PF360 said: authorization: Bearer eyJhbGciOi.eyJzdWIiOiJ4In0.c2ln rejected")
    result = decide({"Error": "PF360_AUTH", "Cause": leaky})
    assert "eyJ" not in json.dumps(result)
    assert "[redacted]" in result["message"]


# --------------------------------------------------------------------------- cancellation


def test_cancel_a_scheduled_project(api: MockPF360Client) -> None:
    flow = flow_for(api, "Scheduled")
    result = cancellation.cancel(api, flow, confirm=True)
    assert result["outcome"] == "cancelled"
    assert result["verified_after_ambiguity"] is False
    day = working_days_after(TODAY, 7)[-1]
    assert result["message"] == f"Your appointment on {day} 08:00-10:00 is cancelled."
    assert cancellation.verify(api, flow, result)["verified"] is True


def test_cancel_with_nothing_scheduled(api: MockPF360Client) -> None:
    flow = flow_for(api, "Unscheduled")
    result = cancellation.cancel(api, flow, confirm=True)
    assert result["outcome"] == "nothing_to_cancel"
    assert cancellation.verify(api, flow, result)["verified"] is False


def test_cancel_in_test_mode_cancels_nothing(api: MockPF360Client) -> None:
    flow = flow_for(api, "Scheduled")
    result = cancellation.cancel(api, flow, confirm=False)
    assert result["test_mode"] is True
    assert result["message"].startswith("TEST MODE: nothing was cancelled.")
    assert project_ids(api).get("Scheduled") == flow.project_id  # still scheduled
    assert cancellation.verify(api, flow, result)["verified"] is False


def test_a_cancel_retry_that_finds_no_appointment_names_none(api: MockPF360Client) -> None:
    """It cannot know whether the earlier attempt cancelled; it says nothing false."""
    flow = flow_for(api, "Unscheduled")
    result = cancellation.cancel(api, flow, confirm=True, attempt=1)
    assert result["outcome"] == "cancelled"
    assert result["verified_after_ambiguity"] is True
    assert "None" not in result["message"]
    assert result["message"] == (
        "This project has no scheduled appointment any more, so there is nothing left to cancel."
    )


def test_a_cancel_whose_answer_is_lost_is_settled_by_the_dashboard() -> None:
    class Drops(MockPF360Client):
        def cancel(self, project_id: str) -> str:
            super().cancel(project_id)
            raise PF360ConnectionError("dropped", endpoint="cancel")

    api = Drops("acme-corp", store=MockStore(clock=lambda: TODAY))
    flow = flow_for(api, "Scheduled")
    result = cancellation.cancel(api, flow, confirm=True)
    assert (result["outcome"], result["verified_after_ambiguity"]) == ("cancelled", True)


def test_a_cancel_the_dashboard_does_not_confirm_is_unverified(api: MockPF360Client) -> None:
    flow = flow_for(api, "Scheduled")
    with pytest.raises(CANCEL_UNVERIFIED):
        cancellation.verify(api, flow, {"outcome": "cancelled", "test_mode": False})


def test_cancel_of_a_project_not_on_the_dashboard_is_not_found(api: MockPF360Client) -> None:
    flow = flow_for(api, "Scheduled")
    stranger = FlowInput(
        flow.session_id, flow.flow_id, flow.tenant, flow.customer_id, "99999", None
    )
    with pytest.raises(PF360_NOT_FOUND):
        cancellation.cancel(api, stranger, confirm=True)
