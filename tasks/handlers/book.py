"""Book task (and ReplayBook): the chosen time, exactly once; writes the final checkpoint."""

from __future__ import annotations

from typing import Any

from tasks import booking, checkpoint
from tasks.handlers.common import flows_table, logger, parse_event, settings_and_pf360


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    current, api = settings_and_pf360(task.flow)
    if task.flow.replay is not None:
        outcome = booking.replay(
            api, task.flow, confirm=current.confirm_schedule, attempt=task.attempt
        )
    else:
        outcome = booking.book(
            api,
            task.flow,
            task.flow_state,
            task.answer,
            confirm=current.confirm_schedule,
            attempt=task.attempt,
        )
    result = outcome.to_dict()
    if task.flow.replay is not None:
        result["replay_of"] = task.flow.replay.source
    elif task.flow.session_id:
        checkpoint.finish(
            flows_table(current),
            session_id=task.flow.session_id,
            flow_id=task.flow.flow_id,
            outcome=checkpoint.OUTCOME_BOOKED,
            message=outcome.message,
            result=result,
            execution_arn=task.execution_arn,
        )
    logger.info(
        "booked",
        extra={
            "test_mode": outcome.test_mode,
            "already_booked": outcome.already_booked,
            "verified_after_ambiguity": outcome.verified_after_ambiguity,
        },
    )
    return result
