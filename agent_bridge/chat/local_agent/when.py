"""Dates and times in a customer's words, resolved against what the booking flow offered.

Calendar forms (Dec 3, 12/03, the 3rd, Tuesday) are read here; spans such as "in 3 days" or
"a week from Friday" go to `dateparser`. Parts of the day ("morning") and "earliest" pick
from the offer itself, so they never name a time that is not free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_MONTH_DAY = re.compile(r"\b" + _MONTH + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4})\b)?")
_DAY_MONTH = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\b\.?(?:,?\s+(\d{4})\b)?"
)
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b")
_DAY_OF_MONTH = re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)?\b|\b(\d{1,2})(?:st|nd|rd|th)\b")
_ORDINAL_DAYS = tuple(
    [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
        "twentieth",
    ]
)
_ORDINAL_DAY = re.compile(r"\bthe\s+(" + "|".join(_ORDINAL_DAYS) + r")\b(?!\s+(?:one|project))")
_RELATIVE = re.compile(r"\b(?:the\s+)?(day after tomorrow|tomorrow|today)\b")
_WEEKDAY = re.compile(
    r"\b(mon|tue|wed|thu|fri|sat|sun)(?:day|sday|s|nesday|rsday|rs|r|urday|)\b",
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _iso(year: int, month: int, day: int) -> str:
    """The date as YYYY-MM-DD even when it is not a real one (the action says so)."""
    return f"{year:04d}-{month:02d}-{day:02d}"


def _offered_where(offered: Sequence[str], test: Callable[[date], bool]) -> str | None:
    for text in offered:
        try:
            if test(date.fromisoformat(text)):
                return text
        except ValueError:
            continue
    return None


def _month_day(month: int, day: int, year: str | None, today: date, offered: Sequence[str]) -> str:
    if year:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return _iso(full, month, day)
    found = _offered_where(offered, lambda d: (d.month, d.day) == (month, day))
    if found:
        return found
    upcoming = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    return _iso(upcoming, month, day)


def _day_of_month(day: int, today: date, offered: Sequence[str]) -> str:
    found = _offered_where(offered, lambda d: d.day == day)
    if found:
        return found
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate.isoformat()
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return _iso(today.year, today.month, day)


def _weekday(weekday: int, today: date, offered: Sequence[str]) -> str:
    first = today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    found = _offered_where(offered, lambda d: d.weekday() == weekday and d >= first)
    return found or first.isoformat()


def parse_date(text: str, today: date, offered: Sequence[str] = ()) -> str | None:
    """The date a (normalized) message names, as YYYY-MM-DD, or None if it names none."""
    if match := _ISO_DATE.search(text):
        return _iso(*(int(part) for part in match.groups()))
    if match := _MONTH_DAY.search(text):
        month = _MONTHS.index(match.group(1)[:3]) + 1
        return _month_day(month, int(match.group(2)), match.group(3), today, offered)
    if match := _DAY_MONTH.search(text):
        month = _MONTHS.index(match.group(2)[:3]) + 1
        return _month_day(month, int(match.group(1)), match.group(3), today, offered)
    if match := _US_DATE.search(text):
        month, day = int(match.group(1)), int(match.group(2))
        return _month_day(month, day, match.group(3), today, offered)
    if match := _RELATIVE.search(text):
        ahead = {"today": 0, "tomorrow": 1, "day after tomorrow": 2}[match.group(1)]
        return (today + timedelta(days=ahead)).isoformat()
    if match := _DAY_OF_MONTH.search(text):
        return _day_of_month(int(match.group(1) or match.group(2)), today, offered)
    if match := _ORDINAL_DAY.search(text):  # "the tenth"
        return _day_of_month(_ORDINAL_DAYS.index(match.group(1)) + 1, today, offered)
    if match := _WEEKDAY.search(text):
        return _weekday(_WEEKDAYS.index(match.group(1)), today, offered)
    return None


# --------------------------------------------------------------------------- times

_HOUR_WORDS = {
    word: number
    for number, word in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
        start=1,
    )
} | {"eleven": 11, "twelve": 12}
_HOUR = r"(\d{1,2}|" + "|".join(_HOUR_WORDS) + r")"
_MERIDIEM = r"(a\.?m\.?|p\.?m\.?)"
_CLOCK_TIME = re.compile(r"\b(\d{1,2}):(\d{2})(?!\d)(?:\s*" + _MERIDIEM + r"(?!\w))?")
_HOUR_MERIDIEM = re.compile(r"\b" + _HOUR + r"\s*" + _MERIDIEM + r"(?!\w)")
_NOON = re.compile(r"\b(?:noon|midday)\b")
_DO_HOUR = re.compile(
    r"\b(?:do|make it|say|how about|what about)\s+" + _HOUR + r"\b(?!\s*(?:st|nd|rd|th|/|-|:))"
)
_AT_HOUR = re.compile(r"\bat\s+" + _HOUR + r"\b(?!\s*(?:st|nd|rd|th|/|-|:))")
_BARE_HOUR = re.compile(r"^(?:at\s+)?" + _HOUR + r"(?:\s*o'?clock)?(?:\s+please)?$")


def _hour(text: str) -> int:
    return _HOUR_WORDS.get(text) or int(text)


def _pick_time(hour: int, minute: int, meridiem: str | None, offered: Sequence[str]) -> str | None:
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.startswith("p") else 0)
        return f"{hour:02d}:{minute:02d}"
    if hour > 23 or minute > 59:
        return None
    options = [hour] if hour >= 12 or hour == 0 else [hour, hour + 12]
    for option in options:
        if f"{option:02d}:{minute:02d}" in offered:
            return f"{option:02d}:{minute:02d}"
    if 1 <= hour <= 6:
        hour += 12  # nobody books 3 in the morning: "at 3" is the afternoon
    return f"{hour:02d}:{minute:02d}"


_HALF_PAST = re.compile(r"\bhalf (?:past )?" + _HOUR + r"\b")


def parse_time(text: str, offered: Sequence[str] = ()) -> str | None:
    """The time a (normalized) message names, as HH:MM, or None if it names none."""
    if match := _HALF_PAST.search(text):  # "half three" (British): 3:30
        return _pick_time(_hour(match.group(1)), 30, None, offered)
    if match := _CLOCK_TIME.search(text):
        return _pick_time(int(match.group(1)), int(match.group(2)), match.group(3), offered)
    if match := _HOUR_MERIDIEM.search(text):
        return _pick_time(_hour(match.group(1)), 0, match.group(2), offered)
    if _NOON.search(text):
        return "12:00"
    if match := _AT_HOUR.search(text) or _DO_HOUR.search(text) or _BARE_HOUR.match(text):
        return _pick_time(_hour(match.group(1)), 0, None, offered)
    return None


# --------------------------------------------------------------------------- spans of time

_NUMBER = r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})"
_SPAN = re.compile(
    r"\bin\s+" + _NUMBER + r"\s+(?:days?|weeks?)\b"
    r"|\b" + _NUMBER + r"\s+(?:days?|weeks?)\s+from\s+(?:now|today)\b"
)
_NEXT_WEEK = re.compile(r"\bnext week\b")


@lru_cache(maxsize=1)
def _dateparser() -> Any:
    """dateparser, imported on first use (it takes a moment to load its language data)."""
    import dateparser

    return dateparser


def parse_span(text: str, today: date) -> str | None:
    """ "in 3 days", "two weeks from now" (dateparser), "next week" (its first working day)."""
    if match := _SPAN.search(text):
        settings = {"RELATIVE_BASE": datetime.combine(today, datetime.min.time())}
        parsed = _dateparser().parse(match.group(0), languages=["en"], settings=settings)
        if parsed is not None:
            return str(parsed.date().isoformat())
    return None


def next_week(text: str, today: date, offered: Sequence[str]) -> str | None:
    """ "next week": the first offered date in the coming Monday-to-Sunday week."""
    if not _NEXT_WEEK.search(text):
        return None
    monday = today + timedelta(days=7 - today.weekday())
    found = _offered_where(offered, lambda d: monday <= d < monday + timedelta(days=7))
    return found or monday.isoformat()


def find_date(text: str, today: date, offered: Sequence[str] = ()) -> str | None:
    """Any date the message names: calendar forms, weekdays, spans, "next week"."""
    return (
        parse_span(text, today)
        or parse_date(text, today, offered)
        or next_week(text, today, offered)
    )


# --------------------------------------------------------------------------- parts of the day

_PARTS = {
    "morning": (0, 12),
    "afternoon": (12, 17),
    "evening": (17, 24),
}
_PART_OF_DAY = re.compile(
    r"\b(?<!good )(morning|mornings|afternoon|afternoons|evening|evenings|after work|"
    r"lunch ?time|after lunch|before lunch|early|late)\b(?!\s*(?:on|at)?\s*\d)"
)
_PART_WORDS = {
    "mornings": "morning",
    "early": "morning",
    "before lunch": "morning",
    "afternoons": "afternoon",
    "after lunch": "afternoon",
    "lunchtime": "afternoon",
    "lunch time": "afternoon",
    "evenings": "evening",
    "after work": "evening",
    "late": "evening",
}
EARLIEST = re.compile(
    r"\b(?:earliest|soonest|first (?:available|free|open|possible|slot|one|time|date|day)"
    r"|next (?:available|free|open|possible)|asap|as soon as (?:possible|you can)"
    r"|whatever(?:'s| is) (?:first|soonest|earliest)|first thing)\b"
)
LATEST = re.compile(r"\b(?:latest|last (?:slot|one|time|available)|as late as possible)\b")


def part_of_day(text: str) -> str | None:
    """ "morning", "afternoon" or "evening" if the message names a part of the day."""
    if match := _PART_OF_DAY.search(text):
        word = match.group(1)
        return _PART_WORDS.get(word, word)
    return None


def time_in_part(part: str, offered: Sequence[str], *, latest: bool = False) -> str | None:
    """The first (or last) offered time in that part of the day."""
    start, end = _PARTS[part]
    fitting = [t for t in offered if start <= int(t.split(":")[0]) < end]
    if not fitting:
        return None
    return fitting[-1] if latest else fitting[0]


# --------------------------------------------------------------------------- what else was said

_DATE_TIME_WORDS = [
    _ISO_DATE,
    _MONTH_DAY,
    _DAY_MONTH,
    _US_DATE,
    _RELATIVE,
    _DAY_OF_MONTH,
    _ORDINAL_DAY,
    _WEEKDAY,
    _CLOCK_TIME,
    _HOUR_MERIDIEM,
    _NOON,
    _AT_HOUR,
    _DO_HOUR,
    _BARE_HOUR,
    _HALF_PAST,
    _SPAN,
    _NEXT_WEEK,
    _PART_OF_DAY,
    EARLIEST,
    LATEST,
]


def without_dates_and_times(text: str) -> str:
    """The message with every date and time phrase blanked out."""
    for pattern in _DATE_TIME_WORDS:
        text = pattern.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def bare_hour(text: str) -> str | None:
    """ "10" or "at 3 o'clock" alone: an hour without anything else."""
    match = _BARE_HOUR.match(text)
    return match.group(1) if match else None
