"""The one interface that the real client and the mock share (USE_REAL_API picks which).

Callers type against `PF360Api`, so switching to the mock (the seed's rollback path)
needs no code change anywhere else.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from .models import AvailableDates, BusinessHours, NoteResult, Project, ScheduleResult


@runtime_checkable
class PF360Api(Protocol):
    """PF360 as seen by one tenant; every method raises a PF360Error subclass on failure."""

    def get_dashboard(self, customer_id: str) -> dict[str, Any]: ...

    def list_projects(self, customer_id: str) -> list[Project]: ...

    def get_business_hours(self) -> BusinessHours: ...

    def get_available_dates(self, project_id: str, today: date | str) -> AvailableDates: ...

    def get_time_slots(self, project_id: str, day: date | str, request_id: str) -> list[str]: ...

    def schedule(
        self,
        project_id: str,
        day: date | str,
        time: str,
        request_id: str,
        *,
        now: datetime | None = None,
    ) -> ScheduleResult: ...

    def cancel(self, project_id: str) -> str: ...

    def add_note(self, project_id: str, note_text: str) -> NoteResult: ...
