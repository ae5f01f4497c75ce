"""information-actions and notes-actions, invoked as Bedrock invokes them.

Every call is a Lambda invoke of the deployed function on the local stack with a
Bedrock-format event; the answer is read from `response.responseBody["application/json"]`.
Each refusal must be a 4xx with an `error` sentence and change nothing: the sandbox's notes,
the notes table and the idempotency table are checked. No answer may carry a token.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from agent_bridge.sessions import SessionStore
from infra.local.dev_tokens import mint_customer_token
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack

pytestmark = [
    pytest.mark.integration,
    # Read-only actions publish no metric; Powertools warns about that on every call.
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

INFORMATION = "information-actions-dev"
NOTES = "notes-actions-dev"
PORTAL = "https://acme-corp.cx-portal.dev.projectsforce.com/details/"

# The sandbox seed: CUST001 and CUST002 are customers of acme-corp, CUST101 of sunrise-homes.
DANA = ("CUST001", "acme-corp")
LUIS = ("CUST002", "acme-corp")
AROHA = ("CUST101", "sunrise-homes")
DANA_UNSCHEDULED = "12345"
DANA_SCHEDULED = "12346"  # Sam Patel, 555-0142
LUIS_PROJECT = "22345"
AROHA_PROJECT = "31001"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


@dataclass
class Harness:
    """Invokes the deployed functions and reads the tables they write."""

    stack: LocalStack
    sessions: SessionStore
    notes_table: Any
    idempotency_table: Any
    tokens: list[str]

    def session(self, who: tuple[str, str], *, expired: bool = False) -> str:
        customer_id, client_id = who
        token = mint_customer_token(customer_id, client_id)
        self.tokens.append(token)
        record = self.sessions.create(
            customer_id=customer_id,
            client_id=client_id,
            client_name=client_id,
            environment="dev",
            auth_token=token,
            now=time.time() - 3 * 3600 if expired else None,
        )
        return record.session_id

    def call(
        self,
        function: str,
        path: str,
        session_id: str | None,
        *,
        bedrock_session_id: str | None = None,
        **parameters: str,
    ) -> Answer:
        event = {
            "messageVersion": "1.0",
            "agent": {
                "name": function.replace("-actions-dev", "-agent"),
                "id": "AGENT12345",
                "alias": "TSTALIASID",
                "version": "DRAFT",
            },
            "sessionId": bedrock_session_id if bedrock_session_id is not None else "",
            "sessionAttributes": {"session_id": session_id} if session_id else {},
            "promptSessionAttributes": {},
            "inputText": "help me with my project",
            "actionGroup": function.removesuffix("-dev"),
            "apiPath": path,
            "httpMethod": "POST",
            "parameters": [
                {"name": name, "type": "string", "value": value}
                for name, value in parameters.items()
            ],
        }
        raw = self.stack.client("lambda").invoke(
            FunctionName=function, Payload=json.dumps(event).encode()
        )
        text = raw["Payload"].read().decode()
        assert "FunctionError" not in raw, text
        for token in self.tokens:
            assert token not in text
        assert "Bearer" not in text and "eyJ" not in text
        response = json.loads(text)["response"]
        assert response["apiPath"] == path
        body = json.loads(response["responseBody"]["application/json"]["body"])
        return Answer(response["httpStatusCode"], body)

    def kept_notes(self) -> list[dict[str, Any]]:
        return list(self.notes_table.scan(ConsistentRead=True)["Items"])

    def idempotency_records(self) -> list[dict[str, Any]]:
        return list(self.idempotency_table.scan(ConsistentRead=True)["Items"])


def _empty(table: Any, keys: list[str]) -> None:
    for item in table.scan(ConsistentRead=True)["Items"]:
        table.delete_item(Key={key: item[key] for key in keys})


@pytest.fixture
def harness(local_stack: LocalStack, sandbox_control: SandboxControl) -> Iterator[Harness]:
    assert local_stack.deployed is not None
    dynamodb = boto3.resource(
        "dynamodb", region_name=local_stack.region, endpoint_url=local_stack.endpoint_url
    )
    tables = local_stack.deployed.tables
    notes = dynamodb.Table(tables["NotesTable"])
    idempotency = dynamodb.Table(tables["IdempotencyTable"])
    _empty(notes, ["project_key", "note_key"])
    _empty(idempotency, ["id"])
    yield Harness(
        stack=local_stack,
        sessions=SessionStore(dynamodb.Table(tables["SessionsTable"])),
        notes_table=notes,
        idempotency_table=idempotency,
        tokens=[],
    )


def assert_refused(answer: Answer, status: int, *words: str) -> None:
    assert answer.status == status, answer.body
    assert set(answer.body) == {"error"}
    sentence = answer.body["error"]
    assert sentence.endswith((".", "?")) and len(sentence) > 20
    for word in words:
        assert word.lower() in sentence.lower(), sentence


def assert_nothing_noted(harness: Harness, sandbox_control: SandboxControl) -> None:
    assert sandbox_control.notes() == []
    assert harness.kept_notes() == []
    assert harness.idempotency_records() == []


# ------------------------------------------------------------------- information: happy


def test_list_all_projects_gives_every_project_with_details_and_links(harness: Harness) -> None:
    answer = harness.call(INFORMATION, "/list_all_projects", harness.session(DANA))
    assert answer.status == 200
    body = answer.body
    assert body["total"] == 4 and body["truncated"] is False
    ids = [p["project_id"] for p in body["projects"]]
    assert ids == ["12345", "12346", "12347", "12348"]
    scheduled = body["projects"][1]
    assert scheduled["technician_name"] == "Sam Patel"
    assert scheduled["address"] == "123 Main St, Tampa, FL 33601"
    assert scheduled["project_url"] == PORTAL + DANA_SCHEDULED
    assert "You have 4 projects" in body["message"]
    assert "ORD-2025-002" in body["message"] and "Sam Patel" in body["message"]
    assert all(PORTAL + pid in body["message"] for pid in ids)


def test_project_details_status_and_technician_of_a_scheduled_project(harness: Harness) -> None:
    session = harness.session(DANA)
    details = harness.call(INFORMATION, "/get_project_details", session, project_id=DANA_SCHEDULED)
    assert details.status == 200
    assert details.body["project"]["order_number"] == "ORD-2025-002"
    assert details.body["project"]["scheduled_date"]
    for fact in ("Installation Windows ORD-2025-002", "Scheduled", "123 Main St", "Sam Patel"):
        assert fact in details.body["message"]
    assert PORTAL + DANA_SCHEDULED in details.body["message"]

    status = harness.call(INFORMATION, "/get_project_status", session, project_id=DANA_SCHEDULED)
    assert status.status == 200
    assert status.body["status"] == "Scheduled"
    assert status.body["window"]
    assert "is Scheduled, with an appointment on" in status.body["message"]

    technician = harness.call(
        INFORMATION, "/get_technician_info", session, project_id=DANA_SCHEDULED
    )
    assert technician.status == 200
    assert technician.body["technician"] == {"name": "Sam Patel", "phone": "555-0142"}
    assert "Sam Patel (555-0142)" in technician.body["message"]
    assert technician.body["project_url"] == PORTAL + DANA_SCHEDULED


def test_an_unscheduled_project_has_no_appointment_and_no_technician(harness: Harness) -> None:
    session = harness.session(DANA)
    status = harness.call(INFORMATION, "/get_project_status", session, project_id=DANA_UNSCHEDULED)
    assert status.status == 200
    assert status.body["status"] == "Unscheduled"
    assert status.body["scheduled_date"] is None
    assert "appointment" not in status.body["message"]

    technician = harness.call(
        INFORMATION, "/get_technician_info", session, project_id=DANA_UNSCHEDULED
    )
    assert technician.status == 200
    assert technician.body["technician"] is None
    assert "No technician is assigned" in technician.body["message"]

    completed = harness.call(INFORMATION, "/get_technician_info", session, project_id="12347")
    assert completed.status == 200
    assert "it is Completed" in completed.body["message"]


def test_the_session_id_may_come_from_the_bedrock_session_id(harness: Harness) -> None:
    session = harness.session(LUIS)
    answer = harness.call(INFORMATION, "/list_all_projects", None, bedrock_session_id=session)
    assert answer.status == 200
    assert [p["project_id"] for p in answer.body["projects"]] == ["22345", "22346"]


# ----------------------------------------------------------------- information: refused

PROJECT_ACTIONS = ["/get_project_details", "/get_project_status", "/get_technician_info"]
ALL_INFORMATION_ACTIONS = [*PROJECT_ACTIONS, "/list_all_projects"]


@pytest.mark.parametrize("path", ALL_INFORMATION_ACTIONS)
def test_information_without_a_session_is_refused(harness: Harness, path: str) -> None:
    assert_refused(harness.call(INFORMATION, path, None, project_id=DANA_SCHEDULED), 401, "sign in")
    unknown = harness.call(
        INFORMATION, path, None, bedrock_session_id="bedrock-123", project_id=DANA_SCHEDULED
    )
    assert_refused(unknown, 401, "sign in")


@pytest.mark.parametrize("path", ALL_INFORMATION_ACTIONS)
def test_information_with_an_expired_session_is_refused(harness: Harness, path: str) -> None:
    session = harness.session(DANA, expired=True)
    answer = harness.call(INFORMATION, path, session, project_id=DANA_SCHEDULED)
    assert_refused(answer, 401, "expired")


@pytest.mark.parametrize("path", ALL_INFORMATION_ACTIONS)
def test_information_for_a_forged_customer_is_refused(harness: Harness, path: str) -> None:
    session = harness.session(DANA)
    answer = harness.call(
        INFORMATION, path, session, customer_id="CUST002", project_id=LUIS_PROJECT
    )
    assert_refused(answer, 403, "your own")


@pytest.mark.parametrize("path", PROJECT_ACTIONS)
@pytest.mark.parametrize("project_id", [LUIS_PROJECT, AROHA_PROJECT, "99999"])
def test_information_about_a_project_not_on_the_dashboard_is_refused(
    harness: Harness, path: str, project_id: str
) -> None:
    answer = harness.call(INFORMATION, path, harness.session(DANA), project_id=project_id)
    assert_refused(answer, 403, "not on your account")


@pytest.mark.parametrize("path", PROJECT_ACTIONS)
def test_information_without_a_project_asks_which(harness: Harness, path: str) -> None:
    answer = harness.call(INFORMATION, path, harness.session(DANA), project_id="  ")
    assert_refused(answer, 400, "which project")


@pytest.mark.parametrize("path", ALL_INFORMATION_ACTIONS)
def test_a_pf360_outage_becomes_a_sentence(
    harness: Harness, sandbox_control: SandboxControl, path: str
) -> None:
    sandbox_control.add_fault("dashboard", "status", status=503)
    answer = harness.call(INFORMATION, path, harness.session(DANA), project_id=DANA_SCHEDULED)
    assert_refused(answer, 503, "try again")


# ------------------------------------------------------------------------ notes: happy


def test_add_note_sends_it_to_pf360_and_keeps_it(
    harness: Harness, sandbox_control: SandboxControl
) -> None:
    session = harness.session(DANA)
    answer = harness.call(
        NOTES,
        "/add_note",
        session,
        project_id=DANA_UNSCHEDULED,
        note_text="  Please call before arriving; the gate code is at the side door.  ",
    )
    assert answer.status == 200, answer.body
    text = "Please call before arriving; the gate code is at the side door."
    assert answer.body["note_text"] == text
    assert answer.body["project_url"] == PORTAL + DANA_UNSCHEDULED
    assert "Your note was added to Installation Flooring ORD-2025-001." in answer.body["message"]

    sent = sandbox_control.notes()
    assert [(n["project_id"], n["note_text"]) for n in sent] == [(DANA_UNSCHEDULED, text)]
    assert answer.body["note_id"] == sent[0]["note_id"]

    (kept,) = harness.kept_notes()
    assert kept["project_key"] == f"acme-corp#{DANA_UNSCHEDULED}"
    assert kept["note_key"] == f"{kept['created_at']}#{sent[0]['note_id']}"
    assert kept["note_text"] == text
    assert kept["customer_id"] == "CUST001"
    assert kept["session_id"] == session


def test_control_characters_are_stripped_before_the_note_goes_anywhere(
    harness: Harness, sandbox_control: SandboxControl
) -> None:
    raw = "\x00Gate\x07 code:\t4711\r\nRing\x1b[31m twice\u202e please\x7f\n\n\n\nThanks "
    answer = harness.call(
        NOTES, "/add_note", harness.session(DANA), project_id=DANA_SCHEDULED, note_text=raw
    )
    assert answer.status == 200, answer.body
    expected = "Gate code: 4711\nRing[31m twice please\n\nThanks"
    assert answer.body["note_text"] == expected
    assert [n["note_text"] for n in sandbox_control.notes()] == [expected]
    assert [n["note_text"] for n in harness.kept_notes()] == [expected]


def test_a_note_of_exactly_2000_characters_is_accepted(
    harness: Harness, sandbox_control: SandboxControl
) -> None:
    text = "x" * 2000
    answer = harness.call(
        NOTES, "/add_note", harness.session(DANA), project_id=DANA_SCHEDULED, note_text=text
    )
    assert answer.status == 200, answer.body
    assert [n["note_text"] for n in sandbox_control.notes()] == [text]


def test_adding_the_same_note_twice_adds_one_note(
    harness: Harness, sandbox_control: SandboxControl
) -> None:
    session = harness.session(DANA)
    first = harness.call(
        NOTES, "/add_note", session, project_id=DANA_UNSCHEDULED, note_text="Dog in the yard."
    )
    again = harness.call(
        NOTES, "/add_note", session, project_id=DANA_UNSCHEDULED, note_text=" Dog in the yard.\x00"
    )
    assert first.status == again.status == 200
    assert again.body == first.body
    assert len(sandbox_control.notes()) == 1
    assert len(harness.kept_notes()) == 1

    other = harness.call(
        NOTES, "/add_note", session, project_id=DANA_UNSCHEDULED, note_text="Cat in the yard."
    )
    assert other.status == 200 and other.body["note_id"] != first.body["note_id"]
    assert len(sandbox_control.notes()) == len(harness.kept_notes()) == 2


def test_get_notes_lists_the_notes_added_here_newest_first(harness: Harness) -> None:
    session = harness.session(DANA)
    for project_id, text in [
        (DANA_UNSCHEDULED, "First note."),
        (DANA_SCHEDULED, "Second note."),
        (DANA_UNSCHEDULED, "Third note."),
    ]:
        added = harness.call(NOTES, "/add_note", session, project_id=project_id, note_text=text)
        assert added.status == 200

    one = harness.call(NOTES, "/get_notes", session, project_id=DANA_UNSCHEDULED)
    assert one.status == 200
    assert [n["note_text"] for n in one.body["notes"]] == ["Third note.", "First note."]
    assert "added through this assistant" in one.body["message"]
    assert one.body["truncated"] is False
    assert one.body["notes"][0]["project_url"] == PORTAL + DANA_UNSCHEDULED

    every = harness.call(NOTES, "/get_notes", session)
    assert every.status == 200
    assert [n["note_text"] for n in every.body["notes"]] == [
        "Third note.",
        "Second note.",
        "First note.",
    ]
    assert "Third note." in every.body["message"]
    assert "ORD-2025-002" in every.body["message"]


def test_get_notes_without_notes_says_so_and_shows_no_one_elses(harness: Harness) -> None:
    dana = harness.session(DANA)
    harness.call(NOTES, "/add_note", dana, project_id=DANA_SCHEDULED, note_text="Dana's note.")

    luis = harness.call(NOTES, "/get_notes", harness.session(LUIS))
    assert luis.status == 200
    assert luis.body["notes"] == []
    assert "No notes have been added through this assistant" in luis.body["message"]


# ---------------------------------------------------------------------- notes: refused


@pytest.mark.parametrize(
    ("note_text", "words"),
    [
        ("", "empty"),
        ("   \n\t  ", "empty"),
        ("\x00\x07\x1b\u202e", "empty"),
        ("y" * 2001, "2000 characters"),
    ],
    ids=["empty", "whitespace", "only-control-characters", "oversized"],
)
def test_a_bad_note_is_refused_and_nothing_is_sent_or_kept(
    harness: Harness, sandbox_control: SandboxControl, note_text: str, words: str
) -> None:
    answer = harness.call(
        NOTES,
        "/add_note",
        harness.session(DANA),
        project_id=DANA_SCHEDULED,
        note_text=note_text,
    )
    assert_refused(answer, 400, words)
    assert_nothing_noted(harness, sandbox_control)


def test_a_note_without_its_text_parameter_is_refused(
    harness: Harness, sandbox_control: SandboxControl
) -> None:
    answer = harness.call(NOTES, "/add_note", harness.session(DANA), project_id=DANA_SCHEDULED)
    assert_refused(answer, 400, "empty")
    assert_nothing_noted(harness, sandbox_control)


@pytest.mark.parametrize("path", ["/add_note", "/get_notes"])
def test_notes_without_a_live_session_are_refused(
    harness: Harness, sandbox_control: SandboxControl, path: str
) -> None:
    for session, words in [
        (None, "sign in"),
        (f"sess_{uuid.uuid4().hex}", "expired"),
        (harness.session(DANA, expired=True), "expired"),
    ]:
        answer = harness.call(
            NOTES, path, session, project_id=DANA_SCHEDULED, note_text="Call me first."
        )
        assert_refused(answer, 401, *words.split())
    assert_nothing_noted(harness, sandbox_control)


@pytest.mark.parametrize("path", ["/add_note", "/get_notes"])
def test_notes_for_a_forged_customer_are_refused(
    harness: Harness, sandbox_control: SandboxControl, path: str
) -> None:
    answer = harness.call(
        NOTES,
        path,
        harness.session(DANA),
        customer_id="CUST101",
        project_id=DANA_SCHEDULED,
        note_text="Call me first.",
    )
    assert_refused(answer, 403, "your own")
    assert_nothing_noted(harness, sandbox_control)


@pytest.mark.parametrize("path", ["/add_note", "/get_notes"])
@pytest.mark.parametrize("project_id", [LUIS_PROJECT, AROHA_PROJECT])
def test_notes_on_a_project_not_on_the_dashboard_are_refused(
    harness: Harness, sandbox_control: SandboxControl, path: str, project_id: str
) -> None:
    answer = harness.call(
        NOTES,
        path,
        harness.session(DANA),
        project_id=project_id,
        note_text="Let me in.",
    )
    assert_refused(answer, 403, "not on your account")
    assert_nothing_noted(harness, sandbox_control)


def test_a_note_without_a_project_asks_which(
    harness: Harness, sandbox_control: SandboxControl
) -> None:
    answer = harness.call(NOTES, "/add_note", harness.session(DANA), note_text="Hello there.")
    assert_refused(answer, 400, "which project")
    assert_nothing_noted(harness, sandbox_control)


def test_a_pf360_fault_on_add_note_keeps_nothing_and_a_retry_then_works(
    harness: Harness, sandbox_control: SandboxControl
) -> None:
    session = harness.session(DANA)
    sandbox_control.add_fault("add_note", "status", status=503)
    failed = harness.call(
        NOTES, "/add_note", session, project_id=DANA_SCHEDULED, note_text="Back gate."
    )
    assert_refused(failed, 503, "try again")
    assert_nothing_noted(harness, sandbox_control)

    retried = harness.call(
        NOTES, "/add_note", session, project_id=DANA_SCHEDULED, note_text="Back gate."
    )
    assert retried.status == 200, retried.body
    assert len(sandbox_control.notes()) == len(harness.kept_notes()) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_a_pf360_refusal_of_the_note_becomes_a_sentence(
    harness: Harness, sandbox_control: SandboxControl, status: int
) -> None:
    sandbox_control.add_fault("add_note", "status", status=status)
    answer = harness.call(
        NOTES, "/add_note", harness.session(DANA), project_id=DANA_SCHEDULED, note_text="Hi."
    )
    assert_refused(answer, status)
    assert_nothing_noted(harness, sandbox_control)


def test_get_notes_during_a_pf360_outage_becomes_a_sentence(
    harness: Harness, sandbox_control: SandboxControl
) -> None:
    sandbox_control.add_fault("dashboard", "status", status=503)
    answer = harness.call(NOTES, "/get_notes", harness.session(DANA))
    assert_refused(answer, 503, "try again")
