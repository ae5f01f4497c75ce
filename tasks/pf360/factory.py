"""Real client or mock, by USE_REAL_API: the seed's feature flag and rollback switch."""

from __future__ import annotations

import threading
from http.cookiejar import DefaultCookiePolicy

import requests

from tasks.config import Settings

from .api import PF360Api
from .client import PF360Client
from .mock import MockPF360Client, MockStore

# One store per process: in mock mode a booking made in one Lambda invocation must show on
# the dashboard read by the next, as it would with the real API.
_shared_store = MockStore()


def shared_mock_store() -> MockStore:
    """The process-wide mock store that `make_client` uses in mock mode."""
    return _shared_store


def reset_shared_mock_store() -> None:
    """Forget everything booked or noted in mock mode (tests, demos)."""
    global _shared_store
    _shared_store = MockStore()


_http = threading.local()


def shared_http_session() -> requests.Session:
    """This execution environment's HTTP session to PF360 (per thread: a requests Session is
    not thread-safe), made once and reused by every invocation: its connection pool keeps
    PF360's TLS connection open instead of a new handshake per call, and nothing is built
    per call. It carries nothing of any customer: the token goes in each request's own
    header, and cookies are refused, so one that PF360 set for one customer can never ride
    on another customer's request."""
    session: requests.Session | None = getattr(_http, "session", None)
    if session is None:
        session = requests.Session()
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        _http.session = session
    return session


def make_client(
    settings: Settings,
    *,
    client_id: str,
    client_name: str | None,
    auth_token: str,
    session: requests.Session | None = None,
    mock_store: MockStore | None = None,
) -> PF360Api:
    """The PF360 client for one tenant, configured from `settings`."""
    if settings.use_real_api:
        return PF360Client(
            settings.base_api_url,
            client_id,
            auth_token,
            timeout=settings.api_timeout,
            client_name=client_name,
            environment=settings.environment,
            created_at_timezone=settings.created_at_timezone,
            session=session if session is not None else shared_http_session(),
        )
    return MockPF360Client(
        client_id,
        client_name=client_name,
        environment=settings.environment,
        created_at_timezone=settings.created_at_timezone,
        store=mock_store if mock_store is not None else _shared_store,
    )
