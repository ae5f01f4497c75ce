"""Issue 12's cases as conversations of the state machine, step by step: the harness must see
each one (counted as known while its fix has not landed here), and once the fix has landed
the same conversation must keep every invariant, including the truth on the next turn."""

from __future__ import annotations

import pytest

from tests.reliability.machine import ISSUE_12_PENDING, ConversationMachine, World

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]


def run(world: World, case: str, steps: list[tuple[str, dict[str, object]]]) -> None:
    machine = ConversationMachine()
    try:
        for name, arguments in steps:
            getattr(machine, name)(**arguments)
            machine.told_equals_happened()
        machine.final_checks()
    finally:
        machine.expire_leftovers()
    seen = world.stats.known_issue_12[case]
    if case in ISSUE_12_PENDING:
        assert seen >= 1, f"the harness did not see issue 12's case {case!r}"
    else:
        assert seen == 0


def test_a_booking_that_committed_while_every_check_failed(world: World) -> None:
    """The booking POST commits but the connection drops, and every dashboard read of the
    flow fails (the bridge's own read passes): the customer must not hear "try again"."""
    run(
        world,
        "told failed, but booked",
        [
            ("ask_dates", {"actor": "dana", "role": "unscheduled"}),
            ("pick_date", {"actor": "dana", "role": "unscheduled", "choice": "offered0"}),
            (
                "pf360_fault",
                {"endpoint": "schedule", "kind": "drop-after-commit", "count": 1, "skip": 0},
            ),
            ("pf360_fault", {"endpoint": "dashboard", "kind": "503", "count": 4, "skip": 1}),
            (
                "confirm",
                {
                    "actor": "dana",
                    "role": "unscheduled",
                    "date_choice": "current",
                    "time_choice": "offered0",
                },
            ),
        ],
    )


def test_a_cancel_that_went_through_while_its_verification_failed(world: World) -> None:
    """PF360 cancels, then every verification read fails: "cancelled", not "try again"."""
    run(
        world,
        "told failed, but cancelled",
        [
            ("pf360_fault", {"endpoint": "dashboard", "kind": "503", "count": 4, "skip": 2}),
            ("cancel", {"actor": "dana", "role": "scheduled"}),
        ],
    )


def test_a_flow_whose_session_expired_does_not_wait_out_its_timeout(world: World) -> None:
    run(
        world,
        "parked flow of an expired session",
        [
            ("ask_dates", {"actor": "luis", "role": "unscheduled"}),
            ("session_expires", {"actor": "luis"}),
        ],
    )
