"""Shared fixtures: the PF360 sandbox over real HTTP and, later, the embedded local AWS stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.pf360_sandbox import SandboxControl, SandboxServer


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
