"""boto3 clients and tables, created once per execution environment and then reused.

On Lambda, a client made at the first invocation serves every later invocation of that
environment (AWS's own advice); making one per call costs tens of milliseconds of CPU.
Kept per thread: boto3 resources are not thread-safe, and an environment runs its handler
in one thread anyway. Keyed by region (and table name), so a function whose settings
differ gets its own.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3

_local = threading.local()


def _cache() -> dict[tuple[str, ...], Any]:
    cache: dict[tuple[str, ...], Any] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    return cache


def client(service: str, region: str) -> Any:
    """`boto3.client(service)` for this environment, made once."""
    key = ("client", service, region)
    cache = _cache()
    if key not in cache:
        cache[key] = boto3.client(service, region_name=region)
    return cache[key]


def table(name: str, region: str) -> Any:
    """A DynamoDB Table of this environment's one DynamoDB resource."""
    key = ("table", name, region)
    cache = _cache()
    if key not in cache:
        resource_key = ("resource", "dynamodb", region)
        if resource_key not in cache:
            cache[resource_key] = boto3.resource("dynamodb", region_name=region)
        cache[key] = cache[resource_key].Table(name)
    return cache[key]
