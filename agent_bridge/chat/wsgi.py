"""The chat API outside the local stack: Bedrock runtime, RS256/JWKS auth, from the environment.

    waitress-serve --port 8080 --call agent_bridge.chat.wsgi:create_production_app

Needs AUTH_MODE=jwks with JWKS_URL, JWT_ISSUER and JWT_AUDIENCE; BEDROCK_AGENT_ID and
BEDROCK_AGENT_ALIAS_ID (the template's SupervisorAgentId / SupervisorAgentAliasId outputs);
and the table settings of tasks/config.py. A missing or bad value stops start-up naming it.

With OPS_TOKEN set (at least 16 characters) the operations console is mounted under /ops:
readable by whoever reaches it, replays only with that token. Serve it only where
operators alone can reach it (an internal listener or a path rule), or leave OPS_TOKEN
unset and use `schedctl`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import boto3
from botocore.config import Config
from flask import Flask

from agent_bridge.chat.app import create_app
from agent_bridge.chat.auth import AuthConfig, TokenValidator
from agent_bridge.chat.bedrock_runtime import BedrockAgentRuntime
from agent_bridge.sessions import SessionStore
from ops.context import OpsContext
from ops.web import ops_console
from tasks.config import ConfigError, load_settings

BEDROCK_TIMEOUTS = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2})
MIN_OPS_TOKEN_CHARS = 16


def create_production_app(environ: Mapping[str, str] | None = None) -> Flask:
    env = os.environ if environ is None else environ
    settings = load_settings(env)
    mode = env.get("AUTH_MODE", "local").strip().lower()
    if mode != "jwks" and settings.environment != "dev":
        raise ConfigError(
            f"AUTH_MODE={mode!r} is not allowed in ENVIRONMENT={settings.environment}; "
            "allowed: jwks (dev secrets are for local runs only)"
        )
    auth = AuthConfig.from_environ(env)
    missing = [n for n in ("BEDROCK_AGENT_ID", "BEDROCK_AGENT_ALIAS_ID") if not env.get(n)]
    if missing:
        raise ConfigError(f"{', '.join(missing)} not set; allowed: the supervisor agent's ids")
    runtime = BedrockAgentRuntime(
        boto3.client(
            "bedrock-agent-runtime", region_name=settings.aws_region, config=BEDROCK_TIMEOUTS
        ),
        env["BEDROCK_AGENT_ID"],
        env["BEDROCK_AGENT_ALIAS_ID"],
    )
    table = boto3.resource("dynamodb", region_name=settings.aws_region).Table(
        settings.sessions_table
    )
    app = create_app(
        validator=TokenValidator(auth),
        sessions=SessionStore(table),
        runtime=runtime,
        environment=settings.environment,
    )
    ops_token = env.get("OPS_TOKEN", "")
    if ops_token:
        if len(ops_token) < MIN_OPS_TOKEN_CHARS:
            raise ConfigError(
                f"OPS_TOKEN is too short; allowed: at least {MIN_OPS_TOKEN_CHARS} characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(24))')"
            )
        environment, region = settings.environment, settings.aws_region
        app.register_blueprint(
            ops_console(lambda: OpsContext(environment=environment, region=region), ops_token)
        )
    return app
