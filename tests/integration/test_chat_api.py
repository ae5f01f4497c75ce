"""The chat API end to end over HTTP: waitress, the local agent, the deployed action Lambdas,
the workflows on the local engine and the PF360 sandbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from agent_bridge.chat.app import create_app
from agent_bridge.chat.auth import AuthConfig, TokenValidator
from agent_bridge.chat.runtime import AgentReply
from agent_bridge.sessions import SessionStore
from infra.local.chat_server import ChatServer, local_app
from infra.local.dev_tokens import mint_customer_token
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tests.integration.identity_provider import IdentityProvider

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chat(local_stack: LocalStack) -> Iterator[str]:
    server = ChatServer(local_app(local_stack)).start()
    try:
        yield server.base_url
    finally:
        server.stop()


class Customer:
    """One signed-in customer talking to the chat API."""

    def __init__(self, base_url: str, customer_id: str = "CUST001", client_id: str = "acme-corp"):
        self.url = f"{base_url}/api/chat/simple"
        self.token = mint_customer_token(customer_id, client_id)
        self.session_id: str | None = None
        self.answers: list[str] = []

    def post(self, body: Any, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return requests.post(self.url, json=body, headers=headers, timeout=60, **kwargs)

    def say(self, message: str) -> dict[str, Any]:
        body: dict[str, Any] = {"message": message}
        if self.session_id:
            body["session_id"] = self.session_id
        response = self.post(body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        assert set(answer) >= {"response", "session_id", "timestamp"}
        self.session_id = answer["session_id"]
        self.answers.append(response.text)
        return answer


def test_the_whole_booking_conversation(chat: str, sandbox_control: SandboxControl) -> None:
    customer = Customer(chat)
    listed = customer.say("show my projects")
    assert "ORD-2025-001" in listed["response"]
    assert "https://acme-corp.cx-portal.dev.projectsforce.com/details/12345" in listed["response"]
    session_id = customer.session_id

    dates = customer.say("schedule project 1")
    assert dates["session_id"] == session_id
    assert "Which date works for you?" in dates["response"] and dates["choices"]
    times = customer.say(dates["choices"][0])
    assert "Free times on" in times["response"]
    first_time = next(c for c in times["choices"] if ":" in c)
    question = customer.say(first_time)
    assert "Shall I book" in question["response"]
    assert sandbox_control.bookings() == []  # nothing is booked before the customer says yes
    booked = customer.say("yes")
    assert "is booked for" in booked["response"]

    ledger = sandbox_control.bookings()
    assert len(ledger) == 1 and ledger[0]["project_id"] == "12345"
    assert ledger[0]["customer_id"] == "CUST001"
    for answer in customer.answers:
        assert customer.token not in answer


def test_notes_and_cancel_through_the_chat(chat: str, sandbox_control: SandboxControl) -> None:
    customer = Customer(chat)
    noted = customer.say("add a note to project 1: ring the bell twice")
    assert "note was added" in noted["response"]
    shown = customer.say("show notes for project 1")
    assert "ring the bell twice" in shown["response"]
    assert [n["note_text"] for n in sandbox_control.notes()] == ["ring the bell twice"]
    customer.say("cancel project 2")
    cancelled = customer.say("yes")
    assert "cancelled" in cancelled["response"]
    assert [b["action"] for b in sandbox_control.bookings()] == ["cancel"]


def test_healthz(chat: str) -> None:
    response = requests.get(f"{chat}/healthz", timeout=10)
    assert response.status_code == 200 and response.json()["ok"] is True


@pytest.mark.parametrize(
    ("header", "sentence"),
    [
        (None, "Please sign in first."),
        ("Basic dXNlcjpwYXNz", "not valid"),
        ("Bearer not.a.jwt", "not valid"),
        ("Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJDVVNUMDAxIn0.", "not valid"),
    ],
)
def test_requests_without_a_valid_token_are_401(
    chat: str, header: str | None, sentence: str
) -> None:
    headers = {"Authorization": header} if header else {}
    response = requests.post(
        f"{chat}/api/chat/simple", json={"message": "hi"}, headers=headers, timeout=10
    )
    assert response.status_code == 401
    assert sentence in response.json()["error"]


def test_expired_and_badly_signed_tokens_are_401(chat: str) -> None:
    customer = Customer(chat)
    expired = mint_customer_token("CUST001", "acme-corp", now=time.time() - 7200)
    forged = mint_customer_token("CUST001", "acme-corp", secret="x" * 40)
    for token, sentence in ((expired, "expired"), (forged, "not valid")):
        response = customer.post({"message": "hi"}, token=token)
        assert response.status_code == 401 and sentence in response.json()["error"]


def test_another_customers_session_is_403_and_untouched(chat: str, local_stack: LocalStack) -> None:
    owner = Customer(chat, "CUST001")
    owner.say("business hours")
    assert local_stack.deployed is not None
    table = boto3.resource("dynamodb").Table(local_stack.deployed.tables["SessionsTable"])
    before = table.get_item(Key={"session_id": owner.session_id})["Item"]
    for intruder in (Customer(chat, "CUST002"), Customer(chat, "CUST101", "sunrise-homes")):
        response = intruder.post({"message": "show my projects", "session_id": owner.session_id})
        assert response.status_code == 403
        assert "belongs to someone else" in response.json()["error"]
    after = table.get_item(Key={"session_id": owner.session_id})["Item"]
    assert after["auth_token"] == before["auth_token"] == f"Bearer {owner.token}"


@pytest.mark.parametrize(
    ("body", "status", "sentence"),
    [
        ("not json at all", 400, "JSON object"),
        ([1, 2], 400, "JSON object"),
        ({}, 400, "type a message"),
        ({"message": "   "}, 400, "type a message"),
        ({"message": 5}, 400, "type a message"),
        ({"message": "hi", "session_id": 7}, 400, "session_id"),
        ({"message": "hi", "session_id": "../../etc"}, 400, "session_id"),
        ({"message": "x" * 2001}, 413, "too long"),
        ({"message": "x" * 20000}, 413, "too long"),
    ],
)
def test_bad_bodies_get_a_sentence(chat: str, body: Any, status: int, sentence: str) -> None:
    customer = Customer(chat)
    if isinstance(body, str):
        response = requests.post(
            customer.url,
            data=body,
            headers={"Authorization": f"Bearer {customer.token}", "Content-Type": "text/plain"},
            timeout=10,
        )
    else:
        response = customer.post(body)
    assert response.status_code == status, response.text
    assert sentence in response.json()["error"]


class EchoRuntime:
    """Records what the agent is given (to prove it never sees the token)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def ask(self, session_id: str, message: str) -> AgentReply:
        self.seen.append((session_id, message))
        return AgentReply(text=f"echo: {message}")


def test_non_local_configuration_checks_issuer_and_audience_over_http(
    local_stack: LocalStack,
) -> None:
    provider = IdentityProvider()
    runtime = EchoRuntime()
    assert local_stack.deployed is not None
    sessions = SessionStore(
        boto3.resource("dynamodb").Table(local_stack.deployed.tables["SessionsTable"])
    )
    app = create_app(
        validator=TokenValidator(AuthConfig.from_environ(provider.environ())),
        sessions=sessions,
        runtime=runtime,
        environment="qa",
    )
    server = ChatServer(app).start()
    try:
        url = f"{server.base_url}/api/chat/simple"

        def post(token: str) -> requests.Response:
            return requests.post(
                url,
                json={"message": "hi"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )

        good = provider.token()
        ok = post(good)
        assert ok.status_code == 200 and ok.json()["response"] == "echo: hi"
        assert runtime.seen == [(ok.json()["session_id"], "hi")]
        assert good not in repr(runtime.seen)
        assert post(provider.token(aud="another-api")).status_code == 401
        assert post(provider.token(iss="https://evil.test/")).status_code == 401
        assert post(mint_customer_token("CUST001", "acme-corp")).status_code == 401
        assert requests.get(f"{server.base_url}/api/local/customers", timeout=10).status_code == 404
    finally:
        server.stop()
        provider.close()


def test_an_expired_session_id_starts_a_new_session_only_for_its_owner(
    chat: str, local_stack: LocalStack
) -> None:
    assert local_stack.deployed is not None
    store = SessionStore(
        boto3.resource("dynamodb").Table(local_stack.deployed.tables["SessionsTable"])
    )
    old = store.create(
        customer_id="CUST001",
        client_id="acme-corp",
        client_name="acme-corp",
        environment="dev",
        auth_token=mint_customer_token("CUST001", "acme-corp"),
        now=time.time() - 7200,
    )
    intruder = Customer(chat, "CUST002").post({"message": "hi", "session_id": old.session_id})
    assert intruder.status_code == 403
    owner = Customer(chat, "CUST001")
    owner.session_id = old.session_id
    answer = owner.say("business hours")
    assert answer["session_id"] != old.session_id
    assert store.get(answer["session_id"]) is not None
