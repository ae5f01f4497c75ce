"""Two customers of two tenants through the same action functions at the same moment.

Each round, Dana (acme-corp) and Aroha (sunrise-homes) list their projects and add a note
through the deployed functions at once (a barrier releases both invokes together), many
times. No answer, no log line of an invocation and no stored item (notes table, PF360's
notes) of one may carry the other's data.

This is what one execution environment per concurrent invocation buys: with the old model
(`LOCAL_LAMBDA_RUNTIME=threads`, every invocation a thread of one process sharing the
resolvers' module state) this test fails: answers come back with the other customer's
projects or "That project is not on your account".
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from agent_bridge.sessions import SessionStore
from infra.local.dev_tokens import mint_customer_token
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

ROUNDS = 15
INFORMATION = "information-actions-dev"
NOTES = "notes-actions-dev"


@dataclass(frozen=True)
class Customer:
    customer_id: str
    client_id: str
    name: str
    projects: tuple[str, ...]
    note_project: str


DANA = Customer(
    "CUST001", "acme-corp", "Dana Whitfield", ("12345", "12346", "12347", "12348"), "12346"
)
AROHA = Customer("CUST101", "sunrise-homes", "Aroha Ngata", ("31001", "31002"), "31001")


@dataclass
class Seen:
    """What one customer's invocation returned: answer body and its own log."""

    customer: Customer
    session_id: str
    marker: str
    path: str
    status: int
    body: str
    log: str


def mentions(text: str, value: str) -> bool:
    """`value` as a whole token (a project id inside a timestamp or a request id is not one)."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", text) is not None


def fingerprints(customer: Customer, session_id: str) -> list[str]:
    """Strings that only this customer's data contains."""
    return [customer.customer_id, customer.name, session_id, *customer.projects]


@pytest.fixture
def sessions(local_stack: LocalStack, sandbox_control: SandboxControl) -> Iterator[dict[str, str]]:
    assert local_stack.deployed is not None
    table = boto3.resource(
        "dynamodb", region_name=local_stack.region, endpoint_url=local_stack.endpoint_url
    ).Table(local_stack.deployed.tables["SessionsTable"])
    store = SessionStore(table)
    made = {}
    for customer in (DANA, AROHA):
        record = store.create(
            customer_id=customer.customer_id,
            client_id=customer.client_id,
            client_name=customer.client_id,
            environment="dev",
            auth_token=mint_customer_token(customer.customer_id, customer.client_id),
        )
        made[customer.customer_id] = record.session_id
    yield made


def call(
    lambdas: Any, function: str, path: str, session_id: str, **parameters: str
) -> tuple[int, str, str]:
    event = {
        "messageVersion": "1.0",
        "agent": {"name": "agent", "id": "AGENT12345", "alias": "TSTALIASID", "version": "1"},
        "sessionId": session_id,
        "sessionAttributes": {"session_id": session_id},
        "promptSessionAttributes": {},
        "inputText": "please help",
        "actionGroup": function.removesuffix("-dev"),
        "apiPath": path,
        "httpMethod": "POST",
        "parameters": [{"name": k, "type": "string", "value": v} for k, v in parameters.items()],
    }
    raw = lambdas.invoke(FunctionName=function, Payload=json.dumps(event).encode(), LogType="Tail")
    text = raw["Payload"].read().decode()
    log = base64.b64decode(raw.get("LogResult", "")).decode("utf-8", "replace")
    response = json.loads(text)["response"]
    body = response["responseBody"]["application/json"]["body"]
    return int(response["httpStatusCode"]), body, log


def test_no_answer_log_or_stored_item_of_one_tenant_carries_the_others_data(
    local_stack: LocalStack, sandbox_control: SandboxControl, sessions: dict[str, str]
) -> None:
    lambdas = local_stack.client("lambda")
    barrier = threading.Barrier(2)
    seen: list[Seen] = []
    lock = threading.Lock()

    def play(customer: Customer, round_no: int) -> None:
        session_id = sessions[customer.customer_id]
        marker = f"note-{customer.customer_id}-{round_no}-{uuid.uuid4().hex[:6]}"
        for function, path, parameters in (
            (INFORMATION, "/list_all_projects", {}),
            (NOTES, "/add_note", {"project_id": customer.note_project, "note_text": marker}),
        ):
            barrier.wait(timeout=30)
            status, body, log = call(lambdas, function, path, session_id, **parameters)
            with lock:
                seen.append(Seen(customer, session_id, marker, path, status, body, log))

    with ThreadPoolExecutor(2) as pool:
        for round_no in range(ROUNDS):
            futures = [pool.submit(play, c, round_no) for c in (DANA, AROHA)]
            for future in futures:
                future.result()

    problems: list[str] = []
    for item in seen:
        other = AROHA if item.customer is DANA else DANA
        other_strings = fingerprints(other, sessions[other.customer_id])
        if item.status != 200:
            problems.append(f"{item.customer.customer_id} {item.path}: {item.status} {item.body}")
        if item.path == "/list_all_projects":
            ids = [p["project_id"] for p in json.loads(item.body).get("projects", [])]
            if ids and ids != list(item.customer.projects):
                problems.append(f"{item.customer.customer_id} was shown projects {ids}")
        for text, where in ((item.body, "answer"), (item.log, "log")):
            for foreign in other_strings:
                if mentions(text, foreign):
                    problems.append(f"{item.customer.customer_id} {item.path} {where}: {foreign}")
        if "REPORT RequestId" not in item.log:
            problems.append(f"{item.customer.customer_id} {item.path}: no log of its own")
        if item.path == "/add_note" and not mentions(item.log, item.session_id):
            problems.append(f"{item.customer.customer_id} {item.path}: own session not logged")
    assert not problems, "\n".join(problems[:20])

    # Stored items: each note is kept under its author's tenant, project, customer, session.
    assert local_stack.deployed is not None
    notes_table = boto3.resource(
        "dynamodb", region_name=local_stack.region, endpoint_url=local_stack.endpoint_url
    ).Table(local_stack.deployed.tables["NotesTable"])
    kept = [
        item
        for item in notes_table.scan(ConsistentRead=True)["Items"]
        if str(item.get("note_text", "")).startswith("note-CUST")
        and item.get("session_id") in sessions.values()
    ]
    assert len(kept) == 2 * ROUNDS
    for item in kept:
        author = DANA if f"note-{DANA.customer_id}-" in item["note_text"] else AROHA
        assert item["customer_id"] == author.customer_id, item
        assert item["session_id"] == sessions[author.customer_id], item
        assert item["project_key"] == f"{author.client_id}#{author.note_project}", item
    ledger = sandbox_control.notes()
    assert len(ledger) == 2 * ROUNDS
    for note in ledger:
        text = json.dumps(note)
        author = DANA if f"note-{DANA.customer_id}-" in text else AROHA
        other = AROHA if author is DANA else DANA
        assert author.note_project in text and other.note_project not in text, note
