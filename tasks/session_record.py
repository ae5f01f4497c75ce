"""The session record of the seed's Appendix B (without request_id), shared by writer and readers.

The chat API writes it; the bridge and the task Lambdas read it to learn who the customer
is and which token to send to PF360. Expiry is enforced on every read: DynamoDB deletes
expired items late (and the local engine never does).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

SESSION_TTL_SECONDS = 1800


@dataclass(frozen=True)
class SessionRecord:
    """Who is chatting, for which tenant, with which PF360 credential."""

    session_id: str
    customer_id: str
    client_id: str
    client_name: str
    environment: str
    auth_token: str
    ttl: int
    customer_name: str | None = None  # the token's `name` claim, for operators; not identity

    def expired(self, now: float | None = None) -> bool:
        return self.ttl <= int(now if now is not None else time.time())

    def __repr__(self) -> str:  # the token must never reach a log through a repr
        return (
            f"SessionRecord(session_id={self.session_id!r}, customer_id={self.customer_id!r}, "
            f"client_id={self.client_id!r}, ttl={self.ttl})"
        )

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> SessionRecord:
        return cls(
            session_id=str(item["session_id"]),
            customer_id=str(item["customer_id"]),
            client_id=str(item["client_id"]),
            client_name=str(item.get("client_name") or item["client_id"]),
            environment=str(item.get("environment") or "dev"),
            auth_token=str(item["auth_token"]),
            ttl=int(item["ttl"]),
            customer_name=str(item["customer_name"]) if item.get("customer_name") else None,
        )

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "session_id": self.session_id,
            "customer_id": self.customer_id,
            "client_id": self.client_id,
            "client_name": self.client_name,
            "environment": self.environment,
            "auth_token": self.auth_token,
            "ttl": self.ttl,
        }
        if self.customer_name:
            item["customer_name"] = self.customer_name
        return item


def read_session(table: Any, session_id: str, *, now: float | None = None) -> SessionRecord | None:
    """The live session, or None when it does not exist or has expired."""
    if not session_id:
        return None
    item = table.get_item(Key={"session_id": session_id}, ConsistentRead=True).get("Item")
    if not item:
        return None
    record = SessionRecord.from_item(item)
    return None if record.expired(now) else record
