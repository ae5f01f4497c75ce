"""Working-day arithmetic shared by the seed (appointment dates) and the dates offer."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

WEEKDAYS: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)


def weekday_name(day: date) -> str:
    """The English day name the business-hours API uses."""
    return WEEKDAYS[day.weekday()]


def is_working(day: date, working_days: Collection[str]) -> bool:
    """Whether the client works on that calendar day."""
    return weekday_name(day) in working_days


def working_days_after(start: date, count: int, working_days: Collection[str]) -> list[date]:
    """The next `count` working days strictly after `start`."""
    if not working_days:
        return []
    found: list[date] = []
    day = start
    while len(found) < count:
        day += timedelta(days=1)
        if is_working(day, working_days):
            found.append(day)
    return found


def shift_working_days(start: date, offset: int, working_days: Collection[str]) -> date:
    """The working day `offset` working days after (or, if negative, before) `start`."""
    if offset == 0 or not working_days:
        return start
    step = timedelta(days=1 if offset > 0 else -1)
    remaining = abs(offset)
    day = start
    while remaining:
        day += step
        if is_working(day, working_days):
            remaining -= 1
    return day
