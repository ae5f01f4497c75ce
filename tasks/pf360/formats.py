"""The wire formats PF360 expects for dates, times and `created_at`, in one place.

Shared by the real client and the mock so both accept and refuse the same input.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytz

CREATED_AT_FORMAT = "%m-%d-%Y %H:%M:%S"
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def iso_day(value: date | str) -> str:
    """A calendar day as YYYY-MM-DD; ValueError for anything else."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not _ISO_DAY.match(text):
        raise ValueError(f"date {value!r} is not in YYYY-MM-DD form")
    return date.fromisoformat(text).isoformat()


def is_iso_day(value: object) -> bool:
    """Whether `value` is a YYYY-MM-DD string naming a real day."""
    if not isinstance(value, str):
        return False
    try:
        return iso_day(value) == value
    except ValueError:
        return False


def hhmm(value: str) -> str:
    """A time of day as HH:MM (accepts H:MM); ValueError for anything else."""
    match = _HHMM.match(str(value).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"time {value!r} is not in HH:MM form")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def created_at(now: datetime | None, timezone_name: str) -> str:
    """`now` (a naive value is taken as UTC) in `timezone_name`, as MM-DD-YYYY HH:MM:SS.

    The seed's sketch used the server's local clock; PF360 expects Asia/Kolkata wall time.
    """
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(pytz.timezone(timezone_name)).strftime(CREATED_AT_FORMAT)
