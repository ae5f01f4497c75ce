"""Note text rules, the notes store's cap, and the capped answers (no AWS, no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from agent_bridge.actions import answers, errors
from agent_bridge.actions.notes_text import MAX_NOTE_CHARS, clean_note, valid_note
from agent_bridge.notes_store import NotePage, NotesStore, StoredNote
from tasks.pf360 import Project


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  Call first.  ", "Call first."),
        ("Gate\x00 code\x07 1234", "Gate code 1234"),
        ("one\r\ntwo\rthree", "one\ntwo\nthree"),
        ("tab\there", "tab here"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("evil\u202etxt.exe\u2066", "eviltxt.exe"),
        ("line with trailing spaces   \nnext", "line with trailing spaces\nnext"),
        ("emoji 👍 and accents é", "emoji 👍 and accents é"),
    ],
)
def test_clean_note(raw: str, cleaned: str) -> None:
    assert clean_note(raw) == cleaned


@pytest.mark.parametrize("raw", [None, "", "   ", "\n\t\r", "\x00\x01\x1f\x7f"])
def test_empty_notes_are_refused(raw: str | None) -> None:
    with pytest.raises(errors.ActionError) as refused:
        valid_note(raw)
    assert refused.value.status == 400
    assert "empty" in refused.value.message


def test_the_limit_counts_the_cleaned_text() -> None:
    assert valid_note("x" * MAX_NOTE_CHARS) == "x" * MAX_NOTE_CHARS
    assert valid_note("\x00" + "x" * MAX_NOTE_CHARS) == "x" * MAX_NOTE_CHARS
    with pytest.raises(errors.ActionError) as refused:
        valid_note("x" * (MAX_NOTE_CHARS + 1))
    assert refused.value.status == 400
    assert "2001 characters" in refused.value.message


class FakeNotesTable:
    """The two calls NotesStore makes, with DynamoDB's ordering and paging."""

    def __init__(self, page_size: int = 3) -> None:
        self.items: list[dict[str, Any]] = []
        self.page_size = page_size

    def put_item(self, Item: dict[str, Any]) -> None:  # boto3 names it Item
        self.items.append(dict(Item))

    def query(self, **request: Any) -> dict[str, Any]:
        key = request["ExpressionAttributeValues"][":key"]
        matching = sorted(
            (i for i in self.items if i["project_key"] == key),
            key=lambda i: i["note_key"],
            reverse=not request["ScanIndexForward"],
        )
        start = request.get("ExclusiveStartKey", {}).get("index", 0)
        page = matching[start : start + self.page_size]
        answer: dict[str, Any] = {"Items": page}
        if start + self.page_size < len(matching):
            answer["LastEvaluatedKey"] = {"index": start + self.page_size}
        return answer


def add(store: NotesStore, project_id: str, n: int, customer_id: str = "CUST001") -> None:
    store.add(
        client_id="acme-corp",
        project_id=project_id,
        note_text=f"note {n}",
        customer_id=customer_id,
        session_id="sess_x",
        created_at=f"2026-01-01T00:00:{n:02d}.000000+00:00",
    )


def test_notes_come_newest_first_capped_and_say_so() -> None:
    store = NotesStore(FakeNotesTable())
    for n in range(7):
        add(store, "12345", n)
    add(store, "12345", 8, customer_id="CUST002")
    page = store.for_project("acme-corp", "12345", customer_id="CUST001", cap=5)
    assert [note.note_text for note in page.notes] == [f"note {n}" for n in (6, 5, 4, 3, 2)]
    assert page.truncated
    whole = store.for_project("acme-corp", "12345", customer_id="CUST001", cap=7)
    assert len(whole.notes) == 7 and not whole.truncated


def test_notes_of_several_projects_are_merged_by_time() -> None:
    store = NotesStore(FakeNotesTable())
    add(store, "12345", 1)
    add(store, "12346", 2)
    add(store, "12345", 3)
    page = store.for_projects("acme-corp", ["12345", "12346"], customer_id="CUST001")
    assert [(n.project_id, n.note_text) for n in page.notes] == [
        ("12345", "note 3"),
        ("12346", "note 2"),
        ("12345", "note 1"),
    ]
    assert not page.truncated


def project(n: int) -> Project:
    return Project(
        project_number=n,
        project_id=str(10000 + n),
        order_number=f"ORD-{n}",
        project_type="Installation",
        category="Flooring",
        status="Unscheduled",
        project_url=f"https://acme-corp.cx-portal.dev.projectsforce.com/details/{10000 + n}",
    )


def test_a_long_project_list_is_capped_and_says_so() -> None:
    body = answers.detailed_project_list([project(n) for n in range(1, 13)])
    assert body["total"] == 12 and body["truncated"] is True
    assert len(body["projects"]) == answers.MAX_PROJECTS
    assert "...and 2 more" in body["message"]


def test_notes_answer_stays_within_the_bedrock_size_budget() -> None:
    notes = [
        StoredNote("acme-corp", "10001", f"n{i}", "z" * 2000, "CUST001", "s", f"2026-01-0{i}")
        for i in range(9, 0, -1)
    ]
    body = answers.notes_body(
        NotePage(notes, truncated=False),
        {"10001": project(1)},
        "America/New_York",
        scope="your projects",
    )
    assert sum(len(n["note_text"]) for n in body["notes"]) <= answers.MAX_NOTE_CHARS_SHOWN
    assert body["truncated"] is True
    assert f"Only the {len(body['notes'])} newest are shown." in body["message"]
    assert answers.NOTES_SOURCE in body["message"]
