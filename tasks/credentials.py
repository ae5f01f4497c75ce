"""Where a task gets its PF360 credential: the customer's session, or a service token.

Interactive flows act with the customer's own token from the session store. A replay
runs when the customer's session may be long gone, so it uses the tenant's service token
from Secrets Manager (a JSON object `{client_id: token}`). Either way the token goes into
the PF360 client's header and nowhere else.
"""

from __future__ import annotations

import json
from typing import Any

from tasks import aws_clients
from tasks.config import Settings
from tasks.flow_errors import SERVICE_TOKEN_MISSING, SESSION_EXPIRED
from tasks.flow_input import FlowInput
from tasks.pf360 import PF360Api, make_client
from tasks.session_record import read_session


def session_token(settings: Settings, session_id: str) -> str:
    table = aws_clients.table(settings.sessions_table, settings.aws_region)
    record = read_session(table, session_id)
    if record is None:
        raise SESSION_EXPIRED()
    return record.auth_token


def service_token(settings: Settings, client_id: str) -> str:
    secrets: Any = aws_clients.client("secretsmanager", settings.aws_region)
    try:
        raw = secrets.get_secret_value(SecretId=settings.service_tokens_secret)["SecretString"]
        token = json.loads(raw).get(client_id)
    except (secrets.exceptions.ResourceNotFoundException, ValueError, AttributeError):
        token = None
    if not token:
        raise SERVICE_TOKEN_MISSING(
            f"No PF360 service token is stored for client {client_id}; an operator must add "
            f"it to the secret {settings.service_tokens_secret}."
        )
    return str(token)


def flow_token(settings: Settings, flow: FlowInput) -> str:
    """The credential this flow acts with: the customer's, or the tenant's for a replay."""
    if flow.replay is not None:
        return service_token(settings, flow.tenant.client_id)
    return session_token(settings, flow.session_id)


def client_for_flow(settings: Settings, flow: FlowInput, token: str) -> PF360Api:
    """The PF360 client for this flow's tenant with `token` (`settings` with its flags)."""
    return make_client(
        settings,
        client_id=flow.tenant.client_id,
        client_name=flow.tenant.client_name,
        auth_token=token,
    )


def pf360_for_flow(settings: Settings, flow: FlowInput) -> PF360Api:
    """The PF360 client this flow acts through, with the right credential."""
    return client_for_flow(settings, flow, flow_token(settings, flow))
