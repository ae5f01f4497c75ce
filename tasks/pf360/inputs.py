"""Checks on caller input, shared by the real client and the mock.

Bad input raises PF360BadRequest (status None: nothing was sent), so a caller handles
one error family whether PF360 or this client refused the request.
"""

from __future__ import annotations

from datetime import date

from .errors import PF360BadRequest
from .formats import hhmm, iso_day


def required(value: object, name: str, endpoint: str) -> str:
    """A non-blank string (ids may be given as numbers)."""
    usable = isinstance(value, str | int) and not isinstance(value, bool)
    text = str(value).strip() if usable else ""
    if not text:
        raise PF360BadRequest(f"{name} is empty", endpoint=endpoint)
    return text


def day(value: date | str, endpoint: str) -> str:
    """A calendar day as YYYY-MM-DD."""
    try:
        return iso_day(value)
    except ValueError as exc:
        raise PF360BadRequest(
            str(exc),
            endpoint=endpoint,
            user_message="That date isn't valid; please give a date such as 2025-10-21.",
        ) from None


def time_of_day(value: str, endpoint: str) -> str:
    """A time as HH:MM."""
    try:
        return hhmm(value)
    except ValueError as exc:
        raise PF360BadRequest(
            str(exc),
            endpoint=endpoint,
            user_message="That time isn't valid; please choose one of the offered times.",
        ) from None
