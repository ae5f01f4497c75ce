"""Handlers that exist only to exercise the local Lambda runtime."""

from __future__ import annotations

import os
import time
from typing import Any


def sleep_handler(event: Any, context: Any) -> dict[str, Any]:
    """Sleeps `event` seconds: longer than the function's Timeout proves the cut-off."""
    time.sleep(float(event))
    return {"slept": event}


_invocations_here = 0


def environment_handler(event: Any, context: Any) -> dict[str, Any]:
    """What this execution environment is: its process, its module state, its os.environ."""
    global _invocations_here
    _invocations_here += 1
    if event.get("print"):
        print(event["print"], flush=True)
    if event.get("sleep"):
        time.sleep(float(event["sleep"]))
    return {
        "pid": os.getpid(),
        "invocations_here": _invocations_here,
        "environ": {name: os.environ.get(name) for name in event.get("names", [])},
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
    }


_kept: list[bytearray] = []


def allocate_handler(event: Any, context: Any) -> dict[str, Any]:
    """Holds `event` MB: more than the function's MemorySize ends the environment."""
    _kept.append(bytearray(int(event) * 1024 * 1024))
    return {"held_mb": sum(len(b) for b in _kept) // (1024 * 1024)}


class ParkFailed(Exception):
    """What `park_handler` raises on the attempts it is told to fail."""


def park_handler(event: Any, context: Any) -> dict[str, Any]:
    """A waitForTaskToken task's function: fails attempts below `fail_below`, else parks."""
    if int(event.get("attempt", 0)) < int(event.get("fail_below", 0)):
        raise ParkFailed(f"attempt {event.get('attempt')} refused")
    return {"parked": True, "attempt": event.get("attempt")}
