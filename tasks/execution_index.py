"""The business-key index of executions: find a project's, customer's or tenant's flows
without listing every execution of a state machine.

Step Functions can list executions only by state machine and status. Operators ask "what
happened to this customer's booking?", so every StartExecution the bridge or a replay makes
also writes one item here: partition `client#customer#project`, sorted by start time, with
indexes by client and by client#customer. Status, output and history stay in Step
Functions (one source of truth); the index only says where to look.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

RETENTION_SECONDS = 90 * 86400
BY_CLIENT = "by_client"
BY_CUSTOMER = "by_customer"
NAME_SEARCH = "customer_name_search"  # lower-cased: DynamoDB's contains() is case-sensitive


def name_key(text: str) -> str:
    """How names are compared: case-folded, runs of whitespace as one space."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class IndexedExecution:
    execution_arn: str
    kind: str  # booking | cancellation | replay
    client_id: str
    customer_id: str
    project_id: str
    started_at: str  # ISO 8601, UTC
    replay_of: str | None = None
    order_number: str | None = None  # PF360's order number, when the starter knew it
    customer_name: str | None = None  # the token's `name` claim, for search; never identity

    @property
    def name(self) -> str:
        return self.execution_arn.rsplit(":", 1)[-1]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ExecutionIndex:
    def __init__(self, table: Any) -> None:
        self.table = table

    def record(
        self,
        *,
        kind: str,
        execution_arn: str,
        client_id: str,
        customer_id: str,
        project_id: str,
        started: float | None = None,
        replay_of: str | None = None,
        order_number: str | None = None,
        customer_name: str | None = None,
    ) -> IndexedExecution:
        moment = started if started is not None else time.time()
        entry = IndexedExecution(
            execution_arn,
            kind,
            client_id,
            customer_id,
            project_id,
            _iso(moment),
            replay_of,
            order_number or None,
            customer_name or None,
        )
        item = {
            "business_key": f"{client_id}#{customer_id}#{project_id}",
            "sort_key": f"{entry.started_at}#{entry.name}",
            "client_id": client_id,
            "customer_key": f"{client_id}#{customer_id}",
            "customer_id": customer_id,
            "project_id": project_id,
            "execution_arn": execution_arn,
            "kind": kind,
            "started_at": entry.started_at,
            "expires_at": int(moment) + RETENTION_SECONDS,
        }
        if replay_of:
            item["replay_of"] = replay_of
        if order_number:
            item["order_number"] = order_number
        if customer_name:
            item["customer_name"] = customer_name
            item[NAME_SEARCH] = name_key(customer_name)
        self.table.put_item(Item=item)
        return entry

    def find(
        self,
        *,
        client_id: str,
        customer_id: str | None = None,
        project_id: str | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[IndexedExecution]:
        """Newest first. A project needs its customer (the key is client#customer#project)."""
        if project_id and not customer_id:
            raise ValueError("finding a project's executions needs its customer id too")
        if project_id:
            index, key = None, Key("business_key").eq(f"{client_id}#{customer_id}#{project_id}")
        elif customer_id:
            index, key = BY_CUSTOMER, Key("customer_key").eq(f"{client_id}#{customer_id}")
        else:
            index, key = BY_CLIENT, Key("client_id").eq(client_id)
        if since is not None:
            key = key & Key("sort_key").gte(_iso(since))
        request: dict[str, Any] = {
            "KeyConditionExpression": key,
            "ScanIndexForward": False,
            "Limit": min(limit, 1000),
        }
        if index:
            request["IndexName"] = index
        found: list[IndexedExecution] = []
        while True:
            page = self.table.query(**request)
            found.extend(self._entry(item) for item in page.get("Items", []))
            if len(found) >= limit or "LastEvaluatedKey" not in page:
                return found[:limit]
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def replays_of(
        self, *, client_id: str, customer_id: str, project_id: str, source_arn: str
    ) -> list[IndexedExecution]:
        """Replays started for one source execution (same project, so one partition)."""
        found = self.find(
            client_id=client_id, customer_id=customer_id, project_id=project_id, limit=1000
        )
        return [e for e in found if e.replay_of == source_arn]

    def find_order(
        self, order_number: str, *, client_id: str | None = None, limit: int = 1000
    ) -> list[IndexedExecution]:
        """Executions of the project with PF360 order number `order_number`, newest first.

        Operators quote order numbers; the index has no key on them, so this filters the
        client's items (a query) or, without a client, scans (an operator's occasional
        search over 90 days of items, not a customer path)."""
        condition = Attr("order_number").eq(order_number.strip())
        found: list[IndexedExecution] = []
        request: dict[str, Any] = {"FilterExpression": condition}
        if client_id:
            request.update(
                IndexName=BY_CLIENT, KeyConditionExpression=Key("client_id").eq(client_id)
            )
        while True:
            page = self.table.query(**request) if client_id else self.table.scan(**request)
            found.extend(self._entry(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page or len(found) >= limit:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found.sort(key=lambda entry: entry.started_at, reverse=True)
        if found:  # every execution of that project, also those started without the number
            first = found[0]
            return self.find(
                client_id=first.client_id,
                customer_id=first.customer_id,
                project_id=first.project_id,
                limit=limit,
            )
        return []

    def find_name(
        self, text: str, *, client_id: str | None = None, limit: int = 1000
    ) -> list[IndexedExecution]:
        """Executions whose customer's name contains `text`, case-insensitively, newest first.

        Like `find_order`: a filter over the client's items (a query) or, without a client,
        a scan. Executions started before names were recorded have none and never match."""
        needle = name_key(text)
        if not needle:
            return []
        request: dict[str, Any] = {"FilterExpression": Attr(NAME_SEARCH).contains(needle)}
        if client_id:
            request.update(
                IndexName=BY_CLIENT, KeyConditionExpression=Key("client_id").eq(client_id)
            )
        found: list[IndexedExecution] = []
        while True:
            page = self.table.query(**request) if client_id else self.table.scan(**request)
            found.extend(self._entry(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page or len(found) >= limit:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found.sort(key=lambda entry: entry.started_at, reverse=True)
        return found[:limit]

    @staticmethod
    def _entry(item: dict[str, Any]) -> IndexedExecution:
        return IndexedExecution(
            execution_arn=str(item["execution_arn"]),
            kind=str(item.get("kind", "")),
            client_id=str(item["client_id"]),
            customer_id=str(item.get("customer_id", "")),
            project_id=str(item.get("project_id", "")),
            started_at=str(item.get("started_at", "")),
            replay_of=item.get("replay_of"),
            order_number=item.get("order_number"),
            customer_name=item.get("customer_name"),
        )
