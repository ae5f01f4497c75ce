"""`LocalAgent`: the `AgentRuntime` that stands in for the Bedrock agents locally."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytz

from agent_bridge.chat.action_invoker import ActionInvoke, user_message
from agent_bridge.chat.local_agent.memory import Memories
from agent_bridge.chat.local_agent.turn import Turn
from agent_bridge.chat.runtime import AgentReply

DEFAULT_TIMEZONE = "America/New_York"
MAX_SESSIONS = 10_000


def tenant_today(timezone: str = DEFAULT_TIMEZONE) -> Callable[[], date]:
    """Today's date in the tenant's time zone ("next Tuesday" depends on it, not the host)."""
    zone = pytz.timezone(timezone)
    return lambda: datetime.now(zone).date()


class LocalAgent:
    """`AgentRuntime` that understands customers' phrasings and calls the actions.

    `today` is today's date for every session; `today_for` (session id -> date), when given,
    is each session's own tenant's today and takes precedence.
    """

    def __init__(
        self,
        invoke: ActionInvoke,
        *,
        today: Callable[[], date] | None = None,
        today_for: Callable[[str], date] | None = None,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self._invoke = invoke
        self._today = today or tenant_today()
        self._today_for = today_for
        self._memories = Memories(max_sessions)

    def ask(self, session_id: str, message: str) -> AgentReply:
        conversation = self._memories.of(session_id)
        today = self._today_for(session_id) if self._today_for else self._today()
        # One turn at a time per session (like Bedrock); other sessions run concurrently.
        with conversation.lock, user_message(message):
            return Turn(self._invoke, today, session_id, conversation, message).reply()
