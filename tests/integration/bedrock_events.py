"""Bedrock-format action-group events, invoked on the deployed functions of the local stack.

Tests call the action-group Lambdas the way Bedrock does: a `lambda.invoke` of the deployed
function with the OpenAPI action-group event (messageVersion 1.0, apiPath, parameters,
sessionId, sessionAttributes), and read the answer's status and JSON body.

Everything that could hold a secret is remembered per worker: every minted customer token
(MINTED_TOKENS), every raw answer (RESPONSES), every task token read from the flows table
while a flow was parked (TASK_TOKENS) and the captured logs (LOGS), so the last test of a
module can prove that no token reached an answer or a log line.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from agent_bridge.sessions import SessionStore
from infra.local.dev_tokens import mint_customer_token
from infra.local.pf360_sandbox import CLIENTS, CUSTOMERS, SandboxControl
from infra.local.stack import LocalStack
from tasks.session_record import SessionRecord

# Import the modules that create the Powertools loggers, so that they exist before any
# test points them at its captured stdout (the functions' handlers run in this process).
importlib.import_module("agent_bridge.actions.context")
importlib.import_module("tasks.handlers.common")

AGENT = {
    "name": "pf360-scheduling-specialist",
    "id": "LOCALAGENT1",
    "alias": "TSTALIASID",
    "version": "DRAFT",
}

# Where the event carries the session id: the three places the bridge looks, or none.
SESSION_PLACES = ("attributes", "session_id", "parameter", "none")

MINTED_TOKENS: list[str] = []
RESPONSES: list[str] = []
TASK_TOKENS: list[str] = []
LOGS: list[str] = []

# The Powertools loggers of the bridge and of the task Lambdas (they run in this process).
POWERTOOLS_LOGGERS = ("pf360-scheduler-bridge", "pf360-scheduler-tasks")


def bedrock_event(
    api_path: str,
    *,
    session_id: str | None,
    place: str = "attributes",
    parameters: dict[str, str] | None = None,
    action_group: str = "scheduling-actions",
    input_text: str = "",
) -> dict[str, Any]:
    """The event Bedrock sends an OpenAPI action group for one call."""
    assert place in SESSION_PLACES, place
    params = [
        {"name": name, "type": "string", "value": value}
        for name, value in (parameters or {}).items()
    ]
    event: dict[str, Any] = {
        "messageVersion": "1.0",
        "agent": dict(AGENT),
        "inputText": input_text or f"(test) {api_path}",
        "actionGroup": action_group,
        "apiPath": api_path,
        "httpMethod": "POST",
        "parameters": params,
        "sessionAttributes": {},
        "promptSessionAttributes": {},
    }
    if session_id is not None:
        if place == "attributes":
            event["sessionId"] = f"bedrock-{uuid.uuid4().hex}"  # Bedrock's own, not ours
            event["sessionAttributes"] = {"session_id": session_id}
        elif place == "session_id":
            event["sessionId"] = session_id
        elif place == "parameter":
            params.append({"name": "session_id", "type": "string", "value": session_id})
    return event


@dataclass
class ActionAnswer:
    """One action's answer: the HTTP status Bedrock sees and the decoded JSON body."""

    status: int
    body: dict[str, Any]
    payload: dict[str, Any]

    @property
    def error(self) -> str:
        return str(self.body.get("error", ""))


def invoke(lambdas: Any, function_name: str, event: dict[str, Any]) -> ActionAnswer:
    """A Lambda invoke of the deployed function; the answer must be Bedrock's format."""
    response = lambdas.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
    raw = response["Payload"].read().decode()
    RESPONSES.append(raw)
    assert "FunctionError" not in response, raw
    payload: dict[str, Any] = json.loads(raw)
    assert payload["messageVersion"] == "1.0", payload
    answer = payload["response"]
    assert answer["actionGroup"] == event["actionGroup"], payload
    assert answer["apiPath"] == event["apiPath"], payload
    assert answer["httpMethod"] == "POST", payload
    body_text = answer["responseBody"]["application/json"]["body"]
    assert isinstance(body_text, str), payload
    body = json.loads(body_text)
    assert isinstance(body, dict), payload
    status = int(answer["httpStatusCode"])
    if status >= 400:
        assert set(body) == {"error"}, body
        assert body["error"].endswith((".", "?", "!")), body  # a sentence, not a code
    return ActionAnswer(status=status, body=body, payload=payload)


@dataclass
class Actions:
    """One test's handle on an action-group function, its tables and the sandbox."""

    stack: LocalStack
    sandbox: SandboxControl
    function_logical_id: str = "SchedulingActionsFunction"
    action_group: str = "scheduling-actions"
    lambdas: Any = field(init=False)
    sfn: Any = field(init=False)

    def __post_init__(self) -> None:
        self.lambdas = self.stack.client("lambda")
        self.sfn = self.stack.client("stepfunctions")

    # ------------------------------------------------------------------ resources

    @property
    def deployed(self) -> Any:
        assert self.stack.deployed is not None
        return self.stack.deployed

    @property
    def function_name(self) -> str:
        return str(self.deployed.functions[self.function_logical_id])

    @property
    def parameters(self) -> dict[str, str]:
        return dict(self.deployed.parameters)

    def flag(self, name: str) -> bool:
        """A template parameter as deployed (the loader merges overrides and defaults)."""
        return self.parameters.get(name) == "1"

    def table(self, logical_id: str) -> Any:
        dynamodb = boto3.resource(
            "dynamodb", region_name=self.stack.region, endpoint_url=self.stack.endpoint_url
        )
        return dynamodb.Table(self.deployed.tables[logical_id])

    # ------------------------------------------------------------------ sessions

    def session(self, customer_id: str = "CUST001", *, now: float | None = None) -> SessionRecord:
        """A chat session as the chat API creates it, with a freshly minted customer JWT."""
        client_id = CUSTOMERS[customer_id].client_id
        token = mint_customer_token(customer_id, client_id)
        MINTED_TOKENS.append(token)
        return SessionStore(self.table("SessionsTable")).create(
            customer_id=customer_id,
            client_id=client_id,
            client_name=CLIENTS[client_id].client_name,
            environment="dev",
            auth_token=token,
            session_id=f"sess-test-{uuid.uuid4().hex}",
            now=now,
        )

    def session_item(self, session: SessionRecord) -> dict[str, Any]:
        item: dict[str, Any] = self.table("SessionsTable").get_item(
            Key={"session_id": session.session_id}, ConsistentRead=True
        )["Item"]
        return item

    # ------------------------------------------------------------------ calls

    def call(
        self,
        api_path: str,
        session: SessionRecord | str | None,
        *,
        place: str = "attributes",
        **parameters: str,
    ) -> ActionAnswer:
        """Invoke one action as Bedrock would, for this session (or none)."""
        session_id = session.session_id if isinstance(session, SessionRecord) else session
        event = bedrock_event(
            api_path,
            session_id=session_id,
            place=place,
            parameters=parameters,
            action_group=self.action_group,
        )
        return invoke(self.lambdas, self.function_name, event)

    # ------------------------------------------------------------------ what changed

    def flow_item(self, session: SessionRecord) -> dict[str, Any] | None:
        """The session's checkpoint; a parked task token is remembered for the leak scan."""
        item: dict[str, Any] | None = (
            self.table("FlowsTable")
            .get_item(Key={"session_id": session.session_id}, ConsistentRead=True)
            .get("Item")
        )
        if item and item.get("task_token"):
            TASK_TOKENS.append(str(item["task_token"]))
        return item

    def executions(self, kind: str = "BookingStateMachine") -> list[dict[str, Any]]:
        arn = self.deployed.state_machines[kind]
        found: list[dict[str, Any]] = []
        for page in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            found.extend(page["executions"])
        return found

    def execution_count(self) -> int:
        return len(self.executions("BookingStateMachine")) + len(
            self.executions("CancellationStateMachine")
        )

    def ended(self, execution_arn: str, deadline_seconds: float = 15) -> dict[str, Any]:
        end = time.monotonic() + deadline_seconds
        while time.monotonic() < end:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.02)
        raise AssertionError(f"{execution_arn} still running after {deadline_seconds}s")

    def ledger(self, action: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.sandbox.bookings() if action is None or e["action"] == action]


# --------------------------------------------------------------------------- logs


class _CurrentStdout:
    """A stream that writes wherever `sys.stdout` points at the moment of the write."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@contextmanager
def logs_to_current_stdout() -> Iterator[None]:
    """Make the Powertools loggers write to the current `sys.stdout` (what capfd captures).

    A Powertools Logger binds its stream when it is created, often during collection or an
    earlier test whose capture file is closed by now; the handlers are given a stream that
    follows `sys.stdout` instead (and keep it: it is right for every later test too).
    """
    for name in POWERTOOLS_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler.stream, _CurrentStdout
            ):
                handler.setStream(_CurrentStdout())
    yield


def log_records(text: str) -> list[dict[str, Any]]:
    """The JSON log lines in captured output (Powertools writes one object per line)."""
    records: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                records.append(parsed)
    return records
