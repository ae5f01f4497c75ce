"""The system a conversation machine talks to: the worker's local stack and sandbox, and its
captured output (the functions' JSON logs, scanned for tokens)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.pf360_sandbox import SandboxControl, SandboxServer
from infra.local.stack import LocalStack
from tests.integration.bedrock_events import logs_to_current_stdout
from tests.reliability.machine import ConversationMachine, World


@pytest.fixture
def world(
    local_stack: LocalStack, sandbox: SandboxServer, capfd: pytest.CaptureFixture[str]
) -> Iterator[World]:
    def read_logs() -> str:
        out, err = capfd.readouterr()
        return out + err

    with logs_to_current_stdout():
        world = World(local_stack, SandboxControl(sandbox.base_url), read_logs=read_logs)
        ConversationMachine.world = world
        yield world
