"""Unknown outcomes as plain functions: Book/Cancel raise *Unknown when the dashboard cannot
settle a lost answer, and each recheck ends with the truth or waits (no AWS, no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from agent_bridge.actions.events import problem_with
from tasks import booking, cancellation, verification
from tasks.flow_errors import (
    BOOKING_NOT_MADE,
    BOOKING_UNVERIFIED,
    CANCEL_NOT_MADE,
    CANCEL_UNVERIFIED,
    BookingUnknown,
    CancelUnknown,
)
from tasks.pf360 import MockPF360Client, MockStore, PF360ConnectionError, PF360ServerError
from tests.unit.test_booking_steps import TODAY, LosesTheAnswer, flow_for, offered


class DashboardDown(LosesTheAnswer):
    """The answer of every write is lost, and the dashboard fails while `down` is True."""

    down = True

    def list_projects(self, customer_id: str) -> Any:
        if self.down:
            raise PF360ServerError("down", endpoint="dashboard", status=503)
        return super().list_projects(customer_id)

    def cancel(self, project_id: str) -> str:
        if self.commit:
            super().cancel(project_id)
        raise PF360ConnectionError("dropped", endpoint="cancel")


def down_api() -> DashboardDown:
    return DashboardDown("acme-corp", store=MockStore(clock=lambda: TODAY))


def test_a_lost_booking_answer_with_the_dashboard_down_is_unknown_not_failed() -> None:
    api = down_api()
    api.down = False
    flow = flow_for(api)
    state = offered(api, flow)
    api.down = True
    with pytest.raises(BookingUnknown):
        booking.book(api, flow, state, {"time": "10:00"}, confirm=True)
    assert len(api.store.bookings) == 1  # PF360 has it: never "try again"


def test_a_retry_whose_dashboard_read_fails_is_unknown() -> None:
    api = down_api()
    api.down = False
    flow = flow_for(api)
    state = offered(api, flow)
    api.down = True
    with pytest.raises(BookingUnknown):
        booking.book(api, flow, state, {"time": "10:00"}, confirm=True, attempt=1)


def test_rechecks_wait_then_settle_booked() -> None:
    api = down_api()
    api.down = False
    flow = flow_for(api)
    state = offered(api, flow)
    api.down = True
    with pytest.raises(BookingUnknown):  # committed, answer lost, dashboard down
        booking.book(api, flow, state, {"time": "10:00"}, confirm=True)
    first = verification.recheck_booking(api, flow, state["date"], "10:00", checks=1)
    assert first == {
        "settled": False,
        "redo": False,
        "redos": 0,
        "checks": 1,
        "wait_seconds": verification.RECHECK_WAITS[0],
    }
    api.down = False
    settled = verification.recheck_booking(api, flow, state["date"], "10:00", checks=2)
    assert settled["settled"] is True and settled["outcome"] == "booked"
    assert settled["message"].startswith("Your appointment is booked for")
    assert len(api.store.bookings) == 1


def test_nothing_booked_is_redone_once_then_the_final_answer() -> None:
    api = down_api()
    api.down = False
    flow = flow_for(api)
    day = offered(api, flow)["date"]
    redo = verification.recheck_booking(api, flow, day, "10:00", checks=1)
    assert (redo["settled"], redo["redo"], redo["redos"]) == (False, True, 1)
    with pytest.raises(BOOKING_NOT_MADE, match="did not go through"):
        verification.recheck_booking(api, flow, day, "10:00", checks=2, redos=1)


def test_a_dashboard_down_for_the_whole_schedule_ends_unverified_with_a_sentence() -> None:
    api = down_api()
    api.down = False
    flow = flow_for(api)
    api.down = True
    last = len(verification.RECHECK_WAITS)
    assert verification.recheck_booking(api, flow, "2026-03-03", "10:00", last)["settled"] is False
    with pytest.raises(BOOKING_UNVERIFIED, match="check your project list"):
        verification.recheck_booking(api, flow, "2026-03-03", "10:00", last + 1)


def test_a_cancel_accepted_is_cancelled_when_verification_cannot_read() -> None:
    api = down_api()
    api.down = False
    flow = flow_for(api, "Scheduled")
    result = {"outcome": "cancelled", "test_mode": False, "message": "Your appointment ..."}
    api.down = True
    verified = cancellation.verify(api, flow, result)
    assert verified["outcome"] == "cancelled" and verified["verified"] is False
    assert verified["verification_error"] == "PF360_UNAVAILABLE"


def test_a_lost_cancel_answer_with_the_dashboard_down_is_unknown_then_rechecked() -> None:
    api = down_api()
    api.down = False
    flow = flow_for(api, "Scheduled")
    real_list = MockPF360Client.list_projects
    reads = {"n": 0}

    def first_read_only(self: Any, customer_id: str) -> Any:
        reads["n"] += 1
        if reads["n"] > 1:
            raise PF360ServerError("down", endpoint="dashboard", status=503)
        return real_list(self, customer_id)

    api.list_projects = first_read_only.__get__(api)  # type: ignore[method-assign]
    with pytest.raises(CancelUnknown):
        cancellation.cancel(api, flow, confirm=True)
    assert verification.recheck_cancellation(api, flow, "", checks=1)["settled"] is False
    api.list_projects = real_list.__get__(api)  # type: ignore[method-assign]
    done = verification.recheck_cancellation(api, flow, "", checks=2)
    assert done["settled"] is True and done["outcome"] == "cancelled"


def test_a_cancel_that_did_not_happen_is_redone_once_then_refused() -> None:
    api = down_api()
    api.down = False
    flow = flow_for(api, "Scheduled")
    assert verification.recheck_cancellation(api, flow, "", checks=1)["redo"] is True
    with pytest.raises(CANCEL_NOT_MADE):
        verification.recheck_cancellation(api, flow, "", checks=2, redos=1)
    api.down = True
    with pytest.raises(CANCEL_UNVERIFIED):
        verification.recheck_cancellation(api, flow, "", len(verification.RECHECK_WAITS) + 1)


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        {},
        "text",
        3,
        {"messageVersion": "1.0", "apiPath": "/x", "httpMethod": "POST"},
        {"messageVersion": "1.1", "apiPath": "/x", "httpMethod": "POST", "actionGroup": "g"},
        {
            "messageVersion": "1.0",
            "apiPath": "/x",
            "httpMethod": "POST",
            "actionGroup": "g",
            "parameters": {"a": 1},
        },
        {
            "messageVersion": "1.0",
            "apiPath": "/x",
            "httpMethod": "POST",
            "actionGroup": "g",
            "parameters": [{"name": "a", "value": {"nested": 1}}],
        },
    ],
)
def test_events_that_are_not_action_group_events_have_a_problem(event: Any) -> None:
    problem = problem_with(event)
    assert problem and problem.endswith(".")


def test_a_valid_event_has_no_problem() -> None:
    event = {
        "messageVersion": "1.0",
        "apiPath": "/list_projects",
        "httpMethod": "POST",
        "actionGroup": "scheduling-actions",
        "parameters": [{"name": "project_id", "type": "string", "value": "12345"}],
        "sessionAttributes": {"session_id": "s"},
    }
    assert problem_with(event) is None
