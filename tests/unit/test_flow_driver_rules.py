"""The flow driver's pure rules: checking an answer against the offer, and reading an
execution that ended without a checkpoint (the cancellation flow always; a booking when
its last task could not write)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent_bridge.flow_driver import (
    BOOKING_FAILED_MESSAGE,
    ENDED_MESSAGE,
    STATUS_DONE,
    STATUS_WAITING,
    STATUS_WORKING,
    FlowView,
    check_answer,
    ended_execution_result,
    execution_name,
)
from tasks.checkpoint import Checkpoint


def checkpoint_at(step: str, offer: dict[str, Any], token: str | None = "tok") -> Checkpoint:
    return Checkpoint(session_id="s", flow_id="f", step=step, offer=offer, task_token=token)


DATES: dict[str, Any] = {"dates": ["2026-03-03", "2026-03-04"]}
TIMES: dict[str, Any] = {"date": "2026-03-03", "times": ["08:00", "09:00"]}


@pytest.mark.parametrize(
    ("step", "offer", "answer", "problem"),
    [
        ("await_date", DATES, {"date": "2026-03-04"}, None),
        ("await_date", DATES, {"date": "2026-03-07"}, "2026-03-07 is not available"),
        ("await_date", DATES, {"time": "08:00"}, "Please pick a date first"),
        ("await_slot", TIMES, {"time": "09:00"}, None),
        ("await_slot", TIMES, {"another_date": True}, None),
        ("await_slot", TIMES, {"time": "12:00"}, "12:00 is not free on 2026-03-03"),
        ("await_slot", TIMES, {"date": "2026-03-04"}, "Please pick a time"),
        ("done", {}, {"time": "08:00"}, ENDED_MESSAGE),
    ],
)
def test_check_answer_against_the_stored_offer(
    step: str, offer: dict[str, Any], answer: dict[str, Any], problem: str | None
) -> None:
    found = check_answer(checkpoint_at(step, offer), answer)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_flow_view_status_follows_the_checkpoint() -> None:
    assert FlowView.of(checkpoint_at("await_date", DATES)).status == STATUS_WAITING
    assert FlowView.of(checkpoint_at("await_date", DATES, token=None)).status == STATUS_WORKING
    assert FlowView.of(checkpoint_at("starting", {})).status == STATUS_WORKING
    assert FlowView.of(checkpoint_at("done", {})).status == STATUS_DONE
    assert "task_token" not in FlowView.of(checkpoint_at("await_date", DATES)).to_dict()


def test_a_succeeded_execution_is_read_from_its_output() -> None:
    output = {"outcome": "cancelled", "message": "Your appointment is cancelled."}
    message, result = ended_execution_result(
        {"status": "SUCCEEDED", "output": json.dumps(output)}, "fallback"
    )
    assert (message, result) == ("Your appointment is cancelled.", output)


def test_a_failed_execution_keeps_its_operator_code_and_customer_sentence() -> None:
    message, result = ended_execution_result(
        {"status": "FAILED", "error": "PF360_AUTH", "cause": "Please sign in again."},
        BOOKING_FAILED_MESSAGE,
    )
    assert message == "Please sign in again."
    assert result == {"outcome": "failed", "error": "PF360_AUTH", "cause": "Please sign in again."}


@pytest.mark.parametrize(
    "described",
    [
        {"status": "FAILED", "error": "States.Runtime", "cause": "KeyError in a task"},
        {"status": "ABORTED"},
        {"status": "TIMED_OUT", "error": "States.Timeout"},
    ],
)
def test_other_endings_get_the_fallback_sentence(described: dict[str, str]) -> None:
    message, result = ended_execution_result(described, BOOKING_FAILED_MESSAGE)
    assert message == BOOKING_FAILED_MESSAGE
    assert result["outcome"] == "failed" and result["error"]


def test_execution_names_are_readable_unique_and_safe() -> None:
    name = execution_name("book", "acme corp", "CUST/001", "12345", "0123456789abcdef0123")
    assert name == "book-acme_corp-CUST_001-12345-0123456789abcdef"
    assert len(execution_name("book", "c" * 99, "u" * 99, "p" * 99, "f" * 99)) <= 80
