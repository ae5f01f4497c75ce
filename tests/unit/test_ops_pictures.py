"""The pieces of the operator's views that need no AWS: the operator cause's one-line
reading, the triage classes, the graph's layout and marks from the ASL itself, the funnel
chart, and the split of a task error into the customer's sentence and the operator's cause."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

from ops.funnel import Funnel
from ops.funnel import render_svg as funnel_svg
from ops.graph import Marks, ranks, render_svg
from ops.triage import failure_class, operator_text
from tasks.flow_errors import PF360_AUTH, from_pf360, message_in_cause, operator_in_cause
from tasks.pf360 import PF360Timeout, PF360Unauthorized

ROOT = Path(__file__).resolve().parents[2]
BOOKING = json.loads((ROOT / "workflows" / "booking.asl.json").read_text())
SVG = "{http://www.w3.org/2000/svg}"


def test_operator_text_reads_like_a_support_ticket() -> None:
    assert (
        operator_text(
            {
                "endpoint": "schedule",
                "status": 503,
                "upstream_code": "SERVICE_UNAVAILABLE",
                "attempts": 4,
                "elapsed_ms": 12,
                "request_id": "sbx-1",
            }
        )
        == "PF360 schedule: HTTP 503 (SERVICE_UNAVAILABLE), 4 attempts, last 12 ms, request sbx-1"
    )
    timeout = {"code": "PF360_TIMEOUT", "endpoint": "dates", "timeout_seconds": 2.0}
    assert (
        operator_text({**timeout, "attempts": 1}) == "PF360 dates: no answer within 2 s, 1 attempt"
    )
    dropped = {"code": "PF360_UNAVAILABLE", "endpoint": "slots", "status": None}
    assert operator_text(dropped) == "PF360 slots: no answer (connection failed)"
    assert operator_text({"code": "SLOT_GONE", "state": "ReplayBook"}) == "ReplayBook: SLOT_GONE"
    assert operator_text(None) == ""


def test_triage_classes_come_from_the_code_alone() -> None:
    assert failure_class("PF360_UNAVAILABLE") == "system"
    assert failure_class("PF360_AUTH") == "system"
    assert failure_class("INTERNAL_ERROR") == "system"
    assert failure_class("PF360_CONFLICT") == "customer"
    assert failure_class("SLOT_GONE") == "customer"
    assert failure_class(None) is None


def test_a_task_error_carries_both_sentences_and_never_a_token() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    pf360 = PF360Unauthorized(f"bad token Bearer {token}", endpoint="dates", status=401)
    pf360.elapsed_ms, pf360.request_id = 7, "req-9"
    error = from_pf360(pf360)
    assert isinstance(error, PF360_AUTH)
    payload = json.dumps({"errorMessage": str(error), "errorType": "PF360_AUTH"})
    assert token not in payload
    assert message_in_cause(payload) == "Your session has expired; please sign in again."
    operator = operator_in_cause(payload)
    assert operator is not None
    assert (operator["endpoint"], operator["status"], operator["request_id"]) == (
        "dates",
        401,
        "req-9",
    )
    timeout = from_pf360(PF360Timeout("no reply within 2s", endpoint="schedule"))
    assert operator_in_cause(str(timeout)) == {
        "code": "PF360_TIMEOUT",
        "endpoint": "schedule",
        "timeout_seconds": None,
        "detail": "no reply within 2s",
    }
    # A cause without the operator part (an older execution, a signal) reads as before.
    plain = json.dumps({"errorMessage": "That date is not available."})
    assert message_in_cause(plain) == "That date is not available."
    assert operator_in_cause(plain) is None


def test_the_graph_layout_comes_from_the_asl() -> None:
    rank = ranks(BOOKING)
    assert rank["Route"] == 0
    assert rank["AwaitDate"] == rank["ReplayBook"] == 1
    assert [rank[s] for s in ("AwaitSlot", "Book")] == [2, 3]
    # The unknown-outcome loop hangs below Book: look, decide, then wait or end.
    assert rank["VerifyBooking"] == 4 and rank["BookingSettled"] == 5
    assert rank["WaitToVerifyBooking"] == rank["BookingVerified"] == 6
    # Finish is reached only through Catch: below the deepest state that catches into it.
    assert rank["Finish"] == 7 and rank["Ended"] == 8 and rank["Failed"] == rank["Done"] == 9


def test_the_graph_marks_the_path_retries_waits_and_failures() -> None:
    marks = Marks(
        path=["Route", "AwaitDate", "AwaitSlot", "Book", "Finish"],
        attempts={"Book": 4, "AwaitDate": 1},
        failed="Book",
    )
    svg = ElementTree.fromstring(render_svg(BOOKING, marks))
    states = {
        g.get("data-state"): g.get("class") for g in svg.iter(f"{SVG}g") if g.get("data-state")
    }
    assert set(states) == set(BOOKING["States"])
    assert states["Book"] == "state failed type-task retried"
    assert states["AwaitDate"] == "state visited type-task"
    assert states["ReplayBook"] == "state node type-task"
    taken = {
        (p.get("data-from"), p.get("data-to"))
        for p in svg.iter(f"{SVG}path")
        if "taken" in (p.get("class") or "")
    }
    assert taken == set(zip(marks.path, marks.path[1:], strict=False))
    waiting = ElementTree.fromstring(render_svg(BOOKING, Marks(path=["Route"], waiting="Route")))
    assert any(g.get("class") == "state waiting type-choice" for g in waiting.iter(f"{SVG}g"))


def test_names_in_the_pictures_are_escaped() -> None:
    hostile = {
        "StartAt": "<script>",
        "States": {"<script>": {"Type": "Pass", "Next": "B&B"}, "B&B": {"Type": "Succeed"}},
    }
    svg = render_svg(hostile, Marks(path=["<script>"]), title="</title><script>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ElementTree.fromstring(svg)  # well-formed
    chart = funnel_svg(Funnel(since="<b>", until="now", counts={"started": 2, "booked": 1}))
    assert "<b>" not in chart
    bars = {
        g.get("data-key"): g.get("data-count")
        for g in ElementTree.fromstring(chart).iter(f"{SVG}g")
        if g.get("data-key")
    }
    assert bars["started"] == "2" and bars["booked"] == "1" and bars["failed"] == "0"
