"""schedctl's option parsing that needs no stack: ages and ISO moments for --since."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from ops.cli import parse_since, schedctl

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("2h", NOW - timedelta(hours=2)),
        ("7d", NOW - timedelta(days=7)),
        (" 45s ", NOW - timedelta(seconds=45)),
        ("1w", NOW - timedelta(weeks=1)),
        ("2026-11-24", datetime(2026, 11, 24, tzinfo=UTC)),
        ("2026-11-24T08:30", datetime(2026, 11, 24, 8, 30, tzinfo=UTC)),
        ("2026-11-24T08:30:00Z", datetime(2026, 11, 24, 8, 30, tzinfo=UTC)),
        (
            "2026-11-24T08:30:00+13:00",
            datetime(2026, 11, 24, 8, 30, tzinfo=timezone(timedelta(hours=13))),
        ),
    ],
)
def test_since_accepts_ages_and_iso_moments(text: str, expected: datetime) -> None:
    moment = parse_since(text, now=NOW)
    assert moment == expected and moment.tzinfo is not None


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "-5m", "30 minutes", ""])
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_since(text, now=NOW)


def test_a_bad_since_is_a_usage_error_before_any_aws_call() -> None:
    result = CliRunner().invoke(schedctl, ["failures", "--since", "soon"])
    assert result.exit_code == 2
    assert "'soon' is neither an age like 30m, 2h, 7d nor an ISO date/time" in result.stderr
    assert result.stdout == ""


def test_every_command_has_help() -> None:
    for args in (["--help"], ["executions", "list", "-h"], ["replay", "-h"], ["audit", "-h"]):
        result = CliRunner().invoke(schedctl, args)
        assert result.exit_code == 0 and "Usage: schedctl" in result.stdout
