"""The real PF360 client over HTTP against the PF360 sandbox: every endpoint, every error kind."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
import pytz

from infra.local.dev_tokens import mint_customer_token, mint_service_token
from infra.local.pf360_sandbox import SandboxControl, SandboxServer
from tasks.pf360 import (
    PF360BadRequest,
    PF360Client,
    PF360Conflict,
    PF360ConnectionError,
    PF360Error,
    PF360Forbidden,
    PF360NotFound,
    PF360RateLimited,
    PF360RequestExpired,
    PF360ServerError,
    PF360Timeout,
    PF360Unauthorized,
)

pytestmark = pytest.mark.integration

ClientFactory = Callable[..., PF360Client]
FIXED_NOW = datetime(2025, 10, 20, 9, 0, 5, tzinfo=UTC)  # 14:30:05 in Asia/Kolkata


def acme_today() -> date:
    """Today for acme-corp, in its own time zone (as the workflow computes it)."""
    return datetime.now(pytz.timezone("America/New_York")).date()


@pytest.fixture
def token() -> str:
    return mint_customer_token("CUST001", "acme-corp")


@pytest.fixture
def make(sandbox: SandboxServer, sandbox_control: SandboxControl, token: str) -> ClientFactory:
    """Clients for the reset sandbox; CUST001 of acme-corp unless told otherwise."""

    def build(
        auth_token: str | None = None,
        client_id: str = "acme-corp",
        timeout: float = 5.0,
    ) -> PF360Client:
        return PF360Client(
            sandbox.base_url,
            client_id,
            auth_token or token,
            timeout=timeout,
            client_name=client_id,
            environment="dev",
        )

    return build


# -- every endpoint on the seed data ------------------------------------------------------


def test_dashboard_lists_the_seed_projects(make: ClientFactory) -> None:
    client = make()
    raw = client.get_dashboard("CUST001")
    assert isinstance(raw["data"], list)
    projects = client.list_projects("CUST001")
    assert [p.project_id for p in projects] == ["12345", "12346", "12347", "12348"]
    assert [p.project_number for p in projects] == [1, 2, 3, 4]
    flooring, windows, completed, cancelled = projects
    assert (flooring.order_number, flooring.project_type, flooring.category, flooring.status) == (
        "ORD-2025-001",
        "Installation",
        "Flooring",
        "Unscheduled",
    )
    assert flooring.scheduled_date is None and flooring.window is None
    assert windows.status == "Scheduled" and windows.technician_name == "Sam Patel"
    assert windows.scheduled_date and windows.window == "09:00-11:00"
    assert (completed.status, cancelled.status) == ("Completed", "Cancelled")
    assert flooring.project_url == "https://acme-corp.cx-portal.dev.projectsforce.com/details/12345"


def test_business_hours_per_tenant(make: ClientFactory) -> None:
    acme = make().get_business_hours()
    assert acme.working_days == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    assert len(acme.work_days) == 7
    sunrise = make(mint_customer_token("CUST101", "sunrise-homes"), "sunrise-homes")
    assert sunrise.get_business_hours().working_days[-1] == "Saturday"


def test_dates_slots_schedule_cancel_and_the_ledger(
    make: ClientFactory, sandbox_control: SandboxControl
) -> None:
    client = make(f"Bearer {mint_customer_token('CUST001', 'acme-corp')}")  # prefix accepted
    today = acme_today()
    offer = client.get_available_dates("12345", today)
    assert offer.request_id and offer.dates
    assert all(date.fromisoformat(d) > today for d in offer.dates)
    assert all(date.fromisoformat(d).weekday() < 5 for d in offer.dates)

    day = offer.dates[0]
    slots = client.get_time_slots("12345", date.fromisoformat(day), offer.request_id)
    assert slots and set(slots) <= {
        "08:00",
        "09:00",
        "10:00",
        "11:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
    }
    chosen = slots[-1]

    result = client.schedule("12345", day, chosen, offer.request_id, now=FIXED_NOW)
    assert result.status == "success" and result.message

    (entry,) = sandbox_control.bookings()
    assert (entry["action"], entry["project_id"], entry["date"], entry["time"]) == (
        "book",
        "12345",
        day,
        chosen,
    )
    assert entry["created_at"] == "10-20-2025 14:30:05"  # MM-DD-YYYY HH:MM:SS, Asia/Kolkata
    assert entry["is_chatbot"] == "true"
    assert entry["request_id"] == offer.request_id

    booked = client.list_projects("CUST001")[0]
    assert (booked.status, booked.scheduled_date) == ("Scheduled", day)
    assert booked.window and booked.window.startswith(chosen) and booked.technician_name

    again = client.get_available_dates("12345", today)
    assert chosen not in client.get_time_slots("12345", day, again.request_id)

    assert "cancel" in client.cancel("12345").lower()
    assert [e["action"] for e in sandbox_control.bookings()] == ["book", "cancel"]
    assert client.list_projects("CUST001")[0].status == "Unscheduled"
    with pytest.raises(PF360Conflict) as nothing:
        client.cancel("12345")
    assert nothing.value.status == 409 and "cancel" in nothing.value.user_message


def test_add_note_is_kept(make: ClientFactory, sandbox_control: SandboxControl) -> None:
    note = make().add_note("12345", "Please call before arriving")
    assert note.note_id and note.message
    (kept,) = sandbox_control.notes()
    assert (kept["note_id"], kept["project_id"], kept["note_text"]) == (
        note.note_id,
        "12345",
        "Please call before arriving",
    )


def test_a_taken_slot_is_a_conflict(make: ClientFactory) -> None:
    dana = make()
    luis = make(mint_customer_token("CUST002", "acme-corp"))
    today = acme_today()
    first = dana.get_available_dates("12345", today)
    second = luis.get_available_dates("22345", today)
    day = first.dates[0]
    slot = dana.get_time_slots("12345", day, first.request_id)[0]
    dana.schedule("12345", day, slot, first.request_id)
    with pytest.raises(PF360Conflict) as taken:
        luis.schedule("22345", day, slot, second.request_id)
    assert taken.value.upstream_code == "SLOT_UNAVAILABLE"
    assert taken.value.user_message.startswith("That time slot is no longer available")
    assert not taken.value.transient


def test_closed_projects_and_bad_request_ids(make: ClientFactory) -> None:
    client = make()
    with pytest.raises(PF360Conflict):
        client.get_available_dates("12347", acme_today())
    offer = client.get_available_dates("12345", acme_today())
    with pytest.raises(PF360BadRequest) as invalid:
        client.get_time_slots("12345", offer.dates[0], "req_not_issued")
    assert invalid.value.status == 400 and invalid.value.upstream_code == "REQUEST_ID_INVALID"


def test_service_token_acts_for_any_customer_of_its_client(make: ClientFactory) -> None:
    service = make(mint_service_token("acme-corp"))
    assert [p.project_id for p in service.list_projects("CUST002")] == ["22345", "22346"]


# -- injected faults ----------------------------------------------------------------------


def test_timeout_is_transient(make: ClientFactory, sandbox_control: SandboxControl) -> None:
    sandbox_control.add_fault("dates", "timeout", delay_ms=1500)
    client = make(timeout=0.5)
    started = time.monotonic()
    with pytest.raises(PF360Timeout) as caught:
        client.get_available_dates("12345", acme_today())
    assert time.monotonic() - started < 1.4
    assert caught.value.transient and caught.value.code == "PF360_TIMEOUT"
    assert caught.value.endpoint == "dates" and not caught.value.may_have_committed


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(
    make: ClientFactory, sandbox_control: SandboxControl, status: int
) -> None:
    sandbox_control.add_fault("dashboard", "status", status=status)
    client = make()
    with pytest.raises(PF360ServerError) as caught:
        client.list_projects("CUST001")
    assert caught.value.status == status
    assert caught.value.transient and caught.value.code == "PF360_UNAVAILABLE"
    assert len(client.list_projects("CUST001")) == 4  # the fault was used up


def test_rate_limit_carries_retry_after(
    make: ClientFactory, sandbox_control: SandboxControl
) -> None:
    sandbox_control.add_fault("slots", "status", status=429)
    client = make()
    offer = client.get_available_dates("12345", acme_today())
    with pytest.raises(PF360RateLimited) as caught:
        client.get_time_slots("12345", offer.dates[0], offer.request_id)
    assert caught.value.transient and caught.value.retry_after == 1.0
    assert caught.value.code == "PF360_RATE_LIMITED"


@pytest.mark.parametrize(
    ("status", "cls", "code"),
    [(401, PF360Unauthorized, "PF360_AUTH"), (404, PF360NotFound, "PF360_NOT_FOUND")],
)
def test_status_faults_are_not_transient(
    make: ClientFactory,
    sandbox_control: SandboxControl,
    status: int,
    cls: type[PF360Error],
    code: str,
) -> None:
    sandbox_control.add_fault("business_hours", "status", status=status)
    with pytest.raises(cls) as caught:
        make().get_business_hours()
    assert (caught.value.code, caught.value.status, caught.value.transient) == (code, status, False)


def test_drop_after_commit_is_transient_and_the_booking_stands(
    make: ClientFactory, sandbox_control: SandboxControl
) -> None:
    client = make(timeout=2.0)
    offer = client.get_available_dates("12345", acme_today())
    day = offer.dates[0]
    slot = client.get_time_slots("12345", day, offer.request_id)[0]
    sandbox_control.add_fault("schedule", "drop-after-commit", delay_ms=3000)
    with pytest.raises((PF360ConnectionError, PF360Timeout)) as caught:
        client.schedule("12345", day, slot, offer.request_id)
    assert caught.value.transient and caught.value.may_have_committed
    books = [e for e in sandbox_control.bookings() if e["action"] == "book"]
    assert [(e["project_id"], e["date"], e["time"]) for e in books] == [("12345", day, slot)]
    assert client.list_projects("CUST001")[0].status == "Scheduled"  # what Book re-reads


# -- tokens and tenancy -------------------------------------------------------------------


def test_expired_token(make: ClientFactory) -> None:
    expired = mint_customer_token("CUST001", "acme-corp", now=time.time() - 7200)
    with pytest.raises(PF360Unauthorized) as caught:
        make(expired).list_projects("CUST001")
    assert caught.value.user_message == "Your session has expired; please sign in again."


def test_bad_signature(make: ClientFactory) -> None:
    forged = mint_customer_token(
        "CUST001", "acme-corp", secret="not-the-sandbox-secret-but-long-enough-for-hs256"
    )
    with pytest.raises(PF360Unauthorized):
        make(forged).list_projects("CUST001")


def test_another_customers_data_is_forbidden(make: ClientFactory) -> None:
    client = make()
    with pytest.raises(PF360Forbidden) as dashboard:
        client.get_dashboard("CUST002")
    assert dashboard.value.status == 403 and not dashboard.value.transient
    with pytest.raises(PF360Forbidden):
        client.cancel("22346")  # CUST002's appointment, same client


def test_another_clients_project(make: ClientFactory, sandbox_control: SandboxControl) -> None:
    with pytest.raises(PF360NotFound):
        make().get_available_dates("31001", acme_today())  # sunrise-homes' project via acme
    with pytest.raises(PF360Forbidden):
        make(client_id="sunrise-homes").add_note("31001", "hello")  # acme token, sunrise path
    assert sandbox_control.notes() == []


def test_expired_request_id(make: ClientFactory, sandbox_control: SandboxControl) -> None:
    client = make()
    offer = client.get_available_dates("12345", acme_today())
    sandbox_control.advance_clock(901)
    with pytest.raises(PF360RequestExpired) as slots:
        client.get_time_slots("12345", offer.dates[0], offer.request_id)
    with pytest.raises(PF360RequestExpired):
        client.schedule("12345", offer.dates[0], "08:00", offer.request_id)
    assert slots.value.code == "REQUEST_EXPIRED" and slots.value.status == 410
    assert "dates again" in slots.value.user_message
    assert sandbox_control.bookings() == []


def test_no_token_in_errors_or_in_the_sandbox_log(
    make: ClientFactory, sandbox_control: SandboxControl, token: str
) -> None:
    client = make(timeout=0.5)
    sandbox_control.add_fault("dashboard", "status", status=500)
    sandbox_control.add_fault("dates", "timeout", delay_ms=1000)
    errors: list[PF360Error] = []
    for call in (
        lambda: client.list_projects("CUST001"),
        lambda: client.get_available_dates("12345", acme_today()),
        lambda: client.get_dashboard("CUST002"),
        lambda: client.get_time_slots("12345", "2025-10-21", token),  # token as a request_id
        lambda: make(token + "x").get_business_hours(),
    ):
        with pytest.raises(PF360Error) as caught:
            call()
        errors.append(caught.value)
    signature = token.rsplit(".", 1)[-1]
    for error in errors:
        for text in (str(error), repr(error), str(error.to_dict()), error.user_message):
            assert token not in text and signature not in text
    assert token not in repr(client)
    log = sandbox_control.requests()
    assert log and all("authorization" not in str(entry).lower() for entry in log)
    assert token not in str(log) and signature not in str(log)
