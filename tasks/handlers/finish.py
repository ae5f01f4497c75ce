"""Finish task: every way a flow ends other than a booking, as an outcome or an operator code.

Catch blocks put the caught error in `$.ending` ({Error, Cause}); this task decides the
outcome, writes the final checkpoint (booking flows) and returns `{outcome, error, cause,
message}`. The ASL then ends in Succeed, or in Fail with `error` as the execution's error.
"""

from __future__ import annotations

from typing import Any

from tasks import checkpoint
from tasks.flow_errors import FAILURE_CODES, NoAvailability, Superseded, message_in_cause
from tasks.handlers.common import flows_table, logger, parse_event, settings

EXPIRED_MESSAGE = (
    "This booking timed out waiting for an answer, so nothing was booked. "
    "Ask to schedule again whenever you are ready."
)
INTERNAL_MESSAGE = "Something went wrong on our side; nothing was booked. Please try again."
SESSION_ENDED_MESSAGE = (
    "Your chat session expired, so this booking was stopped and nothing was booked. "
    "Sign in again and ask to schedule whenever you are ready."
)
# The error the bridge ends a parked flow with when it finds the session expired.
SESSION_EXPIRED_SIGNAL = "SessionExpired"


def decide(ending: dict[str, Any]) -> dict[str, Any]:
    """Map the caught error to the flow's outcome."""
    error = str(ending.get("Error") or "States.Runtime")
    message = message_in_cause(ending.get("Cause"))
    if error == "States.Timeout":
        return {"outcome": checkpoint.OUTCOME_EXPIRED, "message": EXPIRED_MESSAGE}
    if error == SESSION_EXPIRED_SIGNAL:
        return {"outcome": checkpoint.OUTCOME_EXPIRED, "message": SESSION_ENDED_MESSAGE}
    if error == Superseded.__name__:
        return {
            "outcome": checkpoint.OUTCOME_SUPERSEDED,
            "message": message or Superseded.default_message,
        }
    if error == NoAvailability.__name__:
        return {
            "outcome": checkpoint.OUTCOME_NO_AVAILABILITY,
            "message": message or NoAvailability.default_message,
        }
    if error in FAILURE_CODES:
        return {
            "outcome": checkpoint.OUTCOME_FAILED,
            "error": error,
            "cause": message or error,
            "message": message or INTERNAL_MESSAGE,
        }
    code = "TASK_TIMEOUT" if error == "Sandbox.Timedout" else "INTERNAL_ERROR"
    return {
        "outcome": checkpoint.OUTCOME_FAILED,
        "error": code,
        "cause": f"{error}: {message}"[:400],
        "message": INTERNAL_MESSAGE,
    }


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_event(event)
    ending = task.state.get("ending")
    result = decide(ending if isinstance(ending, dict) else {})
    if event.get("kind") == "booking" and task.flow.session_id and task.flow.replay is None:
        checkpoint.finish(
            flows_table(settings()),
            session_id=task.flow.session_id,
            flow_id=task.flow.flow_id,
            outcome=result["outcome"],
            message=result["message"],
            result=result,
            execution_arn=task.execution_arn,
        )
    logger.info("flow ended", extra={"outcome": result["outcome"], "error": result.get("error")})
    return result
