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


# ------------------------------------------------------------------ least privilege
# Every AWS call a Lambda handler makes on the local stack, in any test, is recorded
# (infra/local/aws_call_recorder.py) into one file for the run; at the end of the run each
# call is checked against its function's role in the template (tests/least_privilege.py),
# and a call the role does not allow fails the run.


def pytest_configure(config: pytest.Config) -> None:
    import os
    import time
    from pathlib import Path

    from infra.local.aws_call_recorder import CALL_LOG_ENV

    if hasattr(config, "workerinput") or os.environ.get(CALL_LOG_ENV):
        return  # xdist workers inherit the controller's file
    folder = Path(__file__).resolve().parents[1] / "build" / "aws-calls"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("calls-*.jsonl"):  # other runs' files, once they are a day old
        if old.stat().st_mtime < time.time() - 86400:
            old.unlink(missing_ok=True)
    os.environ[CALL_LOG_ENV] = str(folder / f"calls-{int(time.time())}-{os.getpid()}.jsonl")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import os

    from infra.local.aws_call_recorder import CALL_LOG_ENV, read_calls

    if hasattr(session.config, "workerinput") or not os.environ.get(CALL_LOG_ENV):
        return
    calls = read_calls(os.environ[CALL_LOG_ENV])
    if not calls:
        return
    from tests.least_privilege import violations

    found = violations(calls)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    functions = len({c["function"] for c in calls})
    if reporter is not None:
        reporter.write_line(
            f"least privilege: {len(calls)} distinct AWS calls of {functions} functions "
            f"checked against their roles; {len(found)} not allowed"
        )
        for line in found:
            reporter.write_line(f"  NOT ALLOWED {line}", red=True)
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
