"""Tenant isolation: parameters may narrow, never widen, what the session may see.

A `customer_id` that differs from the session's, or a project that is not on this
customer's dashboard, is refused with 403 and logged as a security event (never the token).
"""

from __future__ import annotations

from agent_bridge.actions import errors
from agent_bridge.actions.context import ActionContext, count, logger
from tasks.pf360 import Project


def security_event(context: ActionContext, kind: str, **details: str) -> None:
    logger.warning(
        "security event",
        extra={
            "security_event": kind,
            "session_id": context.session.session_id,
            "session_customer_id": context.session.customer_id,
            "session_client_id": context.session.client_id,
            **details,
        },
    )
    count("RequestRefused", reason=kind)


def check_customer(context: ActionContext, customer_id: str | None) -> None:
    if customer_id and customer_id.strip() != context.session.customer_id:
        security_event(context, errors.TENANT_MISMATCH, claimed_customer_id=customer_id[:64])
        raise errors.ActionError(
            403,
            "I can only help with your own account's projects.",
            errors.TENANT_MISMATCH,
        )


def owned_project(
    context: ActionContext, projects: list[Project], project_id: str | None
) -> Project:
    """The project if it is on this customer's dashboard; 403 otherwise."""
    wanted = (project_id or "").strip()
    if not wanted:
        raise errors.bad_input("Which project? Please give its project id from your list.")
    project = next((p for p in projects if p.project_id == wanted), None)
    if project is None:
        security_event(context, errors.PROJECT_NOT_OWNED, claimed_project_id=wanted[:64])
        raise errors.ActionError(
            403,
            "That project is not on your account; please pick one from your project list.",
            errors.PROJECT_NOT_OWNED,
        )
    return project
