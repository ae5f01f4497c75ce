"""The chat function as deployed: API Gateway HTTP API events through apig-wsgi.

The function runs on the local stack from the template (in the Lambda runtime of
infra/local), configured with a stand-in identity provider's issuer, audience and JWKS.
On AWS the HTTP API's JWT authorizer checks the token first; the function checks it again.
Bedrock has no local engine, so a valid request ends at the agent with the customer's
"not available" sentence; the session is written all the same.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from infra.local.stack import LocalStack
from tests.integration.identity_provider import IdentityProvider

pytestmark = pytest.mark.integration


@dataclass
class ChatFunction:
    name: str
    provider: IdentityProvider


@pytest.fixture
def chat_function(local_stack: LocalStack) -> Iterator[ChatFunction]:
    assert local_stack.deployed is not None
    name = local_stack.deployed.functions["ChatFunction"]
    client = local_stack.client("lambda")
    original = local_stack.deployed.function_environment("ChatFunction")
    provider = IdentityProvider()
    client.update_function_configuration(
        FunctionName=name,
        Environment={"Variables": {**original, **provider.environ(), "ENVIRONMENT": "qa"}},
    )
    try:
        yield ChatFunction(name, provider)
    finally:
        client.update_function_configuration(FunctionName=name, Environment={"Variables": original})
        provider.close()


def http_api_event(method: str, path: str, body: Any = None, token: str | None = None) -> dict:
    headers = {"host": "chat.example.test", "content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    payload = json.dumps(body) if body is not None else ""
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "stage": "$default",
        },
        "body": base64.b64encode(payload.encode()).decode(),
        "isBase64Encoded": True,
    }


def invoke(local_stack: LocalStack, name: str, event: dict) -> dict:
    response = local_stack.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event))
    assert "FunctionError" not in response, response["Payload"].read()
    result: dict = json.loads(response["Payload"].read())
    return result


def test_the_page_needs_no_token(local_stack: LocalStack, chat_function: ChatFunction) -> None:
    page = invoke(local_stack, chat_function.name, http_api_event("GET", "/"))
    assert page["statusCode"] == 200
    assert "<html" in page["body"].lower()
    health = invoke(local_stack, chat_function.name, http_api_event("GET", "/healthz"))
    assert json.loads(health["body"]) == {"ok": True, "environment": "qa"}


def test_the_function_checks_the_token_itself(
    local_stack: LocalStack, chat_function: ChatFunction
) -> None:
    provider = chat_function.provider
    chat = "/api/chat/simple"
    missing = invoke(
        local_stack, chat_function.name, http_api_event("POST", chat, {"message": "hi"})
    )
    assert missing["statusCode"] == 401
    wrong_audience = provider.token(aud="someone-else")
    refused = invoke(
        local_stack,
        chat_function.name,
        http_api_event("POST", chat, {"message": "hi"}, wrong_audience),
    )
    assert refused["statusCode"] == 401
    assert wrong_audience not in refused["body"]


def test_a_valid_request_keeps_a_session_and_asks_the_supervisor(
    local_stack: LocalStack, chat_function: ChatFunction
) -> None:
    provider = chat_function.provider
    token = provider.token()
    answer = invoke(
        local_stack,
        chat_function.name,
        http_api_event("POST", "/api/chat/simple", {"message": "show my projects"}, token),
    )
    # No Bedrock locally: the customer gets the sentence for an unavailable assistant.
    assert answer["statusCode"] == 503, answer
    assert "not available" in json.loads(answer["body"])["error"]
    assert token not in answer["body"]
    assert local_stack.deployed is not None
    table = boto3.resource("dynamodb").Table(local_stack.deployed.tables["SessionsTable"])
    sessions = [
        item
        for item in table.scan()["Items"]
        if item.get("customer_id") == "CUST001" and item.get("auth_token") == f"Bearer {token}"
    ]
    assert len(sessions) == 1
