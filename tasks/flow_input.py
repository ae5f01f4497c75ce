"""The booking and cancellation executions' input: who, which tenant, which project.

Never a credential: execution input and history are visible to every operator. Tasks
load the token from the session store by `session_id` (or, for a replay, a per-client
service token from Secrets Manager).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from tasks.flow_errors import INVALID_FLOW_INPUT

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}$")


@dataclass(frozen=True)
class Tenant:
    client_id: str
    client_name: str
    environment: str
    timezone: str


@dataclass(frozen=True)
class Replay:
    """A recorded choice to book again without asking: date, time and the failed source."""

    date: str
    time: str
    source: str


@dataclass(frozen=True)
class FlowInput:
    session_id: str
    flow_id: str
    tenant: Tenant
    customer_id: str
    project_id: str
    replay: Replay | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.replay is None:
            data.pop("replay")
        return data


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise INVALID_FLOW_INPUT(f"The flow input has no {key}.")
    return value.strip()


def parse_flow_input(state: dict[str, Any]) -> FlowInput:
    """Read the fields every task needs from the execution state; refuse an incomplete one."""
    tenant = state.get("tenant")
    if not isinstance(tenant, dict):
        raise INVALID_FLOW_INPUT("The flow input has no tenant.")
    replay_data = state.get("replay")
    replay = None
    if replay_data is not None:
        if not isinstance(replay_data, dict):
            raise INVALID_FLOW_INPUT("The replay input must be an object.")
        replay = Replay(
            date=_text(replay_data, "date"),
            time=_text(replay_data, "time"),
            source=str(replay_data.get("source") or ""),
        )
        if not _DATE.match(replay.date) or not _TIME.match(replay.time):
            raise INVALID_FLOW_INPUT("The replay needs a date as YYYY-MM-DD and a time as HH:MM.")
    return FlowInput(
        session_id=str(state.get("session_id") or ""),
        flow_id=_text(state, "flow_id"),
        tenant=Tenant(
            client_id=_text(tenant, "client_id"),
            client_name=str(tenant.get("client_name") or tenant["client_id"]),
            environment=str(tenant.get("environment") or "dev"),
            timezone=str(tenant.get("timezone") or "UTC"),
        ),
        customer_id=_text(state, "customer_id"),
        project_id=_text(state, "project_id"),
        replay=replay,
    )
