"""The sandbox's seed data: two tenants, three customers, eight projects.

Ids are fixed because tests, the demo and other modules name them. Appointment dates are
relative (working days from the tenant's today) so the seed never goes stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

REQUEST_ID_TTL_SECONDS = 900
APPOINTMENT_HOURS = 2

STATUS_UNSCHEDULED = "Unscheduled"
STATUS_SCHEDULED = "Scheduled"
STATUS_COMPLETED = "Completed"
STATUS_CANCELLED = "Cancelled"
# A project in one of these states takes no new appointment.
CLOSED_STATUSES: frozenset[str] = frozenset({STATUS_COMPLETED, STATUS_CANCELLED})


@dataclass(frozen=True)
class Technician:
    """Who shows up; the dashboard shows name and phone for scheduled projects."""

    name: str
    phone: str


@dataclass(frozen=True)
class SeedClient:
    """A tenant: its working week, its slot grid and its technicians."""

    client_id: str
    client_name: str
    timezone: str
    working_days: tuple[str, ...]
    slots: tuple[str, ...]
    technicians: tuple[Technician, ...]


@dataclass(frozen=True)
class SeedCustomer:
    """A customer of one client."""

    customer_id: str
    client_id: str
    name: str


@dataclass(frozen=True)
class SeedAppointment:
    """An appointment `working_days_from_today` working days from the tenant's today."""

    working_days_from_today: int
    time: str
    technician: Technician


@dataclass(frozen=True)
class SeedProject:
    """A project as seeded; the sandbox state copies it into a mutable record."""

    project_id: str
    project_number: str
    client_id: str
    customer_id: str
    project_type: str
    category: str
    status: str
    address: str
    appointment: SeedAppointment | None = None


SAM_PATEL = Technician("Sam Patel", "555-0142")
JO_KIM = Technician("Jo Kim", "555-0199")
PRIYA_SHAH = Technician("Priya Shah", "555-0177")
MERE_TANE = Technician("Mere Tane", "555-0301")
TOM_REID = Technician("Tom Reid", "555-0322")

WEEKDAYS_MON_FRI = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

_CLIENTS: dict[str, SeedClient] = dict(
    {
        "acme-corp": SeedClient(
            client_id="acme-corp",
            client_name="acme-corp",
            timezone="America/New_York",
            working_days=WEEKDAYS_MON_FRI,
            slots=("08:00", "09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"),
            technicians=(SAM_PATEL, JO_KIM, PRIYA_SHAH),
        ),
        "sunrise-homes": SeedClient(
            client_id="sunrise-homes",
            client_name="sunrise-homes",
            timezone="Pacific/Auckland",
            working_days=(*WEEKDAYS_MON_FRI, "Saturday"),
            slots=("07:00", "08:00", "09:00", "10:00", "11:00", "12:00"),
            technicians=(MERE_TANE, TOM_REID),
        ),
    }
)

_CUSTOMERS: dict[str, SeedCustomer] = dict(
    {
        "CUST001": SeedCustomer("CUST001", "acme-corp", "Dana Whitfield"),
        "CUST002": SeedCustomer("CUST002", "acme-corp", "Luis Romero"),
        "CUST101": SeedCustomer("CUST101", "sunrise-homes", "Aroha Ngata"),
    }
)

_DANA_ADDRESS = "123 Main St, Tampa, FL 33601"
_LUIS_ADDRESS = "4870 Bayshore Blvd, Tampa, FL 33611"
_AROHA_ADDRESS = "27 Ponsonby Road, Grey Lynn, Auckland 1021"

# fmt: off
_PROJECTS: dict[str, SeedProject] = dict(
    {
        project.project_id: project
        for project in (
            SeedProject(
                "12345", "ORD-2025-001", "acme-corp", "CUST001",
                "Installation", "Flooring", STATUS_UNSCHEDULED, _DANA_ADDRESS,
            ),
            SeedProject(
                "12346", "ORD-2025-002", "acme-corp", "CUST001",
                "Installation", "Windows", STATUS_SCHEDULED, _DANA_ADDRESS,
                SeedAppointment(7, "09:00", SAM_PATEL),
            ),
            SeedProject(
                "12347", "ORD-2025-003", "acme-corp", "CUST001",
                "Measurement", "Cabinets", STATUS_COMPLETED, _DANA_ADDRESS,
                SeedAppointment(-12, "10:00", PRIYA_SHAH),
            ),
            SeedProject(
                "12348", "ORD-2025-004", "acme-corp", "CUST001",
                "Repair", "Doors", STATUS_CANCELLED, _DANA_ADDRESS,
            ),
            SeedProject(
                "22345", "ORD-2025-101", "acme-corp", "CUST002",
                "Installation", "Roofing", STATUS_UNSCHEDULED, _LUIS_ADDRESS,
            ),
            SeedProject(
                "22346", "ORD-2025-102", "acme-corp", "CUST002",
                "Service", "HVAC", STATUS_SCHEDULED, _LUIS_ADDRESS,
                SeedAppointment(8, "10:00", JO_KIM),
            ),
            SeedProject(
                "31001", "SUN-7001", "sunrise-homes", "CUST101",
                "Installation", "Solar Panels", STATUS_UNSCHEDULED, _AROHA_ADDRESS,
            ),
            SeedProject(
                "31002", "SUN-7002", "sunrise-homes", "CUST101",
                "Service", "Water Heater", STATUS_SCHEDULED, _AROHA_ADDRESS,
                SeedAppointment(7, "09:00", MERE_TANE),
            ),
        )
    }
)
# fmt: on

CLIENTS: Mapping[str, SeedClient] = MappingProxyType(_CLIENTS)
CUSTOMERS: Mapping[str, SeedCustomer] = MappingProxyType(_CUSTOMERS)
PROJECTS: Mapping[str, SeedProject] = MappingProxyType(_PROJECTS)

LOAD_CLIENT_PREFIX = "load-co-"
_LOAD_SLOTS = ("08:00", "09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00")


def add_load_data(tenants: int = 10, customers_per_tenant: int = 10) -> list[SeedCustomer]:
    """Generated tenants, customers and projects for `make load`, so that many simultaneous
    users do not all contend for one tenant's slots. The documented seed above is kept as
    it is; this adds `load-co-NN` tenants (New York time, Mon-Fri, 8 slots a day), each
    with customers `LNNCCC` having two unscheduled projects and one scheduled. Adding the
    same numbers again changes nothing. Call before the sandbox state is reset/created."""
    added: list[SeedCustomer] = []
    for t in range(1, tenants + 1):
        client_id = f"{LOAD_CLIENT_PREFIX}{t:02d}"
        _CLIENTS.setdefault(
            client_id,
            SeedClient(
                client_id=client_id,
                client_name=client_id,
                timezone="America/New_York",
                working_days=WEEKDAYS_MON_FRI,
                slots=_LOAD_SLOTS,
                technicians=(SAM_PATEL, JO_KIM, PRIYA_SHAH),
            ),
        )
        for c in range(1, customers_per_tenant + 1):
            customer_id = f"L{t:02d}{c:03d}"
            customer = _CUSTOMERS.setdefault(
                customer_id, SeedCustomer(customer_id, client_id, f"Load Customer {t}-{c}")
            )
            added.append(customer)
            base = 500000 + t * 1000 + c * 10
            address = f"{c} Load Street, Tampa, FL 33601"
            for offset, category, status, appointment in (
                (1, "Flooring", STATUS_UNSCHEDULED, None),
                (2, "Windows", STATUS_UNSCHEDULED, None),
                (3, "Doors", STATUS_SCHEDULED, SeedAppointment(9, _LOAD_SLOTS[c % 8], JO_KIM)),
            ):
                project_id = str(base + offset)
                _PROJECTS.setdefault(
                    project_id,
                    SeedProject(
                        project_id,
                        f"LOAD-{project_id}",
                        client_id,
                        customer_id,
                        "Installation",
                        category,
                        status,
                        address,
                        appointment,
                    ),
                )
    return added
