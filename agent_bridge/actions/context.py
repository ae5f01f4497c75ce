"""What one action invocation works with: the validated session and the clients it may use.

Customer, client and token come from the session record only (never from parameters the
agent passes), so a prompt-injected agent stays inside one customer's data.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from agent_bridge import checkpoint_read_ahead
from agent_bridge.actions import errors
from agent_bridge.checkpoint_read_ahead import ReadAhead
from agent_bridge.expired_sessions import end_flows_of_expired_session
from agent_bridge.flow_driver import FlowDriver
from agent_bridge.sessions import SessionStore, session_id_from_event
from tasks import aws_clients, flags
from tasks.config import Settings, current_settings
from tasks.execution_index import ExecutionIndex
from tasks.pf360 import PF360Api, make_client
from tasks.session_record import SessionRecord

# A read-only action publishes no metric; that is expected, not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service="pf360-scheduler-bridge")
metrics = Metrics(namespace="PF360Scheduler", service="pf360-scheduler-bridge")


def count(name: str, **dimensions: str) -> None:
    """One metric point (EMF), e.g. BookingConfirmed, FlowFailed, RequestRefused."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    for key, value in dimensions.items():
        metrics.add_metadata(key=key, value=value)


@dataclass
class ActionContext:
    """Built per invocation from the event: a session that exists and has not expired."""

    settings: Settings
    session: SessionRecord
    store: SessionStore
    flow_read_ahead: ReadAhead | None = None

    @cached_property
    def pf360(self) -> PF360Api:
        return make_client(
            flags.for_tenant(
                self.settings,
                client_id=self.session.client_id,
                customer_id=self.session.customer_id,
            ),
            client_id=self.session.client_id,
            client_name=self.session.client_name,
            auth_token=self.session.auth_token,
        )

    @cached_property
    def driver(self) -> FlowDriver:
        region = self.settings.aws_region
        driver = FlowDriver(
            flows_table=aws_clients.table(self.settings.flows_table, region),
            booking_state_machine_arn=self.settings.booking_state_machine_arn,
            cancellation_state_machine_arn=self.settings.cancellation_state_machine_arn,
            sfn=aws_clients.client("stepfunctions", region),
            executions_index=ExecutionIndex(
                aws_clients.table(self.settings.executions_table, region)
            ),
        )
        if self.flow_read_ahead is not None:
            driver.use_read_ahead(self.flow_read_ahead)
        return driver

    @property
    def timezone(self) -> str:
        return self.settings.timezone_for(self.session.client_id)


def sessions_table(settings: Settings) -> Any:
    return aws_clients.table(settings.sessions_table, settings.aws_region)


def load_context(event: dict[str, Any], *, read_flow_ahead: bool = False) -> ActionContext:
    """Find and validate the session of this event; refresh its sliding TTL. With
    `read_flow_ahead` (a booking turn, which reads its checkpoint first thing), the session's
    checkpoint is read at the same time; the turn uses it only once the session is valid."""
    settings = current_settings()
    session_id = session_id_from_event(event)
    if not session_id:
        raise errors.session_missing()
    ahead = None
    if read_flow_ahead and settings.booking_state_machine_arn:
        ahead = checkpoint_read_ahead.start(settings.flows_table, settings.aws_region, session_id)
    store = SessionStore(sessions_table(settings))
    session = store.use(session_id)  # read and slide the TTL in one call
    if session is None:
        logger.info("session not found or expired", extra={"session_id": session_id})
        if settings.booking_state_machine_arn:  # only the function that runs flows ends them
            end_flows_of_expired_session(settings, session_id)
        raise errors.session_expired()
    logger.append_keys(session_id=session_id, customer_id=session.customer_id)
    return ActionContext(settings=settings, session=session, store=store, flow_read_ahead=ahead)
