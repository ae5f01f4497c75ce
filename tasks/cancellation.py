"""The cancellation steps: cancel (honouring CANCEL_SCHEDULE_FLAG), then verify.

A timeout or 5xx on the cancel call may have committed; a retry that then gets "nothing to
cancel" is our own earlier success, so it counts as cancelled. Verification reads the
dashboard: the project must no longer be scheduled.
"""

from __future__ import annotations

from typing import Any

from tasks.booking import SCHEDULED, call_pf360
from tasks.flow_errors import (
    CANCEL_UNVERIFIED,
    PF360_NOT_FOUND,
    CancelUnknown,
    FlowError,
    from_pf360,
)
from tasks.flow_input import FlowInput
from tasks.pf360 import PF360Api, PF360Conflict, PF360Error, Project

OUTCOME_CANCELLED = "cancelled"
OUTCOME_NOTHING_TO_CANCEL = "nothing_to_cancel"


def _project(api: PF360Api, flow: FlowInput) -> Project:
    projects: list[Project] = call_pf360(api.list_projects, flow.customer_id)
    project = next((p for p in projects if p.project_id == flow.project_id), None)
    if project is None:
        raise PF360_NOT_FOUND(f"Project {flow.project_id} is not on your dashboard.")
    return project


def _scheduled(project: Project) -> bool:
    return (project.status or "").lower() == SCHEDULED


def _project_or_unknown(api: PF360Api, flow: FlowInput, when: str) -> Project:
    """The dashboard row after a cancel that may have committed: unreadable = unknown."""
    try:
        return _project(api, flow)
    except FlowError:
        raise CancelUnknown(when) from None


def cancel(api: PF360Api, flow: FlowInput, *, confirm: bool, attempt: int = 0) -> dict[str, Any]:
    """Cancel the project's appointment once; test mode cancels nothing and says so.

    A retry (`attempt` > 0) follows a failure that may have committed, so a dashboard it
    cannot read leaves the outcome unknown (CancelUnknown: the workflow keeps verifying)."""
    project = _project_or_unknown(api, flow, "") if attempt > 0 else _project(api, flow)
    when = " ".join(part for part in (project.scheduled_date, project.window) if part)
    if not _scheduled(project):
        if attempt > 0:
            # A retry cannot tell our own earlier (ambiguous) cancel from a project that was
            # never scheduled (the first dashboard read may have been what failed), so it
            # says only what is true either way.
            return {
                "outcome": OUTCOME_CANCELLED,
                "test_mode": False,
                "verified_after_ambiguity": True,
                "message": "This project has no scheduled appointment any more, so there is "
                "nothing left to cancel.",
            }
        return {
            "outcome": OUTCOME_NOTHING_TO_CANCEL,
            "test_mode": False,
            "message": "This project has no scheduled appointment to cancel.",
        }
    if not confirm:
        return {
            "outcome": OUTCOME_CANCELLED,
            "test_mode": True,
            "message": f"TEST MODE: nothing was cancelled. With cancellations on, the "
            f"appointment on {when} would be cancelled.",
        }
    try:
        api.cancel(flow.project_id)
    except PF360Conflict:
        return _cancelled(when, verified_after_ambiguity=True)
    except PF360Error as error:
        if error.may_have_committed and not _scheduled(_project_or_unknown(api, flow, when)):
            return _cancelled(when, verified_after_ambiguity=True)
        raise from_pf360(error) from None
    return _cancelled(when)


def _cancelled(when: str, *, verified_after_ambiguity: bool = False) -> dict[str, Any]:
    return {
        "outcome": OUTCOME_CANCELLED,
        "test_mode": False,
        "verified_after_ambiguity": verified_after_ambiguity,
        "message": f"Your appointment on {when} is cancelled.",
    }


def verify(api: PF360Api, flow: FlowInput, result: dict[str, Any]) -> dict[str, Any]:
    """The dashboard must agree: a cancelled project is no longer scheduled.

    PF360 accepted the cancel, so a dashboard that cannot be read (timeout, 5xx, 401, 404)
    leaves it cancelled: `verified` False and the read's code in `verification_error` are the
    operator's signal, not the customer's failure."""
    if result.get("outcome") != OUTCOME_CANCELLED or result.get("test_mode"):
        return {**result, "verified": False}
    try:
        project = _project(api, flow)
    except FlowError as error:
        return {**result, "verified": False, "verification_error": error.code}
    if _scheduled(project):
        raise CANCEL_UNVERIFIED()
    return {**result, "verified": True}
