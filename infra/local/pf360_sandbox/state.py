"""The sandbox's in-memory world: projects, appointments, request ids, ledger, notes, and the
test knobs (clock, latency, faults, request log). One lock guards all of it, so concurrent
bookings for one slot cannot both win.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytz

from .clock import SandboxClock, iso_utc
from .errors import ApiError, not_found
from .faults import Fault, FaultQueue, parse_fault
from .seed import (
    APPOINTMENT_HOURS,
    CLIENTS,
    CLOSED_STATUSES,
    PROJECTS,
    REQUEST_ID_TTL_SECONDS,
    STATUS_SCHEDULED,
    STATUS_UNSCHEDULED,
    SeedClient,
    SeedProject,
    Technician,
)
from .workdays import is_working, shift_working_days, working_days_after

OFFERED_WORKING_DAYS = 10
REQUEST_LOG_SIZE = 500
# Expired request ids are kept (to answer 410 rather than 400) until this many are stored.
MAX_STORED_REQUEST_IDS = 10_000


def tenant_today(timezone: str) -> date:
    """Today's date in the tenant's time zone, on the real clock."""
    return datetime.now(pytz.timezone(timezone)).date()


@dataclass
class ProjectRecord:
    """A project's mutable state: status, appointment and technician."""

    seed: SeedProject
    status: str
    date: str | None = None
    time: str | None = None
    technician: Technician | None = None

    @property
    def has_appointment(self) -> bool:
        """Only a Scheduled project holds a slot; a Completed one keeps its history only."""
        return self.status == STATUS_SCHEDULED and self.date is not None

    def row(self) -> dict[str, Any]:
        """The flattened dashboard row of the contract."""
        start = end = None
        if self.date and self.time:
            begins = datetime.strptime(f"{self.date} {self.time}", "%Y-%m-%d %H:%M")
            start = begins.strftime("%Y-%m-%d %H:%M:%S")
            end = (begins + timedelta(hours=APPOINTMENT_HOURS)).strftime("%Y-%m-%d %H:%M:%S")
        # Technicians show for live appointments only, as on the PF360 dashboard.
        technician = self.technician if self.status == STATUS_SCHEDULED else None
        return {
            "project_project_id": self.seed.project_id,
            "project_project_number": self.seed.project_number,
            "project_type_project_type": self.seed.project_type,
            "project_category_category": self.seed.category,
            "status_info_status": self.status,
            "installation_address_full_address": self.seed.address,
            "project_date_scheduled_date": self.date,
            "convertedProjectStartScheduledDate": start,
            "convertedProjectEndScheduledDate": end,
            "technician_name": technician.name if technician else None,
            "technician_phone": technician.phone if technician else None,
        }


@dataclass(frozen=True)
class RequestGrant:
    """A request_id: which project it was issued for, what it offered, when it expires."""

    request_id: str
    client_id: str
    project_id: str
    customer_id: str
    offered: tuple[str, ...]
    expires_at: float


@dataclass
class _World:
    """Everything a reset puts back."""

    projects: dict[str, ProjectRecord]
    grants: dict[str, RequestGrant] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_SIZE))
    faults: FaultQueue = field(default_factory=FaultQueue)
    clock: SandboxClock = field(default_factory=SandboxClock)
    latency_ms: int = 0
    note_seq: int = 0


def seed_projects(today_for: Callable[[str], date]) -> dict[str, ProjectRecord]:
    """Fresh project records, appointments placed relative to each tenant's today."""
    records: dict[str, ProjectRecord] = {}
    for seed in PROJECTS.values():
        record = ProjectRecord(seed=seed, status=seed.status)
        if seed.appointment is not None:
            client = CLIENTS[seed.client_id]
            day = shift_working_days(
                today_for(client.timezone),
                seed.appointment.working_days_from_today,
                client.working_days,
            )
            record.date = day.isoformat()
            record.time = seed.appointment.time
            record.technician = seed.appointment.technician
        records[seed.project_id] = record
    return records


def client_or_404(client_id: str) -> SeedClient:
    """The seeded client, or 404."""
    client = CLIENTS.get(client_id)
    if client is None:
        raise not_found(f"Client '{client_id}' does not exist.")
    return client


class SandboxState:
    """Thread-safe facade over the sandbox world; every method takes the one lock."""

    def __init__(self, today_for: Callable[[str], date] = tenant_today) -> None:
        self._lock = threading.Lock()
        self._today_for = today_for
        self._world = _World(projects=seed_projects(today_for))
        self._generation = 0

    def reset(self) -> None:
        """Back to the seed: projects, ledger, notes, faults, log, latency and clock."""
        with self._lock:
            self._world = _World(projects=seed_projects(self._today_for))
            self._generation += 1

    @property
    def generation(self) -> int:
        """How many resets so far; a request that straddles one must not touch the new world."""
        with self._lock:
            return self._generation

    # --- test knobs -------------------------------------------------------------------

    def now(self) -> float:
        """Epoch seconds on the sandbox clock."""
        with self._lock:
            return self._world.clock.now()

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the sandbox clock forward; ValueError for a bad amount."""
        with self._lock:
            now = self._world.clock.advance(seconds)
            return self._clock_view(now)

    def clock(self) -> dict[str, Any]:
        """The sandbox time and its offset from real time."""
        with self._lock:
            return self._clock_view(self._world.clock.now())

    def _clock_view(self, now: float) -> dict[str, Any]:
        return {
            "now": iso_utc(now),
            "epoch": now,
            "offset_seconds": self._world.clock.offset_seconds,
        }

    def latency_ms(self) -> int:
        """Delay added to every PF360 call."""
        with self._lock:
            return self._world.latency_ms

    def set_latency(self, ms: int) -> None:
        """Set the delay added to every PF360 call."""
        with self._lock:
            self._world.latency_ms = ms

    def add_fault(self, body: object) -> dict[str, Any]:
        """Register a fault from a control-API body; ValueError for a bad one."""
        with self._lock:
            fault = parse_fault(body, self._world.faults.next_id())
            self._world.faults.add(fault)
            return fault.to_dict()

    def take_fault(self, endpoint: str) -> Fault | None:
        """The fault this PF360 call suffers, if any (one use consumed)."""
        with self._lock:
            return self._world.faults.take(endpoint)

    def pending_faults(self) -> list[dict[str, Any]]:
        """Faults still armed."""
        with self._lock:
            return self._world.faults.pending()

    def clear_faults(self) -> int:
        """Disarm all faults; returns how many there were."""
        with self._lock:
            return self._world.faults.clear()

    def log_request(self, entry: dict[str, Any], generation: int) -> None:
        """Keep one PF360 request (never its headers) in the bounded log, unless it began
        before the last reset (a test's slow leftover must not appear in the next test's log).
        """
        with self._lock:
            if generation != self._generation:
                return
            self._world.requests.append({**entry, "at": iso_utc(self._world.clock.now())})

    def requests(self) -> list[dict[str, Any]]:
        """The last PF360 requests, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._world.requests]

    def ledger(self) -> list[dict[str, Any]]:
        """Every book and cancel since the last reset."""
        with self._lock:
            return [dict(entry) for entry in self._world.ledger]

    def notes(self) -> list[dict[str, Any]]:
        """Every note kept since the last reset."""
        with self._lock:
            return [dict(note) for note in self._world.notes]

    # --- the PF360 domain --------------------------------------------------------------

    def project_owner(self, client_id: str, project_id: str) -> str:
        """The customer who owns a project of this client, or 404."""
        seed = PROJECTS.get(project_id)
        if seed is None or seed.client_id != client_id:
            raise not_found(f"Project '{project_id}' does not exist for client '{client_id}'.")
        return seed.customer_id

    def dashboard(self, client_id: str, customer_id: str) -> list[dict[str, Any]]:
        """The customer's projects as flattened dashboard rows."""
        with self._lock:
            records = sorted(self._world.projects.values(), key=lambda r: r.seed.project_id)
            return [
                record.row()
                for record in records
                if record.seed.client_id == client_id and record.seed.customer_id == customer_id
            ]

    def offer_dates(self, client_id: str, project_id: str, after: date) -> tuple[list[str], str]:
        """Offer the next working days with room after `after`; issue a request_id for them."""
        client = client_or_404(client_id)
        with self._lock:
            record = self._world.projects[project_id]
            self._require_open(record)
            dates = [
                day.isoformat()
                for day in working_days_after(after, OFFERED_WORKING_DAYS, client.working_days)
                if self._free_slots(client, day.isoformat())
            ]
            grant = RequestGrant(
                request_id=f"req_{secrets.token_hex(8)}",
                client_id=client_id,
                project_id=project_id,
                customer_id=record.seed.customer_id,
                offered=tuple(dates),
                expires_at=self._world.clock.now() + REQUEST_ID_TTL_SECONDS,
            )
            self._store_grant(grant)
            return dates, grant.request_id

    def free_slots(self, client_id: str, project_id: str, request_id: str, day: date) -> list[str]:
        """Free times on an offered working day; [] for any other day."""
        client = client_or_404(client_id)
        with self._lock:
            grant = self._grant(request_id, client_id, project_id)
            if day.isoformat() not in grant.offered or not is_working(day, client.working_days):
                return []
            return self._free_slots(client, day.isoformat())

    def book(
        self,
        client_id: str,
        project_id: str,
        *,
        request_id: str,
        day: str,
        time: str,
        created_at: str,
        is_chatbot: str,
        actor: str,
    ) -> dict[str, Any]:
        """Book (or move) the project's appointment; the old slot, if any, is freed."""
        client = client_or_404(client_id)
        with self._lock:
            grant = self._grant(request_id, client_id, project_id)
            record = self._world.projects[project_id]
            self._require_open(record)
            if day not in grant.offered or time not in client.slots:
                raise ApiError(
                    409, "SLOT_UNAVAILABLE", f"{day} {time} is not offered for this request_id."
                )
            if self._holder(client_id, day, time) is not None:
                raise ApiError(409, "SLOT_UNAVAILABLE", f"{day} {time} is already booked.")
            previous = {"date": record.date, "time": record.time}
            rescheduled = record.has_appointment
            record.status, record.date, record.time = STATUS_SCHEDULED, day, time
            if not rescheduled or record.technician is None:
                record.technician = _pick_technician(client, project_id)
            return self._append_ledger(
                action="book",
                record=record,
                actor=actor,
                request_id=request_id,
                created_at=created_at,
                is_chatbot=is_chatbot,
                rescheduled_from=previous if rescheduled else None,
            )

    def cancel(self, client_id: str, project_id: str, *, actor: str) -> dict[str, Any]:
        """Cancel the project's appointment and free its slot; 409 when it has none."""
        client_or_404(client_id)
        with self._lock:
            record = self._world.projects[project_id]
            if not record.has_appointment:
                raise ApiError(409, "NO_APPOINTMENT", "The project has no appointment to cancel.")
            entry = self._append_ledger(action="cancel", record=record, actor=actor)
            record.status, record.date, record.time = STATUS_UNSCHEDULED, None, None
            record.technician = None
            return entry

    def add_note(self, client_id: str, project_id: str, note_text: str, *, actor: str) -> str:
        """Keep a note on the project; returns its id."""
        client_or_404(client_id)
        with self._lock:
            record = self._world.projects[project_id]
            self._world.note_seq += 1
            note_id = f"note_{self._world.note_seq}"
            self._world.notes.append(
                {
                    "note_id": note_id,
                    "client_id": client_id,
                    "project_id": project_id,
                    "customer_id": record.seed.customer_id,
                    "note_text": note_text,
                    "actor": actor,
                    "at": iso_utc(self._world.clock.now()),
                }
            )
            return note_id

    # --- helpers; the caller holds the lock ---------------------------------------------

    def _holder(self, client_id: str, day: str, time: str) -> str | None:
        for record in self._world.projects.values():
            if (
                record.seed.client_id == client_id
                and record.has_appointment
                and (record.date, record.time) == (day, time)
            ):
                return record.seed.project_id
        return None

    def _free_slots(self, client: SeedClient, day: str) -> list[str]:
        return [slot for slot in client.slots if self._holder(client.client_id, day, slot) is None]

    @staticmethod
    def _require_open(record: ProjectRecord) -> None:
        if record.status in CLOSED_STATUSES:
            raise ApiError(
                409,
                "PROJECT_NOT_SCHEDULABLE",
                f"Project '{record.seed.project_id}' is {record.status} and takes no appointment.",
            )

    def _store_grant(self, grant: RequestGrant) -> None:
        grants = self._world.grants
        if len(grants) >= MAX_STORED_REQUEST_IDS:
            now = self._world.clock.now()
            for stale in [rid for rid, g in grants.items() if g.expires_at <= now]:
                del grants[stale]
        grants[grant.request_id] = grant

    def _grant(self, request_id: str, client_id: str, project_id: str) -> RequestGrant:
        if not request_id:
            raise ApiError(
                400, "REQUEST_ID_MISSING", "A request_id from the dates call is required."
            )
        grant = self._world.grants.get(request_id)
        owner = self._world.projects[project_id].seed.customer_id
        if grant is None or (grant.client_id, grant.project_id, grant.customer_id) != (
            client_id,
            project_id,
            owner,
        ):
            raise ApiError(
                400,
                "REQUEST_ID_INVALID",
                "The request_id is unknown or belongs to another project.",
            )
        if self._world.clock.now() >= grant.expires_at:
            raise ApiError(
                410, "REQUEST_ID_EXPIRED", "The request_id has expired; fetch the dates again."
            )
        return grant

    def _append_ledger(
        self,
        *,
        action: str,
        record: ProjectRecord,
        actor: str,
        request_id: str | None = None,
        created_at: str | None = None,
        is_chatbot: str | None = None,
        rescheduled_from: dict[str, str | None] | None = None,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "seq": len(self._world.ledger) + 1,
            "action": action,
            "client_id": record.seed.client_id,
            "customer_id": record.seed.customer_id,
            "project_id": record.seed.project_id,
            "date": record.date,
            "time": record.time,
            "request_id": request_id,
            "created_at": created_at,
            "is_chatbot": is_chatbot,
            "actor": actor,
            "rescheduled_from": rescheduled_from,
            "at": iso_utc(self._world.clock.now()),
        }
        self._world.ledger.append(entry)
        return dict(entry)


def _pick_technician(client: SeedClient, project_id: str) -> Technician:
    """A stable choice, so the same project gets the same technician run after run."""
    return client.technicians[sum(map(ord, project_id)) % len(client.technicians)]
