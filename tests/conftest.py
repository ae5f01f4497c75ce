"""Shared fixtures: the PF360 sandbox over real HTTP and, later, the embedded local AWS stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.pf360_sandbox import SandboxControl, SandboxServer
from infra.local.stack import LocalStack


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """One PF360 sandbox per test worker, on an ephemeral loopback port."""
    server = SandboxServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox_control(sandbox: SandboxServer) -> SandboxControl:
    """The sandbox's control API, reset to its seed data before each test."""
    control = SandboxControl(sandbox.base_url)
    control.reset()
    return control


@pytest.fixture(scope="session")
def local_stack(sandbox: SandboxServer) -> Iterator[LocalStack]:
    """The embedded AWS (moto, Lambda execution environments, template resources) per worker.

    Retry waits run at 1/100 of their declared length; task timeouts are on the engine's
    virtual clock (`local_stack.clock.advance(...)`). Bookings and cancellations are on
    (CONFIRM/CANCEL_SCHEDULE_FLAG=1) and every PF360 call times out after 1 s.
    """
    stack = LocalStack(
        with_sandbox=False,
        parameter_overrides={
            "CustomerSchedulerBaseApiUrl": sandbox.base_url,
            "UseRealApi": "true",
            "TenantTimezones": "acme-corp=America/New_York,sunrise-homes=Pacific/Auckland",
            # Bookings and cancellations on (the template's default is test mode; the
            # test-mode tests switch one function back), and a PF360 timeout short enough
            # that an injected 1.5 s delay is a timeout.
            "ConfirmScheduleFlag": "1",
            "CancelScheduleFlag": "1",
            "ApiTimeoutSeconds": "1",
        },
        retry_wait_scale=0.01,
        ttl_sweep_seconds=0,
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
