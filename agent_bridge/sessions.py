"""The session store: who is chatting, found from what Bedrock forwards, expiry enforced on read.

The chat API creates a session when it has validated the customer's JWT; the action-group
Lambdas find it again from the event (`sessionAttributes.session_id`, else `sessionId`,
else the `session_id` parameter) and refresh its sliding 30-minute TTL. Customer, client
and token come from here and nowhere else.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from botocore.exceptions import ClientError

from tasks.session_record import SESSION_TTL_SECONDS, SessionRecord, read_session


def new_session_id() -> str:
    return f"sess_{secrets.token_urlsafe(18)}"


class SessionStore:
    """Sessions in the sessions table (the seed's Appendix B record, without request_id)."""

    def __init__(self, table: Any, ttl_seconds: int = SESSION_TTL_SECONDS) -> None:
        self.table = table
        self.ttl_seconds = ttl_seconds

    def create(
        self,
        *,
        customer_id: str,
        client_id: str,
        client_name: str,
        environment: str,
        auth_token: str,
        session_id: str | None = None,
        now: float | None = None,
        customer_name: str | None = None,
    ) -> SessionRecord:
        moment = int(now if now is not None else time.time())
        token = auth_token if auth_token.lower().startswith("bearer ") else f"Bearer {auth_token}"
        record = SessionRecord(
            session_id=session_id or new_session_id(),
            customer_id=customer_id,
            client_id=client_id,
            client_name=client_name,
            environment=environment,
            auth_token=token,
            ttl=moment + self.ttl_seconds,
            customer_name=customer_name or None,
        )
        self.table.put_item(Item=record.to_item())
        return record

    def get(self, session_id: str, *, now: float | None = None) -> SessionRecord | None:
        """The live session, or None (missing or expired: DynamoDB deletes late)."""
        return read_session(self.table, session_id, now=now)

    def owner(self, session_id: str) -> tuple[str, str] | None:
        """(customer_id, client_id) of a session even after it expired: ids are never reused
        by another customer, so an expired id still belongs to its first owner."""
        item = self.table.get_item(Key={"session_id": session_id}).get("Item")
        return (str(item["customer_id"]), str(item["client_id"])) if item else None

    def touch(self, session_id: str, *, now: float | None = None) -> bool:
        """Slide the TTL forward while the session is alive; False when it has expired."""
        moment = int(now if now is not None else time.time())
        try:
            self.table.update_item(
                Key={"session_id": session_id},
                UpdateExpression="SET #ttl = :ttl",
                ConditionExpression="attribute_exists(session_id) AND #ttl > :now",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":ttl": moment + self.ttl_seconds, ":now": moment},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def use(self, session_id: str, *, now: float | None = None) -> SessionRecord | None:
        """The live session with its TTL slid forward, in one call (`get` then `touch` was
        two); None when it is missing or has expired."""
        if not session_id:
            return None
        moment = int(now if now is not None else time.time())
        try:
            item = self.table.update_item(
                Key={"session_id": session_id},
                UpdateExpression="SET #ttl = :ttl",
                ConditionExpression="attribute_exists(session_id) AND #ttl > :now",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":ttl": moment + self.ttl_seconds, ":now": moment},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return SessionRecord.from_item(item)

    def refresh_token(self, session_id: str, auth_token: str, *, now: float | None = None) -> bool:
        """A new JWT for the same customer (the chat API validated it) replaces the old one."""
        moment = int(now if now is not None else time.time())
        token = auth_token if auth_token.lower().startswith("bearer ") else f"Bearer {auth_token}"
        try:
            self.table.update_item(
                Key={"session_id": session_id},
                UpdateExpression="SET #ttl = :ttl, auth_token = :token",
                ConditionExpression="attribute_exists(session_id) AND #ttl > :now",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":ttl": moment + self.ttl_seconds,
                    ":now": moment,
                    ":token": token,
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


def session_id_from_event(event: dict[str, Any]) -> str | None:
    """Where Bedrock puts it: sessionAttributes.session_id, sessionId, or the parameter."""
    attributes = event.get("sessionAttributes") or {}
    if isinstance(attributes, dict) and attributes.get("session_id"):
        return str(attributes["session_id"])
    if event.get("sessionId"):
        return str(event["sessionId"])
    for parameter in event.get("parameters") or []:
        if isinstance(parameter, dict) and parameter.get("name") == "session_id":
            value = parameter.get("value")
            return str(value) if value else None
    return None
