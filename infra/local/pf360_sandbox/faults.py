"""Injected faults: what a test asks the next PF360 calls to suffer, and in what order."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

FaultEndpoint = Literal[
    "dashboard", "business_hours", "dates", "slots", "schedule", "cancel", "add_note", "*"
]
FaultKind = Literal["timeout", "status", "drop-after-commit"]
FAULT_ENDPOINTS: tuple[str, ...] = get_args(FaultEndpoint)
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
DEFAULT_DELAY_MS = 30_000
MAX_DELAY_MS = 600_000


@dataclass
class Fault:
    """One registered fault; `count` is how many more matching calls it will hit."""

    id: str
    endpoint: str
    kind: str
    count: int
    status: int | None
    delay_ms: int
    # How many matching calls pass untouched before the fault starts (0: the next one).
    skip: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the control API."""
        return asdict(self)


def _int_field(body: dict[str, Any], name: str, default: int | None, low: int, high: int) -> int:
    """An integer field in [low, high]; bools are refused although Python counts them as ints."""
    value = body.get(name, default)
    if value is None:
        raise ValueError(f"'{name}' is required for this kind of fault.")
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"'{name}' must be an integer from {low} to {high}.")
    return value


def parse_fault(body: object, fault_id: str) -> Fault:
    """Validate a POST /__sandbox/faults body; ValueError carries a sentence for the caller."""
    if not isinstance(body, dict):
        raise ValueError("The body must be a JSON object.")
    endpoint = body.get("endpoint")
    if endpoint not in FAULT_ENDPOINTS:
        raise ValueError(f"'endpoint' must be one of: {', '.join(FAULT_ENDPOINTS)}.")
    kind = body.get("kind")
    if kind not in FAULT_KINDS:
        raise ValueError(f"'kind' must be one of: {', '.join(FAULT_KINDS)}.")
    count = _int_field(body, "count", 1, 1, 1_000_000)
    delay_ms = _int_field(body, "delay_ms", DEFAULT_DELAY_MS, 0, MAX_DELAY_MS)
    status = _int_field(body, "status", None, 400, 599) if kind == "status" else None
    skip = _int_field(body, "skip", 0, 0, 1_000_000)
    return Fault(fault_id, str(endpoint), str(kind), count, status, delay_ms, skip)


class FaultQueue:
    """Faults in registration order. Not thread-safe: SandboxState's lock guards it."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._issued = 0

    def next_id(self) -> str:
        """A fresh fault id."""
        self._issued += 1
        return f"fault_{self._issued}"

    def add(self, fault: Fault) -> None:
        """Queue a fault behind those already registered."""
        self._faults.append(fault)

    def take(self, endpoint: str) -> Fault | None:
        """The first fault matching this call, with one use consumed (removed at zero)."""
        for fault in self._faults:
            if fault.endpoint in (endpoint, "*"):
                if fault.skip > 0:
                    fault.skip -= 1  # this call passes; the faults behind it wait their turn
                    return None
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return Fault(**asdict(fault))
        return None

    def pending(self) -> list[dict[str, Any]]:
        """What is still armed."""
        return [fault.to_dict() for fault in self._faults]

    def clear(self) -> int:
        """Disarm everything; returns how many were pending."""
        cleared = len(self._faults)
        self._faults.clear()
        return cleared
