"""How the local agent writes: dates and times as people write them, and its fixed sentences."""

from __future__ import annotations

import re
from datetime import date

CAPABILITIES = (
    "I can list your projects, schedule or reschedule one (pick a date, then a time, then "
    "confirm), cancel an appointment, tell you a project's status, details or technician, "
    "give our business hours, add a note to a project and show your notes."
)
HELLO = "Hi! " + CAPABILITIES + ' Try "list my projects".'
NOT_UNDERSTOOD = "Sorry, I didn't quite get that. " + CAPABILITIES + ' Try "list my projects".'
OFF_TOPIC = (
    "I can only help with your PF360 projects and appointments. " + CAPABILITIES + ' Try "list '
    'my projects".'
)
HANDOFF = (
    "I'm an automated assistant and can't pass this chat to a person. To talk to someone, "
    "contact your installer through your project's page in the PF360 portal (the link on "
    "the project's name in your project list)."
)
MENU = ["List my projects", "Business hours", "Show notes"]
CONFIRM_CHOICES = ["Yes, book it", "No", "Another date"]
CANCEL_CHOICES = ["Yes, cancel it", "No"]
ANOTHER_DATE = "Another date"


def normalize(message: str) -> str:
    """Lower case, plain quotes, single spaces, no trailing punctuation."""
    text = message.replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.sub(r"\s+", " ", text).strip().rstrip("?!. ")


def real_date(day: str) -> date | None:
    try:
        return date.fromisoformat(day)
    except (TypeError, ValueError):
        return None


def long_date(day: str) -> str:
    """ "Thursday, December 3" (a sentence); a text that is no date is returned as it is."""
    parsed = real_date(day)
    return f"{parsed:%A, %B} {parsed.day}" if parsed else day


def short_date(day: str) -> str:
    """ "Thu, Dec 3" (a button; the date parser reads it back)."""
    parsed = real_date(day)
    return f"{parsed:%a, %b} {parsed.day}" if parsed else day


def clock(time: str) -> str:
    """ "14:00" -> "2:00 PM"; a text that is no time is returned as it is."""
    try:
        hour, minute = (int(part) for part in time.split(":")[:2])
    except ValueError:
        return time
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def window(text: str) -> str:
    """ "09:00-11:00" -> "9:00 AM to 11:00 AM" (an arrival window)."""
    start, sep, end = text.partition("-")
    return f"{clock(start.strip())} to {clock(end.strip())}" if sep else clock(text)


def when(day: str, time: str = "") -> str:
    """ "Tuesday, December 1 at 10:00 AM" (or without the time)."""
    return f"{long_date(day)} at {clock(time)}" if time else long_date(day)


_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_DATE_LIST = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:, \d{4}-\d{2}-\d{2})+\b")
_HH_MM = r"(?:[01]\d|2[0-3]):[0-5]\d"
_CLOCK = re.compile(r"(?<![\d:])" + _HH_MM + r"\b(?!\s*(?:am|pm|AM|PM)|:)")
_WINDOW = re.compile(r"\b(" + _HH_MM + r")\s*-\s*(" + _HH_MM + r")\b")


def humanize(sentence: str) -> str:
    """An action's sentence with its ISO dates and 24-hour times as people write them."""
    text = _DATE_LIST.sub(
        lambda m: "; ".join(long_date(d) for d in m.group(0).split(", ")), sentence
    )
    text = re.sub(r"(\d{4}-\d{2}-\d{2}) (?=\d\d:\d\d-)", r"\1, ", text)
    text = _ISO_DATE.sub(lambda m: long_date(m.group(1)), text)
    text = _WINDOW.sub(lambda m: f"{clock(m.group(1))} to {clock(m.group(2))}", text)
    return _CLOCK.sub(lambda m: clock(m.group(0)), text)
