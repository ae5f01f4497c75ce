"""Calls an action-group Lambda exactly as Bedrock does, for the local stand-in agent.

The event is Bedrock's OpenAPI action-group format, so the functions cannot tell the local
agent from Bedrock: the same session lookup, tenancy checks and answers are exercised.
The event carries the session id (as `sessionId`, in `sessionAttributes` and as the
`session_id` parameter) and never a token or a customer id.

Bedrock puts the customer's words in `inputText`. The agent's call signature has no room
for them, so the agent sets them for the duration of a turn with `user_message(...)` (a
context variable: per thread, nothing shared between concurrent chats).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

SCHEDULING = "scheduling-actions"
INFORMATION = "information-actions"
NOTES = "notes-actions"
ACTION_GROUPS = (SCHEDULING, INFORMATION, NOTES)

INTERNAL_ERROR = "Something went wrong on our side; please try again in a moment."
# When an action that changes PF360 gets no answer (timed out, crashed), it may have done
# its work: the customer hears that we cannot tell yet, never "try again" (which could
# book twice in their mind); the next turn tells what happened (the flow or PF360 knows).
OUTCOME_UNKNOWN = (
    "I didn't get an answer in time, so I can't tell yet whether that went through. "
    "Please don't repeat it: ask me about your project in a moment and I'll tell you what "
    "happened."
)
CHANGING_PATHS = frozenset({"/confirm_appointment", "/cancel_appointment", "/add_note"})
# Lambda refused the invoke before running the function: nothing happened, "try again" is true.
NOT_RUN = frozenset(
    {
        "TooManyRequestsException",
        "ResourceNotFoundException",
        "ResourceNotReadyException",
        "ResourceConflictException",
        "InvalidRequestContentException",
        "RequestTooLargeException",
    }
)
LOCAL_AGENT = {"name": "local-agent", "id": "LOCAL", "alias": "LOCAL", "version": "DRAFT"}

log = logging.getLogger(__name__)

_user_message: ContextVar[str] = ContextVar("user_message", default="")


@dataclass(frozen=True)
class ActionResult:
    """One action's answer: its HTTP status and decoded JSON body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


# (action_group, api_path, parameters, session_id) -> the action's answer.
ActionInvoke = Callable[[str, str, dict[str, str], str], ActionResult]


def failed(api_path: str = "") -> ActionResult:
    """The answer for anything that went wrong below the action (a fresh body each time):
    for an action that may have changed PF360, that its outcome is not known yet."""
    if api_path in CHANGING_PATHS:
        return ActionResult(504, {"error": OUTCOME_UNKNOWN, "outcome_unknown": True})
    return ActionResult(500, {"error": INTERNAL_ERROR})


@contextmanager
def user_message(text: str) -> Iterator[None]:
    """The customer's words, sent as `inputText` by every call made inside this block."""
    reset = _user_message.set(text)
    try:
        yield
    finally:
        _user_message.reset(reset)


def current_user_message() -> str:
    """The customer's words of the turn in progress ("" outside `user_message`)."""
    return _user_message.get()


def bedrock_event(
    action_group: str, api_path: str, parameters: Mapping[str, str], session_id: str
) -> dict[str, Any]:
    """The event Bedrock sends an OpenAPI action group for one call."""
    return {
        "messageVersion": "1.0",
        "agent": dict(LOCAL_AGENT),
        "inputText": current_user_message(),
        "sessionId": session_id,
        "actionGroup": action_group,
        "apiPath": api_path,
        "httpMethod": "POST",
        "parameters": [
            {"name": name, "type": "string", "value": value} for name, value in parameters.items()
        ],
        "sessionAttributes": {"session_id": session_id},
        "promptSessionAttributes": {},
    }


def parse_answer(payload: Any) -> ActionResult | None:
    """Bedrock's action-group response -> status and body; None when it is not one."""
    try:
        response = payload["response"]
        status = int(response["httpStatusCode"])
        body = response["responseBody"]["application/json"]["body"]
        decoded = json.loads(body) if isinstance(body, str) else body
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(decoded, dict):
        return None
    return ActionResult(status, decoded)


class LambdaActionInvoker:
    """`ActionInvoke` over `lambda.invoke` of the deployed action-group functions."""

    def __init__(self, lambda_client: Any, function_names: Mapping[str, str]) -> None:
        self.lambda_client = lambda_client
        self.function_names = dict(function_names)

    def __call__(
        self, action_group: str, api_path: str, parameters: dict[str, str], session_id: str
    ) -> ActionResult:
        function_name = self.function_names.get(action_group)
        if function_name is None:
            log.error("no function for action group %s", action_group)
            return failed()
        event = bedrock_event(action_group, api_path, parameters, session_id)
        try:
            response = self.lambda_client.invoke(
                FunctionName=function_name, Payload=json.dumps(event).encode()
            )
            raw = response["Payload"].read()
        except (BotoCoreError, ClientError) as error:
            # Only the error's type: its text could echo the request's parameters.
            log.error("invoke of %s %s failed: %s", action_group, api_path, type(error).__name__)
            if isinstance(error, ClientError) and error.response["Error"]["Code"] in NOT_RUN:
                return failed()  # the function never ran
            return failed(api_path)
        if response.get("FunctionError"):
            log.error("%s %s raised %s", action_group, api_path, response["FunctionError"])
            return failed(api_path)
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        result = parse_answer(payload)
        if result is None:
            log.error("%s %s answered in an unexpected format", action_group, api_path)
            return failed(api_path)
        return result
