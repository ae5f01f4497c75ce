"""Stop's rule for an Await state whose task is still fetching its offer: it waits for the
task to park, and refuses (says so) if it does not within the time it gives it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ops.stop import _parked

FLOW = {"session_id": "s", "flow_id": "f"}


class OneItem:
    def __init__(self, item: dict[str, Any] | None) -> None:
        self.item = item

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {"Item": self.item} if self.item else {}


def ctx_with(item: dict[str, Any] | None) -> Any:
    return SimpleNamespace(flows_table=OneItem(item))


@pytest.mark.parametrize(
    ("item", "parked"),
    [
        ({"session_id": "s", "flow_id": "f", "step": "await_date", "task_token": "t"}, True),
        ({"session_id": "s", "flow_id": "other", "step": "starting"}, True),  # moved on
        (None, True),
        ({"session_id": "s", "flow_id": "f", "step": "done"}, True),  # it ended meanwhile
        ({"session_id": "s", "flow_id": "f", "step": "starting"}, False),  # still fetching
        # The date was answered: AwaitSlot's task is fetching the times (the item still holds
        # AwaitDate's used token until it parks).
        (
            {
                "session_id": "s",
                "flow_id": "f",
                "step": "await_date",
                "task_token": "used",
                "seq": 3,
                "answered_seq": 3,
            },
            False,
        ),
    ],
)
def test_stop_waits_for_an_await_state_to_park(item: dict[str, Any] | None, parked: bool) -> None:
    assert _parked(ctx_with(item), FLOW, seconds=0) is parked
