"""The bodies actions answer with: short sentences for a customer, plus the structured facts.

Long lists are capped and say so; every project carries its portal URL so the agent can
link it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent_bridge.flow_driver import FlowView
from tasks.pf360 import Project

MAX_PROJECTS = 10


def _when(project: Project) -> str:
    if not project.scheduled_date:
        return ""
    window = f" ({project.window})" if project.window else ""
    return f", scheduled {friendly_date(project.scheduled_date)}{window}"


def friendly_date(day: str) -> str:
    try:
        parsed = datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        return day
    return f"{parsed:%a %b} {parsed.day}, {parsed.year}"


def project_line(project: Project) -> str:
    kind = " ".join(part for part in (project.project_type, project.category) if part) or "Project"
    order = f" {project.order_number}" if project.order_number else ""
    status = project.status or "status unknown"
    return f"{project.project_number}. {kind}{order} - {status}{_when(project)}"


def project_summary(project: Project) -> dict[str, Any]:
    return {
        "number": project.project_number,
        "project_id": project.project_id,
        "order_number": project.order_number,
        "type": project.project_type,
        "category": project.category,
        "status": project.status,
        "scheduled_date": project.scheduled_date,
        "window": project.window,
        "project_url": project.project_url,
    }


def project_list(projects: list[Project], *, cap: int = MAX_PROJECTS) -> dict[str, Any]:
    if not projects:
        return {"message": "You have no projects yet.", "projects": [], "total": 0}
    shown = projects[:cap]
    lines = [f"{project_line(p)} ({p.project_url})" for p in shown]
    more = len(projects) - len(shown)
    message = f"You have {len(projects)} project{'s' if len(projects) != 1 else ''}:\n" + "\n".join(
        lines
    )
    if more:
        message += f"\n...and {more} more; ask about a project by its order number to see it."
    return {
        "message": message,
        "projects": [project_summary(p) for p in shown],
        "total": len(projects),
        "truncated": more > 0,
    }


def flow_body(view: FlowView, project: Project | None = None) -> dict[str, Any]:
    """Where the booking stands, for the agent to relay (it must not invent dates)."""
    body: dict[str, Any] = {"message": view.message, "step": view.step, "status": view.status}
    if view.project_id:
        body["project_id"] = view.project_id
    if project is not None and project.project_url:
        body["project_url"] = project.project_url
    if view.step == "await_date":
        body["available_dates"] = view.offer.get("dates", [])
    elif view.step == "await_slot":
        body["date"] = view.offer.get("date")
        body["available_times"] = view.offer.get("times", [])
    elif view.step == "done":
        body["outcome"] = view.outcome
        for key in ("date", "time", "test_mode", "already_booked", "verified"):
            if key in view.result:
                body[key] = view.result[key]
    return body
