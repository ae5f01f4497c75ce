"""`make bench`, `make load` and friends are not run by `make test`, so a module they import
that moves away would only show when someone measures: their entry points must import."""

from __future__ import annotations

import importlib

import pytest

ENTRY_POINTS = [
    "tests.bench.bench",
    "tests.bench.bench_workflow",
    "tests.bench.bench_rollback",
    "tests.bench.direct_design",
    "tests.bench.caller",
    "tests.bench.turn_cpu",
    "tests.bench.turn_timeline",
    "tests.load.serve",
    "tests.load.run_load",
]


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_the_measurement_entry_point_imports(module: str) -> None:
    importlib.import_module(module)
