"""A task reads its flag document (when the cache is due) while it reads the customer's
token, and never leaves that read running when it returns. The store itself (AppConfig
through Powertools) is tested on the local stack in tests/integration/test_runtime_flags.py;
here its read is replaced by one whose timing the test controls."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tasks import flags
from tasks.config import Settings, load_settings
from tasks.flow_errors import SESSION_EXPIRED
from tasks.flow_input import parse_flow_input
from tasks.handlers import common

FLOW = parse_flow_input(
    {
        "session_id": "sess-1",
        "flow_id": "flow-1",
        "tenant": {"client_id": "acme-corp", "client_name": "Acme", "environment": "dev"},
        "customer_id": "CUST001",
        "project_id": "1234",
    }
)
CANCEL_FOR_CUST001 = {
    "cancel_schedule": {
        "default": False,
        "rules": {
            "CUST001": {
                "when_match": True,
                "conditions": [{"action": "EQUALS", "key": "customer_id", "value": "CUST001"}],
            }
        },
    }
}


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    flags.forget_cached_documents()
    configured = load_settings(
        {"FLAGS_APPLICATION": "app", "FLAGS_ENVIRONMENT": "env", "FLAGS_PROFILE": "profile"}
    )
    monkeypatch.setattr(common, "current_settings", lambda: configured)
    yield configured
    flags.forget_cached_documents()


def test_the_flag_document_is_read_while_the_token_is(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    token_read = threading.Event()

    def document(self: Any) -> dict[str, Any]:
        events.append("document read started")
        # Read one after the other (flags first), this would wait its whole timeout.
        events.append("document read done" if token_read.wait(2) else "document read alone")
        return CANCEL_FOR_CUST001

    def token(current: Settings, flow: Any) -> str:
        time.sleep(0.05)  # the session table's answer
        events.append("token read")
        token_read.set()
        return "token-1"

    monkeypatch.setattr(flags._StoreReader, "document", document)
    monkeypatch.setattr(common, "flow_token", token)
    current, api = common.settings_and_pf360(FLOW)
    assert events[:3] == ["document read started", "token read", "document read done"]
    assert current.cancel_schedule is True  # the document's rule, applied before the client
    assert api is not None


def test_a_failed_token_read_waits_for_the_flag_read_it_started(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []

    def document(self: Any) -> dict[str, Any]:
        events.append("document read started")
        time.sleep(0.2)
        events.append("document read done")
        return {}

    def token(current: Settings, flow: Any) -> str:
        while not events:  # the flag thread has begun
            time.sleep(0.001)
        raise SESSION_EXPIRED()

    monkeypatch.setattr(flags._StoreReader, "document", document)
    monkeypatch.setattr(common, "flow_token", token)
    with pytest.raises(Exception) as raised:
        common.settings_and_pf360(FLOW)
    assert raised.value.__class__.__name__ == SESSION_EXPIRED().__class__.__name__
    assert events == ["document read started", "document read done"]  # none left running


def test_without_a_flag_store_nothing_is_read_in_the_background(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = load_settings({"CONFIRM_SCHEDULE_FLAG": "1"})
    monkeypatch.setattr(common, "current_settings", lambda: plain)
    monkeypatch.setattr(common, "flow_token", lambda current, flow: "token-1")
    assert flags.refresh_soon(plain) is None
    current, _ = common.settings_and_pf360(FLOW)
    assert current.confirm_schedule is True


def test_without_a_cache_the_task_reads_the_document_once_itself() -> None:
    uncached = load_settings(
        {
            "FLAGS_APPLICATION": "app",
            "FLAGS_ENVIRONMENT": "env",
            "FLAGS_PROFILE": "profile",
            "FLAGS_MAX_AGE_SECONDS": "0",
        }
    )
    assert flags.refresh_soon(uncached) is None
    flags.forget_cached_documents()


class _CachedStore:
    """Stands in for Powertools' AppConfigStore: counts the reads asked of it."""

    def __init__(self) -> None:
        self.reads = 0

    def get_configuration(self) -> dict[str, Any]:
        self.reads += 1
        return {}


def test_the_flag_thread_is_used_only_when_the_cache_is_due(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(flags.time, "monotonic", lambda: clock[0])
    reader = flags._reader(settings)
    assert reader is not None
    store = _CachedStore()
    reader._store = store  # type: ignore[assignment]
    assert reader.due()  # never read yet
    refresh = flags.refresh_soon(settings)
    assert refresh is not None and refresh.result() == {}
    assert not reader.due()
    clock[0] += settings.flags_max_age - 0.5
    assert flags.refresh_soon(settings) is None  # cached: no thread, no read
    assert reader.document() == {}  # (the task's own read, answered by the cache)
    clock[0] += 0.5
    assert reader.due()
    refresh = flags.refresh_soon(settings)
    assert refresh is not None and refresh.result() == {}
    assert store.reads == 3
