"""VerifyBooking / VerifyCancellation: recheck an unknown outcome on the dashboard.

The ASL enters these after Book (or Cancel) raised BookingUnknown (CancelUnknown), and again
after each Wait. Each call is one look (tasks/verification.py); the first one also tells the
customer, through the checkpoint, that we are confirming. When the customer's session has
expired meanwhile, the look uses the tenant's service credential: the truth must still be
found and recorded.
"""

from __future__ import annotations

from typing import Any

from tasks import checkpoint, verification
from tasks.config import Settings
from tasks.credentials import pf360_for_flow, service_token
from tasks.flow_errors import SESSION_EXPIRED, message_in_cause
from tasks.flow_input import FlowInput
from tasks.handlers.common import TaskEvent, flows_table, logger, parse_event, settings
from tasks.pf360 import PF360Api, make_client


def _api(current: Settings, flow: FlowInput) -> PF360Api:
    try:
        return pf360_for_flow(current, flow)
    except SESSION_EXPIRED:
        logger.info("session expired while verifying; using the service credential")
        return make_client(
            current,
            client_id=flow.tenant.client_id,
            client_name=flow.tenant.client_name,
            auth_token=service_token(current, flow.tenant.client_id),
        )


def _previous(task: TaskEvent, key: str) -> int:
    """A count from the last look (`$.verify.value`), 0 before the first."""
    verify = task.state.get("verify")
    value = verify.get("value") if isinstance(verify, dict) else None
    return int((value.get(key) if isinstance(value, dict) else 0) or 0)


def _checks(task: TaskEvent) -> int:
    """This look's number: one more than the last one's."""
    return _previous(task, "checks") + 1


def booking_choice(task: TaskEvent) -> tuple[str, str]:
    """The date and time the unknown booking was for."""
    if task.flow.replay is not None:
        return task.flow.replay.date, task.flow.replay.time
    return str(task.flow_state.get("date") or ""), str(task.answer.get("time") or "")


@logger.inject_lambda_context(clear_state=True)
def booking_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    current = settings()
    day, time = booking_choice(task)
    checks = _checks(task)
    interactive = bool(task.flow.session_id) and task.flow.replay is None
    if _previous(task, "checks") == 0 and interactive:
        checkpoint.confirming(
            flows_table(current),
            session_id=task.flow.session_id,
            flow_id=task.flow.flow_id,
            execution_arn=task.execution_arn,
            message=verification.confirming_booking_message(day, time),
            pending={"date": day, "time": time},
        )
    result = verification.recheck_booking(
        _api(current, task.flow), task.flow, day, time, checks, _previous(task, "redos")
    )
    logger.info("booking rechecked", extra={"checks": checks, "settled": result["settled"]})
    if result["settled"]:
        if task.flow.replay is not None:
            result["replay_of"] = task.flow.replay.source
        elif interactive:
            checkpoint.finish(
                flows_table(current),
                session_id=task.flow.session_id,
                flow_id=task.flow.flow_id,
                outcome=checkpoint.OUTCOME_BOOKED,
                message=str(result["message"]),
                result={k: v for k, v in result.items() if k not in ("settled", "wait_seconds")},
                execution_arn=task.execution_arn,
            )
    return result


@logger.inject_lambda_context(clear_state=True)
def cancellation_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    current = settings()
    checks = _checks(task)
    unknown = task.state.get("unknown")
    when = message_in_cause(unknown.get("Cause")) if isinstance(unknown, dict) else ""
    result = verification.recheck_cancellation(
        _api(current, task.flow),
        task.flow,
        when if "-" in when else "",
        checks,
        _previous(task, "redos"),
    )
    logger.info("cancellation rechecked", extra={"checks": checks, "settled": result["settled"]})
    return result
