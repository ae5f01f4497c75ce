"""In-memory PF360 for USE_REAL_API=false, the seed's rollback path.

Any customer gets the same four canned projects (one each Unscheduled, Scheduled,
Completed, Cancelled) under ids derived from their name, so the data is stable across
calls and processes. Bookings, cancellations and notes change the store, and the mock
refuses what PF360 refuses (unknown request_id, a taken slot, nothing to cancel) with
the same typed errors, so the flows above it behave the same in both modes.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from . import inputs
from .errors import (
    ADD_NOTE,
    CANCEL,
    CONFLICT_USER_MESSAGES,
    DASHBOARD,
    DATES,
    SCHEDULE,
    SLOTS,
    PF360BadRequest,
    PF360Conflict,
    PF360NotFound,
)
from .formats import created_at
from .models import AvailableDates, BusinessHours, NoteResult, Project, ScheduleResult, WorkDay
from .transform import extract_projects

SLOT_TIMES: tuple[str, ...] = tuple(f"{hour:02d}:00" for hour in (8, 9, 10, 11, 13, 14, 15, 16))
WORK_WEEK: tuple[tuple[str, bool], ...] = (
    ("Monday", True),
    ("Tuesday", True),
    ("Wednesday", True),
    ("Thursday", True),
    ("Friday", True),
    ("Saturday", False),
    ("Sunday", False),
)
OFFERED_DAYS = 5
APPOINTMENT_HOURS = 2
TECHNICIAN = ("Alex Rivera", "555-0100")
CLOSED_STATUSES = frozenset({"Completed", "Cancelled"})

# (project_type, category, status) of each customer's canned projects.
_CANNED: tuple[tuple[str, str, str], ...] = (
    ("Installation", "Flooring", "Unscheduled"),
    ("Installation", "Windows", "Scheduled"),
    ("Service", "HVAC", "Completed"),
    ("Installation", "Cabinets", "Cancelled"),
)


@dataclass
class _Row:
    client_id: str
    customer_id: str
    project_id: str
    order_number: str
    project_type: str
    category: str
    status: str
    address: str
    day: str | None = None
    time: str | None = None
    technician: tuple[str, str] | None = None

    def dashboard_row(self) -> dict[str, Any]:
        start = end = None
        if self.day and self.time:
            begin = datetime.fromisoformat(f"{self.day}T{self.time}")
            start = begin.strftime("%Y-%m-%d %H:%M:%S")
            end = (begin + timedelta(hours=APPOINTMENT_HOURS)).strftime("%Y-%m-%d %H:%M:%S")
        name, phone = self.technician or (None, None)
        return {
            "project_project_id": self.project_id,
            "project_project_number": self.order_number,
            "project_type_project_type": self.project_type,
            "project_category_category": self.category,
            "status_info_status": self.status,
            "installation_address_full_address": self.address,
            "project_date_scheduled_date": self.day,
            "convertedProjectStartScheduledDate": start,
            "convertedProjectEndScheduledDate": end,
            "technician_name": name,
            "technician_phone": phone,
        }


@dataclass
class _Offer:
    client_id: str
    project_id: str
    dates: tuple[str, ...]


@dataclass
class MockStore:
    """The mock's memory. Share one store between clients to keep state across calls."""

    clock: Callable[[], date] = date.today
    lock: threading.RLock = field(default_factory=threading.RLock)
    projects: dict[tuple[str, str], _Row] = field(default_factory=dict)
    customers: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    offers: dict[str, _Offer] = field(default_factory=dict)
    taken: set[tuple[str, str, str]] = field(default_factory=set)
    notes: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    bookings: list[dict[str, str]] = field(default_factory=list)
    sequence: int = 0

    def next_number(self) -> int:
        self.sequence += 1
        return self.sequence


class MockPF360Client:
    """PF360Api over a MockStore; deterministic for a given store clock and call sequence."""

    def __init__(
        self,
        client_id: str = "acme-corp",
        *,
        client_name: str | None = None,
        environment: str = "dev",
        created_at_timezone: str = "Asia/Kolkata",
        store: MockStore | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_name = client_name
        self.environment = environment
        self.created_at_timezone = created_at_timezone
        self.store = store if store is not None else MockStore()

    def __repr__(self) -> str:
        return f"MockPF360Client(client_id={self.client_id!r}, environment={self.environment!r})"

    def get_dashboard(self, customer_id: str) -> dict[str, Any]:
        customer = inputs.required(customer_id, "customer_id", DASHBOARD)
        with self.store.lock:
            ids = self._customer(customer)
            rows = [self.store.projects[(self.client_id, pid)].dashboard_row() for pid in ids]
        return {"data": rows}

    def list_projects(self, customer_id: str) -> list[Project]:
        return extract_projects(
            self.get_dashboard(customer_id),
            client_name=self.client_name,
            environment=self.environment,
        )

    def get_business_hours(self) -> BusinessHours:
        work_days: list[WorkDay] = [{"day": d, "is_working": w} for d, w in WORK_WEEK]
        return BusinessHours(work_days=work_days)

    def get_available_dates(self, project_id: str, today: date | str) -> AvailableDates:
        start = date.fromisoformat(inputs.day(today, DATES))
        with self.store.lock:
            row = self._require_open(self._project(project_id, DATES), DATES)
            dates = self._free_days(start)
            request_id = f"mock_req_{self.store.next_number():06d}"
            self.store.offers[request_id] = _Offer(self.client_id, row.project_id, tuple(dates))
        return AvailableDates(dates=dates, request_id=request_id)

    def get_time_slots(self, project_id: str, day: date | str, request_id: str) -> list[str]:
        chosen = inputs.day(day, SLOTS)
        with self.store.lock:
            offer = self._offer(self._project(project_id, SLOTS), request_id, SLOTS)
            return self._free_slots(chosen) if chosen in offer.dates else []

    def schedule(
        self,
        project_id: str,
        day: date | str,
        time: str,
        request_id: str,
        *,
        now: datetime | None = None,
    ) -> ScheduleResult:
        chosen, at = inputs.day(day, SCHEDULE), inputs.time_of_day(time, SCHEDULE)
        with self.store.lock:
            # PF360's order of checks: project (404), request_id (400/410), then its state.
            row = self._project(project_id, SCHEDULE)
            offer = self._offer(row, request_id, SCHEDULE)
            self._require_open(row, SCHEDULE)
            if chosen not in offer.dates or at not in self._free_slots(chosen):
                raise PF360Conflict(
                    f"{chosen} {at} is not available",
                    endpoint=SCHEDULE,
                    upstream_code="SLOT_UNAVAILABLE",
                    user_message=CONFLICT_USER_MESSAGES[SCHEDULE],
                )
            self._release(row)
            row.day, row.time, row.status = chosen, at, "Scheduled"
            row.technician = row.technician or TECHNICIAN
            self.store.taken.add((self.client_id, chosen, at))
            del self.store.offers[request_id]
            self.store.bookings.append(
                {
                    "client_id": self.client_id,
                    "customer_id": row.customer_id,
                    "project_id": row.project_id,
                    "date": chosen,
                    "time": at,
                    "created_at": created_at(now, self.created_at_timezone),
                    "is_chatbot": "true",
                }
            )
        return ScheduleResult(message="Appointment scheduled successfully", status="success")

    def cancel(self, project_id: str) -> str:
        with self.store.lock:
            row = self._project(project_id, CANCEL)
            if row.status != "Scheduled":
                raise PF360Conflict(
                    f"project {row.project_id} is {row.status}",
                    endpoint=CANCEL,
                    upstream_code="NO_APPOINTMENT",
                    user_message=CONFLICT_USER_MESSAGES[CANCEL],
                )
            self._release(row)
            row.day = row.time = None
            row.technician = None
            row.status = "Unscheduled"
        return "Appointment cancelled successfully"

    def add_note(self, project_id: str, note_text: str) -> NoteResult:
        text = inputs.required(note_text, "note_text", ADD_NOTE)
        with self.store.lock:
            row = self._project(project_id, ADD_NOTE)
            note_id = f"note_{self.store.next_number()}"
            key = (self.client_id, row.project_id)
            self.store.notes.setdefault(key, []).append({"note_id": note_id, "note_text": text})
        return NoteResult(message="Note added successfully", note_id=note_id)

    def notes_for(self, project_id: str) -> list[dict[str, str]]:
        """Notes added to a project through this mock (oldest first)."""
        with self.store.lock:
            return list(self.store.notes.get((self.client_id, str(project_id)), []))

    # -- internals (callers hold the store lock) ----------------------------------------

    def _customer(self, customer_id: str) -> list[str]:
        key = (self.client_id, customer_id)
        if key not in self.store.customers:
            self.store.customers[key] = self._seed(customer_id)
        return self.store.customers[key]

    def _seed(self, customer_id: str) -> list[str]:
        block = zlib.crc32(f"{self.client_id}/{customer_id}".encode()) % 9000 + 1000
        while (self.client_id, f"{block}1") in self.store.projects:
            block = block + 1 if block < 9999 else 1000
        ids = []
        for index, (kind, category, status) in enumerate(_CANNED, start=1):
            row = _Row(
                client_id=self.client_id,
                customer_id=customer_id,
                project_id=f"{block}{index}",
                order_number=f"ORD-{block}-{index:03d}",
                project_type=kind,
                category=category,
                status=status,
                address=f"{100 + index} Example Ave, Springfield, IL 62701",
            )
            if status == "Scheduled":
                row.day = self._working_days_after(self.store.clock(), 7)[-1]
                row.time, row.technician = SLOT_TIMES[0], TECHNICIAN
                self.store.taken.add((self.client_id, row.day, row.time))
            self.store.projects[(self.client_id, row.project_id)] = row
            ids.append(row.project_id)
        return ids

    def _project(self, project_id: str, endpoint: str) -> _Row:
        pid = inputs.required(project_id, "project_id", endpoint)
        row = self.store.projects.get((self.client_id, pid))
        if row is None:
            raise PF360NotFound(
                f"project {pid} not found", endpoint=endpoint, upstream_code="NOT_FOUND"
            )
        return row

    @staticmethod
    def _require_open(row: _Row, endpoint: str) -> _Row:
        if row.status in CLOSED_STATUSES:
            raise PF360Conflict(
                f"project {row.project_id} is {row.status}",
                endpoint=endpoint,
                upstream_code="PROJECT_NOT_SCHEDULABLE",
                user_message=f"This project is {row.status.lower()}, so it can't be scheduled.",
            )
        return row

    def _offer(self, row: _Row, request_id: str, endpoint: str) -> _Offer:
        rid = inputs.required(request_id, "request_id", endpoint)
        offer = self.store.offers.get(rid)
        if offer is None or (offer.client_id, offer.project_id) != (self.client_id, row.project_id):
            raise PF360BadRequest(
                "request_id is not valid for this project",
                endpoint=endpoint,
                upstream_code="REQUEST_ID_INVALID",
                user_message="Those times are out of date; please ask for the dates again.",
            )
        return offer

    def _release(self, row: _Row) -> None:
        if row.day and row.time:
            self.store.taken.discard((self.client_id, row.day, row.time))

    def _free_slots(self, day: str) -> list[str]:
        return [t for t in SLOT_TIMES if (self.client_id, day, t) not in self.store.taken]

    def _free_days(self, today: date) -> list[str]:
        candidates = self._working_days_after(today, OFFERED_DAYS * 3)
        return [d for d in candidates if self._free_slots(d)][:OFFERED_DAYS]

    @staticmethod
    def _working_days_after(today: date, count: int) -> list[str]:
        working = {i for i, (_, is_working) in enumerate(WORK_WEEK) if is_working}
        days: list[str] = []
        current = today
        while len(days) < count:
            current += timedelta(days=1)
            if current.weekday() in working:
                days.append(current.isoformat())
        return days
