"""The PF360 endpoints of the seed contract, with token checks, injected faults and latency.

Check order on every call: fault (so a status fault answers even a good token), token (401),
client (403, then 404), project (404), ownership (403), then the request itself.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, g, request

from .auth import Caller, check_client, check_customer, verify_bearer
from .context import current_state
from .errors import ApiError, bad_request, code_for_status, not_found
from .seed import CUSTOMERS
from .state import SandboxState, client_or_404
from .transport import client_id_header, drop_connection
from .workdays import WEEKDAYS

bp = Blueprint("pf360", __name__)

CREATED_AT_FORMAT = "%m-%d-%Y %H:%M:%S"
_CREATED_AT = re.compile(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}")

# Flask endpoint -> fault endpoint name; the rescheduler path serves both dates and slots.
_FAULT_NAMES = {
    "pf360.dashboard": "dashboard",
    "pf360.business_hours": "business_hours",
    "pf360.schedule": "schedule",
    "pf360.cancel": "cancel",
    "pf360.add_note": "add_note",
}


def _fault_name() -> str:
    if request.endpoint == "pf360.rescheduler_slots":
        return "slots" if "request_id" in request.args else "dates"
    return _FAULT_NAMES.get(request.endpoint or "", "unknown")


@bp.before_request
def _latency_and_faults() -> None:
    """Apply the latency setting, then the first armed fault for this endpoint."""
    state = current_state()
    g.pf360_endpoint = _fault_name()
    latency_ms = state.latency_ms()
    if latency_ms:
        time.sleep(latency_ms / 1000)
        _refuse_if_reset(state)
    fault = state.take_fault(g.pf360_endpoint)
    if fault is None:
        return
    g.pf360_fault = fault.kind
    if fault.kind == "timeout":
        time.sleep(fault.delay_ms / 1000)
        _refuse_if_reset(state)
    elif fault.kind == "status" and fault.status is not None:
        headers = {"Retry-After": "1"} if fault.status == 429 else None
        raise ApiError(
            fault.status,
            code_for_status(fault.status),
            f"Injected fault: the sandbox answers {fault.status} ({fault.id}).",
            headers,
        )
    elif fault.kind == "drop-after-commit":
        g.pf360_drop_after_ms = fault.delay_ms


def _refuse_if_reset(state: SandboxState) -> None:
    """A call delayed across a reset must not act on the fresh seed data."""
    if state.generation != g.sandbox_generation:
        raise ApiError(503, "SANDBOX_RESET", "The sandbox was reset while this call waited.")


@bp.after_request
def _maybe_drop(response: Response) -> Response:
    """For drop-after-commit: the work is done; the client never hears about it."""
    if "pf360_drop_after_ms" in g:
        drop_connection(g.pf360_drop_after_ms)
    return response


def _authorize(client_id: str) -> tuple[SandboxState, Caller]:
    state = current_state()
    caller = verify_bearer(request.headers.get("authorization"), state.now())
    check_client(caller, client_id, client_id_header())
    client_or_404(client_id)
    return state, caller


def _authorize_project(client_id: str, project_id: str) -> tuple[SandboxState, Caller]:
    state, caller = _authorize(client_id)
    check_customer(caller, state.project_owner(client_id, project_id))
    return state, caller


def _parse_date(value: object, name: str) -> date:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise bad_request(f"'{name}' must be a date in YYYY-MM-DD format.")


def _check_time(value: object) -> str:
    if isinstance(value, str) and _TIME.fullmatch(value):
        hours, minutes = int(value[:2]), int(value[3:])
        if hours < 24 and minutes < 60:
            return value
    raise bad_request("'time' must be a time in HH:MM format.")


def _check_created_at(value: object) -> str:
    if isinstance(value, str) and _CREATED_AT.fullmatch(value):
        try:
            datetime.strptime(value, CREATED_AT_FORMAT)
            return value
        except ValueError:
            pass
    raise bad_request("'created_at' must be 'MM-DD-YYYY HH:MM:SS' (Asia/Kolkata time).")


def _json_body() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


@bp.get("/dashboard/get/<client_id>/<customer_id>")
def dashboard(client_id: str, customer_id: str) -> dict[str, Any]:
    """All of one customer's projects."""
    state, caller = _authorize(client_id)
    check_customer(caller, customer_id)
    customer = CUSTOMERS.get(customer_id)
    if customer is None or customer.client_id != client_id:
        raise not_found(f"Customer '{customer_id}' does not exist for client '{client_id}'.")
    return {"data": state.dashboard(client_id, customer_id)}


@bp.get("/scheduler/client/<client_id>/business-hours")
def business_hours(client_id: str) -> dict[str, Any]:
    """The client's working week."""
    _authorize(client_id)
    client = client_or_404(client_id)
    hours = [{"day": day, "is_working": day in client.working_days} for day in WEEKDAYS]
    return {"data": {"workHours": hours}}


@bp.get(
    "/scheduler/client/<client_id>/project/<project_id>/date/<d1>/selected/<d2>"
    "/get-rescheduler-slots"
)
def rescheduler_slots(client_id: str, project_id: str, d1: str, d2: str) -> dict[str, Any]:
    """Without request_id: offer dates after d1 and issue one. With it: free slots on d2."""
    state, _ = _authorize_project(client_id, project_id)
    if "request_id" not in request.args:
        dates, request_id = state.offer_dates(client_id, project_id, _parse_date(d1, "date"))
        return {"data": {"dates": dates, "request_id": request_id}}
    day = _parse_date(d2, "selected")
    request_id = request.args.get("request_id", "").strip()
    return {"data": {"slots": state.free_slots(client_id, project_id, request_id, day)}}


@bp.post("/scheduler/client/<client_id>/project/<project_id>/schedule")
def schedule(client_id: str, project_id: str) -> dict[str, Any]:
    """Book the slot (moving an existing appointment, if any)."""
    state, caller = _authorize_project(client_id, project_id)
    body = _json_body()
    created_at = _check_created_at(body.get("created_at"))
    day = _parse_date(body.get("date"), "date").isoformat()
    slot = _check_time(body.get("time"))
    is_chatbot = body.get("is_chatbot")
    if is_chatbot != "true":
        raise bad_request("'is_chatbot' must be the string \"true\".")
    request_id = body.get("request_id")
    state.book(
        client_id,
        project_id,
        request_id="" if request_id is None else str(request_id).strip(),
        day=day,
        time=slot,
        created_at=created_at,
        is_chatbot=is_chatbot,
        actor=caller.subject,
    )
    return {"message": "Appointment scheduled successfully", "status": "success"}


@bp.get("/scheduler/client/<client_id>/project/<project_id>/cancel-reschedule")
def cancel(client_id: str, project_id: str) -> dict[str, Any]:
    """Cancel the project's appointment."""
    state, caller = _authorize_project(client_id, project_id)
    state.cancel(client_id, project_id, actor=caller.subject)
    return {"message": "Appointment cancelled successfully"}


@bp.post("/project-notes/add/<client_id>/<project_id>")
def add_note(client_id: str, project_id: str) -> dict[str, Any]:
    """Keep a customer's note on the project."""
    state, caller = _authorize_project(client_id, project_id)
    note_text = _json_body().get("note_text")
    if not isinstance(note_text, str) or not note_text.strip():
        raise bad_request("'note_text' must be a non-empty string.")
    note_id = state.add_note(client_id, project_id, note_text, actor=caller.subject)
    return {"message": "Note added successfully", "note_id": note_id}
