"""The Bedrock runtime: `invoke_agent` on the supervisor alias, the streamed answer joined.

The agent gets the session id twice (as `sessionId`, and in `sessionAttributes`, which
Bedrock forwards to every collaborator and action group) and the customer's words. Never
the token: the action groups find it in the session store.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from agent_bridge.chat.errors import AgentUnavailable
from agent_bridge.chat.runtime import AgentReply

BUSY = "The assistant is busy right now; please try again in a few seconds."
DOWN = "The assistant is not available right now; please try again shortly."
_THROTTLED = {"throttlingException", "ThrottlingException", "serviceQuotaExceededException"}
_DATE = re.compile(r"\b(20\d\d-[01]\d-[0-3]\d)\b")
_TIME = re.compile(r"\b([01]\d|2[0-3]):[0-5]\d\b")


def suggest_choices(text: str) -> list[str]:
    """Offered dates and times found in an answer, for the web page's buttons."""
    dates = list(dict.fromkeys(_DATE.findall(text)))
    if dates:
        return dates[:14]
    times = list(dict.fromkeys(m.group(0) for m in _TIME.finditer(text)))
    return times[:16]


class BedrockAgentRuntime:
    """Talks to the deployed supervisor agent."""

    def __init__(self, client: Any, agent_id: str, agent_alias_id: str) -> None:
        self.client = client
        self.agent_id = agent_id
        self.agent_alias_id = agent_alias_id

    def ask(self, session_id: str, message: str) -> AgentReply:
        try:
            response = self.client.invoke_agent(
                agentId=self.agent_id,
                agentAliasId=self.agent_alias_id,
                sessionId=session_id,
                inputText=message,
                sessionState={"sessionAttributes": {"session_id": session_id}},
            )
            parts: list[str] = []
            for event in response["completion"]:
                if "chunk" in event:
                    parts.append(event["chunk"].get("bytes", b"").decode("utf-8", "replace"))
                    continue
                error_name = next(iter(event), "unknown")
                if error_name in _THROTTLED:
                    raise AgentUnavailable(BUSY, "BEDROCK_THROTTLED")
                raise AgentUnavailable(DOWN, f"BEDROCK_{error_name.upper()}")
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _THROTTLED:
                raise AgentUnavailable(BUSY, "BEDROCK_THROTTLED") from None
            raise AgentUnavailable(DOWN, f"BEDROCK_{code.upper() or 'ERROR'}") from None
        except BotoCoreError:
            raise AgentUnavailable(DOWN, "BEDROCK_UNREACHABLE") from None
        text = "".join(parts).strip()
        if not text:
            raise AgentUnavailable(DOWN, "BEDROCK_EMPTY_ANSWER")
        return AgentReply(text=text, choices=suggest_choices(text))
