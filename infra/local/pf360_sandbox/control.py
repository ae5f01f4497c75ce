"""A small client for the sandbox's control API, for tests, the demo and the load test."""

from __future__ import annotations

from typing import Any

import requests


class SandboxControlError(RuntimeError):
    """The control API refused a request; the message is the sandbox's own sentence."""


class SandboxControl:
    """Drive one sandbox: reset it, arm faults, read the ledger, notes and request log."""

    def __init__(self, base_url: str, timeout: float = 5) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(
            method, f"{self.base_url}/__sandbox/{path}", json=body, timeout=self.timeout
        )
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise SandboxControlError(
                f"{method} /__sandbox/{path}: {response.status_code} {message}"
            )
        return response.json()

    def health(self) -> bool:
        """Whether the sandbox answers."""
        return bool(self._call("GET", "health").get("ok"))

    def reset(self) -> None:
        """Back to the seed data; clears faults, ledger, notes, request log, latency, clock."""
        self._call("POST", "reset")

    def add_fault(
        self,
        endpoint: str,
        kind: str,
        status: int | None = None,
        count: int = 1,
        delay_ms: int | None = None,
        skip: int = 0,
    ) -> dict[str, Any]:
        """Arm a fault (after `skip` matching calls pass); returns it with its id."""
        body: dict[str, Any] = {"endpoint": endpoint, "kind": kind, "count": count}
        if skip:
            body["skip"] = skip
        if status is not None:
            body["status"] = status
        if delay_ms is not None:
            body["delay_ms"] = delay_ms
        fault: dict[str, Any] = self._call("POST", "faults", body)
        return fault

    def faults(self) -> list[dict[str, Any]]:
        """Faults still armed."""
        return list(self._call("GET", "faults")["faults"])

    def clear_faults(self) -> None:
        """Disarm every fault."""
        self._call("DELETE", "faults")

    def bookings(self) -> list[dict[str, Any]]:
        """The ledger of books and cancels."""
        return list(self._call("GET", "bookings")["bookings"])

    def requests(self) -> list[dict[str, Any]]:
        """The last PF360 requests the sandbox answered."""
        return list(self._call("GET", "requests")["requests"])

    def notes(self) -> list[dict[str, Any]]:
        """The notes kept."""
        return list(self._call("GET", "notes")["notes"])

    def set_latency(self, ms: int) -> None:
        """Add `ms` of delay to every PF360 call."""
        self._call("POST", "latency", {"ms": ms})

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the sandbox clock forward; returns the new sandbox time."""
        clock: dict[str, Any] = self._call("POST", "clock", {"advance_seconds": seconds})
        return clock
