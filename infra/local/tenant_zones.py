"""Tenant time zones for local runs, taken from the PF360 sandbox's own tenants.

`make run` and `make demo` pass `template_parameter()` as the stack's TenantTimezones, so the
actions and workflows take "today" where each tenant is, and give the local agent
`today_for(sessions)` so that "tomorrow" is the customer's tomorrow too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

import pytz

from agent_bridge.sessions import SessionStore
from infra.local.pf360_sandbox import CLIENTS

DEFAULT_TIMEZONE = "America/New_York"


def sandbox_zones() -> dict[str, str]:
    """client_id -> IANA zone, for every sandbox tenant."""
    return {client_id: client.timezone for client_id, client in CLIENTS.items()}


def template_parameter(zones: Mapping[str, str] | None = None) -> str:
    """The TenantTimezones parameter: "acme-corp=America/New_York,sunrise-homes=..."."""
    chosen = sandbox_zones() if zones is None else zones
    return ",".join(f"{client_id}={zone}" for client_id, zone in sorted(chosen.items()))


def today_for(
    sessions: SessionStore,
    zones: Mapping[str, str] | None = None,
    default: str = DEFAULT_TIMEZONE,
) -> Callable[[str], date]:
    """session id -> today's date in that session's tenant's zone (else `default`'s)."""
    chosen = sandbox_zones() if zones is None else zones

    def today(session_id: str) -> date:
        record = sessions.get(session_id)
        zone = chosen.get(record.client_id, default) if record is not None else default
        return datetime.now(pytz.timezone(zone)).date()

    return today
