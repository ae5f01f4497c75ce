"""The sandbox clock: real time plus an offset, so tests can expire things without waiting."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime


class SandboxClock:
    """Not thread-safe on its own: SandboxState guards it with its one lock."""

    def __init__(self) -> None:
        self.offset_seconds = 0.0

    def now(self) -> float:
        """Epoch seconds on the sandbox clock."""
        return time.time() + self.offset_seconds

    def advance(self, seconds: float) -> float:
        """Move the clock forward only: expiry that runs backwards would confuse every check."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("advance_seconds must be a finite number of seconds, 0 or more.")
        self.offset_seconds += seconds
        return self.now()


def iso_utc(epoch_seconds: float) -> str:
    """An ISO 8601 UTC timestamp with milliseconds, for ledgers and logs."""
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds")
