"""`notes-actions`: add a note to a project, and show the notes added through the assistant.

A note is cleaned and checked first (nothing is sent or kept when it is refused), sent to
PF360, then kept in the notes table, because PF360 has no endpoint to read notes back.
Agents call twice: adding the same note in the same session within a few minutes is one
note (Powertools idempotency on session, project and cleaned text).
"""

from __future__ import annotations

from typing import Annotated, Any

import boto3
from aws_lambda_powertools.event_handler import BedrockAgentResolver
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from botocore.exceptions import BotoCoreError, ClientError

from agent_bridge.actions import answers, errors, events
from agent_bridge.actions.common import (
    CUSTOMER_ID_DOC,
    PROJECT_ID_DOC,
    SESSION_ID_DOC,
    context,
    customer_projects,
    install_error_handlers,
    pf360_call,
    project_of,
)
from agent_bridge.actions.context import ActionContext, count, logger, metrics
from agent_bridge.actions.notes_text import MAX_NOTE_CHARS, valid_note
from agent_bridge.actions.tenancy import owned_project
from agent_bridge.notes_store import NotesStore, StoredNote, now_iso
from tasks.config import Settings
from tasks.pf360 import NoteResult, PF360Error, Project

# Long enough to absorb an agent's retry of the same turn, short enough that a customer who
# really means to add the same note again later can.
IDEMPOTENCY_SECONDS = 300
IDEMPOTENCY_KEY_PREFIX = "notes-actions.add_note"

app = BedrockAgentResolver()
install_error_handlers(app)

SessionId = Annotated[str | None, Query(description=SESSION_ID_DOC)]
CustomerId = Annotated[str | None, Query(description=CUSTOMER_ID_DOC)]
ProjectId = Annotated[str | None, Query(description=PROJECT_ID_DOC)]
OptionalProjectId = Annotated[
    str | None,
    Query(description="Optional. A project_id from list_projects; leave empty for all projects."),
]
NoteText = Annotated[
    str | None,
    Query(
        description=f"The note in the customer's own words (at most {MAX_NOTE_CHARS} characters)."
    ),
]


def idempotency_store(settings: Settings) -> DynamoDBPersistenceLayer:
    """Built per call, like every client here: locally many functions share one process."""
    return DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table,
        boto3_client=boto3.client("dynamodb", region_name=settings.aws_region),
    )


def notes_store(settings: Settings) -> NotesStore:
    table = boto3.resource("dynamodb", region_name=settings.aws_region).Table(settings.notes_table)
    return NotesStore(table)


# A gateway's "unavailable" answers mean PF360 never processed the request: safe to resend.
NOT_PROCESSED_STATUSES = frozenset({429, 502, 503, 504})


def _raise(error: Exception) -> None:
    raise error


def send(ctx: ActionContext, project: Project, text: str) -> NoteResult | None:
    """PF360's answer; None when PF360 may have kept the note without saying so (a timeout,
    a dropped connection, a 500 after the request arrived). Anything else refused raises."""
    try:
        result: NoteResult = ctx.pf360.add_note(project.project_id, text)
        return result
    except PF360Error as error:
        if error.may_have_committed and error.status not in NOT_PROCESSED_STATUSES:
            count("NoteUnconfirmed", code=error.code)
            logger.warning(
                "note outcome unknown; kept unconfirmed and not sent again",
                extra={"code": error.code, "project_id": project.project_id},
            )
            return None
        pf360_call(_raise, error)  # the customer sentence and operator reason of a refusal
        raise


def send_and_keep(*, note: dict[str, str], ctx: ActionContext, project: Project) -> dict[str, Any]:
    """PF360 first, then the table. A refusal keeps nothing (and frees the key for a retry);
    a note PF360 may have kept is kept here as unconfirmed and answered, never raised, so
    that the idempotency record holds and a retry does not send it a second time."""
    result = send(ctx, project, note["note_text"])
    try:
        kept = notes_store(ctx.settings).add(
            client_id=ctx.session.client_id,
            project_id=project.project_id,
            note_text=note["note_text"],
            customer_id=ctx.session.customer_id,
            session_id=ctx.session.session_id,
            note_id=result.note_id if result is not None else None,
            confirmed=result is not None,
        )
    except (ClientError, BotoCoreError):
        # PF360 has the note (or may have): answering with an error would invite a resend.
        logger.exception("note sent but not kept locally", extra={"project_id": project.project_id})
        count("NoteNotKept")
        kept = StoredNote(
            client_id=ctx.session.client_id,
            project_id=project.project_id,
            note_id=(result.note_id if result is not None else None) or "",
            note_text=note["note_text"],
            customer_id=ctx.session.customer_id,
            session_id=ctx.session.session_id,
            created_at=now_iso(),
            confirmed=result is not None,
        )
    if result is None:
        return answers.note_unconfirmed_body(kept, project)
    count("NoteAdded")
    logger.info("note added", extra={"project_id": project.project_id, "note_id": kept.note_id})
    return answers.note_added_body(kept, project)


def add_note_once(ctx: ActionContext, project: Project, text: str) -> dict[str, Any]:
    """`send_and_keep` at most once per (session, project, cleaned text) within the window."""
    config = IdempotencyConfig(
        expires_after_seconds=IDEMPOTENCY_SECONDS, lambda_context=app.lambda_context
    )
    once = idempotent_function(
        send_and_keep,
        data_keyword_argument="note",
        persistence_store=idempotency_store(ctx.settings),
        config=config,
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )
    note = {
        "session_id": ctx.session.session_id,
        "project_id": project.project_id,
        "note_text": text,
    }
    try:
        body: dict[str, Any] = once(note=note, ctx=ctx, project=project)
    except IdempotencyAlreadyInProgressError:
        raise errors.ActionError(
            409, "I'm still saving that note; it will show up in a moment.", "NOTE_IN_PROGRESS"
        ) from None
    return body


@app.post(
    "/add_note",
    description="Add the customer's note to one of their projects (PF360 keeps it for the "
    "team). Use the customer's words; one note per call.",
)
def add_note(
    session_id: SessionId = None,
    customer_id: CustomerId = None,
    project_id: ProjectId = None,
    note_text: NoteText = None,
) -> dict[str, Any]:
    ctx = context(app)
    text = valid_note(note_text)
    project = project_of(ctx, customer_id, project_id)
    return add_note_once(ctx, project, text)


@app.post(
    "/get_notes",
    description="Show the notes the customer added through this assistant, newest first, for "
    "one project or all of them. Notes added elsewhere in PF360 cannot be shown.",
)
def get_notes(
    session_id: SessionId = None,
    customer_id: CustomerId = None,
    project_id: OptionalProjectId = None,
) -> dict[str, Any]:
    ctx = context(app)
    projects = customer_projects(ctx, customer_id)
    store = notes_store(ctx.settings)
    if (project_id or "").strip():
        project = owned_project(ctx, projects, project_id)
        chosen, scope = [project], answers.project_title(project)
    else:
        chosen, scope = projects, "your projects"
    page = store.for_projects(
        ctx.session.client_id,
        [p.project_id for p in chosen],
        customer_id=ctx.session.customer_id,
    )
    by_id = {p.project_id: p for p in projects}
    return answers.notes_body(page, by_id, ctx.timezone, scope=scope)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: Any, lambda_context: Any) -> dict[str, Any]:
    rejected = events.reject_malformed(event, logger)
    if rejected is not None:
        return rejected
    result: dict[str, Any] = app.resolve(event, lambda_context)
    return result
