"""A booking turn's checkpoint read, made while the turn's session is being validated.

A booking turn's first two AWS calls do not depend on each other: the session (read, and
its TTL slid, in one UpdateItem) and the session's checkpoint (a GetItem keyed by the same
session id, from the event). One after the other, the second waited for the first: a
DynamoDB round trip per turn. The checkpoint is now read in the execution environment's
reader thread at the same time. The turn uses what it read only after the session proved
valid (tenancy: nothing of an invalid session's is ever used), and only within
READ_AHEAD_MAX_AGE_SECONDS of the read's start: a turn that asks PF360 for the project list
first reads the checkpoint again instead of deciding on an old copy.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass

from tasks import aws_clients, checkpoint
from tasks.checkpoint import Checkpoint
from tasks.environment_thread import EnvironmentThread

# What the turn does between the read and its use is a millisecond or two of checks; an
# older copy means the turn did something slow in between (a PF360 call).
READ_AHEAD_MAX_AGE_SECONDS = 0.05

_reader = EnvironmentThread("checkpoint-read-ahead")


@dataclass(frozen=True)
class ReadAhead:
    """A checkpoint read under way (or done) for one session."""

    session_id: str
    started: float
    future: Future[Checkpoint | None]

    def usable_for(self, session_id: str, now: float | None = None) -> bool:
        moment = time.monotonic() if now is None else now
        return session_id == self.session_id and moment - self.started <= READ_AHEAD_MAX_AGE_SECONDS

    def result(self) -> Checkpoint | None:
        """The checkpoint read (None: there is none); raises what the read raised."""
        return self.future.result()


def _read(table_name: str, region: str, session_id: str) -> Checkpoint | None:
    return checkpoint.read(aws_clients.table(table_name, region), session_id)


def start(table_name: str, region: str, session_id: str) -> ReadAhead:
    """Start reading `session_id`'s checkpoint in the reader thread, in the caller's context
    (the function's environment and everything else kept in context variables go along, as
    they would for a read made in the handler's own thread)."""
    started = time.monotonic()
    future = _reader.submit(_read, table_name, region, session_id)
    return ReadAhead(session_id=session_id, started=started, future=future)
