"""Configuration: the seed's environment variables, validated once, in one place.

A bad value stops start-up with a message that names the variable and what it may be,
instead of surfacing later as a confusing PF360 or DynamoDB error.

Lambda handlers read `current_settings()`: the function's own environment, on AWS and in
the local stack's execution environments (worker processes) alike. `function_environment`
overrides it for code that runs a handler inside another process (tests, the old thread
runtime kept for comparison).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlparse

import pytz

EnvironmentName = Literal["dev", "qa", "staging", "prod"]
ENVIRONMENTS: tuple[str, ...] = get_args(EnvironmentName)

DEFAULT_TENANT_TIMEZONE = "America/New_York"
DEFAULT_CREATED_AT_TIMEZONE = "Asia/Kolkata"
DEFAULT_API_TIMEOUT_SECONDS = 20.0
MAX_API_TIMEOUT_SECONDS = 300.0
DEFAULT_FLAGS_MAX_AGE_SECONDS = 5
MAX_FLAGS_MAX_AGE_SECONDS = 300


class ConfigError(ValueError):
    """A configuration variable holds a value the system cannot run with."""


@dataclass(frozen=True)
class Settings:
    """Everything the tasks, the bridge and the chat API read from the environment."""

    environment: EnvironmentName = "dev"
    base_api_url: str = ""
    use_real_api: bool = False
    confirm_schedule: bool = False
    cancel_schedule: bool = False
    api_timeout: float = DEFAULT_API_TIMEOUT_SECONDS
    aws_region: str = "us-east-1"
    sessions_table: str = "bedrock-sessions-dev"
    flows_table: str = "scheduler-flows-dev"
    notes_table: str = "scheduler-notes-dev"
    idempotency_table: str = "scheduler-idempotency-dev"
    executions_table: str = "scheduler-executions-dev"
    ops_audit_table: str = "scheduler-ops-audit-dev"
    service_tokens_secret: str = "pf360/service-tokens/dev"
    booking_state_machine_arn: str = ""
    cancellation_state_machine_arn: str = ""
    tenant_timezone: str = DEFAULT_TENANT_TIMEZONE
    tenant_timezones: Mapping[str, str] = field(default_factory=dict)
    created_at_timezone: str = DEFAULT_CREATED_AT_TIMEZONE
    # The runtime flag store (AWS AppConfig, read through Powertools Feature Flags); empty
    # application = no store, the three flags above are the whole truth (tasks/flags.py).
    flags_application: str = ""
    flags_environment: str = ""
    flags_profile: str = ""
    flags_max_age: int = DEFAULT_FLAGS_MAX_AGE_SECONDS

    def timezone_for(self, client_id: str) -> str:
        """The tenant's time zone: its own entry in TENANT_TIMEZONES, else TENANT_TIMEZONE."""
        return self.tenant_timezones.get(client_id, self.tenant_timezone)


_function_environ: ContextVar[Mapping[str, str] | None] = ContextVar(
    "function_environ", default=None
)


@contextmanager
def function_environment(environ: Mapping[str, str]) -> Iterator[None]:
    """Run the enclosed code with `environ` as the Lambda function's environment."""
    token = _function_environ.set(environ)
    try:
        yield
    finally:
        _function_environ.reset(token)


def current_environ() -> Mapping[str, str]:
    """The environment of the function being run: its own mapping locally, else os.environ."""
    override = _function_environ.get()
    return override if override is not None else os.environ


def current_settings() -> Settings:
    """Settings for the code running now (validated on every call; it is cheap)."""
    return load_settings(current_environ())


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every variable; raise ConfigError naming the first bad one."""
    env = os.environ if environ is None else environ
    _require_environment_in_lambda(env)
    environment = _choice(env, "ENVIRONMENT", ENVIRONMENTS, "dev")
    use_real_api = _boolean(env, "USE_REAL_API", default=False)
    base_api_url = env.get("CUSTOMER_SCHEDULER_BASE_API_URL", "").strip().rstrip("/")
    if base_api_url:
        parsed = urlparse(base_api_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(
                f"CUSTOMER_SCHEDULER_BASE_API_URL={base_api_url!r} is not valid; "
                "allowed: an http:// or https:// URL such as https://api.dev.projectsforce.com"
            )
    elif use_real_api:
        raise ConfigError(
            "CUSTOMER_SCHEDULER_BASE_API_URL is not set; it is required when USE_REAL_API=true "
            "(allowed: an http:// or https:// URL)"
        )
    return Settings(
        environment=environment,  # type: ignore[arg-type]
        base_api_url=base_api_url,
        use_real_api=use_real_api,
        confirm_schedule=_flag(env, "CONFIRM_SCHEDULE_FLAG"),
        cancel_schedule=_flag(env, "CANCEL_SCHEDULE_FLAG"),
        api_timeout=_timeout(env, "API_TIMEOUT"),
        aws_region=_region(env),
        sessions_table=_name(env, "DYNAMODB_SESSION_TABLE", f"bedrock-sessions-{environment}"),
        flows_table=_name(env, "FLOWS_TABLE", f"scheduler-flows-{environment}"),
        notes_table=_name(env, "NOTES_TABLE", f"scheduler-notes-{environment}"),
        idempotency_table=_name(env, "IDEMPOTENCY_TABLE", f"scheduler-idempotency-{environment}"),
        executions_table=_name(env, "EXECUTIONS_TABLE", f"scheduler-executions-{environment}"),
        ops_audit_table=_name(env, "OPS_AUDIT_TABLE", f"scheduler-ops-audit-{environment}"),
        service_tokens_secret=_secret_id(
            env, "SERVICE_TOKENS_SECRET", f"pf360/service-tokens/{environment}"
        ),
        booking_state_machine_arn=_arn(env, "BOOKING_STATE_MACHINE_ARN", "states"),
        cancellation_state_machine_arn=_arn(env, "CANCELLATION_STATE_MACHINE_ARN", "states"),
        tenant_timezone=_timezone(env, "TENANT_TIMEZONE", DEFAULT_TENANT_TIMEZONE),
        tenant_timezones=_timezone_map(env, "TENANT_TIMEZONES"),
        created_at_timezone=_timezone(
            env, "PF360_CREATED_AT_TIMEZONE", DEFAULT_CREATED_AT_TIMEZONE
        ),
        **_flag_store(env),
    )


def _require_environment_in_lambda(env: Mapping[str, str]) -> None:
    """In a deployed function a missing ENVIRONMENT is a broken deployment, never "dev".

    `aws lambda update-function-configuration --environment Variables={...}` replaces every
    variable; falling back to dev would point a prod function at dev's tables.
    """
    if env.get("AWS_LAMBDA_FUNCTION_NAME") and not env.get("ENVIRONMENT", "").strip():
        raise ConfigError(
            "ENVIRONMENT is not set in this Lambda function; allowed: "
            f"{', '.join(ENVIRONMENTS)}. Its variables were probably replaced by "
            "`update-function-configuration --environment`; redeploy with `make deploy` "
            "and change flags with `make rollback` / `make flags` instead"
        )


def _flag_store(env: Mapping[str, str]) -> dict[str, Any]:
    application = env.get("FLAGS_APPLICATION", "").strip()
    store: dict[str, Any] = {
        "flags_application": application,
        "flags_environment": env.get("FLAGS_ENVIRONMENT", "").strip(),
        "flags_profile": env.get("FLAGS_PROFILE", "").strip(),
    }
    if application and not (store["flags_environment"] and store["flags_profile"]):
        raise ConfigError(
            "FLAGS_APPLICATION is set but FLAGS_ENVIRONMENT or FLAGS_PROFILE is not; "
            "allowed: all three AppConfig identifiers, or none (no runtime flag store)"
        )
    raw = env.get("FLAGS_MAX_AGE_SECONDS", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) > MAX_FLAGS_MAX_AGE_SECONDS:
            raise ConfigError(
                f"FLAGS_MAX_AGE_SECONDS={raw!r} is not valid; allowed: a whole number of "
                f"seconds from 0 to {MAX_FLAGS_MAX_AGE_SECONDS}"
            )
        store["flags_max_age"] = int(raw)
    return store


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = env.get(name, default).strip().lower() or default
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not valid; allowed: {', '.join(allowed)}")
    return value


def _boolean(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ConfigError(f"{name}={raw!r} is not valid; allowed: true, false")


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "0").strip() or "0"
    if raw not in ("0", "1"):
        raise ConfigError(
            f"{name}={raw!r} is not valid; allowed: 0 (test mode, nothing is changed) or 1"
        )
    return raw == "1"


def _timeout(env: Mapping[str, str], name: str) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return DEFAULT_API_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_API_TIMEOUT_SECONDS:
        raise ConfigError(
            f"{name}={raw!r} is not valid; allowed: a number of seconds above 0 "
            f"and at most {MAX_API_TIMEOUT_SECONDS:g}"
        )
    return value


def _region(env: Mapping[str, str]) -> str:
    value = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1").strip()
    parts = value.split("-")
    if len(parts) < 3 or not parts[-1].isdigit():
        raise ConfigError(
            f"AWS_REGION={value!r} is not valid; allowed: an AWS region such as us-east-1"
        )
    return value


def _name(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not all(ch.isalnum() or ch in "-_." for ch in value) or not 3 <= len(value) <= 255:
        raise ConfigError(
            f"{name}={value!r} is not valid; allowed: 3-255 letters, digits, '-', '_' or '.'"
        )
    return value


def _secret_id(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not all(ch.isalnum() or ch in "/_+=.@-:" for ch in value) or len(value) > 2048:
        raise ConfigError(
            f"{name}={value!r} is not valid; allowed: a Secrets Manager secret name or ARN"
        )
    return value


def _arn(env: Mapping[str, str], name: str, service: str) -> str:
    value = env.get(name, "").strip()
    if value and (not value.startswith("arn:") or f":{service}:" not in value):
        raise ConfigError(
            f"{name}={value!r} is not valid; allowed: an ARN like arn:aws:{service}:<region>:..."
        )
    return value


def _timezone(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if value not in pytz.all_timezones_set:
        raise ConfigError(
            f"{name}={value!r} is not valid; allowed: an IANA time zone such as "
            "America/New_York or Asia/Kolkata"
        )
    return value


def _timezone_map(env: Mapping[str, str], name: str) -> dict[str, str]:
    raw = env.get(name, "").strip()
    result: dict[str, str] = {}
    if not raw:
        return result
    for entry in raw.split(","):
        client_id, sep, zone = entry.partition("=")
        if not sep or not client_id.strip() or zone.strip() not in pytz.all_timezones_set:
            raise ConfigError(
                f"{name} entry {entry.strip()!r} is not valid; allowed: "
                "comma-separated client_id=IANA time zone pairs, "
                "e.g. acme-corp=America/New_York,sunrise-homes=Pacific/Honolulu"
            )
        result[client_id.strip()] = zone.strip()
    return result
