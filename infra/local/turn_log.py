"""What `make run` prints per chat turn: one line (who, which actions, how long).

By default the Lambdas' JSON logs are held back to errors and metrics are off, so the
terminal shows the URLs and then one line per turn; `VERBOSE=1` restores every JSON log
line (Powertools' INFO logs and metrics), as on AWS.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

import boto3

from agent_bridge.chat.action_invoker import ActionInvoke, ActionResult, LambdaActionInvoker
from agent_bridge.chat.local_agent import LocalAgent
from agent_bridge.chat.runtime import AgentReply, AgentRuntime
from agent_bridge.sessions import SessionStore

if TYPE_CHECKING:
    from collections.abc import Mapping

    from infra.local.stack import LocalStack

_calls: ContextVar[list[str] | None] = ContextVar("turn_calls", default=None)


def verbose(environ: dict[str, str] | None = None) -> bool:
    value = (environ if environ is not None else os.environ).get("VERBOSE", "")
    return value.strip().lower() in ("1", "true", "yes")


def quiet_unless_verbose() -> bool:
    """Before the stack starts: Lambda logs at ERROR and no metrics unless VERBOSE=1."""
    if verbose(dict(os.environ)):
        return True
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    return False


def echo_lambda_logs(verbose: bool) -> None:
    """After the stack starts: the execution environments' log lines reach this terminal
    only with VERBOSE=1 (they run in worker processes, which keep their own log level)."""
    from infra.local import moto_gaps

    if hasattr(moto_gaps.RUNTIME, "echo_logs"):
        moto_gaps.RUNTIME.echo_logs = verbose


def hint(verbose: bool) -> str:
    if verbose:
        return "One line per chat turn follows, with the Lambdas' JSON logs (VERBOSE=1)."
    return "One line per chat turn follows (VERBOSE=1 make run adds the Lambdas' JSON logs)."


def recording(invoke: ActionInvoke) -> ActionInvoke:
    """`invoke` that also notes `group /path status` in the turn being logged."""

    def call(group: str, path: str, parameters: dict[str, str], session_id: str) -> ActionResult:
        result = invoke(group, path, parameters, session_id)
        calls = _calls.get()
        if calls is not None:
            calls.append(f"{group} {path} {result.status}")
        return result

    return call


@dataclass
class TurnLoggingRuntime:
    """An `AgentRuntime` that prints one line per turn after the inner runtime answers."""

    inner: AgentRuntime
    who: Callable[[str], str]
    out: TextIO = sys.stdout
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ask(self, session_id: str, message: str) -> AgentReply:
        calls: list[str] = []
        token = _calls.set(calls)
        started = time.monotonic()
        outcome = "error"
        try:
            reply = self.inner.ask(session_id, message)
            outcome = ", ".join(calls) or "no action"
            return reply
        finally:
            _calls.reset(token)
            elapsed_ms = (time.monotonic() - started) * 1000
            line = turn_line(self.who(session_id), outcome, elapsed_ms)
            with self._lock:
                print(line, file=self.out, flush=True)


def turn_line(who: str, actions: str, elapsed_ms: float) -> str:
    return f"{time.strftime('%H:%M:%S')}  turn  {who:<8} {actions}  {elapsed_ms:.0f} ms"


def local_runtime(
    stack: LocalStack, functions: Mapping[str, str], out: TextIO = sys.stdout
) -> AgentRuntime:
    """The local agent on the stack's action-group Lambdas, printing one line per turn.

    `functions` maps action group -> the template's logical function id.
    """
    assert stack.deployed is not None
    deployed = stack.deployed
    invoker = LambdaActionInvoker(
        stack.client("lambda"),
        {group: deployed.functions[logical] for group, logical in functions.items()},
    )
    sessions = SessionStore(
        boto3.resource("dynamodb", region_name=stack.region).Table(deployed.tables["SessionsTable"])
    )

    def who(session_id: str) -> str:
        owner = sessions.owner(session_id)
        return owner[0] if owner else "?"

    return TurnLoggingRuntime(LocalAgent(recording(invoker)), who, out)
