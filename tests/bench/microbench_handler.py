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


_clients: dict[str, Any] = {}


def _client(service: str) -> Any:
    if service not in _clients:
        _clients[service] = boto3.client(service)
    return _clients[service]


def measure(event: dict[str, Any], context: Any) -> dict[str, list[float]]:
    """Milliseconds per call, `n` times each: GetItem, UpdateItem, Invoke (of `noop`)."""
    dynamodb, lambdas = _client("dynamodb"), _client("lambda")
    table, function, n = str(event["table"]), str(event["function"]), int(event["n"])
    key = {"pk": {"S": "worker"}}
    dynamodb.put_item(TableName=table, Item={**key, "n": {"N": "0"}})
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
