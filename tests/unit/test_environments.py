"""infra/envs/*.json: one file per environment, checked against the template and the seed.

The seed's Appendix A gives the PF360 base URL of each environment; its Phase 2/5 test
matrix puts test mode in dev and real bookings in qa (and prod, after the rollout).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.local.template_loader import TEMPLATE_PATH, read_template
from tasks.config import load_settings

ENVS = Path(__file__).resolve().parents[2] / "infra" / "envs"
SEED_BASE_URLS = {  # the customer's plan, Appendix A
    "dev": "https://api.dev.projectsforce.com",
    "qa": "https://api.qa.projectsforce.com",
    "staging": "https://api.staging.projectsforce.com",
    "prod": "https://api.projectsforce.com",
}


def environment(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ENVS / f"{name}.json").read_text())
    return data


def test_there_is_one_file_per_environment_of_the_template() -> None:
    allowed = read_template()["Parameters"]["Environment"]["AllowedValues"]
    assert sorted(p.stem for p in ENVS.glob("*.json")) == sorted(allowed) == sorted(SEED_BASE_URLS)


@pytest.mark.parametrize("name", sorted(SEED_BASE_URLS))
def test_every_environment_sets_every_template_parameter_validly(name: str) -> None:
    template = read_template(TEMPLATE_PATH)
    declared = template["Parameters"]
    values = environment(name)["parameters"]
    assert sorted(values) == sorted(declared), "set every declared parameter, nothing else"
    for parameter, value in values.items():
        spec = declared[parameter]
        assert isinstance(value, str), f"{name}.{parameter}: a string, as sam deploy passes it"
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], (name, parameter, value)
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), (name, parameter, value)
    assert values["Environment"] == name
    assert environment(name)["stack_name"] == f"pf360-scheduler-{name}"


@pytest.mark.parametrize("name", sorted(SEED_BASE_URLS))
def test_the_base_urls_are_the_seeds(name: str) -> None:
    assert environment(name)["parameters"]["CustomerSchedulerBaseApiUrl"] == SEED_BASE_URLS[name]


@pytest.mark.parametrize("name", sorted(SEED_BASE_URLS))
def test_each_environment_is_a_configuration_the_functions_accept(name: str) -> None:
    """The variables the template derives from the parameters pass tasks/config.py."""
    p = environment(name)["parameters"]
    settings = load_settings(
        {
            "AWS_LAMBDA_FUNCTION_NAME": f"scheduling-actions-{name}",
            "ENVIRONMENT": p["Environment"],
            "CUSTOMER_SCHEDULER_BASE_API_URL": p["CustomerSchedulerBaseApiUrl"],
            "USE_REAL_API": p["UseRealApi"],
            "CONFIRM_SCHEDULE_FLAG": p["ConfirmScheduleFlag"],
            "CANCEL_SCHEDULE_FLAG": p["CancelScheduleFlag"],
            "API_TIMEOUT": p["ApiTimeoutSeconds"],
            "TENANT_TIMEZONE": p["TenantTimezone"],
            "TENANT_TIMEZONES": p["TenantTimezones"],
            "FLAGS_MAX_AGE_SECONDS": p["FlagsMaxAgeSeconds"],
        }
    )
    assert settings.environment == name
    assert settings.base_api_url == SEED_BASE_URLS[name]


def test_qa_and_prod_book_for_real_and_dev_does_not() -> None:
    for name in ("qa", "prod"):
        p = environment(name)["parameters"]
        assert (p["ConfirmScheduleFlag"], p["CancelScheduleFlag"]) == ("1", "1"), name
    dev = environment("dev")["parameters"]
    assert (dev["ConfirmScheduleFlag"], dev["CancelScheduleFlag"]) == ("0", "0")
    assert dev["UseRealApi"] == "true"  # the seed's Phase 2: the real dev API, test mode
    assert environment("qa")["parameters"]["UseRealApi"] == "true"


def test_initial_flag_documents_are_valid_feature_flag_schemas() -> None:
    from aws_lambda_powertools.utilities.feature_flags import SchemaValidator

    for name in SEED_BASE_URLS:
        document = environment(name)["initial_flags"]
        assert isinstance(document, dict)
        if document:
            SchemaValidator(schema=document).validate()
