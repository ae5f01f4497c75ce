"""`scheduling-actions`: list projects, dates, time slots, confirm, cancel, business hours.

Thin: reads go to PF360, the booking turns go through the flow driver (the execution holds
the flow), and every answer says where the booking stands now. Agents call twice: the same
date or time again returns the current state, confirm twice the same confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import BedrockAgentResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

from agent_bridge.actions import answers, errors, events
from agent_bridge.actions.common import (
    CUSTOMER_ID_DOC,
    DATE_DOC,
    PROJECT_ID_DOC,
    SESSION_ID_DOC,
    TIME_DOC,
    context,
    customer_projects,
    forget_projects,
    install_error_handlers,
    parse_date,
    parse_time,
    pf360_call,
    project_of,
)
from agent_bridge.actions.context import ActionContext, count, logger, metrics
from agent_bridge.actions.tenancy import check_customer
from agent_bridge.flow_driver import (
    EXPIRED_FLOW_MESSAGE,
    STATUS_DONE,
    STATUS_INVALID,
    STATUS_NONE,
    STATUS_WAITING,
    STATUS_WORKING,
    FlowView,
)
from tasks import checkpoint
from tasks.booking import confirmation
from tasks.pf360 import Project

app = BedrockAgentResolver()
install_error_handlers(app)

SessionId = Annotated[str | None, Query(description=SESSION_ID_DOC)]
CustomerId = Annotated[str | None, Query(description=CUSTOMER_ID_DOC)]
ProjectId = Annotated[str | None, Query(description=PROJECT_ID_DOC)]
DateParam = Annotated[str | None, Query(description=DATE_DOC)]
TimeParam = Annotated[str | None, Query(description=TIME_DOC)]


def flow_answer(ctx: ActionContext, view: FlowView, project: Project | None) -> dict[str, Any]:
    """A flow state as the action's answer; a failure or a refused choice as an ActionError."""
    if view.execution_arn:
        logger.append_keys(execution=view.execution_arn.rsplit(":", 1)[-1])
    if view.status == STATUS_INVALID:
        raise errors.ActionError(400, view.message, "CHOICE_NOT_OFFERED")
    if view.status == STATUS_NONE:
        raise errors.ActionError(409, view.message, errors.NO_FLOW)
    if view.status == STATUS_DONE or view.step == checkpoint.STEP_CONFIRMING:
        forget_projects(ctx)  # booked, cancelled or in doubt: the next turn asks PF360 again
    if view.status == STATUS_DONE:
        error = view.result.get("error")
        status = errors.status_for_outcome(view.outcome, error)
        if status != 200:
            count("FlowFailed", code=str(error))
            raise errors.ActionError(status, view.message, str(error or "FLOW_FAILED"))
        if view.outcome == checkpoint.OUTCOME_BOOKED:
            count("BookingConfirmed", test_mode=str(bool(view.result.get("test_mode"))))
    body = answers.flow_body(view, project, timezone=ctx.timezone)
    if (
        view.step == checkpoint.STEP_AWAIT_DATE
        and project is not None
        and (project.status or "").lower() == "scheduled"
        and project.scheduled_date
    ):
        # Never offer dates as if nothing were booked: say what is, then the way to move it.
        body["message"] = (
            f"This project is already booked for {answers.appointment(project)}; to move it, "
            f"pick a new date. {body['message']}"
        )
    return body


def same_flow(view: FlowView, project_id: str) -> bool:
    return view.project_id == project_id and view.status in (STATUS_WAITING, STATUS_WORKING)


def refuse_unoffered_date(current: FlowView, day: str) -> None:
    """At the time step, a date outside the offer is refused without leaving that step."""
    dates = current.offer.get("dates") or []
    if dates and day not in dates:
        raise errors.ActionError(
            400,
            f"{day} is not available; please pick one of: {', '.join(dates)}.",
            "CHOICE_NOT_OFFERED",
        )


def confirming(view: FlowView) -> bool:
    """PF360 may have taken this session's booking and the workflow is verifying it."""
    return view.step == checkpoint.STEP_CONFIRMING


def refuse_expired(current: FlowView, project: Project) -> None:
    """A late answer to a flow that expired says so before anything new starts."""
    if (
        current.status == STATUS_DONE
        and current.outcome == checkpoint.OUTCOME_EXPIRED
        and current.project_id == project.project_id
    ):
        raise errors.ActionError(409, EXPIRED_FLOW_MESSAGE, "FLOW_EXPIRED")


def booked_on_dashboard(project: Project, day: str, time: str) -> bool:
    """This turn's own dashboard read shows the project booked at exactly that date and time."""
    start = project.scheduled_start or ""
    return (
        (project.status or "").lower() == "scheduled"
        and project.scheduled_date == day
        and start[11:16] == time
    )


def booked_view(project: Project, day: str, time: str) -> FlowView:
    """The truth from PF360 itself: the appointment is booked (whatever a flow said)."""
    return FlowView(
        status=STATUS_DONE,
        message=confirmation(day, time),
        step=checkpoint.STEP_DONE,
        outcome=checkpoint.OUTCOME_BOOKED,
        result={"date": day, "time": time, "test_mode": False, "verified": True},
        project_id=project.project_id,
    )


def dates_turn(ctx: ActionContext, project: Project) -> FlowView:
    current = ctx.driver.current(ctx.session.session_id)
    if confirming(current):
        return current
    if same_flow(current, project.project_id):
        if current.step == checkpoint.STEP_AWAIT_DATE:
            return current
        if current.step == checkpoint.STEP_AWAIT_SLOT:
            return ctx.driver.resume(ctx.session.session_id, {"another_date": True})
    return ctx.driver.start_booking(
        ctx.session, project.project_id, ctx.timezone, project.order_number
    )


def slots_turn(ctx: ActionContext, project: Project, day: str) -> FlowView:
    session_id = ctx.session.session_id
    current = ctx.driver.current(session_id)
    if confirming(current):
        return current
    refuse_expired(current, project)
    if not same_flow(current, project.project_id):
        current = ctx.driver.start_booking(
            ctx.session, project.project_id, ctx.timezone, project.order_number
        )
        if current.step != checkpoint.STEP_AWAIT_DATE:
            return current
    if current.step == checkpoint.STEP_AWAIT_SLOT and current.offer.get("date") != day:
        refuse_unoffered_date(current, day)
        current = ctx.driver.resume(session_id, {"another_date": True})
        if current.step != checkpoint.STEP_AWAIT_DATE:
            return current
    return ctx.driver.resume(session_id, {"date": day})


def confirm_turn(
    ctx: ActionContext, project: Project, day: str, time: str, read_now: Callable[[], Project]
) -> FlowView:
    """`read_now` reads the project from PF360 now: only where what the customer is told
    depends on the dashboard (no waiting flow to answer, or one already confirming). The
    usual turn, the answer to a waiting time step, needs no read: the Book task asks PF360."""
    session_id = ctx.session.session_id
    current = ctx.driver.current(session_id)
    same_project = current.project_id == project.project_id
    if confirming(current) and same_project:
        # The dashboard, read now, may already know the answer.
        project = read_now()
        if booked_on_dashboard(project, day, time):
            return booked_view(project, day, time)
        return current
    if current.status == STATUS_DONE and same_project:
        booked = current.result
        if current.outcome == checkpoint.OUTCOME_BOOKED and (
            booked.get("date"),
            booked.get("time"),
        ) == (day, time):
            return current  # confirm twice: the same confirmation
    if current.status in (STATUS_DONE, STATUS_NONE) or not same_project:
        project = read_now()
        if booked_on_dashboard(project, day, time):
            return booked_view(project, day, time)  # what PF360 says, whatever a flow said
        if same_project:
            refuse_expired(current, project)
        if (project.status or "").lower() == "scheduled" and project.scheduled_date:
            raise errors.ActionError(
                409,
                f"This project is booked for {answers.appointment(project)}. To move it, ask "
                "for the available dates.",
                errors.NO_FLOW,
            )
        raise errors.ActionError(
            409,
            "Let's first look up the available dates and times for that project.",
            errors.NO_FLOW,
        )
    if current.step == checkpoint.STEP_AWAIT_SLOT and current.offer.get("date") != day:
        refuse_unoffered_date(current, day)
        current = ctx.driver.resume(session_id, {"another_date": True})
    if current.step == checkpoint.STEP_AWAIT_DATE:
        current = ctx.driver.resume(session_id, {"date": day})
        if current.step != checkpoint.STEP_AWAIT_SLOT:
            return current
    return ctx.driver.resume(session_id, {"time": time})


@app.post("/list_projects", description="List the signed-in customer's projects, with links.")
def list_projects(session_id: SessionId = None, customer_id: CustomerId = None) -> dict[str, Any]:
    ctx = context(app)
    return answers.project_list(customer_projects(ctx, customer_id))


@app.post(
    "/get_available_dates",
    description="Start (or continue) scheduling a project: returns the dates it can be booked on.",
)
def get_available_dates(
    session_id: SessionId = None, customer_id: CustomerId = None, project_id: ProjectId = None
) -> dict[str, Any]:
    ctx = context(app, read_flow_ahead=True)
    project = project_of(ctx, customer_id, project_id, fresh=False)
    return flow_answer(ctx, dates_turn(ctx, project), project)


@app.post(
    "/get_time_slots",
    description="The free times on a date the customer picked from the available dates.",
)
def get_time_slots(
    session_id: SessionId = None,
    customer_id: CustomerId = None,
    project_id: ProjectId = None,
    date: DateParam = None,
) -> dict[str, Any]:
    ctx = context(app, read_flow_ahead=True)
    day = parse_date(ctx, date)
    project = project_of(ctx, customer_id, project_id, fresh=False)
    return flow_answer(ctx, slots_turn(ctx, project, day), project)


@app.post(
    "/confirm_appointment",
    description="Book the date and time the customer explicitly confirmed. Call only after "
    "the customer said yes to that exact date and time.",
)
def confirm_appointment(
    session_id: SessionId = None,
    customer_id: CustomerId = None,
    project_id: ProjectId = None,
    date: DateParam = None,
    time: TimeParam = None,
) -> dict[str, Any]:
    ctx = context(app, read_flow_ahead=True)
    day, at = parse_date(ctx, date), parse_time(time)
    # Whether the project is already booked (by this flow, an earlier one or anyone) decides
    # what the customer is told when no waiting flow answers: then PF360 is read now.
    project = project_of(ctx, customer_id, project_id, fresh=False)
    fresh: list[Project] = []

    def read_now() -> Project:
        if not fresh:
            fresh.append(project_of(ctx, customer_id, project_id, fresh=True))
        return fresh[0]

    view = confirm_turn(ctx, project, day, at, read_now)
    return flow_answer(ctx, view, fresh[0] if fresh else project)


@app.post(
    "/cancel_appointment",
    description="Cancel the scheduled appointment of a project, after the customer confirmed.",
)
def cancel_appointment(
    session_id: SessionId = None, customer_id: CustomerId = None, project_id: ProjectId = None
) -> dict[str, Any]:
    ctx = context(app)
    project = project_of(ctx, customer_id, project_id)
    if (project.status or "").lower() != "scheduled":
        raise errors.ActionError(
            409, "This project has no scheduled appointment to cancel.", "NOTHING_TO_CANCEL"
        )
    view = ctx.driver.cancel(ctx.session, project.project_id, ctx.timezone, project.order_number)
    answer = flow_answer(ctx, view, project)
    if view.outcome == "cancelled":
        count("AppointmentCancelled", test_mode=str(bool(view.result.get("test_mode"))))
    return answer


@app.post("/get_business_hours", description="The days of the week the company works.")
def get_business_hours(
    session_id: SessionId = None, customer_id: CustomerId = None
) -> dict[str, Any]:
    ctx = context(app)
    check_customer(ctx, customer_id)
    hours = pf360_call(ctx.pf360.get_business_hours)
    days = hours.working_days
    message = "We work " + (", ".join(days) if days else "no days at the moment") + "."
    return {"message": message, "working_days": days}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: Any, lambda_context: Any) -> dict[str, Any]:
    rejected = events.reject_malformed(event, logger)
    if rejected is not None:
        return rejected
    result: dict[str, Any] = app.resolve(event, lambda_context)
    return result
