"""The PF360 sandbox over real HTTP: contract, state, token checks, faults and control API."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import jwt
import pytest
import requests

from infra.local.dev_tokens import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    dev_secret,
    mint_customer_token,
    mint_service_token,
)
from infra.local.pf360_sandbox import (
    CUSTOMERS,
    PROJECTS,
    REQUEST_ID_TTL_SECONDS,
    SandboxControl,
    SandboxControlError,
    SandboxServer,
)

pytestmark = pytest.mark.integration

TODAY = date.today().isoformat()
CREATED_AT = "10-20-2025 14:30:00"


@dataclass
class Api:
    """A PF360 caller with one token, speaking the seed's paths."""

    base_url: str
    token: str | None
    client_id: str = "acme-corp"
    extra_headers: dict[str, str] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        headers = {"client_id": self.client_id, **self.extra_headers}
        if self.token is not None:
            headers["authorization"] = f"Bearer {self.token}"
        return headers

    def get(self, path: str, timeout: float = 5, **params: str) -> requests.Response:
        return requests.get(
            self.base_url + path, headers=self.headers(), params=params or None, timeout=timeout
        )

    def post(self, path: str, body: dict[str, Any], timeout: float = 5) -> requests.Response:
        return requests.post(
            self.base_url + path, headers=self.headers(), json=body, timeout=timeout
        )

    def dashboard(self, customer_id: str) -> requests.Response:
        return self.get(f"/dashboard/get/{self.client_id}/{customer_id}")

    def rows(self, customer_id: str) -> dict[str, dict[str, Any]]:
        response = self.dashboard(customer_id)
        assert response.status_code == 200, response.text
        return {row["project_project_id"]: row for row in response.json()["data"]}

    def slots_path(self, project_id: str, d1: str, d2: str) -> str:
        return (
            f"/scheduler/client/{self.client_id}/project/{project_id}"
            f"/date/{d1}/selected/{d2}/get-rescheduler-slots"
        )

    def dates(self, project_id: str, today: str = TODAY) -> tuple[list[str], str]:
        response = self.get(self.slots_path(project_id, today, today))
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        return data["dates"], data["request_id"]

    def slots(self, project_id: str, day: str, request_id: str) -> requests.Response:
        return self.get(self.slots_path(project_id, day, day), request_id=request_id)

    def free(self, project_id: str, day: str, request_id: str) -> list[str]:
        response = self.slots(project_id, day, request_id)
        assert response.status_code == 200, response.text
        return list(response.json()["data"]["slots"])

    def schedule(
        self, project_id: str, day: str, slot: str, request_id: str | None, **overrides: Any
    ) -> requests.Response:
        body: dict[str, Any] = {
            "created_at": CREATED_AT,
            "date": day,
            "time": slot,
            "request_id": request_id,
            "is_chatbot": "true",
            **overrides,
        }
        if request_id is None:
            del body["request_id"]
        return self.post(f"/scheduler/client/{self.client_id}/project/{project_id}/schedule", body)

    def cancel(self, project_id: str) -> requests.Response:
        return self.get(
            f"/scheduler/client/{self.client_id}/project/{project_id}/cancel-reschedule"
        )

    def add_note(self, project_id: str, body: dict[str, Any]) -> requests.Response:
        return self.post(f"/project-notes/add/{self.client_id}/{project_id}", body)


def customer(sandbox: SandboxServer, customer_id: str = "CUST001", **kwargs: Any) -> Api:
    client_id = CUSTOMERS[customer_id].client_id
    token = mint_customer_token(customer_id, client_id, **kwargs)
    return Api(sandbox.base_url, token, client_id)


def service(sandbox: SandboxServer, client_id: str = "acme-corp") -> Api:
    return Api(sandbox.base_url, mint_service_token(client_id), client_id)


def assert_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] == code
    assert body["message"].endswith(".")


def day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


# --- reads ------------------------------------------------------------------------------


def test_dashboard_lists_each_customers_own_projects(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    for customer_id in CUSTOMERS:
        rows = customer(sandbox, customer_id).rows(customer_id)
        expected = {p.project_id for p in PROJECTS.values() if p.customer_id == customer_id}
        assert set(rows) == expected

    dana = customer(sandbox).rows("CUST001")
    assert {pid: row["status_info_status"] for pid, row in dana.items()} == {
        "12345": "Unscheduled",
        "12346": "Scheduled",
        "12347": "Completed",
        "12348": "Cancelled",
    }
    windows = dana["12346"]
    assert windows["project_project_number"] == "ORD-2025-002"
    assert windows["project_type_project_type"] == "Installation"
    assert windows["project_category_category"] == "Windows"
    assert windows["installation_address_full_address"]
    day = windows["project_date_scheduled_date"]
    assert date.fromisoformat(day) > date.today() - timedelta(days=1)
    assert windows["convertedProjectStartScheduledDate"] == f"{day} 09:00:00"
    assert windows["convertedProjectEndScheduledDate"] == f"{day} 11:00:00"
    assert (windows["technician_name"], windows["technician_phone"]) == ("Sam Patel", "555-0142")
    flooring = dana["12345"]
    assert flooring["project_date_scheduled_date"] is None
    assert flooring["technician_name"] is None

    luis = customer(sandbox, "CUST002").rows("CUST002")
    assert luis["22346"]["technician_name"] == "Jo Kim"
    aroha = customer(sandbox, "CUST101").rows("CUST101")
    assert aroha["31002"]["technician_phone"] == "555-0301"
    assert aroha["31001"]["project_project_number"] == "SUN-7001"


def test_business_hours_per_client(sandbox: SandboxServer, sandbox_control: SandboxControl) -> None:
    def working(api: Api) -> dict[str, bool]:
        response = api.get(f"/scheduler/client/{api.client_id}/business-hours")
        assert response.status_code == 200, response.text
        hours = response.json()["data"]["workHours"]
        return {entry["day"]: entry["is_working"] for entry in hours}

    acme = working(customer(sandbox, "CUST001"))
    assert list(acme) == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert [day for day, on in acme.items() if not on] == ["Saturday", "Sunday"]
    sunrise = working(customer(sandbox, "CUST101"))
    assert [day for day, on in sunrise.items() if not on] == ["Sunday"]


def test_dates_are_the_next_ten_working_days_after_today(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    monday = "2031-03-03"
    dates, request_id = customer(sandbox).dates("12345", today=monday)
    assert request_id.startswith("req_")
    assert len(dates) == 10
    assert dates[0] == "2031-03-04"
    assert all(date.fromisoformat(d).weekday() < 5 for d in dates)

    dates, _ = customer(sandbox, "CUST101").dates("31001", today=monday)
    assert len(dates) == 10
    assert "2031-03-08" in dates  # Saturday works at sunrise-homes
    assert "2031-03-09" not in dates  # Sunday does not
    # Each dates call issues a new request_id.
    assert customer(sandbox).dates("12345")[1] != customer(sandbox).dates("12345")[1]


def test_closed_project_takes_no_appointment(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    api = customer(sandbox)
    for project_id in ("12347", "12348"):
        assert_error(
            api.get(api.slots_path(project_id, TODAY, TODAY)), 409, "PROJECT_NOT_SCHEDULABLE"
        )


# --- booking state ----------------------------------------------------------------------


def test_booking_consumes_the_slot_and_cancel_frees_it(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    dates, request_id = dana.dates("12345")
    day = dates[0]
    assert dana.free("12345", day, request_id)[0] == "08:00"

    response = dana.schedule("12345", day, "08:00", request_id)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Appointment scheduled successfully", "status": "success"}

    assert "08:00" not in dana.free("12345", day, request_id)
    row = dana.rows("CUST001")["12345"]
    assert row["status_info_status"] == "Scheduled"
    assert row["project_date_scheduled_date"] == day
    assert row["convertedProjectStartScheduledDate"] == f"{day} 08:00:00"
    assert row["convertedProjectEndScheduledDate"] == f"{day} 10:00:00"
    assert row["technician_name"]

    (entry,) = sandbox_control.bookings()
    assert entry["action"] == "book"
    assert (entry["client_id"], entry["customer_id"], entry["project_id"]) == (
        "acme-corp",
        "CUST001",
        "12345",
    )
    assert (entry["date"], entry["time"], entry["request_id"]) == (day, "08:00", request_id)
    assert (entry["created_at"], entry["is_chatbot"]) == (CREATED_AT, "true")
    assert entry["seq"] == 1 and entry["at"]

    # Capacity is one booking per client per date and time: Luis cannot take it.
    luis = customer(sandbox, "CUST002")
    _, luis_request = luis.dates("22345")
    assert_error(luis.schedule("22345", day, "08:00", luis_request), 409, "SLOT_UNAVAILABLE")

    response = dana.cancel("12345")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Appointment cancelled successfully"}
    assert "08:00" in dana.free("12345", day, request_id)
    row = dana.rows("CUST001")["12345"]
    assert row["status_info_status"] == "Unscheduled"
    assert row["project_date_scheduled_date"] is None
    assert row["convertedProjectStartScheduledDate"] is None
    ledger = sandbox_control.bookings()
    assert [e["action"] for e in ledger] == ["book", "cancel"]
    assert (ledger[1]["date"], ledger[1]["time"]) == (day, "08:00")

    assert_error(dana.cancel("12345"), 409, "NO_APPOINTMENT")
    assert len(sandbox_control.bookings()) == 2


def test_reschedule_frees_the_old_slot(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    old_day = dana.rows("CUST001")["12346"]["project_date_scheduled_date"]
    dates, request_id = dana.dates("12346", today=day_before(old_day))
    assert dates[0] == old_day
    assert "09:00" not in dana.free("12346", old_day, request_id)

    new_day = dates[1]
    assert dana.schedule("12346", new_day, "14:00", request_id).status_code == 200
    assert "09:00" in dana.free("12346", old_day, request_id)
    assert "14:00" not in dana.free("12346", new_day, request_id)
    row = dana.rows("CUST001")["12346"]
    assert row["convertedProjectStartScheduledDate"] == f"{new_day} 14:00:00"
    assert row["technician_name"] == "Sam Patel"
    (entry,) = sandbox_control.bookings()
    assert entry["rescheduled_from"] == {"date": old_day, "time": "09:00"}


def test_unoffered_dates_have_no_slots_and_cannot_be_booked(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    monday = "2031-03-03"
    dates, request_id = dana.dates("12345", today=monday)
    assert dana.free("12345", "2031-03-08", request_id) == []  # Saturday
    assert dana.free("12345", "2031-06-02", request_id) == []  # beyond the offer
    assert_error(dana.schedule("12345", "2031-03-08", "09:00", request_id), 409, "SLOT_UNAVAILABLE")
    assert_error(dana.schedule("12345", dates[0], "12:00", request_id), 409, "SLOT_UNAVAILABLE")
    assert sandbox_control.bookings() == []


def test_two_concurrent_bookings_of_one_slot_only_one_wins(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    acme = service(sandbox)
    dates, first = acme.dates("12345")
    _, second = acme.dates("22345")
    day = dates[2]
    barrier = threading.Barrier(2)

    def book(project_and_request: tuple[str, str]) -> int:
        project_id, request_id = project_and_request
        barrier.wait()
        return acme.schedule(project_id, day, "10:00", request_id).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(book, [("12345", first), ("22345", second)]))
    assert statuses == [200, 409]
    assert len(sandbox_control.bookings()) == 1


# --- request_id -------------------------------------------------------------------------


def test_request_id_is_required_and_bound_to_its_project(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    dates, request_id = dana.dates("12345")
    day = dates[0]
    assert_error(dana.slots("12345", day, ""), 400, "REQUEST_ID_MISSING")
    assert_error(dana.schedule("12345", day, "08:00", None), 400, "REQUEST_ID_MISSING")
    assert_error(dana.slots("12345", day, "req_nonsense"), 400, "REQUEST_ID_INVALID")
    assert_error(dana.schedule("12345", day, "08:00", "req_nonsense"), 400, "REQUEST_ID_INVALID")
    # Issued for 12345, so useless for Dana's other project.
    assert_error(dana.slots("12346", day, request_id), 400, "REQUEST_ID_INVALID")
    assert_error(dana.schedule("12346", day, "08:00", request_id), 400, "REQUEST_ID_INVALID")
    # ... and for another client's project, even with a token of that client.
    aroha = customer(sandbox, "CUST101")
    assert_error(aroha.slots("31001", day, request_id), 400, "REQUEST_ID_INVALID")
    assert sandbox_control.bookings() == []


def test_request_id_expires_on_the_sandbox_clock(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    dates, request_id = dana.dates("12345")
    sandbox_control.advance_clock(REQUEST_ID_TTL_SECONDS - 60)
    assert dana.free("12345", dates[0], request_id)
    clock = sandbox_control.advance_clock(61)
    assert clock["offset_seconds"] == REQUEST_ID_TTL_SECONDS + 1
    assert_error(dana.slots("12345", dates[0], request_id), 410, "REQUEST_ID_EXPIRED")
    assert_error(dana.schedule("12345", dates[0], "08:00", request_id), 410, "REQUEST_ID_EXPIRED")
    _, fresh = dana.dates("12345")
    assert dana.free("12345", dates[0], fresh)


# --- tokens -----------------------------------------------------------------------------


def test_bad_tokens_get_401(sandbox: SandboxServer, sandbox_control: SandboxControl) -> None:
    path = "/dashboard/get/acme-corp/CUST001"
    expired = mint_customer_token("CUST001", "acme-corp", now=time.time() - 7200)
    forged = mint_customer_token(
        "CUST001", "acme-corp", secret="not-the-dev-secret-but-long-enough-for-hs256"
    )
    unsigned = jwt.encode(
        {
            "sub": "CUST001",
            "client_id": "acme-corp",
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "exp": int(time.time()) + 600,
        },
        key="",
        algorithm="none",
    )
    no_exp = jwt.encode(
        {"sub": "CUST001", "client_id": "acme-corp", "iss": DEV_ISSUER, "aud": DEV_AUDIENCE},
        dev_secret(),
        algorithm="HS256",
    )
    wrong_audience = jwt.encode(
        {
            "sub": "CUST001",
            "client_id": "acme-corp",
            "iss": DEV_ISSUER,
            "aud": "someone-else",
            "exp": int(time.time()) + 600,
        },
        dev_secret(),
        algorithm="HS256",
    )
    valid = mint_customer_token("CUST001", "acme-corp")
    for header in (
        None,
        "",
        "Bearer",
        "Bearer not-a-jwt",
        f"Basic {valid}",
        valid,
        f"Bearer {expired}",
        f"Bearer {forged}",
        f"Bearer {unsigned}",
        f"Bearer {no_exp}",
        f"Bearer {wrong_audience}",
    ):
        headers = {} if header is None else {"authorization": header}
        response = requests.get(sandbox.base_url + path, headers=headers, timeout=5)
        assert_error(response, 401, "UNAUTHORIZED")

    # Header name and scheme are case-insensitive.
    response = requests.get(
        sandbox.base_url + path, headers={"Authorization": f"bearer {valid}"}, timeout=5
    )
    assert response.status_code == 200


def test_token_expiry_follows_the_sandbox_clock(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox, ttl_seconds=60)
    assert dana.dashboard("CUST001").status_code == 200
    sandbox_control.advance_clock(61)
    assert_error(dana.dashboard("CUST001"), 401, "UNAUTHORIZED")


def test_tokens_stay_inside_their_customer_and_client(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    assert_error(dana.dashboard("CUST002"), 403, "FORBIDDEN")
    # Another customer's project: refused before anything happens.
    assert_error(dana.get(dana.slots_path("22345", TODAY, TODAY)), 403, "FORBIDDEN")
    assert_error(dana.cancel("22346"), 403, "FORBIDDEN")
    assert_error(dana.add_note("22345", {"note_text": "hi"}), 403, "FORBIDDEN")
    # Unknown project within the client: 404.
    assert_error(dana.cancel("99999"), 404, "NOT_FOUND")
    assert_error(dana.cancel("31002"), 404, "NOT_FOUND")  # sunrise-homes' project

    # Another client's data: path names it, or the client_id header does.
    for api in (
        Api(sandbox.base_url, dana.token, "sunrise-homes"),
        Api(sandbox.base_url, dana.token, "acme-corp", {"client_id": "sunrise-homes"}),
    ):
        assert_error(api.get(f"/scheduler/client/{api.client_id}/business-hours"), 403, "FORBIDDEN")
    assert_error(
        Api(sandbox.base_url, dana.token, "sunrise-homes").dashboard("CUST101"), 403, "FORBIDDEN"
    )
    ghost = Api(sandbox.base_url, mint_customer_token("CUST900", "ghost-co"), "ghost-co")
    assert_error(ghost.dashboard("CUST900"), 404, "NOT_FOUND")
    assert sandbox_control.bookings() == []


def test_service_token_acts_for_any_customer_of_its_own_client_only(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    acme = service(sandbox)
    assert set(acme.rows("CUST002")) == {"22345", "22346"}
    assert set(acme.rows("CUST001")) == {"12345", "12346", "12347", "12348"}
    dates, request_id = acme.dates("22345")
    assert acme.schedule("22345", dates[0], "11:00", request_id).status_code == 200
    (entry,) = sandbox_control.bookings()
    assert (entry["customer_id"], entry["actor"]) == ("CUST002", "service:acme-corp")
    # A request_id the service fetched is good for the customer too (same project).
    luis = customer(sandbox, "CUST002")
    assert "11:00" not in luis.free("22345", dates[0], request_id)

    sunrise = service(sandbox, "sunrise-homes")
    assert_error(Api(sandbox.base_url, sunrise.token).dashboard("CUST001"), 403, "FORBIDDEN")
    assert_error(sunrise.dashboard("CUST001"), 404, "NOT_FOUND")  # not a sunrise customer


# --- schedule body ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"created_at": "2025-10-20 14:30:00"},
        {"created_at": "10/20/2025 14:30:00"},
        {"created_at": "10-20-2025 14:30"},
        {"created_at": "13-40-2025 14:30:00"},
        {"created_at": "1-2-2025 1:02:03"},
        {"created_at": None},
        {"is_chatbot": True},
        {"is_chatbot": "True"},
        {"is_chatbot": "false"},
        {"is_chatbot": None},
        {"date": "21-10-2031"},
        {"date": "2031-02-30"},
        {"time": "9:00"},
        {"time": "25:00"},
        {"time": 900},
    ],
)
def test_schedule_body_is_validated(
    sandbox: SandboxServer, sandbox_control: SandboxControl, overrides: dict[str, Any]
) -> None:
    dana = customer(sandbox)
    dates, request_id = dana.dates("12345")
    overrides = dict(overrides)
    body_day = overrides.pop("date", dates[0])
    body_time = overrides.pop("time", "08:00")
    response = dana.schedule("12345", body_day, body_time, request_id, **overrides)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert sandbox_control.bookings() == []


def test_schedule_needs_a_json_object(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    response = requests.post(
        f"{sandbox.base_url}/scheduler/client/acme-corp/project/12345/schedule",
        headers=dana.headers(),
        data="not json",
        timeout=5,
    )
    assert_error(response, 400, "VALIDATION_ERROR")


# --- faults -----------------------------------------------------------------------------


def test_timeout_fault_delays_then_answers(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    sandbox_control.add_fault("dashboard", "timeout", delay_ms=500)
    with pytest.raises(requests.Timeout):
        dana.get("/dashboard/get/acme-corp/CUST001", timeout=0.2)
    assert dana.dashboard("CUST001").status_code == 200  # used up

    sandbox_control.add_fault("business_hours", "timeout", delay_ms=250)
    started = time.monotonic()
    assert dana.get("/scheduler/client/acme-corp/business-hours").status_code == 200
    assert time.monotonic() - started >= 0.25


def test_status_faults_answer_before_auth_and_are_counted(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    fault = sandbox_control.add_fault("business_hours", "status", status=500)
    assert fault["id"] and fault["count"] == 1
    assert_error(
        requests.get(f"{sandbox.base_url}/scheduler/client/acme-corp/business-hours", timeout=5),
        500,
        "INTERNAL_ERROR",
    )
    assert dana.get("/scheduler/client/acme-corp/business-hours").status_code == 200

    sandbox_control.add_fault("dashboard", "status", status=429, count=2)
    sandbox_control.add_fault("dashboard", "status", status=503)
    pending = sandbox_control.faults()
    assert [(f["status"], f["count"]) for f in pending] == [(429, 2), (503, 1)]
    for _ in range(2):
        response = dana.dashboard("CUST001")
        assert_error(response, 429, "RATE_LIMITED")
        assert response.headers["Retry-After"] == "1"
    assert_error(dana.dashboard("CUST001"), 503, "SERVICE_UNAVAILABLE")
    assert dana.dashboard("CUST001").status_code == 200
    assert sandbox_control.faults() == []


def test_faults_match_their_endpoint_only(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    sandbox_control.add_fault("slots", "status", status=502)
    dates, request_id = dana.dates("12345")  # a dates call is not a slots call
    assert_error(dana.slots("12345", dates[0], request_id), 502, "BAD_GATEWAY")
    assert dana.free("12345", dates[0], request_id)

    sandbox_control.add_fault("*", "status", status=401, count=2)
    assert_error(dana.add_note("12345", {"note_text": "x"}), 401, "UNAUTHORIZED")
    assert_error(dana.cancel("12346"), 401, "UNAUTHORIZED")
    assert dana.cancel("12346").status_code == 200

    sandbox_control.add_fault("cancel", "status", status=404)
    sandbox_control.clear_faults()
    assert sandbox_control.faults() == []


def test_drop_after_commit_books_but_never_answers(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    dates, request_id = dana.dates("12345")
    sandbox_control.add_fault("schedule", "drop-after-commit")
    with pytest.raises((requests.ConnectionError, requests.Timeout)):
        dana.schedule("12345", dates[0], "13:00", request_id)
    (entry,) = sandbox_control.bookings()
    assert (entry["project_id"], entry["date"], entry["time"]) == ("12345", dates[0], "13:00")
    row = dana.rows("CUST001")["12345"]
    assert row["convertedProjectStartScheduledDate"] == f"{dates[0]} 13:00:00"
    # A blind retry now finds its own booking in the way.
    assert_error(dana.schedule("12345", dates[0], "13:00", request_id), 409, "SLOT_UNAVAILABLE")
    logged = sandbox_control.requests()
    assert [r["fault"] for r in logged if r["endpoint"] == "schedule"] == [
        "drop-after-commit",
        None,
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"endpoint": "everything", "kind": "status", "status": 500},
        {"endpoint": "dashboard", "kind": "explode"},
        {"endpoint": "dashboard", "kind": "status"},
        {"endpoint": "dashboard", "kind": "status", "status": 200},
        {"endpoint": "dashboard", "kind": "status", "status": 500, "count": 0},
        {"endpoint": "dashboard", "kind": "timeout", "delay_ms": -1},
        {"endpoint": "dashboard", "kind": "timeout", "delay_ms": "fast"},
        {"endpoint": "dashboard", "kind": "timeout", "count": True},
    ],
)
def test_bad_fault_requests_are_refused(
    sandbox: SandboxServer, sandbox_control: SandboxControl, body: dict[str, Any]
) -> None:
    response = requests.post(f"{sandbox.base_url}/__sandbox/faults", json=body, timeout=5)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert sandbox_control.faults() == []


def test_control_client_surfaces_refusals(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    with pytest.raises(SandboxControlError, match="endpoint"):
        sandbox_control.add_fault("nowhere", "timeout")
    with pytest.raises(SandboxControlError, match="ms"):
        sandbox_control.set_latency(-5)
    with pytest.raises(SandboxControlError, match="advance_seconds"):
        sandbox_control.advance_clock(-1)


# --- logs, notes, latency, reset --------------------------------------------------------


def test_request_log_never_holds_a_token(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    assert dana.token is not None
    dana.dashboard("CUST001")
    dana.get("/dashboard/get/acme-corp/CUST001", access_token=dana.token)
    dates, request_id = dana.dates("12345")
    dana.slots("12345", dates[0], request_id)
    Api(sandbox.base_url, "garbage").dashboard("CUST001")

    logged = sandbox_control.requests()
    assert len(logged) == 5
    first = logged[0]
    assert set(first) >= {"method", "path", "query", "status", "client_id_header", "at"}
    assert (first["method"], first["path"], first["status"]) == (
        "GET",
        "/dashboard/get/acme-corp/CUST001",
        200,
    )
    assert first["client_id_header"] == "acme-corp"
    assert logged[3]["query"] == {"request_id": request_id}
    assert logged[4]["status"] == 401
    dumped = json.dumps(logged)
    assert dana.token not in dumped
    assert dana.token.split(".")[2] not in dumped
    assert "Bearer" not in dumped and "garbage" not in dumped


def test_notes_are_kept(sandbox: SandboxServer, sandbox_control: SandboxControl) -> None:
    dana = customer(sandbox)
    response = dana.add_note("12345", {"note_text": "Customer prefers morning appointments"})
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Note added successfully", "note_id": "note_1"}
    assert dana.add_note("12346", {"note_text": "Gate code 4411"}).json()["note_id"] == "note_2"
    assert_error(dana.add_note("12345", {"note_text": "   "}), 400, "VALIDATION_ERROR")
    assert_error(dana.add_note("12345", {}), 400, "VALIDATION_ERROR")
    assert_error(dana.add_note("12345", {"note_text": 7}), 400, "VALIDATION_ERROR")

    notes = sandbox_control.notes()
    assert [(n["note_id"], n["project_id"], n["client_id"]) for n in notes] == [
        ("note_1", "12345", "acme-corp"),
        ("note_2", "12346", "acme-corp"),
    ]
    assert notes[0]["note_text"] == "Customer prefers morning appointments"


def test_latency_slows_every_pf360_call(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    dana = customer(sandbox)
    sandbox_control.set_latency(300)
    started = time.monotonic()
    assert dana.dashboard("CUST001").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert sandbox_control.health()  # control calls are not slowed
    assert time.monotonic() - started < 0.3


def test_reset_restores_the_seed(sandbox: SandboxServer, sandbox_control: SandboxControl) -> None:
    dana = customer(sandbox)
    seeded = dana.rows("CUST001")
    dates, request_id = dana.dates("12345")
    assert dana.schedule("12345", dates[0], "15:00", request_id).status_code == 200
    assert dana.cancel("12346").status_code == 200
    dana.add_note("12345", {"note_text": "hello"})
    sandbox_control.add_fault("dashboard", "status", status=500, count=5)
    sandbox_control.set_latency(50)
    sandbox_control.advance_clock(10_000)

    sandbox_control.reset()
    assert sandbox_control.bookings() == []
    assert sandbox_control.notes() == []
    assert sandbox_control.faults() == []
    assert sandbox_control.requests() == []
    assert dana.rows("CUST001") == seeded
    clock = requests.get(f"{sandbox.base_url}/__sandbox/clock", timeout=5).json()
    assert clock["offset_seconds"] == 0
    latency = requests.get(f"{sandbox.base_url}/__sandbox/latency", timeout=5).json()
    assert latency == {"latency_ms": 0}
    assert_error(dana.slots("12345", dates[0], request_id), 400, "REQUEST_ID_INVALID")


def test_unknown_paths_answer_in_the_error_shape(
    sandbox: SandboxServer, sandbox_control: SandboxControl
) -> None:
    response = requests.get(f"{sandbox.base_url}/dashboard/list/acme-corp", timeout=5)
    assert response.status_code == 404
    assert response.json()["status"] == "error"
    assert response.json()["code"] == "NOT_FOUND"
    response = requests.delete(f"{sandbox.base_url}/__sandbox/health", timeout=5)
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
