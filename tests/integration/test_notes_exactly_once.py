"""Notes exactly once, under faults: the deployed notes Lambda, the PF360 sandbox's ledger of
notes, and what the customer was told, for every fault.

PF360 has no endpoint to read notes back, so a note whose answer was lost cannot be checked:
it is kept here as unconfirmed, the customer is told exactly that, and it is never sent a
second time. A gateway's "unavailable" (429, 502-504) means it was never processed: nothing
is kept and a retry sends it. Text that cannot be stored is refused before anything is sent.
"""

from __future__ import annotations

import pytest

from infra.local.pf360_sandbox import SandboxControl
from tests.integration.test_information_and_notes_actions import (
    DANA,
    DANA_SCHEDULED,
    NOTES,
    Harness,
    assert_nothing_noted,
    assert_refused,
    harness,  # noqa: F401 (the fixture)
)
from tests.integration.workflow_helpers import wait_for_late_request

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "text",
    ["Gate code \ud800 1234", "\udfff", "emoji half \ud83d"],
    ids=["lone-high", "lone-low", "half-an-emoji"],
)
def test_a_note_that_cannot_be_stored_is_refused_before_anything_is_sent(
    harness: Harness,  # noqa: F811 (the imported fixture)
    sandbox_control: SandboxControl,
    text: str,
) -> None:
    session = harness.session(DANA)
    for _ in range(2):  # the agent's retry is refused the same way
        answer = harness.call(
            NOTES, "/add_note", session, project_id=DANA_SCHEDULED, note_text=text
        )
        assert_refused(answer, 400, "can't be saved")
    assert_nothing_noted(harness, sandbox_control)
    assert all(r["endpoint"] != "add_note" for r in sandbox_control.requests())


@pytest.mark.parametrize(
    ("kind", "status"),
    [("drop-after-commit", None), ("timeout", None), ("status", 500)],
    ids=["dropped-after-commit", "timeout", "500"],
)
def test_a_note_whose_answer_is_lost_is_kept_unconfirmed_and_never_sent_twice(
    harness: Harness,  # noqa: F811 (the imported fixture)
    sandbox_control: SandboxControl,
    kind: str,
    status: int | None,
) -> None:
    session = harness.session(DANA)
    sandbox_control.add_fault("add_note", kind, status=status, delay_ms=1500)
    first = harness.call(
        NOTES, "/add_note", session, project_id=DANA_SCHEDULED, note_text="Back gate is open."
    )
    assert first.status == 200, first.body
    assert first.body["confirmed"] is False
    assert "didn't confirm" in first.body["message"]
    assert "won't send it again" in first.body["message"]
    retried = harness.call(
        NOTES, "/add_note", session, project_id=DANA_SCHEDULED, note_text="Back gate is open."
    )
    assert retried.body == first.body
    if kind == "timeout":
        wait_for_late_request(sandbox_control, "add_note")
    sends = [r for r in sandbox_control.requests() if r["endpoint"] == "add_note"]
    assert len(sends) == 1, sends  # sent once, whatever the agent does
    happened = [n["note_text"] for n in sandbox_control.notes()]
    # What PF360 did: a committed fault kept it once; a 500 kept nothing. Never twice.
    assert happened == ([] if kind == "status" else ["Back gate is open."])
    (kept,) = harness.kept_notes()
    assert kept["confirmed"] is False
    listed = harness.call(NOTES, "/get_notes", session, project_id=DANA_SCHEDULED)
    assert "not confirmed by the scheduling system" in listed.body["message"]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_note_pf360_never_processed_is_not_kept_and_a_retry_sends_it_once(
    harness: Harness,  # noqa: F811 (the imported fixture)
    sandbox_control: SandboxControl,
    status: int,
) -> None:
    session = harness.session(DANA)
    sandbox_control.add_fault("add_note", "status", status=status)
    failed = harness.call(
        NOTES, "/add_note", session, project_id=DANA_SCHEDULED, note_text="Ring twice."
    )
    assert failed.status >= 400
    assert_nothing_noted(harness, sandbox_control)
    retried = harness.call(
        NOTES, "/add_note", session, project_id=DANA_SCHEDULED, note_text="Ring twice."
    )
    assert retried.status == 200 and retried.body.get("confirmed") is None
    assert [n["note_text"] for n in sandbox_control.notes()] == ["Ring twice."]
    (kept,) = harness.kept_notes()
    assert "confirmed" not in kept
