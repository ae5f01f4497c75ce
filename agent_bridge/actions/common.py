"""Shared plumbing of the three resolvers: per-invocation context, error answers, input checks."""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from typing import Any, TypeVar

import pytz
from aws_lambda_powertools.event_handler import BedrockAgentResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from agent_bridge.actions import errors
from agent_bridge.actions.context import ActionContext, count, load_context, logger
from agent_bridge.actions.tenancy import check_customer, owned_project
from tasks.pf360 import PF360Error, Project

T = TypeVar("T")

SESSION_ID_DOC = "The chat session id from the session context (never invent one)."
CUSTOMER_ID_DOC = "Optional. Leave empty: the customer is taken from the session."
PROJECT_ID_DOC = "The project's id (project_id) as listed by list_projects."
DATE_DOC = "A date offered by get_available_dates, as YYYY-MM-DD."
TIME_DOC = "A time offered by get_time_slots, as HH:MM (24-hour)."

# ASCII digits only: `\d` would also take full-width digits as the right format.
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$", re.ASCII)


def context(app: BedrockAgentResolver, *, read_flow_ahead: bool = False) -> ActionContext:
    """The validated session of the current event (loaded once per invocation); with
    `read_flow_ahead`, its checkpoint read at the same time (a booking turn's first read)."""
    existing = app.context.get("action")
    if isinstance(existing, ActionContext):
        return existing
    loaded = load_context(app.current_event.raw_event, read_flow_ahead=read_flow_ahead)
    app.append_context(action=loaded)
    return loaded


def pf360_call(call: Any, *args: Any) -> Any:
    """A PF360 read; its failure becomes a sentence and an operator reason."""
    try:
        return call(*args)
    except PF360Error as error:
        # By the error's kind, not PF360's raw status: a 200 reply with an error body or a
        # bad 2xx/3xx reply must still answer as a failure.
        status = 503 if error.transient else errors.status_for_code(error.code)
        count("PF360ReadFailed", code=error.code)
        logger.warning("PF360 read failed", extra={"code": error.code, "endpoint": error.endpoint})
        raise errors.ActionError(status, error.user_message, error.code) from None


# The customer's project list, per execution environment and chat session: a turn that
# only needs to know the project is theirs (the booking turns, a note) reuses a list fetched
# within this window instead of asking PF360's dashboard again. Listing projects, showing a
# project's details and cancelling always ask PF360; so does any doubt (a project not in the
# kept list, a flow that failed). Per session, so each session asks PF360 at least once.
PROJECTS_FRESH_SECONDS = 60.0
_known_projects: dict[tuple[str, str, str], tuple[float, list[Project]]] = {}


def _projects_key(ctx: ActionContext) -> tuple[str, str, str]:
    return (ctx.session.client_id, ctx.session.customer_id, ctx.session.session_id)


def customer_projects(ctx: ActionContext, customer_id: str | None) -> list[Project]:
    """The customer's projects, from PF360 now."""
    check_customer(ctx, customer_id)
    projects: list[Project] = pf360_call(ctx.pf360.list_projects, ctx.session.customer_id)
    now = time.monotonic()
    for key in [k for k, (until, _) in _known_projects.items() if until <= now]:
        _known_projects.pop(key, None)
    _known_projects[_projects_key(ctx)] = (now + PROJECTS_FRESH_SECONDS, projects)
    return projects


def forget_projects(ctx: ActionContext) -> None:
    """The project list changed (booked, cancelled): the next turn asks PF360 again."""
    _known_projects.pop(_projects_key(ctx), None)


def project_of(
    ctx: ActionContext, customer_id: str | None, project_id: str | None, *, fresh: bool = True
) -> Project:
    """The customer's own project (403 otherwise), from PF360 now; with `fresh=False` (only
    ownership matters) from the list kept for a short window when it has that project."""
    check_customer(ctx, customer_id)
    known = _known_projects.get(_projects_key(ctx))
    wanted = (project_id or "").strip()
    if not fresh and known is not None and known[0] > time.monotonic():
        project = next((p for p in known[1] if p.project_id == wanted), None)
        if project is not None:
            return project
    return owned_project(ctx, customer_projects(ctx, customer_id), project_id)


def parse_date(ctx: ActionContext, value: str | None) -> str:
    """A real calendar date as YYYY-MM-DD, not before today in the tenant's time zone."""
    text = (value or "").strip()
    if not _DATE.match(text):
        raise errors.bad_input("Please give the date as YYYY-MM-DD, for example 2026-12-03.")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise errors.bad_input(f"{text} is not a real date; please check it.") from None
    today = datetime.now(pytz.timezone(ctx.timezone)).date()
    if day < today:
        raise errors.bad_input(f"{text} is in the past; please pick one of the available dates.")
    return text


def parse_time(value: str | None) -> str:
    text = (value or "").strip()
    if not _TIME.match(text):
        raise errors.bad_input("Please give the time as HH:MM in 24-hour form, for example 10:00.")
    return text


def install_error_handlers(app: BedrockAgentResolver) -> None:
    """Every refusal answers `{"error": <sentence>}` with its status; nothing internal leaks."""

    @app.exception_handler(errors.ActionError)
    def refused(error: errors.ActionError) -> Response[Any]:
        logger.info("refused", extra={"status": error.status, "reason": error.reason})
        return Response(
            status_code=error.status,
            content_type=content_types.APPLICATION_JSON,
            body={"error": error.message},
        )

    @app.not_found
    def unknown_action(error: NotFoundError) -> Response[Any]:
        # Without this, the catch-all below would answer an unknown apiPath with a 500.
        logger.info("refused", extra={"status": 404, "reason": "UNKNOWN_ACTION"})
        return Response(
            status_code=404,
            content_type=content_types.APPLICATION_JSON,
            body={"error": "That action isn't available here; please try another request."},
        )

    @app.exception_handler(RequestValidationError)
    def invalid(error: RequestValidationError) -> Response[Any]:
        fields = sorted({str(e.get("loc", ["", "?"])[-1]) for e in error.errors()})
        return Response(
            status_code=400,
            content_type=content_types.APPLICATION_JSON,
            body={"error": f"Some details are missing or malformed: {', '.join(fields)}."},
        )

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[Any]:
        logger.exception("unexpected error in an action")
        count("ActionCrashed", error=type(error).__name__)
        return Response(
            status_code=500,
            content_type=content_types.APPLICATION_JSON,
            body={"error": "Something went wrong on our side; please try again in a moment."},
        )
