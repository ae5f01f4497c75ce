"""Local runs take each sandbox tenant's time zone: the stack parameter and the agent's today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import pytz

from agent_bridge.sessions import SessionStore
from infra.local import tenant_zones
from tasks.config import _timezone_map


@dataclass
class Record:
    client_id: str


class Sessions:
    def __init__(self, records: dict[str, Record]) -> None:
        self.records = records

    def get(self, session_id: str, **_: Any) -> Record | None:
        return self.records.get(session_id)


def test_the_parameter_names_every_sandbox_tenant_and_parses_as_the_lambdas_read_it() -> None:
    parameter = tenant_zones.template_parameter()
    assert parameter == "acme-corp=America/New_York,sunrise-homes=Pacific/Auckland"
    assert _timezone_map({"TENANT_TIMEZONES": parameter}, "TENANT_TIMEZONES") == {
        "acme-corp": "America/New_York",
        "sunrise-homes": "Pacific/Auckland",
    }


def test_today_is_the_sessions_tenants_today() -> None:
    sessions = cast(
        SessionStore, Sessions({"nz": Record("sunrise-homes"), "us": Record("acme-corp")})
    )
    today = tenant_zones.today_for(sessions)
    auckland = datetime.now(pytz.timezone("Pacific/Auckland")).date()
    new_york = datetime.now(pytz.timezone("America/New_York")).date()
    assert today("nz") == auckland
    assert today("us") == new_york
    assert today("unknown-session") == new_york  # the default zone
