"""The randomized-conversation property test (machine.py), in two sizes.

`make test` runs the `small` profile: a few derandomized runs (the same ones every time), well
under a minute. `make soak` runs the `soak` profile: random runs for SOAK_SECONDS (default
600), a progress line per run, and build/soak.json with what it tried and what it found.
The profile is chosen by RELIABILITY_PROFILE (small | soak).
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.internal.conjecture import engine
from hypothesis.stateful import run_state_machine_as_test

from tests.reliability.machine import ConversationMachine, World

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

PROFILE = os.environ.get("RELIABILITY_PROFILE", "small")
SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
SOAK_REPORT = Path(os.environ.get("SOAK_REPORT", "build/soak.json"))

settings.register_profile(
    "small",
    max_examples=3,
    stateful_step_count=10,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
settings.register_profile(
    "soak",
    max_examples=5,  # per batch; batches run until SOAK_SECONDS is spent
    stateful_step_count=20,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    derandomize=False,
    database=None,  # a failure is reported once (with its shrunk steps), not replayed
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)

# The terminal, kept before any capture replaces fd 2 (soak progress goes there).
_TERMINAL = os.dup(2)


def say(line: str) -> None:
    os.write(_TERMINAL, (line + "\n").encode())


def test_randomized_conversations_keep_every_invariant(world: World) -> None:
    ConversationMachine.world = world
    if PROFILE == "soak":
        soak(world)
        return
    run_state_machine_as_test(ConversationMachine, settings=settings.get_profile(PROFILE))
    assert world.stats.examples >= 3 and world.stats.steps >= 10, world.stats.to_dict()


# Each run of a conversation takes seconds, so shrinking a failure is bounded well below
# Hypothesis' own five minutes (its engine reads this constant when it starts shrinking).
SHRINK_SECONDS = int(os.environ.get("SOAK_SHRINK_SECONDS", "150"))


def soak(world: World) -> None:
    started = time.monotonic()
    engine.MAX_SHRINKING_SECONDS = SHRINK_SECONDS  # type: ignore[misc]
    failures: list[dict[str, Any]] = []
    batches = 0
    while time.monotonic() - started < SOAK_SECONDS:
        batches += 1
        try:
            run_state_machine_as_test(ConversationMachine, settings=settings.get_profile("soak"))
        except Exception as error:
            failures.append(
                {
                    "error": f"{type(error).__name__}: {error}"[:3000],
                    "reproduction": list(getattr(error, "__notes__", [])),
                    "where": traceback.format_exception(error)[-3:],
                }
            )
            say(f"[soak] FAILURE {len(failures)}: {type(error).__name__}: {str(error)[:300]}")
        stats = world.stats
        say(
            f"[soak {time.monotonic() - started:5.0f}s/{SOAK_SECONDS:.0f}s] batches={batches} "
            f"examples={stats.examples} steps={stats.steps} calls={stats.calls} "
            f"faults={sum(stats.faults.values())} failures={len(failures)}"
        )
    report = {
        "profile": "soak",
        "seconds": round(time.monotonic() - started, 1),
        "batches": batches,
        **world.stats.to_dict(),
        "failures_found": len(failures),
        "failures": failures,
    }
    SOAK_REPORT.parent.mkdir(parents=True, exist_ok=True)
    SOAK_REPORT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    say(
        f"[soak] wrote {SOAK_REPORT}: {report['steps']} steps, {report['faults_total']} faults, "
        f"{report['examples']} runs, {report['failures_found']} failure(s)"
    )
    assert failures == [], json.dumps(failures, indent=2, ensure_ascii=False)[:5000]
