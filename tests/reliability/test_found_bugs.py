"""Bugs the randomized conversations found, each kept as the short reproduction it shrank to.

Every test drives the deployed action Lambdas on the local stack as Bedrock does and holds
the answer against the sandbox ledger: what the customer was told must be what PF360 did.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from agent_bridge.flow_driver import FlowView, execution_arn_of
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tasks import checkpoint
from tests.integration.workflow_helpers import Flows, timezone_of

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

UNSCHEDULED, SCHEDULED = "12345", "12346"  # CUST001's


@pytest.fixture
def flows(local_stack: LocalStack, sandbox_control: SandboxControl) -> Flows:
    return Flows.on(local_stack, sandbox_control)


def answered(flows: Flows, session_id: str) -> None:
    """Until the waiting step has been answered (the flow is on its way to PF360)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        item = flows.driver.table.get_item(Key={"session_id": session_id}, ConsistentRead=True)
        if item.get("Item", {}).get("answered_seq") is not None:
            return
        time.sleep(0.005)
    raise AssertionError("the confirmation never reached the flow")


def test_a_new_booking_does_not_drop_a_confirmation_that_is_already_booking(
    flows: Flows,
) -> None:
    """Shrunk from a run ending in `confirm_while_starting_another`: the customer confirms a
    time and, while PF360 is taking that booking, the agent starts a booking for the
    customer's other project. The first flow booked; it was reported as "dropped". Once the
    new booking waited for it instead, the confirmation could be answered with the new
    flow's first offer (the session's checkpoint had moved on to it): it must be answered by
    its own flow's outcome."""
    session = flows.session()
    slots = flows.to_slots(session, UNSCHEDULED)
    at = slots.offer["times"][0]
    flows.sandbox.add_fault("schedule", "timeout", delay_ms=900)  # slow, inside the 1 s timeout

    def start_other() -> FlowView:
        answered(flows, session.session_id)
        return flows.driver.start_booking(session, SCHEDULED, timezone_of(session))

    with ThreadPoolExecutor(2) as pool:
        confirming = pool.submit(flows.driver.resume, session.session_id, {"time": at})
        other = pool.submit(start_other)
        confirmed, started = confirming.result(), other.result()
    books = flows.books()
    assert len(books) == 1, books  # the confirmed booking went through ...
    # ... and the confirmation says so, not "the earlier one was dropped".
    assert confirmed.outcome == "booked", confirmed
    assert (confirmed.result["date"], confirmed.result["time"]) == (books[0]["date"], at)
    # The new booking starts once the first has finished.
    assert started.project_id == SCHEDULED, started
    assert started.step == "await_date", started


def test_a_confirmation_is_answered_by_its_own_flow_while_a_newer_one_is_still_starting(
    flows: Flows,
) -> None:
    """The same race made deterministic (it failed CI once): the confirmation's flow has
    booked and ended, and the agent's new booking has claimed the session's item but not yet
    started its execution. The confirmation's answer is its own booking, not the new flow's
    "still working"."""
    session = flows.session()
    flows.to_slots(session, UNSCHEDULED)
    answered_flow = checkpoint.read(flows.driver.table, session.session_id)
    assert answered_flow is not None and answered_flow.execution_arn
    at = answered_flow.offer["times"][0]
    done = flows.driver.resume(session.session_id, {"time": at})
    assert done.outcome == "booked", done
    # (The claim names the new flow's execution, which does not exist yet.)
    not_started = execution_arn_of(flows.driver.booking_arn, "book-not-started-yet")
    checkpoint.claim(
        flows.driver.table, session.session_id, uuid.uuid4().hex, SCHEDULED, not_started
    )

    view = flows.driver.wait_for_change(
        session.session_id, answered_flow.seq, deadline=2.0, flow=answered_flow
    )

    assert view.flow_id == answered_flow.flow_id, view
    assert view.outcome == "booked", view
    assert view.result["time"] == at, view
