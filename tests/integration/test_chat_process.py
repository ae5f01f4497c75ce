"""`make load`'s chat API in its own process: it reaches the stack only over HTTP (the
endpoint and the deployed names it is sent), as any AWS client does, and ends with its
parent's command."""

from __future__ import annotations

import argparse
import json

import pytest
import requests

from infra.local.chat_server import RemoteStack
from infra.local.dev_tokens import mint_customer_token
from infra.local.stack import LocalStack
from tests.load.serve import ChatProcess

pytestmark = pytest.mark.integration


def test_the_remote_stack_survives_json(local_stack: LocalStack) -> None:
    remote = RemoteStack.of(local_stack)
    again = RemoteStack.from_dict(json.loads(json.dumps(remote.to_dict())))
    assert again == remote
    assert again.endpoint_url == local_stack.endpoint_url
    assert again.deployed.functions == local_stack.deployed.functions  # type: ignore[union-attr]


def test_the_chat_api_in_its_own_process_serves_a_turn(local_stack: LocalStack) -> None:
    args = argparse.Namespace(chat_threads=2, tenants=1, customers_per_tenant=1)
    chat = ChatProcess(local_stack, args)
    try:
        token = mint_customer_token("CUST001", "acme-corp")
        response = requests.post(
            f"{chat.url}/api/chat/simple",
            json={"message": "show my projects"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        # Dana's projects, from the sandbox through the deployed action function.
        assert answer["response"] == "You have 4 projects:", answer
        assert "ORD-2025-001" in json.dumps(answer["cards"])
    finally:
        chat.stop()
    assert chat.process.poll() is not None  # ended with its stdin, no orphan
