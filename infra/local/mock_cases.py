"""The MockConfigFile test cases, runnable on any Step Functions engine with mock support.

The same cases run in `make test` on the embedded engine (moto, through the loader in
moto_gaps) and in `make sfn-local` on Step Functions Local (Docker). Each case names the
state machine `Booking` or `Cancellation` (created here from the deployed definitions, so
the ASL is the template's) and what its execution must end with.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MOCK_CONFIG_PATH = Path(__file__).resolve().parent / "MockConfigFile.json"
MACHINES = {"Booking": "BookingStateMachine", "Cancellation": "CancellationStateMachine"}


@dataclass(frozen=True)
class Expectation:
    status: str
    outcome: str | None = None
    error: str | None = None
    retried_states: tuple[str, ...] = ()
    # Errors the history must show a task failing with (e.g. a mocked States.Timeout).
    task_errors: tuple[str, ...] = ()


EXPECTED: dict[tuple[str, str], Expectation] = {
    ("Booking", "HappyPath"): Expectation("SUCCEEDED", outcome="booked"),
    ("Booking", "RetryPath"): Expectation(
        "SUCCEEDED", outcome="booked", retried_states=("AwaitDate", "AwaitSlot")
    ),
    ("Booking", "AmbiguousBooking"): Expectation(
        "SUCCEEDED", outcome="booked", retried_states=("Book",)
    ),
    ("Booking", "DateExpiry"): Expectation(
        "SUCCEEDED", outcome="expired", task_errors=("States.Timeout",)
    ),
    ("Booking", "AuthFailure"): Expectation("FAILED", error="PF360_AUTH"),
    ("Booking", "UnknownBookingConfirmed"): Expectation(
        "SUCCEEDED", outcome="booked", task_errors=("BookingUnknown",)
    ),
    # A recheck that answers without its fields ends through Finish with an operator code,
    # not in an uncatchable States.Runtime (which would leave no final checkpoint on AWS).
    ("Booking", "UnknownBookingMalformedRecheck"): Expectation(
        "FAILED", error="BOOKING_UNVERIFIED", task_errors=("BookingUnknown",)
    ),
    ("Cancellation", "HappyPath"): Expectation("SUCCEEDED", outcome="cancelled"),
    ("Cancellation", "RetryPath"): Expectation(
        "SUCCEEDED", outcome="cancelled", retried_states=("Cancel",)
    ),
}

CASE_INPUT = {
    "session_id": "mock-session",
    "flow_id": "mock-flow",
    "tenant": {
        "client_id": "acme-corp",
        "client_name": "acme-corp",
        "environment": "dev",
        "timezone": "America/New_York",
    },
    "customer_id": "CUST001",
    "project_id": "12345",
}


@dataclass
class CaseResult:
    machine: str
    case: str
    status: str
    output: dict[str, Any]
    error: str | None
    failed_attempts: dict[str, int]
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems


def case_names(path: Path = MOCK_CONFIG_PATH) -> list[tuple[str, str]]:
    config = json.loads(path.read_text())
    return [
        (machine, case)
        for machine, spec in config["StateMachines"].items()
        for case in spec["TestCases"]
    ]


def install_case_machines(
    sfn: Any, definitions: Mapping[str, str], role_arn: str
) -> dict[str, str]:
    """Create (or update) `Booking` and `Cancellation` with the given definitions."""
    existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    arns: dict[str, str] = {}
    for name, definition in definitions.items():
        if name in existing:
            sfn.update_state_machine(stateMachineArn=existing[name], definition=definition)
            arns[name] = existing[name]
        else:
            arns[name] = sfn.create_state_machine(
                name=name, definition=definition, roleArn=role_arn
            )["stateMachineArn"]
    return arns


def run_case(
    sfn: Any, machine_arn: str, machine: str, case: str, timeout: float = 30
) -> CaseResult:
    """Start `<arn>#<case>`, wait for the end, compare with EXPECTED."""
    started = sfn.start_execution(
        stateMachineArn=f"{machine_arn}#{case}",
        name=f"mock-{case}-{uuid.uuid4().hex[:8]}",
        input=json.dumps(CASE_INPUT),
    )
    deadline = time.monotonic() + timeout
    described = sfn.describe_execution(executionArn=started["executionArn"])
    while described["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
        described = sfn.describe_execution(executionArn=started["executionArn"])
    events = sfn.get_execution_history(executionArn=started["executionArn"], maxResults=1000)[
        "events"
    ]
    failed: dict[str, int] = {}
    task_errors: set[str] = set()
    current = ""
    for event in events:
        if event["type"].endswith("StateEntered"):
            current = event["stateEnteredEventDetails"]["name"]
        if event["type"] == "TaskFailed":
            failed[current] = failed.get(current, 0) + 1
            task_errors.add(str(event["taskFailedEventDetails"].get("error")))
    output = json.loads(described.get("output") or "{}")
    expected = EXPECTED.get((machine, case))
    problems: list[str] = []
    if expected is None:
        problems.append("no expectation is declared for this case in mock_cases.EXPECTED")
    else:
        if described["status"] != expected.status:
            problems.append(f"status {described['status']}, expected {expected.status}")
        if expected.outcome and output.get("outcome") != expected.outcome:
            problems.append(f"outcome {output.get('outcome')!r}, expected {expected.outcome!r}")
        if expected.error and described.get("error") != expected.error:
            problems.append(f"error {described.get('error')!r}, expected {expected.error!r}")
        for error in expected.task_errors:
            if error not in task_errors:
                problems.append(f"no task failed with {error} (saw {sorted(task_errors)})")
        for state in expected.retried_states:
            if not failed.get(state):
                problems.append(f"{state} was expected to fail first and be retried")
    return CaseResult(
        machine, case, described["status"], output, described.get("error"), failed, problems
    )


def run_all(sfn: Any, machine_arns: Mapping[str, str]) -> list[CaseResult]:
    return [run_case(sfn, machine_arns[machine], machine, case) for machine, case in case_names()]
