"""The production entry point refuses to start without what it needs, naming it."""

from __future__ import annotations

import pytest

from agent_bridge.chat.wsgi import create_production_app
from tasks.config import ConfigError

JWKS = {
    "AUTH_MODE": "jwks",
    "JWKS_URL": "https://id.example.test/.well-known/jwks.json",
    "JWT_ISSUER": "https://id.example.test/",
    "JWT_AUDIENCE": "pf360-chat",
}


def test_dev_secret_auth_is_refused_outside_dev() -> None:
    with pytest.raises(ConfigError, match="AUTH_MODE='local' is not allowed in ENVIRONMENT=prod"):
        create_production_app({"ENVIRONMENT": "prod", "AUTH_MODE": "local"})


def test_the_bedrock_agent_ids_are_required() -> None:
    with pytest.raises(ConfigError, match="BEDROCK_AGENT_ID, BEDROCK_AGENT_ALIAS_ID not set"):
        create_production_app({"ENVIRONMENT": "prod", **JWKS})


def test_a_complete_configuration_builds_the_app() -> None:
    app = create_production_app(
        {
            "ENVIRONMENT": "qa",
            "AWS_REGION": "us-east-1",
            "BEDROCK_AGENT_ID": "AGENT1234",
            "BEDROCK_AGENT_ALIAS_ID": "ALIAS1234",
            **JWKS,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["environment"] == "qa"
    assert app.test_client().get("/api/local/customers").status_code == 404


COMPLETE = {
    "ENVIRONMENT": "qa",
    "AWS_REGION": "us-east-1",
    "BEDROCK_AGENT_ID": "AGENT1234",
    "BEDROCK_AGENT_ALIAS_ID": "ALIAS1234",
    **JWKS,
}


def test_the_ops_console_is_mounted_only_with_an_ops_token() -> None:
    without = create_production_app(COMPLETE).test_client()
    assert without.post("/ops/executions/book-x/replay").status_code == 404
    with_token = create_production_app({**COMPLETE, "OPS_TOKEN": "x" * 24}).test_client()
    refused = with_token.post("/ops/executions/book-x/replay?format=json", data={})
    assert refused.status_code == 403 and "ops token" in refused.get_json()["error"]


def test_a_short_ops_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="OPS_TOKEN is too short"):
        create_production_app({**COMPLETE, "OPS_TOKEN": "short"})
