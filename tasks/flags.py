"""Runtime flags per client and customer: the real API, real bookings, real cancellations.

The deployed variables USE_REAL_API, CONFIRM_SCHEDULE_FLAG and CANCEL_SCHEDULE_FLAG are the
defaults. The flag document in AWS AppConfig (FLAGS_APPLICATION / FLAGS_ENVIRONMENT /
FLAGS_PROFILE, Powertools Feature Flags schema) overrides them at run time, by rules on the
context `{client_id, customer_id, environment}`:

    {"use_real_api": {"default": false, "rules": {"acme-corp's test customer": {
        "when_match": true, "conditions": [
            {"action": "EQUALS", "key": "client_id", "value": "acme-corp"},
            {"action": "EQUALS", "key": "customer_id", "value": "CUST001"}]}}}}

A flag the document does not name keeps its variable's value. The document is cached for
FLAGS_MAX_AGE_SECONDS (Powertools' max_age), so a rollback reaches every function within
that many seconds of its deployment, without a redeploy (a task whose cache is due reads
the document beside its token read: `refresh_soon`). When the store cannot be read
(unreachable, no deployment yet, invalid document), the variables are used and the reason is
logged once per cache period.

Client and customer always come from the validated session or flow input, never from what
the agent passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.feature_flags import (
    AppConfigStore,
    FeatureFlags,
    SchemaValidator,
    StoreProvider,
)
from botocore.config import Config

from tasks.config import Settings
from tasks.environment_thread import EnvironmentThread

logger = Logger(service="pf360-scheduler-flags")

# Flag name in the document -> the variable that is its default.
FLAGS: Mapping[str, str] = {
    "use_real_api": "USE_REAL_API",
    "confirm_schedule": "CONFIRM_SCHEDULE_FLAG",
    "cancel_schedule": "CANCEL_SCHEDULE_FLAG",
}
CONTEXT_KEYS = ("client_id", "customer_id", "environment")

# AppConfig is called with short timeouts: a slow store must not slow an action down.
STORE_SDK_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"}
)
MIN_RETRY_AFTER_FAILURE_SECONDS = 1.0


@dataclass(frozen=True)
class TenantFlags:
    """The three flags for one client and customer, and where they came from."""

    use_real_api: bool
    confirm_schedule: bool
    cancel_schedule: bool
    source: str  # "store" (AppConfig answered) or "environment" (the variables)

    def apply(self, settings: Settings) -> Settings:
        return replace(
            settings,
            use_real_api=self.use_real_api,
            confirm_schedule=self.confirm_schedule,
            cancel_schedule=self.cancel_schedule,
        )


class _Fetched(StoreProvider):
    """An already-fetched document, so that three flags cost one AppConfig read."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    @property
    def get_raw_configuration(self) -> dict[str, Any]:
        return self.document

    def get_configuration(self) -> dict[str, Any]:
        return self.document


@dataclass
class _StoreReader:
    """One AppConfig configuration profile, read through Powertools with its cache."""

    application: str
    environment: str
    profile: str
    max_age: int
    region: str
    _store: AppConfigStore | None = None
    _failed_until: float = 0.0
    _read_at: float = float("-inf")  # when a read last found its cache due (or had none)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def due(self) -> bool:
        """Whether the next read goes to AppConfig (Powertools' cache is as old as max_age,
        as far as this reader can tell; a wrong guess costs time, never a wrong document)."""
        now = time.monotonic()
        return now >= self._failed_until and now - self._read_at >= self.max_age

    def document(self) -> dict[str, Any] | None:
        """The validated flag document, or None (reason logged) when it cannot be read."""
        with self._lock:
            now = time.monotonic()
            if now < self._failed_until:
                return None
            if now - self._read_at >= self.max_age:
                self._read_at = now
            try:
                if self._store is None:
                    self._store = AppConfigStore(
                        environment=self.environment,
                        application=self.application,
                        name=self.profile,
                        max_age=self.max_age,
                        boto3_client=boto3.client(
                            "appconfigdata", region_name=self.region, config=STORE_SDK_CONFIG
                        ),
                    )
                document = self._store.get_configuration()
                if document:  # an empty document is valid: every flag is its variable
                    SchemaValidator(schema=document).validate()
                return document
            except Exception as exc:  # any store failure falls back to the variables
                # A new session next time: a failed call may have spent the poll token.
                self._store = None
                self._failed_until = time.monotonic() + max(
                    float(self.max_age), MIN_RETRY_AFTER_FAILURE_SECONDS
                )
                logger.warning(
                    "flag store unavailable; using the deployed variables",
                    extra={
                        "reason": "flag_store_unavailable",
                        "error_type": type(exc).__name__,
                        "error": _cause(exc)[:300],
                        "flags_application": self.application,
                        "flags_environment": self.environment,
                        "flags_profile": self.profile,
                    },
                )
                return None


def _cause(exc: BaseException) -> str:
    """The innermost message: Powertools wraps the AppConfig error twice."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc)


_readers: dict[tuple[str, str, str, int, str], _StoreReader] = {}
_readers_lock = threading.Lock()


def _reader(settings: Settings) -> _StoreReader | None:
    if not settings.flags_application:
        return None
    key = (
        settings.flags_application,
        settings.flags_environment,
        settings.flags_profile,
        settings.flags_max_age,
        settings.aws_region,
    )
    with _readers_lock:
        reader = _readers.get(key)
        if reader is None:
            reader = _StoreReader(*key)
            _readers[key] = reader
        return reader


_refresh_thread = EnvironmentThread("flag-document")


def refresh_soon(settings: Settings) -> Future[Any] | None:
    """Have the flag document read in this environment's flag thread now, so that a read
    that is due (the cache is FLAGS_MAX_AGE_SECONDS old: one invocation in a few) overlaps
    what the caller does next instead of coming first; a task reads the customer's token
    meanwhile. `for_tenant` then finds the document fresh, or waits for the read under way
    (the reader's lock); it never uses an older one than before. None, and no thread, when
    there is no store, its cache is not due, or there is no cache (FLAGS_MAX_AGE_SECONDS=0:
    the caller's own read goes to AppConfig anyway, and a second read would be wasted).
    Runs in the caller's context, as a read in the caller's own thread would."""
    reader = _reader(settings)
    if reader is None or reader.max_age <= 0 or not reader.due():
        return None
    return _refresh_thread.submit(reader.document)


def forget_cached_documents() -> None:
    """Drop every cached document and failure (tests; a new execution environment)."""
    with _readers_lock:
        _readers.clear()


def evaluate(settings: Settings, *, client_id: str, customer_id: str) -> TenantFlags:
    """The three flags for this client and customer (the variables where no rule says)."""
    defaults = {
        "use_real_api": settings.use_real_api,
        "confirm_schedule": settings.confirm_schedule,
        "cancel_schedule": settings.cancel_schedule,
    }
    reader = _reader(settings)
    document = reader.document() if reader is not None else None
    if document is None:
        return TenantFlags(**defaults, source="environment")
    if not document:
        return TenantFlags(**defaults, source="store")
    context = {
        "client_id": client_id,
        "customer_id": customer_id,
        "environment": settings.environment,
    }
    flags = FeatureFlags(store=_Fetched(document))
    values = {
        name: bool(flags.evaluate(name=name, context=context, default=default))
        for name, default in defaults.items()
    }
    if values["use_real_api"] and not settings.base_api_url:
        logger.error(
            "the flag store turns the real API on, but CUSTOMER_SCHEDULER_BASE_API_URL is "
            "not set; keeping mock data",
            extra={"reason": "flag_needs_base_url", "client_id": client_id},
        )
        values["use_real_api"] = False
    return TenantFlags(**values, source="store")


def for_tenant(settings: Settings, *, client_id: str, customer_id: str) -> Settings:
    """`settings` with the three flags as the store says for this client and customer."""
    return evaluate(settings, client_id=client_id, customer_id=customer_id).apply(settings)
