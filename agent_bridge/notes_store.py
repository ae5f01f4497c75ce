"""Notes added through the assistant, kept in the notes table.

PF360 has an endpoint to add a note but none to read notes back, so `get_notes` can only
show what the assistant itself sent. One item per note: `project_key` "<client_id>#<project_id>"
(HASH) and `note_key` "<ISO created_at>#<note_id>" (RANGE), so a project's notes come back
in time order from one query.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_NOTES = 20


@dataclass(frozen=True)
class StoredNote:
    """One note as kept: who added it, in which session, to which project, and when."""

    client_id: str
    project_id: str
    note_id: str
    note_text: str
    customer_id: str
    session_id: str
    created_at: str
    # False: sent to PF360, which may have kept it but never said so (it is not sent again).
    confirmed: bool = True

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "project_key": project_key(self.client_id, self.project_id),
            "note_key": f"{self.created_at}#{self.note_id}",
            "note_id": self.note_id,
            "note_text": self.note_text,
            "customer_id": self.customer_id,
            "session_id": self.session_id,
            "created_at": self.created_at,
        }
        if not self.confirmed:
            item["confirmed"] = False
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StoredNote:
        client_id, _, project_id = str(item["project_key"]).partition("#")
        return cls(
            client_id=client_id,
            project_id=project_id,
            note_id=str(item.get("note_id", "")),
            note_text=str(item.get("note_text", "")),
            customer_id=str(item.get("customer_id", "")),
            session_id=str(item.get("session_id", "")),
            created_at=str(item.get("created_at", "")),
            confirmed=item.get("confirmed", True) is not False,
        )


@dataclass(frozen=True)
class NotePage:
    """The newest notes, at most the cap; `truncated` says older ones were left out."""

    notes: list[StoredNote]
    truncated: bool


def project_key(client_id: str, project_id: str) -> str:
    return f"{client_id}#{project_id}"


def now_iso() -> str:
    """UTC with microseconds: sorts as text in the RANGE key the same as in time."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class NotesStore:
    """Add and list notes in the notes table (a boto3 Table)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def add(
        self,
        *,
        client_id: str,
        project_id: str,
        note_text: str,
        customer_id: str,
        session_id: str,
        note_id: str | None = None,
        created_at: str | None = None,
        confirmed: bool = True,
    ) -> StoredNote:
        """Keep a note PF360 accepted (its own note_id when it gave one), or one it may have
        kept without saying so (`confirmed` False)."""
        note = StoredNote(
            client_id=client_id,
            project_id=project_id,
            note_id=note_id or f"local_{uuid.uuid4().hex[:12]}",
            note_text=note_text,
            customer_id=customer_id,
            session_id=session_id,
            created_at=created_at or now_iso(),
            confirmed=confirmed,
        )
        self.table.put_item(Item=note.to_item())
        return note

    def for_project(
        self, client_id: str, project_id: str, *, customer_id: str, cap: int = MAX_NOTES
    ) -> NotePage:
        """A project's notes by this customer, newest first."""
        return self.for_projects(client_id, [project_id], customer_id=customer_id, cap=cap)

    def for_projects(
        self,
        client_id: str,
        project_ids: Iterable[str],
        *,
        customer_id: str,
        cap: int = MAX_NOTES,
    ) -> NotePage:
        """Notes on any of these projects by this customer, newest first, at most `cap`."""
        found: list[StoredNote] = []
        truncated = False
        for project_id in project_ids:
            notes, more = self._newest(project_key(client_id, project_id), customer_id, cap)
            found.extend(notes)
            truncated = truncated or more
        found.sort(key=lambda note: (note.created_at, note.note_id), reverse=True)
        if len(found) > cap:
            found, truncated = found[:cap], True
        return NotePage(notes=found, truncated=truncated)

    def _newest(self, key: str, customer_id: str, cap: int) -> tuple[list[StoredNote], bool]:
        """Up to `cap` of one project's newest notes by the customer, and whether more exist."""
        notes: list[StoredNote] = []
        request: dict[str, Any] = {
            "KeyConditionExpression": "project_key = :key",
            "ExpressionAttributeValues": {":key": key},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        while True:
            page = self.table.query(**request)
            for item in page.get("Items", []):
                if item.get("customer_id") != customer_id:
                    continue
                if len(notes) == cap:
                    return notes, True
                notes.append(StoredNote.from_item(item))
            if "LastEvaluatedKey" not in page:
                return notes, False
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
