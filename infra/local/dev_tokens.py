"""Dev tokens: HS256 JWTs that the PF360 sandbox (and, locally, the chat API) accept.

Customer tokens carry `sub` = customer id, `client_id`, `client_name`, `exp` and, when
given, the OIDC `name` claim (the customer's display name).
Service tokens carry `sub` = `service:<client_id>` and `scope` = `service`; a replay uses
one because the customer's own session may be long gone. Local use only: on AWS,
customer tokens come from the customer's identity provider (RS256 through JWKS).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jwt

from agent_bridge.chat.auth import HS256, AuthConfig

DEV_JWT_SECRET_ENV = "DEV_JWT_SECRET"
DEFAULT_DEV_JWT_SECRET = "pf360-local-dev-secret-not-for-production-use"
DEV_ISSUER = "pf360-local"
DEV_AUDIENCE = "pf360-scheduler"
ALGORITHM = HS256
SERVICE_SCOPE = "service"
SERVICE_SUBJECT_PREFIX = "service:"


def dev_secret() -> str:
    """The HS256 secret shared by the token helper, the sandbox and the local chat API."""
    return os.environ.get(DEV_JWT_SECRET_ENV) or DEFAULT_DEV_JWT_SECRET


def local_auth_config() -> AuthConfig:
    """How the local chat API validates these tokens (the production validator, HS256)."""
    return AuthConfig(
        mode="local", issuer=DEV_ISSUER, audience=DEV_AUDIENCE, hs256_secret=dev_secret()
    )


def local_auth_environ() -> dict[str, str]:
    """The same as variables, for code that reads `AuthConfig.from_environ`."""
    return {
        "AUTH_MODE": "local",
        "DEV_JWT_SECRET": dev_secret(),
        "JWT_ISSUER": DEV_ISSUER,
        "JWT_AUDIENCE": DEV_AUDIENCE,
    }


def mint_customer_token(
    customer_id: str,
    client_id: str,
    client_name: str | None = None,
    *,
    ttl_seconds: int = 3600,
    secret: str | None = None,
    now: float | None = None,
    name: str | None = None,
) -> str:
    """A customer's token, as the identity provider would issue it (without 'Bearer '):
    with the OIDC `name` claim when the customer's display name is given."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {
        "sub": customer_id,
        "client_id": client_id,
        "client_name": client_name or client_id,
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, secret or dev_secret(), algorithm=ALGORITHM)


def mint_service_token(
    client_id: str,
    *,
    ttl_seconds: int = 86400,
    secret: str | None = None,
    now: float | None = None,
) -> str:
    """A per-client service token: acts for any customer of that one client."""
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": f"{SERVICE_SUBJECT_PREFIX}{client_id}",
        "client_id": client_id,
        "client_name": client_id,
        "scope": SERVICE_SCOPE,
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode(claims, secret or dev_secret(), algorithm=ALGORITHM)


def main(argv: list[str] | None = None) -> int:
    """`make token CUSTOMER=CUST001 CLIENT=acme-corp`: print a customer token (no 'Bearer ')."""
    parser = argparse.ArgumentParser(description="Print a dev JWT for a sandbox customer.")
    parser.add_argument("--customer", required=True, help="customer id, e.g. CUST001")
    parser.add_argument("--client", required=True, help="client id, e.g. acme-corp")
    parser.add_argument("--client-name", default=None)
    parser.add_argument("--name", default=None, help="the customer's display name (OIDC name)")
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    args = parser.parse_args(argv)
    if not args.customer.strip() or not args.client.strip() or args.ttl <= 0:
        print("CUSTOMER and CLIENT must be set and the TTL positive.", file=sys.stderr)
        return 2
    print(
        mint_customer_token(
            args.customer, args.client, args.client_name, ttl_seconds=args.ttl, name=args.name
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
