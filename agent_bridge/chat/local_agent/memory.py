"""Conversation memory per session id, like Bedrock's session memory.

The last project list, the project being discussed, the last offer, a pending yes/no
question and the question the agent asked last. It lives in this process only (never
persisted), holds no token and no customer id, and the least recently used sessions are
forgotten beyond `max_sessions`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from agent_bridge.chat.local_agent.projects import KnownProject


@dataclass
class Offer:
    """What the booking flow last offered for a project (the dates, then a day's times)."""

    project_id: str
    dates: list[str] = field(default_factory=list)
    date: str | None = None
    times: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pending:
    """A question awaiting yes or no: book `date` at `time`, or cancel the appointment."""

    kind: Literal["book", "cancel"]
    project_id: str
    date: str = ""
    time: str = ""


@dataclass(frozen=True)
class Question:
    """The agent asked which project (`template` is the request, "{n}" its number), or what
    a note for `project_id` should say."""

    kind: Literal["which_project", "note_text"]
    template: str = ""
    project_id: str = ""


@dataclass
class Conversation:
    """One session's memory (never persisted; no token, no customer id)."""

    projects: list[KnownProject] = field(default_factory=list)
    project_id: str | None = None
    offer: Offer | None = None
    pending: Pending | None = None
    question: Question | None = None
    working: Pending | None = None  # a confirmed booking or cancellation still running
    lock: threading.Lock = field(default_factory=threading.Lock)


class Memories:
    """The conversations of the most recent `max_sessions` session ids."""

    def __init__(self, max_sessions: int) -> None:
        self._max_sessions = max_sessions
        self._sessions: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, session_id: str) -> Conversation:
        with self._lock:
            conversation = self._sessions.pop(session_id, None) or Conversation()
            self._sessions[session_id] = conversation
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)
            return conversation
