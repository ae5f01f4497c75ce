"""The one interface the chat API talks to, whichever agent answers (Bedrock or local)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class AgentReply:
    """What the customer sees: the answer, and suggested replies shown as buttons.

    `working` says the answer is "still working on it": asking again later fetches the result.
    `cards` are projects to show as cards (`title`, `url`, `status`, `appointment`, `number`).
    """

    text: str
    choices: list[str] = field(default_factory=list)
    working: bool = False
    cards: list[dict[str, str]] = field(default_factory=list)


class AgentRuntime(Protocol):
    """An agent that answers one customer message within a chat session.

    It gets only the session id and the customer's words: never the token, which the
    action groups look up in the session store themselves.
    """

    def ask(self, session_id: str, message: str) -> AgentReply: ...
