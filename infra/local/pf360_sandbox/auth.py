"""Who is calling: bearer-token verification and the customer/client boundary checks.

Tokens are the dev HS256 tokens of `infra.local.dev_tokens`. PyJWT checks signature,
audience, issuer and `exp` against real time; `exp` is then checked against the sandbox
clock too, which never runs behind real time, so advancing the clock expires tokens as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from infra.local.dev_tokens import (
    ALGORITHM,
    DEV_AUDIENCE,
    DEV_ISSUER,
    SERVICE_SCOPE,
    SERVICE_SUBJECT_PREFIX,
    dev_secret,
)

from .errors import forbidden, unauthorized


@dataclass(frozen=True)
class Caller:
    """A verified token: a customer of one client, or a service acting for that client."""

    subject: str
    client_id: str
    is_service: bool

    @property
    def customer_id(self) -> str | None:
        """The customer a customer token speaks for; None for a service token."""
        return None if self.is_service else self.subject

    def may_act_for(self, customer_id: str) -> bool:
        """A customer acts only for itself; a service for any customer of its client."""
        return self.is_service or self.subject == customer_id


def verify_bearer(authorization: str | None, now: float) -> Caller:
    """Turn an `authorization` header into a Caller, or raise a 401 ApiError."""
    if not authorization:
        raise unauthorized("An authorization header with a Bearer token is required.")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("The authorization header must be 'Bearer <token>'.")
    try:
        claims = jwt.decode(
            token,
            dev_secret(),
            algorithms=[ALGORITHM],
            audience=DEV_AUDIENCE,
            issuer=DEV_ISSUER,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("The token has expired.") from None
    except jwt.InvalidTokenError:
        raise unauthorized("The token is not valid.") from None
    exp = claims["exp"]
    if isinstance(exp, int | float) and exp <= now:
        raise unauthorized("The token has expired.")
    return _caller_from_claims(claims)


def _caller_from_claims(claims: dict[str, object]) -> Caller:
    """Check the claims the sandbox relies on and classify the token."""
    subject = claims.get("sub")
    client_id = claims.get("client_id")
    if not isinstance(subject, str) or not subject or not isinstance(client_id, str):
        raise unauthorized("The token lacks a subject or a client_id claim.")
    if claims.get("scope") == SERVICE_SCOPE:
        if subject != f"{SERVICE_SUBJECT_PREFIX}{client_id}":
            raise unauthorized("The service token's subject does not match its client.")
        return Caller(subject, client_id, is_service=True)
    if subject.startswith(SERVICE_SUBJECT_PREFIX):
        raise unauthorized("A service subject needs the service scope.")
    return Caller(subject, client_id, is_service=False)


def check_client(caller: Caller, client_id: str, client_id_header: str | None) -> None:
    """403 when the path or the `client_id` header names a client other than the token's."""
    if client_id_header is not None and client_id_header.strip() != caller.client_id:
        raise forbidden("The client_id header does not match the token's client.")
    if client_id != caller.client_id:
        raise forbidden("This token may not access another client's data.")


def check_customer(caller: Caller, customer_id: str) -> None:
    """403 when a customer token reaches for another customer's data."""
    if not caller.may_act_for(customer_id):
        raise forbidden("This token may not access another customer's data.")
