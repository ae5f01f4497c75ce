"""Handlers for `tests/bench/microbench.py`, run in the local stack's execution environments.

`noop` is the trivial function the microbenchmark invokes; `measure` times the same AWS
calls from inside an environment (its own process, boto3 over HTTP, as a task Lambda).
"""

from __future__ import annotations

import time
from typing import Any

import boto3


def noop(event: Any, context: Any) -> Any:
    """Answers its event: the cheapest function there is."""
    return event


CHECKPOINT_WRITE = "UpdateItem (checkpoint-shaped)"


def checkpoint_write() -> dict[str, Any]:
    """An UpdateItem shaped like a waiting task's checkpoint write (SET, ADD, REMOVE, a
    condition): after its first sighting moto_gaps applies it by plan, as on the booking path."""
    return {
        "UpdateExpression": "SET step = :step, message = :message, updated_ms = :ms "
        "ADD seq :one REMOVE answer",
        "ConditionExpression": "flow_id = :flow AND (attribute_not_exists(step) OR step <> :done)",
        "ExpressionAttributeValues": {
            ":step": {"S": "await_slot"},
            ":message": {"S": "Here are the times on that date."},
            ":ms": {"N": str(int(time.time() * 1000))},
            ":one": {"N": "1"},
            ":flow": {"S": "f"},
            ":done": {"S": "done"},
        },
    }


_clients: dict[str, Any] = {}


def _client(service: str) -> Any:
    if service not in _clients:
        _clients[service] = boto3.client(service)
    return _clients[service]


def measure(event: dict[str, Any], context: Any) -> dict[str, list[float]]:
    """Milliseconds per call, `n` times each: GetItem, UpdateItem (arithmetic, and a checkpoint
    write), Invoke (of `noop`)."""
    dynamodb, lambdas = _client("dynamodb"), _client("lambda")
    table, function, n = str(event["table"]), str(event["function"]), int(event["n"])
    key = {"pk": {"S": "worker"}}
    dynamodb.put_item(TableName=table, Item={**key, "n": {"N": "0"}, "flow_id": {"S": "f"}})
    calls = {
        "GetItem": lambda: dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True),
        "UpdateItem": lambda: dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #n = #n + :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#n": "n"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        ),
        CHECKPOINT_WRITE: lambda: dynamodb.update_item(
            TableName=table, Key=key, **checkpoint_write()
        ),
        "Invoke": lambda: lambdas.invoke(FunctionName=function, Payload=b'{"x": 1}')[
            "Payload"
        ].read(),
    }
    out: dict[str, list[float]] = {}
    for name, call in calls.items():
        call()  # warm
        times = []
        for _ in range(n):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        out[name] = times
    return out
