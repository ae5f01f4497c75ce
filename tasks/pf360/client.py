"""The PF360 HTTP client: the seed's eight API items, with typed results and typed errors.

It makes exactly one HTTP request per call and never retries: whether a failure may be
retried (and, for a booking, whether it may already have committed) is the workflow's
decision, made from the error's `transient` and `may_have_committed`.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from time import monotonic
from typing import Any
from urllib.parse import quote, urlparse

import pytz
import requests

from . import inputs
from .errors import (
    ADD_NOTE,
    BUSINESS_HOURS,
    CANCEL,
    DASHBOARD,
    DATES,
    SCHEDULE,
    SLOTS,
    PF360Error,
    redact,
)
from .formats import created_at
from .models import AvailableDates, BusinessHours, NoteResult, Project, ScheduleResult
from .responses import error_for_exception, read_body
from .transform import (
    extract_projects,
    parse_available_dates,
    parse_business_hours,
    parse_message,
    parse_note,
    parse_schedule,
    parse_time_slots,
)
from .urls import PORTAL_DOMAINS

logger = logging.getLogger(__name__)

# PF360's gateway (and the sandbox) name each answer; kept in errors for support tickets.
REQUEST_ID_HEADER = "X-Request-Id"

_BEARER_PREFIX = re.compile(r"(?i)^bearer(?:\s+|$)")


class _Secret:
    """Holds the token so that repr(), vars() dumps and debuggers show no credential."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


class PF360Client:
    """One tenant's (client_id's) view of PF360, authorised by one customer or service token."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        auth_token: str,
        *,
        timeout: float = 20.0,
        client_name: str | None = None,
        environment: str = "dev",
        created_at_timezone: str = "Asia/Kolkata",
        session: requests.Session | None = None,
    ) -> None:
        parsed = urlparse(base_url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"base_url {base_url!r} is not an http(s) URL")
        if not client_id or not client_id.strip():
            raise ValueError("client_id is empty")
        if environment not in PORTAL_DOMAINS:
            raise ValueError(f"environment {environment!r} is not one of {list(PORTAL_DOMAINS)}")
        if created_at_timezone not in pytz.all_timezones_set:
            raise ValueError(f"created_at_timezone {created_at_timezone!r} is not an IANA zone")
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        self.base_url = base_url.strip().rstrip("/")
        self.client_id = client_id.strip()
        self.client_name = client_name
        self.environment = environment
        self.timeout = float(timeout)
        self.created_at_timezone = created_at_timezone
        self._token = _Secret(_bare_token(auth_token))
        self._session = session or requests.Session()
        self._owns_session = session is None

    def __repr__(self) -> str:
        return (
            f"PF360Client(base_url={self.base_url!r}, client_id={self.client_id!r}, "
            f"environment={self.environment!r})"
        )

    def __enter__(self) -> PF360Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self._session.close()

    # -- API items 1-7 ------------------------------------------------------------------

    def get_dashboard(self, customer_id: str) -> dict[str, Any]:
        """The customer's raw dashboard body (`{"data": [flattened rows]}`)."""
        customer = _segment(customer_id, "customer_id", DASHBOARD)
        return self._call(DASHBOARD, "GET", f"/dashboard/get/{self._client}/{customer}")

    def list_projects(self, customer_id: str) -> list[Project]:
        """The customer's projects, numbered from 1, with portal links when client_name is set."""
        return extract_projects(
            self.get_dashboard(customer_id),
            client_name=self.client_name,
            environment=self.environment,
        )

    def get_business_hours(self) -> BusinessHours:
        body = self._call(BUSINESS_HOURS, "GET", f"/scheduler/client/{self._client}/business-hours")
        return parse_business_hours(body)

    def get_available_dates(self, project_id: str, today: date | str) -> AvailableDates:
        """Open a scheduling request; `today` must be the tenant's today (not the server's)."""
        day = inputs.day(today, DATES)
        body = self._call(DATES, "GET", self._slots_path(project_id, day, DATES))
        return parse_available_dates(body)

    def get_time_slots(self, project_id: str, day: date | str, request_id: str) -> list[str]:
        """Times offered on `day` within the scheduling request `request_id`."""
        chosen = inputs.day(day, SLOTS)
        rid = inputs.required(request_id, "request_id", SLOTS)
        path = self._slots_path(project_id, chosen, SLOTS)
        return parse_time_slots(self._call(SLOTS, "GET", path, params={"request_id": rid}))

    def schedule(
        self,
        project_id: str,
        day: date | str,
        time: str,
        request_id: str,
        *,
        now: datetime | None = None,
    ) -> ScheduleResult:
        """Book `day` at `time`. Not idempotent: on a transient error, re-read before retrying."""
        project = _segment(project_id, "project_id", SCHEDULE)
        payload = {
            "created_at": created_at(now, self.created_at_timezone),
            "date": inputs.day(day, SCHEDULE),
            "time": inputs.time_of_day(time, SCHEDULE),
            "request_id": inputs.required(request_id, "request_id", SCHEDULE),
            "is_chatbot": "true",
        }
        path = f"/scheduler/client/{self._client}/project/{project}/schedule"
        return parse_schedule(self._call(SCHEDULE, "POST", path, json=payload))

    def cancel(self, project_id: str) -> str:
        """Cancel the project's appointment (PF360 uses GET for this); returns PF360's message."""
        project = _segment(project_id, "project_id", CANCEL)
        path = f"/scheduler/client/{self._client}/project/{project}/cancel-reschedule"
        return parse_message(self._call(CANCEL, "GET", path), CANCEL)

    def add_note(self, project_id: str, note_text: str) -> NoteResult:
        project = _segment(project_id, "project_id", ADD_NOTE)
        text = inputs.required(note_text, "note_text", ADD_NOTE)
        path = f"/project-notes/add/{self._client}/{project}"
        return parse_note(self._call(ADD_NOTE, "POST", path, json={"note_text": text}))

    # -- plumbing -----------------------------------------------------------------------

    @property
    def _client(self) -> str:
        return quote(self.client_id, safe="")

    def _slots_path(self, project_id: str, day: str, endpoint: str) -> str:
        project = _segment(project_id, "project_id", endpoint)
        return (
            f"/scheduler/client/{self._client}/project/{project}"
            f"/date/{day}/selected/{day}/get-rescheduler-slots"
        )

    def _headers(self) -> dict[str, str]:
        return {
            "authorization": f"Bearer {self._token.reveal()}",
            "client_id": self.client_id,
            "Content-Type": "application/json",
        }

    def _call(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        secrets = (self._token.reveal(),)
        started = monotonic()
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                headers=self._headers(),
                params=params,
                json=json,
                timeout=self.timeout,
                allow_redirects=False,  # never forward the token to another host
            )
        except requests.RequestException as exc:
            error = error_for_exception(exc, endpoint, self.timeout, secrets)
            _annotate(error, started, None, self.timeout)
            _log(endpoint, method, None, started, error.code)
            # `from None`: the requests exception holds the prepared request and its headers.
            raise error from None
        try:
            body = read_body(response, endpoint, secrets)
        except PF360Error as exc:
            _annotate(exc, started, response.headers.get(REQUEST_ID_HEADER), self.timeout)
            _log(endpoint, method, response.status_code, started, exc.code)
            raise
        except Exception as exc:
            _log(endpoint, method, response.status_code, started, getattr(exc, "code", None))
            raise
        _log(endpoint, method, response.status_code, started, None)
        return body


def _annotate(error: PF360Error, started: float, request_id: str | None, timeout: float) -> None:
    """The operator's facts about the failed call: its latency, PF360's request id, the
    timeout it ran under."""
    error.elapsed_ms = int((monotonic() - started) * 1000)
    error.request_id = redact(request_id)[:80] if request_id else None
    error.timeout_seconds = timeout


def _bare_token(auth_token: str) -> str:
    token = _BEARER_PREFIX.sub("", (auth_token or "").strip(), count=1).strip()
    if not token:
        raise ValueError("auth_token is empty")
    return token


def _segment(value: str, name: str, endpoint: str) -> str:
    """A path segment, escaped so that an id like '../x' cannot change the path."""
    return quote(inputs.required(value, name, endpoint), safe="")


def _log(endpoint: str, method: str, status: int | None, started: float, code: str | None) -> None:
    # Endpoint name, status and timing only: URLs carry customer ids, headers the token.
    elapsed_ms = int((monotonic() - started) * 1000)
    logger.info(
        "pf360 %s %s -> %s in %d ms%s",
        method,
        endpoint,
        status if status is not None else "no reply",
        elapsed_ms,
        f" ({code})" if code else "",
    )
