"""The customer's display name (issue 14: search by name): from the validated token's OIDC
`name` claim into the session record and from there into the execution index, next to the
ids that are the identity. Tables here only record what is written; the search itself runs
against the local stack's DynamoDB (tests/integration/test_ops_triage.py)."""

from __future__ import annotations

from typing import Any

from agent_bridge.chat.app import open_session
from agent_bridge.chat.auth import TokenValidator
from agent_bridge.flow_driver import FlowDriver
from agent_bridge.sessions import SessionStore
from infra.local.dev_tokens import local_auth_config, mint_customer_token
from tasks.execution_index import ExecutionIndex
from tasks.session_record import SessionRecord

ARN = "arn:aws:states:us-east-1:123456789012:execution:booking:book-x"


class RecordingTable:
    """Keeps what was put, by its first key attribute."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.items: dict[str, dict[str, Any]] = {}

    def put_item(self, Item: dict[str, Any]) -> None:
        self.items[str(Item[self.key])] = dict(Item)

    def get_item(self, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        item = self.items.get(str(Key[self.key]))
        return {"Item": dict(item)} if item else {}


def signed_in(name: str | None) -> tuple[SessionStore, SessionRecord]:
    token = mint_customer_token("CUST001", "acme-corp", "Acme Corp", name=name)
    identity = TokenValidator(local_auth_config()).validate(f"Bearer {token}")
    store = SessionStore(RecordingTable("session_id"))
    session_id = open_session(store, identity, None, "dev")
    record = store.get(session_id)
    assert record is not None
    return store, record


def test_the_name_claim_travels_from_token_to_session_to_index() -> None:
    store, session = signed_in("  Dana   Whitfield ")
    assert session.customer_name == "Dana Whitfield"
    assert store.table.items[session.session_id]["customer_name"] == "Dana Whitfield"
    index_table = RecordingTable("execution_arn")
    driver = FlowDriver(
        flows_table=None,
        booking_state_machine_arn="booking",
        cancellation_state_machine_arn="cancellation",
        sfn=object(),
        executions_index=ExecutionIndex(index_table),
    )
    driver._index("booking", ARN, session, "12345", "ORD-2025-001")
    item = index_table.items[ARN]
    assert item["customer_name"] == "Dana Whitfield"
    assert item["customer_name_search"] == "dana whitfield"
    assert item["order_number"] == "ORD-2025-001"
    # The identity stays the token's subject and client, whatever the name says.
    assert (item["customer_id"], item["client_id"]) == ("CUST001", "acme-corp")
    assert ExecutionIndex._entry(item).customer_name == "Dana Whitfield"


def test_no_name_claim_means_no_name_anywhere() -> None:
    store, session = signed_in(None)
    assert session.customer_name is None
    assert "customer_name" not in store.table.items[session.session_id]
    index_table = RecordingTable("execution_arn")
    ExecutionIndex(index_table).record(
        kind="booking",
        execution_arn=ARN,
        client_id="acme-corp",
        customer_id="CUST001",
        project_id="12345",
        customer_name=session.customer_name,
    )
    assert not {"customer_name", "customer_name_search"} & set(index_table.items[ARN])


def test_a_session_item_written_before_names_still_loads() -> None:
    old = {
        "session_id": "sess_old",
        "customer_id": "CUST001",
        "client_id": "acme-corp",
        "client_name": "Acme Corp",
        "environment": "dev",
        "auth_token": "Bearer x.y.z",
        "ttl": 2_000_000_000,
    }
    record = SessionRecord.from_item(old)
    assert record.customer_name is None
    assert record.to_item() == old


def test_a_name_claim_that_is_not_text_is_ignored() -> None:
    import jwt

    from infra.local.dev_tokens import ALGORITHM, DEV_AUDIENCE, DEV_ISSUER, dev_secret

    claims = {
        "sub": "CUST001",
        "client_id": "acme-corp",
        "name": {"first": "Dana"},
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "exp": 2_000_000_000,
    }
    token = jwt.encode(claims, dev_secret(), algorithm=ALGORITHM)
    identity = TokenValidator(local_auth_config()).validate(f"Bearer {token}")
    assert identity.name is None and identity.customer_id == "CUST001"
