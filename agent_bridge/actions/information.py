"""`information-actions`: a project's details, status and technician, and all projects.

Reads only: each answer comes from the customer's PF360 dashboard, through the session's own
token, and a project that is not on that dashboard is refused (403) before anything is said.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import BedrockAgentResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

from agent_bridge.actions import answers, events
from agent_bridge.actions.common import (
    CUSTOMER_ID_DOC,
    PROJECT_ID_DOC,
    SESSION_ID_DOC,
    context,
    customer_projects,
    install_error_handlers,
    project_of,
)
from agent_bridge.actions.context import logger, metrics

app = BedrockAgentResolver()
install_error_handlers(app)

SessionId = Annotated[str | None, Query(description=SESSION_ID_DOC)]
CustomerId = Annotated[str | None, Query(description=CUSTOMER_ID_DOC)]
ProjectId = Annotated[str | None, Query(description=PROJECT_ID_DOC)]


@app.post(
    "/get_project_details",
    description="Everything known about one project: type, status, appointment, address, "
    "technician and its link.",
)
def get_project_details(
    session_id: SessionId = None, customer_id: CustomerId = None, project_id: ProjectId = None
) -> dict[str, Any]:
    project = project_of(context(app), customer_id, project_id)
    return answers.project_details_body(project)


@app.post(
    "/get_project_status",
    description="The status of one project and its appointment date and time, if any.",
)
def get_project_status(
    session_id: SessionId = None, customer_id: CustomerId = None, project_id: ProjectId = None
) -> dict[str, Any]:
    project = project_of(context(app), customer_id, project_id)
    return answers.project_status_body(project)


@app.post(
    "/get_technician_info",
    description="Who the technician of a project is and how to reach them, once assigned.",
)
def get_technician_info(
    session_id: SessionId = None, customer_id: CustomerId = None, project_id: ProjectId = None
) -> dict[str, Any]:
    project = project_of(context(app), customer_id, project_id)
    return answers.technician_body(project)


@app.post(
    "/list_all_projects",
    description="All of the customer's projects with their details (status, appointment, "
    "technician, address, link).",
)
def list_all_projects(
    session_id: SessionId = None, customer_id: CustomerId = None
) -> dict[str, Any]:
    return answers.detailed_project_list(customer_projects(context(app), customer_id))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: Any, lambda_context: Any) -> dict[str, Any]:
    rejected = events.reject_malformed(event, logger)
    if rejected is not None:
        return rejected
    result: dict[str, Any] = app.resolve(event, lambda_context)
    return result
