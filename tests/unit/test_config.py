"""Configuration: good values load, bad values stop start-up naming the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tasks.config import (
    ConfigError,
    current_settings,
    function_environment,
    load_settings,
)


def test_defaults_follow_the_seed() -> None:
    settings = load_settings({})
    assert settings.environment == "dev"
    assert settings.use_real_api is False
    assert settings.confirm_schedule is False
    assert settings.cancel_schedule is False
    assert settings.api_timeout == 20.0
    assert settings.aws_region == "us-east-1"
    assert settings.sessions_table == "bedrock-sessions-dev"
    assert settings.created_at_timezone == "Asia/Kolkata"


def test_values_are_read_and_normalised() -> None:
    settings = load_settings(
        {
            "ENVIRONMENT": "PROD",
            "USE_REAL_API": "true",
            "CUSTOMER_SCHEDULER_BASE_API_URL": "https://api.projectsforce.com/",
            "CONFIRM_SCHEDULE_FLAG": "1",
            "CANCEL_SCHEDULE_FLAG": "0",
            "API_TIMEOUT": "7.5",
            "AWS_REGION": "eu-west-1",
            "DYNAMODB_SESSION_TABLE": "bedrock-sessions-prod",
            "TENANT_TIMEZONE": "America/Chicago",
            "TENANT_TIMEZONES": "acme-corp=America/New_York, sunrise-homes=Pacific/Auckland",
        }
    )
    assert settings.environment == "prod"
    assert settings.base_api_url == "https://api.projectsforce.com"
    assert settings.use_real_api and settings.confirm_schedule and not settings.cancel_schedule
    assert settings.api_timeout == 7.5
    assert settings.aws_region == "eu-west-1"
    assert settings.timezone_for("sunrise-homes") == "Pacific/Auckland"
    assert settings.timezone_for("unknown-client") == "America/Chicago"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"API_TIMEOUT": "abc"}, ["API_TIMEOUT='abc'", "number of seconds"]),
        ({"API_TIMEOUT": "0"}, ["API_TIMEOUT='0'"]),
        ({"API_TIMEOUT": "-3"}, ["API_TIMEOUT='-3'"]),
        ({"ENVIRONMENT": "moon"}, ["ENVIRONMENT='moon'", "dev, qa, staging, prod"]),
        ({"CONFIRM_SCHEDULE_FLAG": "2"}, ["CONFIRM_SCHEDULE_FLAG='2'", "0", "1"]),
        ({"CANCEL_SCHEDULE_FLAG": "yes"}, ["CANCEL_SCHEDULE_FLAG='yes'"]),
        ({"USE_REAL_API": "maybe"}, ["USE_REAL_API='maybe'", "true, false"]),
        ({"USE_REAL_API": "true"}, ["CUSTOMER_SCHEDULER_BASE_API_URL is not set"]),
        ({"CUSTOMER_SCHEDULER_BASE_API_URL": "ftp://x"}, ["CUSTOMER_SCHEDULER_BASE_API_URL="]),
        ({"AWS_REGION": "mars"}, ["AWS_REGION='mars'"]),
        ({"TENANT_TIMEZONE": "Mars/Olympus"}, ["TENANT_TIMEZONE='Mars/Olympus'", "IANA"]),
        ({"TENANT_TIMEZONES": "acme-corp"}, ["TENANT_TIMEZONES entry 'acme-corp'"]),
        ({"PF360_CREATED_AT_TIMEZONE": "IST"}, ["PF360_CREATED_AT_TIMEZONE='IST'"]),
        ({"FLOWS_TABLE": "bad table!"}, ["FLOWS_TABLE='bad table!'"]),
    ],
)
def test_bad_values_name_the_variable_and_the_allowed_values(
    environ: dict[str, str], names: list[str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)
    for fragment in names:
        assert fragment in str(raised.value)


def test_function_environment_overrides_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "qa")
    assert current_settings().environment == "qa"
    with function_environment({"ENVIRONMENT": "staging"}):
        assert current_settings().environment == "staging"
    assert current_settings().environment == "qa"


def test_a_bad_value_stops_start_up_of_a_process() -> None:
    """The self-check Lambda (and every entry point) refuses to start on a bad value."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tasks.config import load_settings; load_settings()",
        ],
        env={"API_TIMEOUT": "abc", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "API_TIMEOUT='abc' is not valid" in result.stderr
