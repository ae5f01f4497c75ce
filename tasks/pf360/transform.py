"""PF360 response bodies -> typed values.

Tolerant where the contract leaves room (optional dashboard columns, numeric ids, blank
strings) and strict where a caller would otherwise act on nonsense (a row without a
project id, dates without a request_id): those raise PF360MalformedResponse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import (
    ADD_NOTE,
    BUSINESS_HOURS,
    DASHBOARD,
    DATES,
    SCHEDULE,
    SLOTS,
    PF360MalformedResponse,
)
from .formats import is_iso_day
from .models import AvailableDates, BusinessHours, NoteResult, Project, ScheduleResult, WorkDay
from .urls import project_url

# Dashboard columns (the seed's flattened keys) -> Project fields.
DASHBOARD_COLUMNS: dict[str, str] = {
    "order_number": "project_project_number",
    "project_type": "project_type_project_type",
    "category": "project_category_category",
    "status": "status_info_status",
    "address": "installation_address_full_address",
    "scheduled_date": "project_date_scheduled_date",
    "scheduled_start": "convertedProjectStartScheduledDate",
    "scheduled_end": "convertedProjectEndScheduledDate",
    "technician_name": "technician_name",
    "technician_phone": "technician_phone",
}
PROJECT_ID_COLUMN = "project_project_id"

_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2}))?")
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}


def extract_projects(
    raw: Mapping[str, Any], *, client_name: str | None = None, environment: str = "dev"
) -> list[Project]:
    """The dashboard body `{"data": [row, ...]}` as Projects, numbered from 1.

    `project_url` is set when `client_name` is known.
    """
    rows = _data(raw, DASHBOARD, list, allow_null=True) or []
    projects = []
    for position, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise PF360MalformedResponse(
                f"dashboard row {position} is not an object", endpoint=DASHBOARD
            )
        projects.append(_project(row, position, client_name, environment))
    return projects


def _project(
    row: Mapping[str, Any], position: int, client_name: str | None, environment: str
) -> Project:
    project_id = _text(row.get(PROJECT_ID_COLUMN))
    if project_id is None:
        raise PF360MalformedResponse(
            f"dashboard row {position} has no {PROJECT_ID_COLUMN}", endpoint=DASHBOARD
        )
    fields = {name: _text(row.get(column)) for name, column in DASHBOARD_COLUMNS.items()}
    start, end = fields["scheduled_start"], fields["scheduled_end"]
    if fields["scheduled_date"] is None and start is not None:
        fields["scheduled_date"] = _day_of(start)
    url = project_url(client_name, environment, project_id) if client_name else None
    return Project(
        project_number=position,
        project_id=project_id,
        window=window(start, end),
        project_url=url,
        **fields,
    )


def window(start: str | None, end: str | None) -> str | None:
    """ "08:00-12:00" from "2025-10-15 08:00:00" and "2025-10-15 12:00:00"; else None."""
    begin, finish = _time_of(start), _time_of(end)
    return f"{begin}-{finish}" if begin and finish else None


def parse_business_hours(body: Mapping[str, Any]) -> BusinessHours:
    """`{"data": {"workHours": [{"day", "is_working"}, ...]}}`."""
    data = _data(body, BUSINESS_HOURS, Mapping)
    entries = data.get("workHours")
    if not isinstance(entries, list):
        raise PF360MalformedResponse("workHours is missing", endpoint=BUSINESS_HOURS)
    work_days: list[WorkDay] = []
    for entry in entries:
        day = _text(entry.get("day")) if isinstance(entry, Mapping) else None
        working = _flag(entry.get("is_working")) if isinstance(entry, Mapping) else None
        if day is None or working is None:
            raise PF360MalformedResponse(f"bad workHours entry {entry!r}", endpoint=BUSINESS_HOURS)
        work_days.append({"day": day, "is_working": working})
    return BusinessHours(work_days=work_days)


def parse_available_dates(body: Mapping[str, Any]) -> AvailableDates:
    """`{"data": {"dates": [...], "request_id": "..."}}`; request_id required when dates exist."""
    data = _data(body, DATES, Mapping)
    dates = data.get("dates")
    if dates is None:
        dates = []
    if not isinstance(dates, list) or not all(is_iso_day(d) for d in dates):
        raise PF360MalformedResponse("dates is not a list of YYYY-MM-DD days", endpoint=DATES)
    request_id = _text(data.get("request_id"))
    if request_id is None and dates:
        raise PF360MalformedResponse("request_id is missing", endpoint=DATES)
    return AvailableDates(dates=list(dates), request_id=request_id or "")


def parse_time_slots(body: Mapping[str, Any]) -> list[str]:
    """`{"data": {"slots": ["08:00", ...]}}`."""
    data = _data(body, SLOTS, Mapping)
    slots = data.get("slots")
    if slots is None:
        return []
    if not isinstance(slots, list) or not all(isinstance(s, str) and s.strip() for s in slots):
        raise PF360MalformedResponse("slots is not a list of times", endpoint=SLOTS)
    return [s.strip() for s in slots]


def parse_schedule(body: Mapping[str, Any]) -> ScheduleResult:
    """`{"message": "...", "status": "success"}`."""
    message = _text(body.get("message"))
    status = _text(body.get("status"))
    if message is None and status is None:
        raise PF360MalformedResponse("neither message nor status in reply", endpoint=SCHEDULE)
    return ScheduleResult(
        message=message or "Appointment scheduled successfully", status=status or "success"
    )


def parse_message(body: Mapping[str, Any], endpoint: str) -> str:
    """`{"message": "..."}` (cancel)."""
    message = _text(body.get("message"))
    if message is None:
        raise PF360MalformedResponse("message is missing", endpoint=endpoint)
    return message


def parse_note(body: Mapping[str, Any]) -> NoteResult:
    """`{"message": "...", "note_id": "..."}`."""
    return NoteResult(message=parse_message(body, ADD_NOTE), note_id=_text(body.get("note_id")))


def _data(body: Mapping[str, Any], endpoint: str, kind: type, *, allow_null: bool = False) -> Any:
    if "data" not in body:
        raise PF360MalformedResponse("reply has no 'data'", endpoint=endpoint)
    data = body["data"]
    if data is None and allow_null:
        return None
    if not isinstance(data, kind):
        raise PF360MalformedResponse(f"'data' is not a {kind.__name__}", endpoint=endpoint)
    return data


def _text(value: Any) -> str | None:
    """A present, non-blank scalar as a stripped string (ids may arrive as numbers)."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


def _day_of(stamp: str) -> str | None:
    match = _DATE_TIME.match(stamp)
    return match.group(1) if match else None


def _time_of(stamp: str | None) -> str | None:
    match = _DATE_TIME.match(stamp) if stamp else None
    if not match or match.group(2) is None:
        return None
    return f"{int(match.group(2)):02d}:{match.group(3)}"
