"""Helpers for the workflow tests: sessions, a flow driver on the local stack, executions.

Every test makes its own session (a fresh uuid) because one local stack serves every test
of a worker; every auth token minted here is remembered, so the last test of a module can
prove that none of them reached an execution's input, output or history.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytz

from agent_bridge.flow_driver import STATUS_DONE, STATUS_WAITING, FlowDriver, FlowView
from infra.local.dev_tokens import mint_customer_token
from infra.local.pf360_sandbox import CLIENTS, CUSTOMERS, SandboxControl
from infra.local.stack import LocalStack
from tasks import checkpoint
from tasks.execution_index import ExecutionIndex
from tasks.session_record import SESSION_TTL_SECONDS, SessionRecord

# Every customer token minted by these helpers in this worker (the scan looks for each).
MINTED_TOKENS: list[str] = []

JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")


def deployed(local_stack: LocalStack) -> Any:
    assert local_stack.deployed is not None
    return local_stack.deployed


def booking_arn(local_stack: LocalStack) -> str:
    return str(deployed(local_stack).state_machines["BookingStateMachine"])


def cancellation_arn(local_stack: LocalStack) -> str:
    return str(deployed(local_stack).state_machines["CancellationStateMachine"])


def table(local_stack: LocalStack, logical_id: str) -> Any:
    dynamodb = boto3.resource(
        "dynamodb", region_name=local_stack.region, endpoint_url=local_stack.endpoint_url
    )
    return dynamodb.Table(deployed(local_stack).tables[logical_id])


def make_session(
    local_stack: LocalStack,
    customer_id: str = "CUST001",
    *,
    token: str | None = None,
    ttl_seconds: int = SESSION_TTL_SECONDS,
) -> SessionRecord:
    """A live chat session for a seeded customer, stored in the sessions table."""
    client_id = CUSTOMERS[customer_id].client_id
    jwt = token or mint_customer_token(customer_id, client_id)
    MINTED_TOKENS.append(jwt)
    session = SessionRecord(
        session_id=f"test-{uuid.uuid4().hex}",
        customer_id=customer_id,
        client_id=client_id,
        client_name=CLIENTS[client_id].client_name,
        environment="dev",
        auth_token=f"Bearer {jwt}",
        ttl=int(time.time()) + ttl_seconds,
    )
    table(local_stack, "SessionsTable").put_item(Item=session.to_item())
    return session


def timezone_of(session: SessionRecord) -> str:
    return CLIENTS[session.client_id].timezone


def make_driver(local_stack: LocalStack, *, deadline_seconds: float = 10.0) -> FlowDriver:
    """The flow driver as the bridge builds it, pointed at the local stack."""
    return FlowDriver(
        flows_table=table(local_stack, "FlowsTable"),
        booking_state_machine_arn=booking_arn(local_stack),
        cancellation_state_machine_arn=cancellation_arn(local_stack),
        sfn=local_stack.client("stepfunctions"),
        poll_interval=0.02,
        deadline_seconds=deadline_seconds,
        stall_check_seconds=0.5,
        executions_index=ExecutionIndex(table(local_stack, "ExecutionsTable")),
    )


def wait_for_end(sfn: Any, execution_arn: str, deadline_seconds: float = 15) -> dict[str, Any]:
    """DescribeExecution once the execution is no longer RUNNING."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        time.sleep(0.02)
    raise AssertionError(f"{execution_arn} still running after {deadline_seconds}s")


def output_of(description: dict[str, Any]) -> dict[str, Any]:
    output: dict[str, Any] = json.loads(description.get("output") or "{}")
    return output


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """Every history event of an execution, oldest first."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def entered_states(sfn: Any, execution_arn: str) -> list[str]:
    """The names of the states the execution entered, in order."""
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in history(sfn, execution_arn)
        if event["type"].endswith("StateEntered")
    ]


def failed_attempts(sfn: Any, execution_arn: str, state_name: str) -> list[str]:
    """The error names of the failed attempts of one task state (what its Retry saw)."""
    errors: list[str] = []
    current = None
    for event in history(sfn, execution_arn):
        if event["type"].endswith("StateEntered"):
            current = event["stateEnteredEventDetails"]["name"]
        elif event["type"] == "TaskFailed" and current == state_name:
            errors.append(event["taskFailedEventDetails"]["error"])
    return errors


def replay_input(
    session_id: str,
    customer_id: str,
    project_id: str,
    date: str,
    time_of_day: str,
    *,
    source: str = "test",
) -> dict[str, Any]:
    """The input an operator's replay starts the booking state machine with."""
    client_id = CUSTOMERS[customer_id].client_id
    client = CLIENTS[client_id]
    return {
        "session_id": session_id,
        "flow_id": uuid.uuid4().hex,
        "tenant": {
            "client_id": client_id,
            "client_name": client.client_name,
            "environment": "dev",
            "timezone": client.timezone,
        },
        "customer_id": customer_id,
        "project_id": project_id,
        "replay": {"date": date, "time": time_of_day, "source": source},
    }


def start_replay(local_stack: LocalStack, replay: dict[str, Any]) -> dict[str, Any]:
    """Start a replay with StartExecution, as schedctl does, and wait for its end."""
    sfn = local_stack.client("stepfunctions")
    started = sfn.start_execution(
        stateMachineArn=booking_arn(local_stack),
        name=f"replay-{replay['project_id']}-{replay['flow_id'][:16]}",
        input=json.dumps(replay),
    )
    return wait_for_end(sfn, started["executionArn"])


def function_name(local_stack: LocalStack, logical_id: str) -> str:
    return str(deployed(local_stack).functions[logical_id])


@contextmanager
def function_variables(
    local_stack: LocalStack, logical_id: str, **changes: str
) -> Iterator[dict[str, str]]:
    """Run the enclosed code with some of a function's environment variables changed.

    A changed configuration retires the function's execution environments (new ones start
    with the new environment), so this is what a redeploy with another parameter would do;
    the old values come back afterwards even when the test fails.
    """
    lambdas = local_stack.client("lambda")
    name = function_name(local_stack, logical_id)
    original = dict(
        lambdas.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    )
    lambdas.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**original, **changes}}
    )
    try:
        yield {**original, **changes}
    finally:
        lambdas.update_function_configuration(
            FunctionName=name, Environment={"Variables": original}
        )


def all_executions(local_stack: LocalStack) -> list[str]:
    """Every booking and cancellation execution on this worker's stack."""
    sfn = local_stack.client("stepfunctions")
    arns: list[str] = []
    for machine in (booking_arn(local_stack), cancellation_arn(local_stack)):
        paginator = sfn.get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=machine):
            arns.extend(e["executionArn"] for e in page["executions"])
    return arns


def leaks_in(where: str, text: str, secrets: list[str]) -> list[str]:
    """A sentence for each credential in `text`: one of `secrets` verbatim, the word Bearer,
    or anything shaped like a JWT."""
    found = [f"{where} holds a token" for secret in secrets if secret and secret in text]
    if "bearer" in text.lower():
        found.append(f"{where} mentions Bearer")
    if JWT_PATTERN.search(text):
        found.append(f"{where} holds something shaped like a JWT")
    return found


def credential_leaks(local_stack: LocalStack, secrets: list[str]) -> tuple[int, list[str]]:
    """Scan every execution's input, output, error, cause and history events for credentials;
    returns how many executions were scanned and a sentence for each leak found."""
    assert leaks_in("probe", "x Bearer y", []) and leaks_in("probe", "a.b.c", ["a.b.c"])
    sfn = local_stack.client("stepfunctions")
    leaks: list[str] = []
    arns = all_executions(local_stack)
    for arn in arns:
        description = sfn.describe_execution(executionArn=arn)
        texts = [
            (f"{arn} {field}", str(description.get(field) or ""))
            for field in ("input", "output", "error", "cause")
        ]
        texts += [
            (f"{arn} event {event['id']} {event['type']}", json.dumps(event, default=str))
            for event in history(sfn, arn)
        ]
        for where, text in texts:
            leaks.extend(leaks_in(where, text, secrets))
    return len(arns), leaks


# --------------------------------------------------------------------------- flows

PROJECT = "12345"  # CUST001's unscheduled project at acme-corp


@dataclass
class Flows:
    """One test's view of the system: the stack, the sandbox, a driver and a session."""

    stack: LocalStack
    sandbox: SandboxControl
    driver: FlowDriver
    sfn: Any

    @classmethod
    def on(cls, local_stack: LocalStack, sandbox_control: SandboxControl) -> Flows:
        return cls(
            stack=local_stack,
            sandbox=sandbox_control,
            driver=make_driver(local_stack),
            sfn=local_stack.client("stepfunctions"),
        )

    def session(self, customer_id: str = "CUST001") -> SessionRecord:
        return make_session(self.stack, customer_id)

    def start(self, session: SessionRecord, project_id: str = PROJECT) -> FlowView:
        view = self.driver.start_booking(session, project_id, timezone_of(session))
        assert view.execution_arn, view
        return view

    def to_slots(self, session: SessionRecord, project_id: str = PROJECT) -> FlowView:
        """Start a flow and answer its first date; returns the time offer."""
        first = self.start(session, project_id)
        assert first.status == STATUS_WAITING and first.step == checkpoint.STEP_AWAIT_DATE, first
        view = self.driver.resume(session.session_id, {"date": first.offer["dates"][0]})
        assert view.status == STATUS_WAITING and view.step == checkpoint.STEP_AWAIT_SLOT, view
        return view

    def book(self, session: SessionRecord, project_id: str = PROJECT) -> FlowView:
        """The whole conversation with the first date and the first time."""
        slots = self.to_slots(session, project_id)
        return self.driver.resume(session.session_id, {"time": slots.offer["times"][0]})

    def ended(self, view: FlowView) -> dict[str, Any]:
        assert view.execution_arn
        return wait_for_end(self.sfn, view.execution_arn)

    def item(self, session: SessionRecord) -> dict[str, Any]:
        found: dict[str, Any] = table(self.stack, "FlowsTable").get_item(
            Key={"session_id": session.session_id}, ConsistentRead=True
        )["Item"]
        return found

    def books(self) -> list[dict[str, Any]]:
        return [entry for entry in self.sandbox.bookings() if entry["action"] == "book"]

    def finish_from_dates(self, session: SessionRecord) -> FlowView:
        """From a waiting date step: the first date, then the first time."""
        view = self.driver.current(session.session_id)
        slots = self.driver.resume(session.session_id, {"date": view.offer["dates"][0]})
        return self.driver.resume(session.session_id, {"time": slots.offer["times"][0]})

    def failed_tasks(self, view: FlowView, state_name: str) -> list[str]:
        """The error names of the failed attempts of one task state (what Retry saw)."""
        assert view.execution_arn
        return failed_attempts(self.sfn, view.execution_arn, state_name)


def assert_booked_once(flows: Flows, view: FlowView, customer_id: str = "CUST001") -> None:
    """The flow ended booked, and PF360 holds exactly that one booking."""
    assert view.status == STATUS_DONE and view.outcome == checkpoint.OUTCOME_BOOKED, view
    assert view.result["test_mode"] is False
    ended = flows.ended(view)
    assert ended["status"] == "SUCCEEDED", ended
    assert output_of(ended)["outcome"] == "booked"
    books = flows.books()
    assert len(books) == 1, books
    assert (books[0]["date"], books[0]["time"]) == (view.result["date"], view.result["time"])
    assert books[0]["customer_id"] == customer_id


def new_york_today() -> str:
    return datetime.now(pytz.timezone("America/New_York")).date().isoformat()


def wait_for_late_request(sandbox: SandboxControl, endpoint: str) -> None:
    """A call that timed out on our side still runs in the sandbox (its request log entry is
    written when it answers): wait until it has, so a late commit would show in the ledger."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(r["endpoint"] == endpoint and r["fault"] == "timeout" for r in sandbox.requests()):
            return
        time.sleep(0.05)
    raise AssertionError(f"the delayed {endpoint} call never finished")


# --------------------------------------------------------------------------- credentials


def assert_no_credentials(local_stack: LocalStack, minimum_executions: int) -> None:
    """No auth token (customer or service) in any execution of this worker, nor in a
    checkpoint. Call it from the last test of a module, after its flows ran."""
    assert MINTED_TOKENS, "the scan must run after flows that used minted tokens"
    secrets = local_stack.client("secretsmanager")
    secret_id = deployed(local_stack).secrets["ServiceTokensSecret"]
    service_tokens = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    credentials = [*MINTED_TOKENS, *service_tokens.values()]
    scanned, leaks = credential_leaks(local_stack, credentials)
    assert scanned >= minimum_executions, scanned
    assert leaks == []
    items = table(local_stack, "FlowsTable").scan(ConsistentRead=True)["Items"]
    assert leaks_in("flows table", json.dumps(items, default=str), credentials) == []
