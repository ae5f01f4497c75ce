"""The cancellation state machine, end to end: real ASL, task Lambdas in-process, the PF360
sandbox over HTTP, started through the flow driver.

Each test checks the driver's answer, the execution (status, error, output) and PF360
itself: the sandbox ledger (one cancel, or none) and the project's dashboard row.
The last test scans this module's executions for auth tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from agent_bridge.flow_driver import STATUS_DONE, FlowDriver, FlowView
from infra.local.pf360_sandbox import SandboxControl, SandboxServer
from infra.local.stack import LocalStack
from tests.integration.workflow_helpers import (
    assert_no_credentials,
    failed_attempts,
    function_variables,
    history,
    make_driver,
    make_session,
    output_of,
    timezone_of,
    wait_for_end,
    wait_for_late_request,
)

pytestmark = pytest.mark.integration

SCHEDULED = "12346"  # CUST001's scheduled project
UNSCHEDULED = "12345"


@dataclass
class Cancels:
    stack: LocalStack
    sandbox: SandboxControl
    server: SandboxServer
    driver: FlowDriver
    sfn: Any

    def cancel(self, project_id: str = SCHEDULED, customer_id: str = "CUST001") -> FlowView:
        session = make_session(self.stack, customer_id)
        view = self.driver.cancel(session, project_id, timezone_of(session))
        assert view.status == STATUS_DONE, view
        return view

    def ended(self, view: FlowView) -> dict[str, Any]:
        assert view.execution_arn
        return wait_for_end(self.sfn, view.execution_arn)

    def row(self, project_id: str = SCHEDULED, customer_id: str = "CUST001") -> dict[str, Any]:
        rows = self.server.state.dashboard("acme-corp", customer_id)
        return next(r for r in rows if r["project_project_id"] == project_id)

    def cancels(self) -> list[dict[str, Any]]:
        return [entry for entry in self.sandbox.bookings() if entry["action"] == "cancel"]

    def failed_tasks(self, view: FlowView, state_name: str) -> list[str]:
        assert view.execution_arn
        return failed_attempts(self.sfn, view.execution_arn, state_name)


@pytest.fixture
def cancels(
    local_stack: LocalStack, sandbox_control: SandboxControl, sandbox: SandboxServer
) -> Cancels:
    return Cancels(
        stack=local_stack,
        sandbox=sandbox_control,
        server=sandbox,
        driver=make_driver(local_stack),
        sfn=local_stack.client("stepfunctions"),
    )


def assert_cancelled_once(cancels: Cancels, view: FlowView) -> None:
    assert view.outcome == "cancelled", view
    assert view.result["test_mode"] is False
    assert view.result["verified"] is True
    ended = cancels.ended(view)
    assert ended["status"] == "SUCCEEDED"
    assert output_of(ended)["outcome"] == "cancelled"
    (entry,) = cancels.cancels()
    assert entry["project_id"] == SCHEDULED and entry["actor"] == "CUST001"
    row = cancels.row()
    assert row["status_info_status"] == "Unscheduled"
    assert row["project_date_scheduled_date"] is None


def test_cancel_a_scheduled_project(cancels: Cancels) -> None:
    before = cancels.row()
    assert before["status_info_status"] == "Scheduled"
    view = cancels.cancel()
    assert_cancelled_once(cancels, view)
    assert view.result["verified_after_ambiguity"] is False
    day = before["project_date_scheduled_date"]
    assert view.message == f"Your appointment on {day} 09:00-11:00 is cancelled."
    (entry,) = cancels.cancels()
    assert entry["date"] == before["project_date_scheduled_date"]
    assert view.execution_arn
    states = [
        e["stateEnteredEventDetails"]["name"]
        for e in history(cancels.sfn, view.execution_arn)
        if e["type"].endswith("StateEntered")
    ]
    assert states == ["Cancel", "Verify"]


def test_nothing_to_cancel(cancels: Cancels) -> None:
    view = cancels.cancel(UNSCHEDULED)
    assert view.outcome == "nothing_to_cancel"
    assert view.message == "This project has no scheduled appointment to cancel."
    assert view.result["verified"] is False
    assert cancels.ended(view)["status"] == "SUCCEEDED"
    assert cancels.sandbox.bookings() == []
    assert [r for r in cancels.sandbox.requests() if r["endpoint"] == "cancel"] == []


@pytest.fixture
def cancellations_off(local_stack: LocalStack) -> Iterator[None]:
    with function_variables(local_stack, "CancelFunction", CANCEL_SCHEDULE_FLAG="0"):
        yield


@pytest.mark.usefixtures("cancellations_off")
def test_test_mode_cancels_nothing_and_says_so(cancels: Cancels) -> None:
    view = cancels.cancel()
    assert view.outcome == "cancelled"
    assert view.result["test_mode"] is True
    assert view.result["verified"] is False
    assert view.message.startswith("TEST MODE: nothing was cancelled.")
    assert cancels.ended(view)["status"] == "SUCCEEDED"
    assert cancels.sandbox.bookings() == []
    assert cancels.row()["status_info_status"] == "Scheduled"
    assert [r for r in cancels.sandbox.requests() if r["endpoint"] == "cancel"] == []


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        pytest.param("timeout", None, "PF360_TIMEOUT", id="timeout"),
        pytest.param("status", 500, "PF360_UNAVAILABLE", id="500"),
        pytest.param("status", 503, "PF360_UNAVAILABLE", id="503"),
        pytest.param("status", 429, "PF360_RATE_LIMITED", id="429"),
    ],
)
def test_a_transient_fault_on_cancel_is_retried_and_cancels_once(
    cancels: Cancels, kind: str, status: int | None, code: str
) -> None:
    cancels.sandbox.add_fault("cancel", kind, status=status, delay_ms=1500)
    view = cancels.cancel()
    assert_cancelled_once(cancels, view)
    assert cancels.failed_tasks(view, "Cancel") == [code]
    if kind == "timeout":
        wait_for_late_request(cancels.sandbox, "cancel")
        assert len(cancels.cancels()) == 1


def test_a_transient_fault_on_the_dashboard_read_is_retried(cancels: Cancels) -> None:
    cancels.sandbox.add_fault("dashboard", "status", status=502)
    view = cancels.cancel()
    assert_cancelled_once(cancels, view)
    assert cancels.failed_tasks(view, "Cancel") == ["PF360_UNAVAILABLE"]


def test_a_retry_on_a_project_with_no_appointment_says_only_what_is_true(
    cancels: Cancels,
) -> None:
    """The first dashboard read fails; the retry finds no appointment. It cannot tell a
    project never scheduled from its own earlier cancel, so it names no appointment (it
    once said "Your appointment on None is cancelled.")."""
    cancels.sandbox.add_fault("dashboard", "status", status=503)
    view = cancels.cancel(UNSCHEDULED)
    assert view.outcome == "cancelled", view
    assert view.message == (
        "This project has no scheduled appointment any more, so there is nothing left to cancel."
    )
    assert cancels.ended(view)["status"] == "SUCCEEDED"
    assert cancels.sandbox.bookings() == []
    assert [r for r in cancels.sandbox.requests() if r["endpoint"] == "cancel"] == []


def test_a_cancel_whose_answer_is_lost_is_verified_not_repeated(cancels: Cancels) -> None:
    cancels.sandbox.add_fault("cancel", "drop-after-commit")
    view = cancels.cancel()
    assert_cancelled_once(cancels, view)
    assert view.result["verified_after_ambiguity"] is True
    assert len([r for r in cancels.sandbox.requests() if r["endpoint"] == "cancel"]) == 1


def test_a_persistent_fault_on_cancel_fails_with_its_code(cancels: Cancels) -> None:
    cancels.sandbox.add_fault("cancel", "status", status=503, count=10)
    view = cancels.cancel()
    assert view.outcome == "failed"
    assert view.result["error"] == "PF360_UNAVAILABLE"
    ended = cancels.ended(view)
    assert (ended["status"], ended["error"]) == ("FAILED", "PF360_UNAVAILABLE")
    assert cancels.failed_tasks(view, "Cancel") == ["PF360_UNAVAILABLE"] * 4
    assert cancels.sandbox.bookings() == []
    assert cancels.row()["status_info_status"] == "Scheduled"


@pytest.mark.parametrize("endpoint", ["dashboard", "cancel"])
def test_401_ends_cleanly_with_pf360_auth(cancels: Cancels, endpoint: str) -> None:
    cancels.sandbox.add_fault(endpoint, "status", status=401)
    view = cancels.cancel()
    assert view.outcome == "failed"
    assert view.result["error"] == "PF360_AUTH"
    assert "sign in again" in view.message
    ended = cancels.ended(view)
    assert (ended["status"], ended["error"]) == ("FAILED", "PF360_AUTH")
    assert cancels.failed_tasks(view, "Cancel") == ["PF360_AUTH"]
    assert cancels.sandbox.bookings() == []
    assert cancels.row()["status_info_status"] == "Scheduled"


def test_a_cancel_the_dashboard_does_not_confirm_fails_unverified(
    cancels: Cancels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PF360 says it cancelled but the project stays scheduled: Verify retries, then fails."""
    monkeypatch.setattr(cancels.server.state, "cancel", lambda client_id, project_id, *, actor: {})
    view = cancels.cancel()
    assert view.outcome == "failed"
    assert view.result["error"] == "CANCEL_UNVERIFIED"
    ended = cancels.ended(view)
    assert (ended["status"], ended["error"]) == ("FAILED", "CANCEL_UNVERIFIED")
    assert cancels.failed_tasks(view, "Verify") == ["CANCEL_UNVERIFIED"] * 3


def test_zz_no_execution_or_checkpoint_holds_an_auth_token(local_stack: LocalStack) -> None:
    """Runs last in this module: every execution on this worker so far, scanned."""
    assert_no_credentials(local_stack, minimum_executions=10)
