"""Unknown outcomes: PF360 may have committed a booking or a cancellation and we cannot see it.

A write whose answer was lost (timeout, dropped connection, 5xx) is settled by reading the
dashboard; when that read fails too, the outcome is *unknown*, not failed. The workflow then
rechecks durably (a Wait state, then `recheck_*`) on the schedule below, and ends with what
PF360 really did: booked / cancelled, not booked / not cancelled, or, if the dashboard stays
unreadable for the whole schedule, an operator code (BOOKING_UNVERIFIED / CANCEL_UNVERIFIED)
with a sentence that tells the customer where to look. Meanwhile the customer hears that we
are confirming, never "try again".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tasks.booking import SCHEDULED, BookingOutcome, booked_at, confirmation
from tasks.flow_errors import (
    BOOKING_NOT_MADE,
    BOOKING_UNVERIFIED,
    CANCEL_NOT_MADE,
    CANCEL_UNVERIFIED,
    FlowError,
)
from tasks.flow_input import FlowInput
from tasks.pf360 import PF360Api, PF360Error

# Seconds to wait before each recheck: about 30 minutes in all, more often at first.
RECHECK_WAITS: tuple[int, ...] = (10, 20, 40, 80, 160, 300, 300, 300, 300, 300)
# A recheck that finds nothing was done sends the flow back to do it once more (it is safe:
# the dashboard just showed it undone); a second such finding is the final answer.
MAX_REDOS = 1


def friendly(day: str, time: str) -> str:
    when = datetime.strptime(f"{day} {time}", "%Y-%m-%d %H:%M")
    return f"{when:%A, %B} {when.day} at {when:%-I:%M %p}"


def confirming_booking_message(day: str, time: str) -> str:
    return (
        f"We're confirming your booking for {friendly(day, time)} with the scheduling system; "
        "I'll have the answer in a moment, and you'll see it in your project list. "
        "There's no need to book again."
    )


CONFIRMING_CANCEL_MESSAGE = (
    "We're confirming your cancellation with the scheduling system; I'll have the answer in a "
    "moment, and you'll see it in your project list. There's no need to cancel again."
)


def pending(checks: int, redos: int) -> dict[str, Any]:
    """Not settled yet: wait this long, then recheck (or give up after the last wait)."""
    return {
        "settled": False,
        "redo": False,
        "redos": redos,
        "checks": checks,
        "wait_seconds": RECHECK_WAITS[min(checks, len(RECHECK_WAITS)) - 1],
    }


def redo(checks: int, redos: int) -> dict[str, Any]:
    """Nothing was done: go back and do it (the dashboard just showed it safe to)."""
    return {"settled": False, "redo": True, "redos": redos + 1, "checks": checks, "wait_seconds": 0}


def out_of_checks(checks: int) -> bool:
    return checks > len(RECHECK_WAITS)


def recheck_booking(
    api: PF360Api, flow: FlowInput, day: str, time: str, checks: int, redos: int = 0
) -> dict[str, Any]:
    """One look at the dashboard after an unknown booking; `checks` counts this look (1..)."""
    try:
        booked = booked_at(api, flow, day, time)
    except FlowError as error:
        if out_of_checks(checks):
            raise BOOKING_UNVERIFIED(
                f"We still can't confirm whether your booking for {friendly(day, time)} went "
                "through. Please check your project list; if it isn't there, ask me to book "
                f"again. ({error.code})"
            ) from None
        return pending(checks, redos)
    if not booked and redos < MAX_REDOS:
        return redo(checks, redos)
    if not booked:
        raise BOOKING_NOT_MADE(
            f"Your booking for {friendly(day, time)} did not go through, so nothing was booked. "
            "Ask for the available dates to try again."
        )
    outcome = BookingOutcome(day, time, confirmation(day, time), verified_after_ambiguity=True)
    return {
        "settled": True,
        "checks": checks,
        "wait_seconds": 0,
        "redo": False,
        **outcome.to_dict(),
    }


def recheck_cancellation(
    api: PF360Api, flow: FlowInput, when: str, checks: int, redos: int = 0
) -> dict[str, Any]:
    """One look at the dashboard after an unknown cancel: no longer scheduled = cancelled."""
    try:
        projects = api.list_projects(flow.customer_id)
    except PF360Error as error:
        if out_of_checks(checks):
            raise CANCEL_UNVERIFIED(
                "We still can't confirm whether your appointment was cancelled. Please check "
                f"your project list; if it is still there, ask me to cancel it. ({error.code})"
            ) from None
        return pending(checks, redos)
    project = next((p for p in projects if p.project_id == flow.project_id), None)
    if project is not None and (project.status or "").lower() == SCHEDULED:
        if redos < MAX_REDOS:
            return redo(checks, redos)
        raise CANCEL_NOT_MADE()
    return {
        "settled": True,
        "redo": False,
        "checks": checks,
        "wait_seconds": 0,
        "outcome": "cancelled",
        "test_mode": False,
        "verified": True,
        "verified_after_ambiguity": True,
        "message": f"Your appointment on {when} is cancelled."
        if when
        else "Your appointment is cancelled.",
    }
