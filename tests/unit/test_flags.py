"""Flag settings, the no-store path and the rules flagctl writes (no AWS needed here).

The store itself (AppConfig through Powertools) is tested on the local stack in
tests/integration/test_runtime_flags.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.feature_flags import FeatureFlags, StoreProvider

from infra import flagctl
from tasks import flags
from tasks.config import ConfigError, load_settings


def test_no_flag_store_means_the_variables_decide() -> None:
    settings = load_settings(
        {
            "USE_REAL_API": "true",
            "CUSTOMER_SCHEDULER_BASE_API_URL": "https://api.qa.projectsforce.com",
            "CONFIRM_SCHEDULE_FLAG": "1",
        }
    )
    assert settings.flags_application == ""
    result = flags.evaluate(settings, client_id="acme-corp", customer_id="CUST001")
    assert result == flags.TenantFlags(True, True, False, source="environment")
    applied = flags.for_tenant(settings, client_id="acme-corp", customer_id="CUST001")
    assert (applied.use_real_api, applied.confirm_schedule, applied.cancel_schedule) == (
        True,
        True,
        False,
    )


def test_flag_store_settings_are_read_and_checked() -> None:
    settings = load_settings(
        {
            "FLAGS_APPLICATION": "abc1234",
            "FLAGS_ENVIRONMENT": "def5678",
            "FLAGS_PROFILE": "ghi9012",
            "FLAGS_MAX_AGE_SECONDS": "0",
        }
    )
    assert (settings.flags_application, settings.flags_max_age) == ("abc1234", 0)
    assert load_settings({}).flags_max_age == 5
    with pytest.raises(ConfigError, match="FLAGS_ENVIRONMENT or FLAGS_PROFILE"):
        load_settings({"FLAGS_APPLICATION": "abc1234"})
    with pytest.raises(ConfigError, match=r"FLAGS_MAX_AGE_SECONDS='soon'.*0 to 300"):
        load_settings({"FLAGS_MAX_AGE_SECONDS": "soon"})


def test_a_deployed_function_without_environment_fails_loudly() -> None:
    """The seed's rollback (`update-function-configuration --environment
    Variables={USE_REAL_API=false}`) leaves only that variable: never run as dev then."""
    replaced = {"AWS_LAMBDA_FUNCTION_NAME": "scheduling-actions-prod", "USE_REAL_API": "false"}
    with pytest.raises(ConfigError, match="ENVIRONMENT is not set in this Lambda function"):
        load_settings(replaced)
    # Outside Lambda (tests, tools) the default stays dev.
    assert load_settings({"USE_REAL_API": "false"}).environment == "dev"
    assert load_settings({**replaced, "ENVIRONMENT": "prod"}).environment == "prod"


class _Document(StoreProvider):
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    @property
    def get_raw_configuration(self) -> dict[str, Any]:
        return self.document

    def get_configuration(self) -> dict[str, Any]:
        return self.document


class _Recording(flagctl.FlagStore):
    """A FlagStore whose publish keeps the document instead of calling AppConfig."""

    def __init__(self, defaults: dict[str, bool]) -> None:
        super().__init__(
            appconfig=None,
            environment="prod",
            application_id="a",
            environment_id="e",
            profile_id="p",
            strategy_id="s",
            defaults=defaults,
        )
        self.document: dict[str, Any] = {}

    def current(self) -> tuple[int | None, dict[str, Any]]:
        return 1, dict(self.document)

    def publish(self, document: dict[str, Any], description: str) -> flagctl.Change:
        self.document = document
        return flagctl.Change(2, 2, 0.0, description)


def evaluate(document: dict[str, Any], client_id: str, customer_id: str) -> bool:
    context = {"client_id": client_id, "customer_id": customer_id, "environment": "prod"}
    value = FeatureFlags(store=_Document(document)).evaluate(
        name="use_real_api", context=context, default=False
    )
    return bool(value)


def test_rules_written_by_flagctl_pick_the_customer_before_the_client() -> None:
    store = _Recording({"use_real_api": False})
    store.add_rule("use_real_api", True, "acme-corp", None)
    store.add_rule("use_real_api", False, "acme-corp", "CUST002")
    document = store.document
    assert document["use_real_api"]["default"] is False  # the deployed variable
    assert evaluate(document, "acme-corp", "CUST001") is True
    assert evaluate(document, "acme-corp", "CUST002") is False
    assert evaluate(document, "sunrise-homes", "CUST101") is False

    store.add_rule("use_real_api", True, "acme-corp", "CUST002")  # replaces, not adds
    assert len(store.document["use_real_api"]["rules"]) == 2
    assert evaluate(store.document, "acme-corp", "CUST002") is True
    store.remove_rule("use_real_api", "acme-corp", None)
    assert evaluate(store.document, "acme-corp", "CUST001") is False
    with pytest.raises(flagctl.FlagError, match="has no rule for acme-corp"):
        store.remove_rule("use_real_api", "acme-corp", None)


def test_flagctl_refuses_unknown_flags_and_environments() -> None:
    store = _Recording({})
    with pytest.raises(flagctl.FlagError, match="Unknown flag 'real_api'"):
        store.set_flag("real_api", True)
    with pytest.raises(flagctl.FlagError, match="no environment 'production'"):
        flagctl.read_env_file("production")


def test_flagctl_without_credentials_stops_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert flagctl.main(["--env", "prod", "rollback"]) == 2
    assert "No AWS credentials found" in capsys.readouterr().err
