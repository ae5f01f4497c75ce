"""The errors task Lambdas raise, named so that Step Functions can route on them.

Lambda reports an exception's class name as `errorType`, and Step Functions' `Retry` and
`Catch` match on it. So the class name *is* the contract with the ASL:

- failure classes are named by their operator code (`PF360_AUTH`, `SLOT_GONE`, ...): the
  execution fails with that code as its `error`, which the ops console groups by;
- signal classes (`DateNotOffered`, `NoAvailability`, ...) are expected turns of the
  conversation that the ASL catches and routes (back to a wait, or to an outcome).

Every message here may be shown to a customer; none carries a credential.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from tasks.pf360 import PF360Error
from tasks.pf360.errors import redact


class FlowError(Exception):
    """Base of everything a task raises on purpose."""

    code: ClassVar[str] = "FLOW_ERROR"
    transient: ClassVar[bool] = False
    default_message: ClassVar[str] = "Something went wrong; please try again later."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


# ----------------------------------------------------------------- failures (operator codes)


class PF360_TIMEOUT(FlowError):
    code = "PF360_TIMEOUT"
    transient = True
    default_message = "The scheduling system is not answering right now; please try again."


class PF360_UNAVAILABLE(FlowError):
    code = "PF360_UNAVAILABLE"
    transient = True
    default_message = "The scheduling system is unavailable right now; please try again."


class PF360_RATE_LIMITED(FlowError):
    code = "PF360_RATE_LIMITED"
    transient = True
    default_message = "The scheduling system is busy right now; please try again shortly."


class PF360_AUTH(FlowError):
    code = "PF360_AUTH"
    default_message = "Your sign-in has expired; please sign in again."


class PF360_FORBIDDEN(FlowError):
    code = "PF360_FORBIDDEN"
    default_message = "That project is not available to your account."


class PF360_NOT_FOUND(FlowError):
    code = "PF360_NOT_FOUND"
    default_message = "That project could not be found."


class PF360_BAD_REQUEST(FlowError):
    code = "PF360_BAD_REQUEST"
    default_message = "The scheduling system did not accept that request."


class PF360_CONFLICT(FlowError):
    code = "PF360_CONFLICT"
    default_message = "This project can't be scheduled in its current state."


class PF360_MALFORMED(FlowError):
    code = "PF360_MALFORMED"
    default_message = "The scheduling system sent an answer we could not read."


class REQUEST_EXPIRED(FlowError):
    code = "REQUEST_EXPIRED"
    default_message = "The scheduling session expired; please start again."


class SLOT_GONE(FlowError):
    code = "SLOT_GONE"
    default_message = "The chosen date and time are no longer available."


class SESSION_EXPIRED(FlowError):
    code = "SESSION_EXPIRED"
    default_message = "Your chat session has expired; please sign in again."


class SERVICE_TOKEN_MISSING(FlowError):
    code = "SERVICE_TOKEN_MISSING"
    default_message = "The booking could not be repeated: no service credential is set up."


class BOOKING_UNVERIFIED(FlowError):
    code = "BOOKING_UNVERIFIED"
    default_message = "We could not confirm the booking; please check your project page."


class CANCEL_UNVERIFIED(FlowError):
    code = "CANCEL_UNVERIFIED"
    transient = True
    default_message = "We could not confirm the cancellation; please check your project page."


class BOOKING_NOT_MADE(FlowError):
    code = "BOOKING_NOT_MADE"
    default_message = (
        "Your booking did not go through, so nothing was booked. "
        "Ask for the available dates to try again."
    )


class CANCEL_NOT_MADE(FlowError):
    code = "CANCEL_NOT_MADE"
    default_message = (
        "Your cancellation did not go through, so the appointment is still booked. "
        "Ask me to cancel it again if you still want to."
    )


class INVALID_FLOW_INPUT(FlowError):
    code = "INVALID_FLOW_INPUT"
    default_message = "The request was incomplete; please start again."


# ----------------------------------------------------------------- signals (routed by the ASL)


class NoAvailability(FlowError):
    code = "NO_AVAILABILITY"
    default_message = "There are no available dates for this project right now."


class DateNotOffered(FlowError):
    code = "DATE_NOT_OFFERED"
    default_message = "That date is not one of the available dates; please pick one of them."


class NoSlotsOnDate(FlowError):
    code = "NO_SLOTS_ON_DATE"
    default_message = "There are no free times on that date; please pick another date."


class TimeNotOffered(FlowError):
    code = "TIME_NOT_OFFERED"
    default_message = "That time is not one of the free times; please pick one of them."


class AnotherDateRequested(FlowError):
    code = "ANOTHER_DATE"
    default_message = "Sure, which other date would you like?"


class SlotTaken(FlowError):
    code = "SLOT_TAKEN"
    default_message = "That time was just taken; here are the times still free."


class BookingUnknown(FlowError):
    """PF360 may have taken the booking and the dashboard cannot tell yet: keep verifying."""

    code = "BOOKING_UNKNOWN"
    default_message = "We're confirming your booking with the scheduling system."


class CancelUnknown(FlowError):
    """PF360 may have cancelled and the dashboard cannot tell yet: keep verifying."""

    code = "CANCEL_UNKNOWN"
    default_message = "We're confirming your cancellation with the scheduling system."


class Superseded(FlowError):
    code = "SUPERSEDED"
    default_message = "This booking was replaced by a newer one."


_BY_PF360_CODE: dict[str, type[FlowError]] = {
    cls.code: cls
    for cls in (
        PF360_TIMEOUT,
        PF360_UNAVAILABLE,
        PF360_RATE_LIMITED,
        PF360_AUTH,
        PF360_FORBIDDEN,
        PF360_NOT_FOUND,
        PF360_BAD_REQUEST,
        PF360_CONFLICT,
        PF360_MALFORMED,
        REQUEST_EXPIRED,
    )
}

_FAILURE_CLASSES: tuple[type[FlowError], ...] = (
    *_BY_PF360_CODE.values(),
    SLOT_GONE,
    SESSION_EXPIRED,
    SERVICE_TOKEN_MISSING,
    BOOKING_UNVERIFIED,
    CANCEL_UNVERIFIED,
    BOOKING_NOT_MADE,
    CANCEL_NOT_MADE,
    INVALID_FLOW_INPUT,
)
FAILURE_CODES: frozenset[str] = frozenset(cls.code for cls in _FAILURE_CLASSES)


def from_pf360(error: PF360Error) -> FlowError:
    """The flow failure for a PF360 client error, with the client's customer sentence."""
    cls = _BY_PF360_CODE.get(error.code, PF360_UNAVAILABLE)
    return cls(error.user_message)


def message_in_cause(cause: Any) -> str:
    """The sentence a task error carried: Step Functions keeps the Lambda error payload
    (`{"errorMessage": ...}`) as the Cause of a caught or failed task; "" when none."""
    if not isinstance(cause, str):
        return ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return redact(cause)
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        return redact(str(parsed["errorMessage"]))
    return ""
