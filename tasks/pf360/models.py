"""What the PF360 client returns: small frozen values, the same from the real API and the mock.

Frozen so that a value handed to a Lambda's output or a log cannot be changed under a caller.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TypedDict


@dataclass(frozen=True)
class Project:
    """One dashboard row in clean form; `project_number` is its 1-based position."""

    project_number: int
    project_id: str
    order_number: str | None = None
    project_type: str | None = None
    category: str | None = None
    status: str | None = None
    address: str | None = None
    scheduled_date: str | None = None
    scheduled_start: str | None = None
    scheduled_end: str | None = None
    window: str | None = None
    technician_name: str | None = None
    technician_phone: str | None = None
    project_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class WorkDay(TypedDict):
    """One entry of the business-hours `workHours` list."""

    day: str
    is_working: bool


@dataclass(frozen=True)
class BusinessHours:
    """The client's working week, as PF360 reports it (Monday first)."""

    work_days: list[WorkDay]

    @property
    def working_days(self) -> list[str]:
        return [entry["day"] for entry in self.work_days if entry["is_working"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "working_days": self.working_days,
            "work_days": [dict(entry) for entry in self.work_days],
        }


@dataclass(frozen=True)
class AvailableDates:
    """Dates offered for a project, and the `request_id` the slot and schedule calls need.

    The request_id belongs in workflow state, not in a customer-visible message.
    """

    dates: list[str]
    request_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"dates": list(self.dates), "request_id": self.request_id}


@dataclass(frozen=True)
class ScheduleResult:
    """PF360's answer to a booking."""

    message: str
    status: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NoteResult:
    """PF360's answer to adding a note (`note_id` when PF360 returns one)."""

    message: str
    note_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
