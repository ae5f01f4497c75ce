"""Malformed action-group events: a 400 with a sentence in Bedrock's format, never a trace.

Each of the three deployed action Lambdas is invoked the way Bedrock would (lambda.invoke)
with events that are not valid action-group events of messageVersion 1.0.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tests.integration.bedrock_events import (
    POWERTOOLS_LOGGERS,
    Actions,
    bedrock_event,
    log_records,
    logs_to_current_stdout,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

FUNCTIONS = {
    "SchedulingActionsFunction": ("scheduling-actions", "/list_projects"),
    "InformationActionsFunction": ("information-actions", "/list_all_projects"),
    "NotesActionsFunction": ("notes-actions", "/get_notes"),
}


def good_event(group: str, path: str, session_id: str) -> dict[str, Any]:
    return bedrock_event(path, session_id=session_id, action_group=group)


def malformed(group: str, path: str, session_id: str) -> dict[str, Any]:
    def changed(**changes: Any) -> dict[str, Any]:
        event = good_event(group, path, session_id)
        event.update(changes)
        return event

    return {
        "null": None,
        "list": [],
        "empty-object": {},
        "string": "list my projects",
        "number": 7,
        "parameters-object": changed(parameters={"project_id": "12345"}),
        "parameters-strings": changed(parameters=["project_id"]),
        "message-version-2": changed(messageVersion="2.0"),
        "message-version-missing": {
            k: v for k, v in good_event(group, path, session_id).items() if k != "messageVersion"
        },
        "no-api-path": changed(apiPath=None),
        "api-path-number": changed(apiPath=5),
        "session-attributes-list": changed(sessionAttributes=["x"]),
    }


CASES = [
    "null",
    "list",
    "empty-object",
    "string",
    "number",
    "parameters-object",
    "parameters-strings",
    "message-version-2",
    "message-version-missing",
    "no-api-path",
    "api-path-number",
    "session-attributes-list",
]


@pytest.fixture
def actions(local_stack: LocalStack, sandbox_control: SandboxControl) -> Actions:
    return Actions(local_stack, sandbox_control)


@pytest.fixture
def captured(capfd: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """The Lambdas' logs in capfd for this test only: the streams are put back afterwards,
    so later modules (a CLI writing JSON to stdout) do not get the handlers' log lines."""
    handlers = [
        handler
        for name in POWERTOOLS_LOGGERS
        for handler in logging.getLogger(name).handlers
        if isinstance(handler, logging.StreamHandler)
    ]
    streams = [handler.stream for handler in handlers]
    try:
        with logs_to_current_stdout():
            yield capfd
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)


def raw_invoke(actions: Actions, logical_id: str, event: Any) -> tuple[dict[str, Any], str]:
    name = actions.deployed.functions[logical_id]
    response = actions.lambdas.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    raw = response["Payload"].read().decode()
    assert "FunctionError" not in response, raw
    return json.loads(raw), raw


@pytest.mark.parametrize("logical_id", list(FUNCTIONS))
@pytest.mark.parametrize("case", CASES)
def test_a_malformed_event_is_a_400_sentence_in_bedrock_format(
    actions: Actions, logical_id: str, case: str
) -> None:
    group, path = FUNCTIONS[logical_id]
    session = actions.session()
    event = malformed(group, path, session.session_id)[case]
    ledger = actions.ledger()
    payload, raw = raw_invoke(actions, logical_id, event)
    assert "Traceback" not in raw and "stackTrace" not in raw
    assert payload["messageVersion"] == "1.0"
    answer = payload["response"]
    assert answer["httpStatusCode"] == 400, payload
    body = json.loads(answer["responseBody"]["application/json"]["body"])
    assert set(body) == {"error"} and body["error"].endswith("."), body
    if isinstance(event, dict) and isinstance(event.get("actionGroup"), str):
        assert answer["actionGroup"] == event["actionGroup"]
    assert actions.ledger() == ledger
    assert actions.sandbox.requests() == []  # nothing reached PF360


def test_a_valid_event_still_works(actions: Actions) -> None:
    session = actions.session()
    for logical_id, (group, path) in FUNCTIONS.items():
        payload, _ = raw_invoke(actions, logical_id, good_event(group, path, session.session_id))
        assert payload["response"]["httpStatusCode"] == 200, payload


def test_a_session_id_parameter_naming_another_session_is_a_security_event(
    actions: Actions, captured: pytest.CaptureFixture[str]
) -> None:
    mine, other = actions.session("CUST001"), actions.session("CUST002")
    event = good_event("scheduling-actions", "/list_projects", mine.session_id)
    event["parameters"].append({"name": "session_id", "type": "string", "value": other.session_id})
    payload, _ = raw_invoke(actions, "SchedulingActionsFunction", event)
    body = json.loads(payload["response"]["responseBody"]["application/json"]["body"])
    # The session Bedrock set wins: CUST001's projects, never CUST002's.
    assert body["projects"][0]["project_id"] == "12345"
    out, err = captured.readouterr()
    events = [r for r in log_records(out + err) if r.get("security_event") == "SESSION_MISMATCH"]
    assert len(events) == 1, events
    assert events[0]["session_id"] == mine.session_id
    assert events[0]["claimed_session_id"] == other.session_id
