"""The sandbox's control API under /__sandbox/: faults, ledger, logs, clock, latency, reset.

No auth: it exists only on the loopback sandbox, for tests, the demo and the load test.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, request

from .context import CONTROL_PREFIX, current_state
from .errors import bad_request

bp = Blueprint("sandbox_control", __name__, url_prefix=CONTROL_PREFIX)

MAX_LATENCY_MS = 600_000


def _body() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


@bp.get("/health")
def health() -> dict[str, Any]:
    """Liveness, for start-up polling."""
    return {"ok": True}


@bp.post("/reset")
def reset() -> dict[str, Any]:
    """Back to the seed data, with no faults, ledger, notes, requests, latency or offset."""
    current_state().reset()
    return {"ok": True}


@bp.post("/faults")
def add_fault() -> tuple[dict[str, Any], int]:
    """Arm a fault for the next matching PF360 calls."""
    body = request.get_json(force=True, silent=True)
    try:
        return current_state().add_fault(body), 201
    except ValueError as error:
        raise bad_request(str(error)) from None


@bp.get("/faults")
def list_faults() -> dict[str, Any]:
    """Faults still armed, in firing order."""
    return {"faults": current_state().pending_faults()}


@bp.delete("/faults")
def clear_faults() -> dict[str, Any]:
    """Disarm every fault."""
    return {"cleared": current_state().clear_faults()}


@bp.get("/bookings")
def bookings() -> dict[str, Any]:
    """The ledger of every book and cancel."""
    return {"bookings": current_state().ledger()}


@bp.get("/requests")
def requests_log() -> dict[str, Any]:
    """The last PF360 requests (no headers, so no tokens)."""
    return {"requests": current_state().requests()}


@bp.get("/notes")
def notes() -> dict[str, Any]:
    """The notes kept."""
    return {"notes": current_state().notes()}


@bp.get("/latency")
def get_latency() -> dict[str, Any]:
    """The delay added to every PF360 call."""
    return {"latency_ms": current_state().latency_ms()}


@bp.post("/latency")
def set_latency() -> dict[str, Any]:
    """Add a delay to every PF360 call."""
    ms = _body().get("ms")
    if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms <= MAX_LATENCY_MS:
        raise bad_request(f"'ms' must be an integer from 0 to {MAX_LATENCY_MS}.")
    current_state().set_latency(ms)
    return {"latency_ms": ms}


@bp.get("/clock")
def get_clock() -> dict[str, Any]:
    """The sandbox time."""
    return current_state().clock()


@bp.post("/clock")
def advance_clock() -> dict[str, Any]:
    """Move the sandbox clock forward (request_id and token expiry follow it)."""
    seconds = _body().get("advance_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise bad_request("'advance_seconds' must be a number.")
    if not math.isfinite(seconds):
        raise bad_request("'advance_seconds' must be a finite number.")
    try:
        return current_state().advance_clock(float(seconds))
    except ValueError as error:
        raise bad_request(str(error)) from None
