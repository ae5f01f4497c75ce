"""The booking steps as plain functions over a PF360 client: what each task Lambda does.

The handlers in tasks/handlers/ only translate events; everything that decides lives here,
so unit tests reach it without a state machine and the ASL stays a readable map of turns.

Execution state (`$.flow`) from AwaitDate on: `{request_id, dates, date, times, notice,
answer}`. The waiting task publishes it (without notice and answer) with its task token in the
checkpoint, and the bridge resumes the wait with it plus the customer's `answer`, so that
`request_id` stays in the execution's state: never in a session row, never shown to the
customer (the flows table holds it only while the flow waits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytz

from tasks.flow_errors import (
    BOOKING_UNVERIFIED,
    SLOT_GONE,
    AnotherDateRequested,
    BookingUnknown,
    DateNotOffered,
    FlowError,
    NoAvailability,
    NoSlotsOnDate,
    SlotTaken,
    TimeNotOffered,
    from_pf360,
    message_in_cause,
)
from tasks.flow_input import FlowInput
from tasks.pf360 import PF360Api, PF360Conflict, PF360Error, PF360RequestExpired, Project

SCHEDULED = "scheduled"


def tenant_today(timezone: str, now: datetime | None = None) -> str:
    """Today's date where the tenant is: the date PF360 offers availability from."""
    moment = now or datetime.now(pytz.utc)
    if moment.tzinfo is None:
        moment = pytz.utc.localize(moment)
    return moment.astimezone(pytz.timezone(timezone)).date().isoformat()


def call_pf360(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a client call, turning its typed error into the flow error the ASL routes on."""
    try:
        return call(*args, **kwargs)
    except PF360Error as error:
        raise from_pf360(error) from None


def fetch_dates(api: PF360Api, flow: FlowInput, *, now: datetime | None = None) -> dict[str, Any]:
    """FetchDates: the offer of dates and the `request_id` that the next calls need."""
    today = tenant_today(flow.tenant.timezone, now)
    offer = call_pf360(api.get_available_dates, flow.project_id, today)
    if not offer.dates:
        raise NoAvailability()
    return {
        "request_id": offer.request_id,
        "dates": list(offer.dates),
        "date": None,
        "times": [],
        "notice": None,
    }


def _renewed_request_id(api: PF360Api, flow: FlowInput, day: str, now: datetime | None) -> str:
    """A fresh `request_id` (the old one expired); the day must still be offered."""
    offer = call_pf360(
        api.get_available_dates, flow.project_id, tenant_today(flow.tenant.timezone, now)
    )
    if day not in offer.dates:
        raise SlotTaken(f"{day} is no longer available; please pick another date.")
    return str(offer.request_id)


def fetch_slots(
    api: PF360Api,
    flow: FlowInput,
    state: dict[str, Any],
    answer: dict[str, Any],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """FetchSlots: the free times on the chosen date (checked against the offer first)."""
    current = {key: value for key, value in state.items() if key != "answer"}
    day = answer.get("date") or current.get("date")
    if not isinstance(day, str) or day not in current.get("dates", []):
        offered = ", ".join(current.get("dates", [])[:10])
        raise DateNotOffered(
            f"{day or 'That date'} is not available; please pick one of: {offered}."
        )
    request_id = str(current["request_id"])
    try:
        times = api.get_time_slots(flow.project_id, day, request_id)
    except PF360RequestExpired:
        request_id = _renewed_request_id(api, flow, day, now)
        times = call_pf360(api.get_time_slots, flow.project_id, day, request_id)
    except PF360Error as error:
        raise from_pf360(error) from None
    if not times:
        raise NoSlotsOnDate(f"There are no free times on {day}; please pick another date.")
    # A notice here came with this visit (a time not offered, or just taken, at Book): it
    # prefixes the offer's message once (the flow the wait continues with has none).
    notice = current.get("notice")
    current.update(
        {
            "request_id": request_id,
            "date": day,
            "times": list(times),
            "notice": notice if isinstance(notice, dict) else None,
        }
    )
    return current


@dataclass(frozen=True)
class BookingOutcome:
    date: str
    time: str
    message: str
    test_mode: bool = False
    already_booked: bool = False
    verified_after_ambiguity: bool = False
    request_id_renewed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": "booked",
            "date": self.date,
            "time": self.time,
            "message": self.message,
            "test_mode": self.test_mode,
            "already_booked": self.already_booked,
            "verified_after_ambiguity": self.verified_after_ambiguity,
        }


def _project(api: PF360Api, flow: FlowInput) -> Project | None:
    projects = call_pf360(api.list_projects, flow.customer_id)
    return next((p for p in projects if p.project_id == flow.project_id), None)


def booked_at(api: PF360Api, flow: FlowInput, day: str, time: str) -> bool:
    """Does the dashboard show this project booked at exactly this date and time?"""
    project = _project(api, flow)
    if project is None or (project.status or "").lower() != SCHEDULED:
        return False
    start = project.scheduled_start or ""
    return project.scheduled_date == day and start[11:16] == time


def booked_or_unknown(api: PF360Api, flow: FlowInput, day: str, time: str) -> bool:
    """`booked_at` after a call that may have committed: a dashboard that cannot be read
    (timeout, 5xx, 401, 404, ...) leaves the outcome unknown, never a failure."""
    try:
        return booked_at(api, flow, day, time)
    except FlowError as error:
        raise BookingUnknown(f"{day} {time}: dashboard unreadable ({error.code})") from None


def confirmation(day: str, time: str) -> str:
    when = datetime.strptime(f"{day} {time}", "%Y-%m-%d %H:%M")
    return f"Your appointment is booked for {when:%A, %B} {when.day} at {when:%-I:%M %p}."


def _post_once_verified(
    api: PF360Api, flow: FlowInput, day: str, time: str, request_id: str
) -> tuple[bool, bool]:
    """POST the booking; returns (booked, verified_after_ambiguity).

    A timeout, dropped connection or 5xx may have committed, so the dashboard decides
    before anything retries; a 409 may be our own earlier commit, so it is checked too.
    """
    try:
        api.schedule(flow.project_id, day, time, request_id)
        return True, False
    except PF360Conflict:
        if booked_at(api, flow, day, time):
            return True, True
        raise SlotTaken(f"{time} on {day} was just taken; here are the times still free.") from None
    except PF360RequestExpired:
        raise
    except PF360Error as error:
        if error.may_have_committed and booked_or_unknown(api, flow, day, time):
            return True, True
        raise from_pf360(error) from None


def book(
    api: PF360Api,
    flow: FlowInput,
    state: dict[str, Any],
    answer: dict[str, Any],
    *,
    confirm: bool,
    attempt: int = 0,
    now: datetime | None = None,
) -> BookingOutcome:
    """Book: the customer's chosen time, exactly once.

    `attempt` > 0 means Step Functions is retrying after a failure that may have
    committed, so the dashboard is read before any second POST.
    """
    if answer.get("another_date"):
        raise AnotherDateRequested()
    day = str(state.get("date") or "")
    time = answer.get("time")
    if not isinstance(time, str) or time not in state.get("times", []):
        offered = ", ".join(state.get("times", []))
        raise TimeNotOffered(
            f"{time or 'That time'} is not free on {day}; please pick one of: {offered}."
        )
    if not confirm:
        return BookingOutcome(
            day,
            time,
            f"TEST MODE: nothing was booked. With bookings on, {day} at {time} would be confirmed.",
            test_mode=True,
        )
    if attempt > 0 and booked_or_unknown(api, flow, day, time):
        return BookingOutcome(day, time, confirmation(day, time), verified_after_ambiguity=True)
    request_id = str(state["request_id"])
    renewed = False
    try:
        booked, verified = _post_once_verified(api, flow, day, time, request_id)
    except PF360RequestExpired:
        request_id, renewed = _renewed_request_id(api, flow, day, now), True
        times = call_pf360(api.get_time_slots, flow.project_id, day, request_id)
        if time not in times:
            raise SlotTaken(
                f"{time} on {day} was just taken; here are the times still free."
            ) from None
        booked, verified = _post_once_verified(api, flow, day, time, request_id)
    if not booked:
        raise BOOKING_UNVERIFIED()
    return BookingOutcome(
        day,
        time,
        confirmation(day, time),
        verified_after_ambiguity=verified,
        request_id_renewed=renewed,
    )


def replay(
    api: PF360Api, flow: FlowInput, *, confirm: bool, attempt: int = 0, now: datetime | None = None
) -> BookingOutcome:
    """Book the recorded choice again, once: already booked -> nothing to do; gone -> SLOT_GONE."""
    assert flow.replay is not None
    day, time = flow.replay.date, flow.replay.time
    if booked_at(api, flow, day, time):
        return BookingOutcome(
            day, time, f"Already booked: {confirmation(day, time)}", already_booked=True
        )
    offer = call_pf360(
        api.get_available_dates, flow.project_id, tenant_today(flow.tenant.timezone, now)
    )
    if day not in offer.dates:
        raise SLOT_GONE(f"{day} is no longer offered for project {flow.project_id}.")
    times = call_pf360(api.get_time_slots, flow.project_id, day, offer.request_id)
    if time not in times:
        raise SLOT_GONE(f"{time} on {day} is no longer free for project {flow.project_id}.")
    state = {"request_id": offer.request_id, "date": day, "times": times}
    try:
        return book(api, flow, state, {"time": time}, confirm=confirm, attempt=attempt, now=now)
    except SlotTaken as taken:
        raise SLOT_GONE(str(taken)) from None


CARRIED_FLOW_KEYS = ("request_id", "dates", "date", "times")


def carried_flow(state: dict[str, Any]) -> dict[str, Any]:
    """The flow state a waiting step continues with: its notice has been told (it is in the
    offer's message) and the next answer replaces the last one."""
    flow = {key: state.get(key) for key in CARRIED_FLOW_KEYS}
    flow["dates"] = list(flow["dates"] or [])
    flow["times"] = list(flow["times"] or [])
    flow["notice"] = None
    return flow


def describe_offer(step: str, state: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """What a parked step offers, and the sentence the bridge can show with it."""
    notice = state.get("notice")
    prefix = ""
    if isinstance(notice, dict):
        prefix = notice_message(notice) + " "
    if step == "await_date":
        dates = list(state.get("dates", []))
        return {"dates": dates}, prefix + "Which date works for you? Available: " + ", ".join(
            dates
        ) + "."
    times = list(state.get("times", []))
    day = state.get("date")
    return (
        # The dates stay in the offer so that a different date can be checked before moving.
        {"date": day, "times": times, "dates": list(state.get("dates", []))},
        prefix
        + f"Free times on {day}: "
        + ", ".join(times)
        + ". Which time works, or another date?",
    )


def notice_message(notice: dict[str, Any]) -> str:
    """The customer sentence inside a caught task error (Step Functions keeps it as Cause)."""
    return message_in_cause(notice.get("Cause")) or FlowError.default_message
