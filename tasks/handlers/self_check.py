"""Self-check Lambda: proves a deployment can run our code with a valid configuration."""

from __future__ import annotations

from typing import Any

from tasks.config import ConfigError, current_settings


class ConfigurationInvalid(Exception):
    """Raised (and so reported as the execution's error) when a variable is bad."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Validate the settings and report the non-secret ones."""
    try:
        settings = current_settings()
    except ConfigError as exc:
        raise ConfigurationInvalid(str(exc)) from exc
    return {
        "ok": True,
        "function": getattr(context, "function_name", None),
        "environment": settings.environment,
        "use_real_api": settings.use_real_api,
        "confirm_schedule": settings.confirm_schedule,
        "cancel_schedule": settings.cancel_schedule,
        "api_timeout": settings.api_timeout,
        "tables": {
            "sessions": settings.sessions_table,
            "flows": settings.flows_table,
            "notes": settings.notes_table,
            "idempotency": settings.idempotency_table,
        },
        "echo": event.get("echo") if isinstance(event, dict) else None,
    }
