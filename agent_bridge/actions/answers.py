"""The bodies actions answer with: short sentences for a customer, plus the structured facts.

Long lists are capped and say so; every project carries its portal URL so the agent can
link it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytz

from agent_bridge.flow_driver import FlowView
from agent_bridge.notes_store import NotePage, StoredNote
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
    elif view.step == "confirming":
        body["outcome"] = None
        for key in ("date", "time"):
            if key in view.result:
                body[key] = view.result[key]
    elif view.step == "done":
        body["outcome"] = view.outcome
        for key in ("date", "time", "test_mode", "already_booked", "verified"):
            if key in view.result:
                body[key] = view.result[key]
    return body


# -- information and notes answers --------------------------------------------------------

MAX_NOTE_CHARS_SHOWN = 12000  # Bedrock caps an action's answer at 25 KB; notes go in whole
NOTE_PREVIEW_CHARS = 160
NOTES_SOURCE = (
    "These are the notes added through this assistant; notes added elsewhere in PF360 "
    "can't be shown here."
)


def project_title(project: Project) -> str:
    """ "Installation Flooring ORD-2025-001": what a customer calls the project."""
    kind = " ".join(part for part in (project.project_type, project.category) if part) or "Project"
    return f"{kind} {project.order_number}" if project.order_number else kind


def _appointment(project: Project) -> str:
    if not project.scheduled_date:
        return "no appointment scheduled"
    window = f" ({project.window})" if project.window else ""
    return f"{friendly_date(project.scheduled_date)}{window}"


def appointment(project: Project) -> str:
    """ "Thu Dec 3, 2026 (09:00-11:00)", or "no appointment scheduled"."""
    return _appointment(project)


def _technician(project: Project) -> str | None:
    if not project.technician_name:
        return None
    phone = f" ({project.technician_phone})" if project.technician_phone else ""
    return f"{project.technician_name}{phone}"


def project_details(project: Project) -> dict[str, Any]:
    """Everything the dashboard says about a project, for the agent to pick from."""
    return {
        **project_summary(project),
        "address": project.address,
        "scheduled_start": project.scheduled_start,
        "scheduled_end": project.scheduled_end,
        "technician_name": project.technician_name,
        "technician_phone": project.technician_phone,
    }


def project_details_body(project: Project) -> dict[str, Any]:
    lines = [
        f"{project_title(project)} (project {project.project_id})",
        f"Status: {project.status or 'unknown'}",
        f"Appointment: {_appointment(project)}",
    ]
    if project.address:
        lines.append(f"Address: {project.address}")
    technician = _technician(project)
    if technician:
        lines.append(f"Technician: {technician}")
    if project.project_url:
        lines.append(f"Details: {project.project_url}")
    return {"message": "\n".join(lines), "project": project_details(project)}


def project_status_body(project: Project) -> dict[str, Any]:
    status = project.status or "of unknown status"
    message = f"{project_title(project)} is {status}"
    if project.scheduled_date:
        message += f", with an appointment on {_appointment(project)}"
    message += "."
    if project.project_url:
        message += f" Details: {project.project_url}"
    return {
        "message": message,
        "project_id": project.project_id,
        "status": project.status,
        "scheduled_date": project.scheduled_date,
        "window": project.window,
        "project_url": project.project_url,
    }


def technician_body(project: Project) -> dict[str, Any]:
    technician = _technician(project)
    if technician:
        message = f"Your technician for {project_title(project)} is {technician}"
        if project.scheduled_date:
            message += f", coming {_appointment(project)}"
        message += "."
    elif (project.status or "").lower() in ("completed", "cancelled"):
        message = f"No technician is listed for {project_title(project)}; it is {project.status}."
    else:
        message = (
            f"No technician is assigned to {project_title(project)} yet; one is assigned "
            "once an appointment is scheduled."
        )
    if project.project_url:
        message += f" Details: {project.project_url}"
    return {
        "message": message,
        "project_id": project.project_id,
        "technician": (
            {"name": project.technician_name, "phone": project.technician_phone}
            if project.technician_name
            else None
        ),
        "project_url": project.project_url,
    }


def detailed_project_line(project: Project) -> str:
    parts = [f"{project.project_number}. {project_title(project)}", project.status or "unknown"]
    if project.scheduled_date:
        parts.append(_appointment(project))
    technician = _technician(project)
    if technician:
        parts.append(f"technician {technician}")
    if project.address:
        parts.append(project.address)
    line = " - ".join(parts[:2]) + "".join(f", {part}" for part in parts[2:])
    return f"{line} ({project.project_url})" if project.project_url else line


def detailed_project_list(projects: list[Project], *, cap: int = MAX_PROJECTS) -> dict[str, Any]:
    """Every project with its details; like `project_list`, capped and saying so."""
    if not projects:
        return {"message": "You have no projects yet.", "projects": [], "total": 0}
    shown = projects[:cap]
    more = len(projects) - len(shown)
    plural = "s" if len(projects) != 1 else ""
    message = f"You have {len(projects)} project{plural}:\n" + "\n".join(
        detailed_project_line(p) for p in shown
    )
    if more:
        message += f"\n...and {more} more; ask about a project by its order number to see it."
    return {
        "message": message,
        "projects": [project_details(p) for p in shown],
        "total": len(projects),
        "truncated": more > 0,
    }


def _local_day(created_at: str, timezone: str) -> str:
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return created_at[:10]
    return friendly_date(f"{moment.astimezone(pytz.timezone(timezone)):%Y-%m-%d}")


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= NOTE_PREVIEW_CHARS else flat[: NOTE_PREVIEW_CHARS - 3] + "..."


def note_added_body(note: StoredNote, project: Project) -> dict[str, Any]:
    message = f"Your note was added to {project_title(project)}."
    if project.project_url:
        message += f" Details: {project.project_url}"
    return {
        "message": message,
        "note_id": note.note_id,
        "note_text": note.note_text,
        "project_id": project.project_id,
        "project_url": project.project_url,
        "created_at": note.created_at,
    }


def note_unconfirmed_body(note: StoredNote, project: Project) -> dict[str, Any]:
    """PF360 may have kept the note but did not say so: the truth, and no second copy."""
    body = note_added_body(note, project)
    body["confirmed"] = False
    body["message"] = (
        f"I sent your note for {project_title(project)}, but the scheduling system didn't "
        "confirm it arrived. I've kept it here and won't send it again, so the team won't get "
        "it twice."
    )
    return body


def notes_body(
    page: NotePage, projects: dict[str, Project], timezone: str, *, scope: str
) -> dict[str, Any]:
    """The kept notes, newest first, within the answer-size budget; says where they come from."""
    shown: list[StoredNote] = []
    budget = MAX_NOTE_CHARS_SHOWN
    for note in page.notes:
        if len(note.note_text) > budget:
            break
        budget -= len(note.note_text)
        shown.append(note)
    truncated = page.truncated or len(shown) < len(page.notes)
    if not shown:
        return {
            "message": f"No notes have been added through this assistant for {scope} yet. "
            + NOTES_SOURCE,
            "notes": [],
            "truncated": False,
        }
    lines = []
    for note in shown:
        project = projects.get(note.project_id)
        title = project_title(project) if project else f"project {note.project_id}"
        unconfirmed = "" if note.confirmed else " (not confirmed by the scheduling system)"
        lines.append(
            f"- {_local_day(note.created_at, timezone)}, {title}: {_preview(note.note_text)}"
            + unconfirmed
        )
    message = f"{NOTES_SOURCE}\nNewest first, for {scope}:\n" + "\n".join(lines)
    if truncated:
        message += f"\nOnly the {len(shown)} newest are shown."
    return {
        "message": message,
        "notes": [
            {
                "note_id": note.note_id,
                "project_id": note.project_id,
                "note_text": note.note_text,
                "created_at": note.created_at,
                "project_url": (
                    projects[note.project_id].project_url if note.project_id in projects else None
                ),
            }
            for note in shown
        ],
        "truncated": truncated,
    }
