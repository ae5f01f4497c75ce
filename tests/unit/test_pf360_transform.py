"""PF360 client pieces that need no server: transform, URLs, errors, the mock and the factory."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime
from typing import Any

import pytest
import requests

from tasks.config import load_settings
from tasks.pf360 import (
    MockPF360Client,
    MockStore,
    PF360Api,
    PF360BadRequest,
    PF360Client,
    PF360Conflict,
    PF360ConnectionError,
    PF360Error,
    PF360Forbidden,
    PF360MalformedResponse,
    PF360NotFound,
    PF360RateLimited,
    PF360RequestExpired,
    PF360ServerError,
    PF360Timeout,
    PF360Unauthorized,
    Project,
    created_at,
    extract_projects,
    make_client,
    project_url,
)
from tasks.pf360.errors import redact
from tasks.pf360.responses import error_for_exception, parse_retry_after, read_body
from tasks.pf360.transform import (
    parse_available_dates,
    parse_business_hours,
    parse_note,
    parse_schedule,
    parse_time_slots,
    window,
)

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDVVNUMDAxIn0.c2lnbmF0dXJlLXNlY3JldA"

ROW: dict[str, Any] = {
    "project_project_id": "12346",
    "project_project_number": "ORD-2025-002",
    "project_type_project_type": "Installation",
    "project_category_category": "Windows",
    "status_info_status": "Scheduled",
    "installation_address_full_address": "123 Main St, Tampa, FL 33601",
    "project_date_scheduled_date": "2025-10-15",
    "convertedProjectStartScheduledDate": "2025-10-15 08:00:00",
    "convertedProjectEndScheduledDate": "2025-10-15 12:00:00",
    "technician_name": "Sam Patel",
    "technician_phone": "555-0142",
    "some_other_column": "ignored",
}


# -- dashboard transform ---------------------------------------------------------------


def test_dashboard_rows_become_numbered_projects_with_links() -> None:
    raw = {"data": [{"project_project_id": "12345"}, ROW]}
    first, second = extract_projects(raw, client_name="acme-corp", environment="dev")
    assert (first.project_number, second.project_number) == (1, 2)
    assert second == Project(
        project_number=2,
        project_id="12346",
        order_number="ORD-2025-002",
        project_type="Installation",
        category="Windows",
        status="Scheduled",
        address="123 Main St, Tampa, FL 33601",
        scheduled_date="2025-10-15",
        scheduled_start="2025-10-15 08:00:00",
        scheduled_end="2025-10-15 12:00:00",
        window="08:00-12:00",
        technician_name="Sam Patel",
        technician_phone="555-0142",
        project_url="https://acme-corp.cx-portal.dev.projectsforce.com/details/12346",
    )
    assert first.status is None and first.window is None and first.technician_name is None


def test_transform_tolerates_numbers_nulls_and_blanks() -> None:
    raw = {
        "data": [
            {
                "project_project_id": 777,
                "status_info_status": "  ",
                "technician_name": None,
                "convertedProjectStartScheduledDate": "2025-10-15T09:30:00",
                "convertedProjectEndScheduledDate": "2025-10-15T11:30:00",
            }
        ]
    }
    (project,) = extract_projects(raw)
    assert project.project_id == "777"
    assert project.status is None and project.technician_name is None
    assert project.scheduled_date == "2025-10-15"  # derived from the start
    assert project.window == "09:30-11:30"
    assert project.project_url is None  # no client name, no link


def test_project_to_dict_has_every_field() -> None:
    (project,) = extract_projects({"data": [ROW]}, client_name="acme-corp", environment="prod")
    data = project.to_dict()
    assert data["project_id"] == "12346" and data["window"] == "08:00-12:00"
    assert data["project_url"].startswith("https://acme-corp.cx-portal.apps.")
    assert set(data) == {
        "project_number",
        "project_id",
        "order_number",
        "project_type",
        "category",
        "status",
        "address",
        "scheduled_date",
        "scheduled_start",
        "scheduled_end",
        "window",
        "technician_name",
        "technician_phone",
        "project_url",
    }


@pytest.mark.parametrize(
    "raw",
    [
        {"data": [{"project_project_number": "ORD-1"}]},
        {"data": [{"project_project_id": ""}]},
        {"data": [{"project_project_id": None}]},
        {"data": ["not a row"]},
        {"data": {"rows": []}},
        {"projects": []},
    ],
)
def test_transform_is_strict_about_ids_and_shape(raw: dict[str, Any]) -> None:
    with pytest.raises(PF360MalformedResponse) as caught:
        extract_projects(raw)
    assert caught.value.code == "PF360_MALFORMED" and caught.value.endpoint == "dashboard"


def test_empty_or_null_dashboard_is_no_projects() -> None:
    assert extract_projects({"data": []}) == []
    assert extract_projects({"data": None}) == []


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2025-10-15 08:00:00", "2025-10-15 12:00:00", "08:00-12:00"),
        ("2025-10-15 8:00:00", "2025-10-15 9:00:00", "08:00-09:00"),
        ("2025-10-15", "2025-10-15 12:00:00", None),
        (None, "2025-10-15 12:00:00", None),
        ("garbage", "2025-10-15 12:00:00", None),
    ],
)
def test_window(start: str | None, end: str | None, expected: str | None) -> None:
    assert window(start, end) == expected


def test_other_response_parsers() -> None:
    hours = parse_business_hours(
        {
            "data": {
                "workHours": [
                    {"day": "Monday", "is_working": True},
                    {"day": "Saturday", "is_working": "false"},
                    {"day": "Sunday", "is_working": 0},
                ]
            }
        }
    )
    assert hours.working_days == ["Monday"]
    assert hours.to_dict()["work_days"][1] == {"day": "Saturday", "is_working": False}
    dates = parse_available_dates({"data": {"dates": ["2025-10-20"], "request_id": "req_1"}})
    assert (dates.dates, dates.request_id) == (["2025-10-20"], "req_1")
    assert parse_available_dates({"data": {"dates": []}}).dates == []
    assert parse_time_slots({"data": {"slots": ["08:00", "09:00"]}}) == ["08:00", "09:00"]
    assert parse_time_slots({"data": {"slots": None}}) == []
    assert parse_schedule({"message": "ok", "status": "success"}).status == "success"
    assert parse_note({"message": "Note added", "note_id": 5}).note_id == "5"


@pytest.mark.parametrize(
    ("parser", "body"),
    [
        (parse_business_hours, {"data": {}}),
        (parse_business_hours, {"data": {"workHours": [{"day": "Monday"}]}}),
        (parse_available_dates, {"data": {"dates": ["2025-10-20"]}}),
        (parse_available_dates, {"data": {"dates": ["20/10/2025"], "request_id": "r"}}),
        (parse_available_dates, {"data": {"dates": ["2025-02-30"], "request_id": "r"}}),
        (parse_time_slots, {"data": {"slots": [8]}}),
        (parse_time_slots, {}),
        (parse_schedule, {}),
        (parse_note, {"note_id": "n1"}),
    ],
)
def test_parsers_refuse_what_a_caller_could_not_use(parser: Any, body: dict[str, Any]) -> None:
    with pytest.raises(PF360MalformedResponse):
        parser(body)


# -- project URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "domain"),
    [("dev", "dev"), ("qa", "qa"), ("staging", "staging"), ("prod", "apps"), ("PROD", "apps")],
)
def test_project_url_for_every_environment(environment: str, domain: str) -> None:
    assert (
        project_url("acme-corp", environment, "12345")
        == f"https://acme-corp.cx-portal.{domain}.projectsforce.com/details/12345"
    )


@pytest.mark.parametrize("environment", ["production", "", "local", "apps"])
def test_project_url_refuses_unknown_environments(environment: str) -> None:
    with pytest.raises(ValueError, match="environment"):
        project_url("acme-corp", environment, "12345")


def test_project_url_guards_its_host_and_path() -> None:
    with pytest.raises(ValueError):
        project_url("evil.com/x?", "dev", "1")
    with pytest.raises(ValueError):
        project_url("acme-corp", "dev", " ")
    assert project_url("acme-corp", "qa", "../admin").endswith("/details/..%2Fadmin")
    assert project_url("acme-corp", "qa", 42).endswith("/details/42")


# -- errors -----------------------------------------------------------------------------

ERROR_TABLE = [
    (PF360Timeout, "PF360_TIMEOUT", True),
    (PF360ConnectionError, "PF360_UNAVAILABLE", True),
    (PF360ServerError, "PF360_UNAVAILABLE", True),
    (PF360RateLimited, "PF360_RATE_LIMITED", True),
    (PF360Unauthorized, "PF360_AUTH", False),
    (PF360Forbidden, "PF360_FORBIDDEN", False),
    (PF360NotFound, "PF360_NOT_FOUND", False),
    (PF360BadRequest, "PF360_BAD_REQUEST", False),
    (PF360Conflict, "PF360_CONFLICT", False),
    (PF360RequestExpired, "REQUEST_EXPIRED", False),
    (PF360MalformedResponse, "PF360_MALFORMED", False),
]


@pytest.mark.parametrize(("cls", "code", "transient"), ERROR_TABLE)
def test_error_codes_flags_and_customer_messages(
    cls: type[PF360Error], code: str, transient: bool
) -> None:
    error = cls("detail for operators", endpoint="schedule", status=418)
    assert isinstance(error, PF360Error)
    assert (error.code, error.transient, error.endpoint, error.status) == (
        code,
        transient,
        "schedule",
        418,
    )
    message = error.user_message
    assert message.endswith(".") and message.count(".") == 1  # one sentence
    for technical in ("HTTP", "PF360", "status code", "error", "exception", "API", "418", "_"):
        assert technical not in message
    assert str(error).startswith(code) and "detail for operators" in str(error)


def test_errors_never_carry_tokens() -> None:
    error = PF360Unauthorized(
        f"server echoed authorization: Bearer {TOKEN} and {{'authorization': '{TOKEN}'}}",
        endpoint="dashboard",
        status=401,
    )
    for text in (str(error), repr(error), str(error.to_dict()), error.user_message):
        assert TOKEN not in text
        assert "c2lnbmF0dXJl" not in text
    assert redact("opaque-token-123 leaked", secrets=["opaque-token-123"]) == "[redacted] leaked"


def test_errors_survive_pickling() -> None:
    error = PF360RateLimited("slow down", endpoint="slots", status=429, retry_after=3.0)
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, PF360RateLimited)
    assert (copy.retry_after, copy.endpoint, str(copy)) == (3.0, "slots", str(error))


def test_may_have_committed_only_for_ambiguous_writes() -> None:
    assert PF360Timeout(endpoint="schedule").may_have_committed
    assert PF360ConnectionError(endpoint="cancel").may_have_committed
    assert PF360ServerError(endpoint="add_note", status=502).may_have_committed
    assert not PF360Timeout(endpoint="dates").may_have_committed
    assert not PF360RateLimited(endpoint="schedule", status=429).may_have_committed
    assert not PF360Conflict(endpoint="schedule", status=409).may_have_committed


def _response(status: int, body: str | bytes, headers: dict[str, str] | None = None) -> Any:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode() if isinstance(body, str) else body
    response.headers.update(headers or {})
    response.reason = "reason"
    return response


@pytest.mark.parametrize(
    ("status", "body", "endpoint", "cls"),
    [
        (
            400,
            '{"status":"error","code":"REQUEST_ID_INVALID","message":"x"}',
            "slots",
            PF360BadRequest,
        ),
        (
            400,
            '{"status":"error","code":"REQUEST_ID_EXPIRED","message":"x"}',
            "slots",
            PF360RequestExpired,
        ),
        (
            401,
            '{"status":"error","code":"UNAUTHORIZED","message":"x"}',
            "dashboard",
            PF360Unauthorized,
        ),
        (403, '{"status":"error","code":"FORBIDDEN","message":"x"}', "dashboard", PF360Forbidden),
        (404, "not json", "cancel", PF360NotFound),
        (408, "", "dates", PF360Timeout),
        (
            409,
            '{"status":"error","code":"SLOT_UNAVAILABLE","message":"x"}',
            "schedule",
            PF360Conflict,
        ),
        (410, '{"status":"error","code":"GONE","message":"x"}', "schedule", PF360RequestExpired),
        (422, "{}", "add_note", PF360BadRequest),
        (500, "<html>boom</html>", "schedule", PF360ServerError),
        (503, "", "dates", PF360ServerError),
        (200, '{"status":"error","code":"SLOT_UNAVAILABLE"}', "schedule", PF360Conflict),
        (200, '{"status":"error","code":"WHATEVER"}', "schedule", PF360BadRequest),
        (200, "<html>login page</html>", "dashboard", PF360MalformedResponse),
        (200, "[1, 2]", "dashboard", PF360MalformedResponse),
        (302, "", "dashboard", PF360MalformedResponse),
    ],
)
def test_status_mapping(status: int, body: str, endpoint: str, cls: type[PF360Error]) -> None:
    with pytest.raises(cls) as caught:
        read_body(_response(status, body), endpoint)
    assert caught.value.endpoint == endpoint and caught.value.status == status


def test_conflict_messages_depend_on_the_endpoint() -> None:
    body = '{"status":"error","code":"SLOT_UNAVAILABLE","message":"taken"}'
    with pytest.raises(PF360Conflict) as slot:
        read_body(_response(409, body), "schedule")
    with pytest.raises(PF360Conflict) as cancel:
        read_body(_response(409, '{"code":"NO_APPOINTMENT"}'), "cancel")
    assert slot.value.upstream_code == "SLOT_UNAVAILABLE" and "time" in slot.value.user_message
    assert "cancel" in cancel.value.user_message


def test_rate_limit_reads_retry_after() -> None:
    with pytest.raises(PF360RateLimited) as caught:
        read_body(_response(429, "{}", {"Retry-After": "7"}), "dates")
    assert caught.value.retry_after == 7.0
    now = datetime(2025, 10, 20, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 20 Oct 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 20 Oct 2025 11:00:00 GMT", now=now) == 0.0
    for bad in (None, "", "soon", "nan"):
        assert parse_retry_after(bad) is None


def test_transport_failures_map_to_transient_errors() -> None:
    timeout = error_for_exception(requests.ReadTimeout("read timed out"), "schedule", 0.5)
    assert isinstance(timeout, PF360Timeout) and timeout.may_have_committed
    connect = error_for_exception(requests.ConnectTimeout("connect"), "dates", 2)
    assert isinstance(connect, PF360Timeout)
    dropped = error_for_exception(
        requests.ConnectionError(f"aborted; headers {{'authorization': 'Bearer {TOKEN}'}}"),
        "schedule",
        5,
        secrets=[TOKEN],
    )
    assert isinstance(dropped, PF360ConnectionError) and dropped.transient
    assert TOKEN not in str(dropped)


# -- the HTTP client without a server ------------------------------------------------------


class RecordingSession(requests.Session):
    """Answers every request with one canned reply and remembers what was sent."""

    def __init__(self, reply: Any = None, exc: Exception | None = None) -> None:
        super().__init__()
        self.reply = reply
        self.exc = exc
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls.append({"method": method, "url": url, **kwargs})
        if self.exc is not None:
            raise self.exc
        return self.reply


def test_client_sends_the_contract_headers_and_hides_the_token() -> None:
    session = RecordingSession(_response(200, '{"data": []}'))
    client = PF360Client(
        "http://pf360.test/",
        "acme-corp",
        f"Bearer {TOKEN}",
        timeout=3,
        session=session,
    )
    assert client.list_projects("CUST 001/x") == []
    (call,) = session.calls
    assert call["url"] == "http://pf360.test/dashboard/get/acme-corp/CUST%20001%2Fx"
    assert call["headers"] == {
        "authorization": f"Bearer {TOKEN}",
        "client_id": "acme-corp",
        "Content-Type": "application/json",
    }
    assert call["timeout"] == 3.0 and call["allow_redirects"] is False
    assert TOKEN not in repr(client) and TOKEN not in str(vars(client))


def test_client_refuses_bad_input_without_sending() -> None:
    session = RecordingSession(_response(200, "{}"))
    client = PF360Client("http://pf360.test", "acme-corp", TOKEN, session=session)
    with pytest.raises(PF360BadRequest):
        client.get_time_slots("12345", "2025-10-21", " ")
    with pytest.raises(PF360BadRequest) as bad_date:
        client.schedule("12345", "21-10-2025", "10:00", "req_1")
    with pytest.raises(PF360BadRequest):
        client.schedule("12345", "2025-10-21", "25:00", "req_1")
    with pytest.raises(PF360BadRequest):
        client.add_note("12345", "   ")
    assert session.calls == []
    assert bad_date.value.status is None and "date" in bad_date.value.user_message
    with pytest.raises(ValueError):
        PF360Client("http://pf360.test", "acme-corp", "Bearer ")
    with pytest.raises(ValueError):
        PF360Client("ftp://pf360.test", "acme-corp", TOKEN)
    with pytest.raises(ValueError):
        PF360Client("http://pf360.test", "acme-corp", TOKEN, environment="production")


def test_client_transport_error_is_typed_and_clean() -> None:
    session = RecordingSession(exc=requests.ConnectionError(f"reset; Bearer {TOKEN}"))
    client = PF360Client("http://pf360.test", "acme-corp", TOKEN, session=session)
    with pytest.raises(PF360ConnectionError) as caught:
        client.schedule("12345", date(2025, 10, 21), "10:00", "req_1")
    assert caught.value.may_have_committed
    assert TOKEN not in str(caught.value)
    assert caught.value.__suppress_context__  # the requests exception holds the headers


def test_created_at_is_asia_kolkata_wall_time() -> None:
    now = datetime(2025, 10, 20, 9, 0, 5, tzinfo=UTC)
    assert created_at(now, "Asia/Kolkata") == "10-20-2025 14:30:05"
    assert created_at(now.replace(tzinfo=None), "Asia/Kolkata") == "10-20-2025 14:30:05"
    assert created_at(now, "America/New_York") == "10-20-2025 05:00:05"


# -- mock mode ------------------------------------------------------------------------------

MONDAY = date(2025, 10, 20)


def _mock(store: MockStore | None = None) -> MockPF360Client:
    return MockPF360Client(
        "acme-corp",
        client_name="acme-corp",
        store=store or MockStore(clock=lambda: MONDAY),
    )


def test_mock_and_real_client_share_the_interface() -> None:
    assert isinstance(_mock(), PF360Api)
    assert isinstance(PF360Client("http://pf360.test", "acme-corp", TOKEN), PF360Api)


def test_mock_full_flow_dates_slots_schedule_dashboard() -> None:
    mock = _mock()
    projects = mock.list_projects("CUST001")
    assert [p.status for p in projects] == ["Unscheduled", "Scheduled", "Completed", "Cancelled"]
    assert all(p.project_url and p.project_url.endswith(p.project_id) for p in projects)
    scheduled = projects[1]
    assert scheduled.technician_name and scheduled.window
    target = projects[0]

    assert mock.get_business_hours().working_days == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
    ]
    offer = mock.get_available_dates(target.project_id, MONDAY)
    assert offer.dates[:5] == ["2025-10-21", "2025-10-22", "2025-10-23", "2025-10-24", "2025-10-27"]
    assert offer.request_id
    slots = mock.get_time_slots(target.project_id, offer.dates[0], offer.request_id)
    assert slots[0] == "08:00" and "10:00" in slots
    assert mock.get_time_slots(target.project_id, "2025-10-25", offer.request_id) == []

    now = datetime(2025, 10, 20, 9, 0, 0, tzinfo=UTC)
    result = mock.schedule(target.project_id, offer.dates[0], "10:00", offer.request_id, now=now)
    assert result.status == "success"
    booked = mock.list_projects("CUST001")[0]
    assert (booked.status, booked.scheduled_date, booked.window) == (
        "Scheduled",
        "2025-10-21",
        "10:00-12:00",
    )
    assert booked.technician_name
    assert mock.store.bookings[-1]["created_at"] == "10-20-2025 14:30:00"

    # the slot is gone for everyone, and the used request_id is spent
    other = mock.list_projects("CUST002")[0]
    fresh = mock.get_available_dates(other.project_id, MONDAY)
    assert "10:00" not in mock.get_time_slots(other.project_id, "2025-10-21", fresh.request_id)
    with pytest.raises(PF360BadRequest):
        mock.schedule(target.project_id, offer.dates[0], "11:00", offer.request_id)

    note = mock.add_note(target.project_id, "Gate code 1234")
    assert note.note_id and mock.notes_for(target.project_id)[0]["note_text"] == "Gate code 1234"

    assert "cancel" in mock.cancel(target.project_id).lower()
    assert mock.list_projects("CUST001")[0].status == "Unscheduled"
    with pytest.raises(PF360Conflict) as nothing:
        mock.cancel(target.project_id)
    assert nothing.value.upstream_code == "NO_APPOINTMENT"


def test_mock_refuses_what_pf360_refuses() -> None:
    mock = _mock()
    projects = mock.list_projects("CUST001")
    open_id, closed_id = projects[0].project_id, projects[2].project_id
    with pytest.raises(PF360NotFound):
        mock.get_available_dates("99999999", MONDAY)
    with pytest.raises(PF360Conflict):
        mock.get_available_dates(closed_id, MONDAY)
    offer = mock.get_available_dates(open_id, MONDAY)
    with pytest.raises(PF360BadRequest):
        mock.get_time_slots(projects[1].project_id, offer.dates[0], offer.request_id)
    with pytest.raises(PF360Conflict) as taken:
        mock.schedule(open_id, offer.dates[0], "12:00", offer.request_id)
    assert taken.value.upstream_code == "SLOT_UNAVAILABLE"
    other_tenant = MockPF360Client("sunrise-homes", store=mock.store)
    with pytest.raises(PF360NotFound):
        other_tenant.cancel(projects[1].project_id)


def test_mock_is_deterministic() -> None:
    def run() -> tuple[Any, ...]:
        mock = _mock()
        projects = mock.list_projects("CUST001")
        offer = mock.get_available_dates(projects[0].project_id, MONDAY)
        return projects, offer, mock.get_dashboard("X")

    assert run() == run()
    assert _mock().list_projects("CUST001") != _mock().list_projects("CUST002")


# -- factory ---------------------------------------------------------------------------------


def test_factory_picks_the_mock_when_use_real_api_is_false() -> None:
    settings = load_settings({"USE_REAL_API": "false", "ENVIRONMENT": "qa"})
    store = MockStore(clock=lambda: MONDAY)
    client = make_client(
        settings, client_id="acme-corp", client_name="acme-corp", auth_token=TOKEN, mock_store=store
    )
    assert isinstance(client, MockPF360Client)
    assert client.list_projects("CUST001")[0].project_url.startswith(  # type: ignore[union-attr]
        "https://acme-corp.cx-portal.qa."
    )
    # in mock mode, state outlives one client object, as it would in PF360
    project_id = client.list_projects("CUST001")[0].project_id
    offer = client.get_available_dates(project_id, MONDAY)
    client.schedule(project_id, offer.dates[0], "09:00", offer.request_id)
    again = make_client(
        settings, client_id="acme-corp", client_name="acme-corp", auth_token=TOKEN, mock_store=store
    )
    assert again.list_projects("CUST001")[0].status == "Scheduled"


def test_factory_picks_the_real_client_when_use_real_api_is_true() -> None:
    settings = load_settings(
        {
            "USE_REAL_API": "true",
            "CUSTOMER_SCHEDULER_BASE_API_URL": "https://api.staging.projectsforce.com/",
            "ENVIRONMENT": "staging",
            "API_TIMEOUT": "7.5",
            "PF360_CREATED_AT_TIMEZONE": "UTC",
        }
    )
    client = make_client(
        settings, client_id="acme-corp", client_name="acme-corp", auth_token=f"Bearer {TOKEN}"
    )
    assert isinstance(client, PF360Client)
    assert client.base_url == "https://api.staging.projectsforce.com"
    assert (client.timeout, client.environment, client.created_at_timezone) == (
        7.5,
        "staging",
        "UTC",
    )
    assert TOKEN not in repr(client)


def test_factory_default_mock_store_is_shared() -> None:
    settings = load_settings({})
    one = make_client(settings, client_id="acme-corp", client_name=None, auth_token=TOKEN)
    two = make_client(settings, client_id="acme-corp", client_name=None, auth_token=TOKEN)
    assert isinstance(one, MockPF360Client) and isinstance(two, MockPF360Client)
    assert one.store is two.store
