"""What every task handler shares: the event envelope, settings, the flows table, the logger.

The ASL hands each task `{"state": <execution state>, "context": {execution, attempt, state_name}}`
(plus `step` and `token` for the waiting tasks of AwaitDate and AwaitSlot). Handlers translate
that and call the plain functions in tasks/booking.py and tasks/cancellation.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from tasks import aws_clients, flags
from tasks.config import Settings, current_settings
from tasks.credentials import client_for_flow, flow_token
from tasks.flow_input import FlowInput, parse_flow_input
from tasks.pf360 import PF360Api

logger = Logger(service="pf360-scheduler-tasks")


@dataclass(frozen=True)
class TaskEvent:
    state: dict[str, Any]
    execution_arn: str
    attempt: int
    state_name: str
    flow: FlowInput

    @property
    def flow_state(self) -> dict[str, Any]:
        value = self.state.get("flow")
        return dict(value) if isinstance(value, dict) else {}

    @property
    def answer(self) -> dict[str, Any]:
        """The customer's latest answer: `$.flow.answer` (the bridge resumes a wait with the
        flow plus the answer); `$.answer` in executions started before that."""
        flow = self.state.get("flow")
        value = flow.get("answer") if isinstance(flow, dict) else None
        if value is None:
            value = self.state.get("answer")
        return dict(value) if isinstance(value, dict) else {}


def parse_event(event: dict[str, Any]) -> TaskEvent:
    raw_state, raw_context = event.get("state"), event.get("context")
    state: dict[str, Any] = raw_state if isinstance(raw_state, dict) else event
    context: dict[str, Any] = raw_context if isinstance(raw_context, dict) else {}
    flow = parse_flow_input(state)
    parsed = TaskEvent(
        state=state,
        execution_arn=str(context.get("execution") or ""),
        attempt=int(context.get("attempt") or 0),
        state_name=str(context.get("state_name") or ""),
        flow=flow,
    )
    logger.append_keys(
        session_id=flow.session_id,
        flow_id=flow.flow_id,
        execution=parsed.execution_arn.rsplit(":", 1)[-1],
        state_name=parsed.state_name,
        attempt=parsed.attempt,
    )
    return parsed


def settings(flow: FlowInput | None = None) -> Settings:
    """The function's settings; with a flow, its tenant's runtime flags applied."""
    current = current_settings()
    if flow is None:
        return current
    return flags.for_tenant(current, client_id=flow.tenant.client_id, customer_id=flow.customer_id)


def settings_and_pf360(flow: FlowInput) -> tuple[Settings, PF360Api]:
    """`settings(flow)` and the PF360 client the flow acts through. The flag document, when
    its cache is due, is read in the environment's flag thread while the credential is read
    here: neither needs the other, and the flags are applied before the client is made."""
    base = current_settings()
    refresh = flags.refresh_soon(base)
    try:
        token = flow_token(base, flow)  # the base settings' store and region: no flag moves them
    finally:
        if refresh is not None:
            # Never past the invocation, even when the token read failed: Lambda would
            # freeze the read half done and let it time out later, into a "store failed".
            refresh.result()
    current = flags.for_tenant(base, client_id=flow.tenant.client_id, customer_id=flow.customer_id)
    return current, client_for_flow(current, flow, token)


def flows_table(current: Settings) -> Any:
    return aws_clients.table(current.flows_table, current.aws_region)
