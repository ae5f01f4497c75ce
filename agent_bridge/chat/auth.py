"""Customer identity: the JWT is validated here, and only its claims travel on.

Local mode: HS256 with a shared secret, issuer and audience that the local side gives
(`infra.local.dev_tokens.local_auth_config()`; tokens from `make token`). Other
environments: RS256 through the identity provider's JWKS, with issuer and audience checked. The
algorithm is pinned per mode (no `none`, no HS/RS confusion) and `exp` is required. The
token itself goes to the session store and to PF360's header, nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

HS256 = "HS256"
REQUIRED_CLAIMS = ("exp", "sub", "client_id")


class AuthError(Exception):
    """The request's credentials are not acceptable; `message` is safe to show."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    customer_id: str
    client_id: str
    client_name: str
    token: str
    # The OIDC `name` claim: a display name for operators' searches, never identity.
    name: str | None = None

    def __repr__(self) -> str:  # never the token
        return f"Identity(customer_id={self.customer_id!r}, client_id={self.client_id!r})"


@dataclass(frozen=True)
class AuthConfig:
    mode: str  # "local" (HS256 dev secret) or "jwks" (RS256)
    issuer: str
    audience: str
    jwks_url: str = ""
    hs256_secret: str = ""
    leeway_seconds: int = 30

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> AuthConfig:
        mode = environ.get("AUTH_MODE", "local").strip().lower()
        if mode == "local":
            names = ("DEV_JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE")
            missing = [n for n in names if not environ.get(n)]
            if missing:
                raise ValueError(
                    f"AUTH_MODE=local needs {', '.join(missing)}; allowed: the shared HS256 "
                    "secret, issuer and audience of the local dev tokens"
                )
            return cls(
                mode="local",
                issuer=environ["JWT_ISSUER"],
                audience=environ["JWT_AUDIENCE"],
                hs256_secret=environ["DEV_JWT_SECRET"],
            )
        if mode == "jwks":
            missing = [n for n in ("JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE") if not environ.get(n)]
            if missing:
                raise ValueError(
                    f"AUTH_MODE=jwks needs {', '.join(missing)}; allowed: the identity "
                    "provider's JWKS URL, its issuer and this API's audience"
                )
            return cls(
                mode="jwks",
                issuer=environ["JWT_ISSUER"],
                audience=environ["JWT_AUDIENCE"],
                jwks_url=environ["JWKS_URL"],
            )
        raise ValueError(f"AUTH_MODE={mode!r} is not valid; allowed: local, jwks")


class TokenValidator:
    """Validates bearer tokens for one configuration."""

    def __init__(self, config: AuthConfig, *, jwks_timeout: float = 5.0) -> None:
        self.config = config
        self._jwks = (
            jwt.PyJWKClient(config.jwks_url, cache_keys=True, timeout=int(jwks_timeout))
            if config.mode == "jwks"
            else None
        )

    def validate(self, authorization: str | None) -> Identity:
        token = bearer_token(authorization)
        key: Any
        if self._jwks is not None:
            algorithms = ["RS256"]
            try:
                key = self._jwks.get_signing_key_from_jwt(token).key
            except jwt.PyJWKClientConnectionError:
                raise AuthError(
                    "We could not check your sign-in right now; please try again shortly.",
                    "JWKS_UNAVAILABLE",
                ) from None
            except jwt.PyJWTError:
                raise AuthError(
                    "Your sign-in is not valid; please sign in again.", "BAD_KEY"
                ) from None
        else:
            algorithms, key = [HS256], self.config.hs256_secret
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("Your sign-in has expired; please sign in again.", "EXPIRED") from None
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
            raise AuthError(
                "Your sign-in is not for this service; please sign in again.", "WRONG_AUDIENCE"
            ) from None
        except jwt.PyJWTError:
            raise AuthError("Your sign-in is not valid; please sign in again.", "INVALID") from None
        customer_id, client_id = str(claims["sub"]).strip(), str(claims["client_id"]).strip()
        if not customer_id or not client_id or claims.get("scope") == "service":
            raise AuthError("Your sign-in is not valid; please sign in again.", "BAD_CLAIMS")
        return Identity(
            customer_id=customer_id,
            client_id=client_id,
            client_name=str(claims.get("client_name") or client_id),
            token=token,
            name=display_name(claims.get("name")),
        )


def display_name(claim: object) -> str | None:
    """The `name` claim as one line of at most 200 characters, or None when absent or
    not text (it is shown to operators, never used to decide anything)."""
    if not isinstance(claim, str):
        return None
    text = " ".join(claim.split())[:200]
    return text or None


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, or AuthError."""
    if not authorization:
        raise AuthError("Please sign in first.", "MISSING")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or token.count(".") != 2 or " " in token:
        raise AuthError("Your sign-in is not valid; please sign in again.", "MALFORMED")
    return token
