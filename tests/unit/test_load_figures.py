"""`make load`'s per-level Lambda figures: differences of the runtime's cumulative counts."""

from __future__ import annotations

from tests.load.run_load import lambda_figures


def function(invocations: int, cold: int, init: float, max_env: int = 1) -> dict[str, float]:
    return {
        "invocations": invocations,
        "cold_starts": cold,
        "init_ms_total": init,
        "throttles": 0,
        "timeouts": 0,
        "max_environments": max_env,
    }


def test_a_level_counts_only_what_happened_during_it() -> None:
    before = {"functions": {"actions": function(10, 2, 200.0)}, "environments": 2}
    after = {
        "functions": {
            "actions": function(25, 5, 560.5, max_env=5),
            "book": function(4, 1, 90.0),  # first invoked during the level
            "idle": function(0, 0, 0.0),  # never invoked: left out
        },
        "environments": 6,
    }

    figures = lambda_figures(before, after)

    assert figures["functions"] == {
        "actions": {
            "invocations": 15,
            "cold_starts": 3,
            "init_ms_total": 360.5,
            "throttles": 0,
            "timeouts": 0,
            "max_environments": 5,
        },
        "book": {**function(4, 1, 90.0), "max_environments": 1},
    }
    assert (figures["invocations"], figures["cold_starts"], figures["init_ms_total"]) == (
        19,
        4,
        450.5,
    )
    assert figures["environments_at_end"] == 6
