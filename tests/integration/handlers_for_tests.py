"""Handlers that exist only to exercise the in-process Lambda runtime."""

from __future__ import annotations

import time
from typing import Any


def sleep_handler(event: Any, context: Any) -> dict[str, Any]:
    """Sleeps `event` seconds: longer than the function's Timeout proves the cut-off."""
    time.sleep(float(event))
    return {"slept": event}
