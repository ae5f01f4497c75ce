"""The Bedrock runtime against botocore's Stubber: the one place a stub stands in for AWS.

Bedrock Agents have no local engine. The Stubber checks our request against the real
service model; the streamed `completion` is given as a list of events, each validated
against the event-stream member's shape (the stock Stubber only knows single structures).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from agent_bridge.chat.bedrock_runtime import BUSY, DOWN, BedrockAgentRuntime, suggest_choices
from agent_bridge.chat.errors import AgentUnavailable

SESSION = "sess_abcdefghijklmnop"


class EventStreamStubber(Stubber):
    """Validates each event of a streamed member against its event shape."""

    def _validate_operation_response(self, operation_name: str, service_response: Any) -> None:
        operation = self.client.meta.service_model.operation_model(operation_name)
        shape = operation.output_shape
        plain = {k: v for k, v in service_response.items() if k != "ResponseMetadata"}
        for name, member in shape.members.items():
            if member.serialization.get("eventstream") and name in plain:
                events = plain[name]
                for event in events:
                    validate_parameters(event, member)
                plain[name] = events[0] if events else {}
        validate_parameters(plain, shape)


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "bedrock-agent-runtime",
        region_name="us-east-1",
        aws_access_key_id="stub",
        aws_secret_access_key="stub",
    )


def expected(message: str) -> dict[str, Any]:
    return {
        "agentId": "AGENT1234",
        "agentAliasId": "ALIAS1234",
        "sessionId": SESSION,
        "inputText": message,
        "sessionState": {"sessionAttributes": {"session_id": SESSION}},
    }


def response(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"completion": events, "contentType": "text/plain", "sessionId": SESSION}


def test_a_normal_stream_is_joined_and_the_session_is_passed_twice(client: Any) -> None:
    stubber = EventStreamStubber(client)
    stubber.add_response(
        "invoke_agent",
        response(
            [
                {"chunk": {"bytes": b"Here are the available dates: "}},
                {"chunk": {"bytes": b"2026-12-03, 2026-12-04."}},
            ]
        ),
        expected("schedule project 1"),
    )
    with stubber:
        reply = BedrockAgentRuntime(client, "AGENT1234", "ALIAS1234").ask(
            SESSION, "schedule project 1"
        )
    stubber.assert_no_pending_responses()
    assert reply.text == "Here are the available dates: 2026-12-03, 2026-12-04."
    assert reply.choices == ["2026-12-03", "2026-12-04"]


def test_throttling_becomes_a_busy_sentence(client: Any) -> None:
    stubber = EventStreamStubber(client)
    stubber.add_client_error(
        "invoke_agent",
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=429,
        expected_params=expected("hi"),
    )
    with stubber, pytest.raises(AgentUnavailable) as raised:
        BedrockAgentRuntime(client, "AGENT1234", "ALIAS1234").ask(SESSION, "hi")
    assert raised.value.message == BUSY
    assert raised.value.reason == "BEDROCK_THROTTLED"


def test_an_error_event_in_the_stream_becomes_a_sentence(client: Any) -> None:
    stubber = EventStreamStubber(client)
    stubber.add_response(
        "invoke_agent",
        response(
            [
                {"chunk": {"bytes": b"Let me check"}},
                {"internalServerException": {"message": "boom"}},
            ]
        ),
        expected("status of project 1"),
    )
    with stubber, pytest.raises(AgentUnavailable) as raised:
        BedrockAgentRuntime(client, "AGENT1234", "ALIAS1234").ask(SESSION, "status of project 1")
    assert raised.value.message == DOWN
    assert raised.value.reason == "BEDROCK_INTERNALSERVEREXCEPTION"
    assert "boom" not in raised.value.message


def test_a_throttling_event_in_the_stream_is_busy(client: Any) -> None:
    stubber = EventStreamStubber(client)
    stubber.add_response(
        "invoke_agent",
        response([{"throttlingException": {"message": "slow down"}}]),
        expected("hi"),
    )
    with stubber, pytest.raises(AgentUnavailable) as raised:
        BedrockAgentRuntime(client, "AGENT1234", "ALIAS1234").ask(SESSION, "hi")
    assert raised.value.message == BUSY


def test_other_client_errors_and_empty_answers_are_unavailable(client: Any) -> None:
    stubber = EventStreamStubber(client)
    stubber.add_client_error("invoke_agent", service_error_code="AccessDeniedException")
    stubber.add_response("invoke_agent", response([]), expected("hi"))
    runtime = BedrockAgentRuntime(client, "AGENT1234", "ALIAS1234")
    with stubber:
        with pytest.raises(AgentUnavailable) as denied:
            runtime.ask(SESSION, "hi")
        with pytest.raises(AgentUnavailable) as empty:
            runtime.ask(SESSION, "hi")
    assert denied.value.reason == "BEDROCK_ACCESSDENIEDEXCEPTION"
    assert empty.value.reason == "BEDROCK_EMPTY_ANSWER"


def test_suggested_choices_prefer_dates_then_times() -> None:
    assert suggest_choices("Free times: 08:00, 09:00 and 13:00.") == ["08:00", "09:00", "13:00"]
    assert suggest_choices("Pick 2026-12-03 or 2026-12-04 (not 10:00)") == [
        "2026-12-03",
        "2026-12-04",
    ]
    assert suggest_choices("Hello") == []
