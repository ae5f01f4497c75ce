"""JWT validation: HS256 dev tokens locally, RS256 through a real JWKS endpoint elsewhere."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agent_bridge.chat.auth import AuthConfig, AuthError, TokenValidator
from infra.local.dev_tokens import local_auth_config, mint_customer_token, mint_service_token
from tests.integration.identity_provider import AUDIENCE, ISSUER, KID, IdentityProvider


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    try:
        yield provider
    finally:
        provider.close()


@pytest.fixture(scope="module")
def rsa_key(idp: IdentityProvider) -> rsa.RSAPrivateKey:
    return idp.key


def rs256(key: rsa.RSAPrivateKey, **overrides: Any) -> str:
    return jwt.encode(
        {
            k: v
            for k, v in {
                "sub": "CUST001",
                "client_id": "acme-corp",
                "client_name": "acme-corp",
                "iss": ISSUER,
                "aud": AUDIENCE,
                "iat": int(time.time()),
                "exp": int(time.time()) + 600,
                **overrides,
            }.items()
            if v is not None
        },
        key,
        algorithm="RS256",
        headers={"kid": KID},
    )


@pytest.fixture(scope="module")
def remote(idp: IdentityProvider) -> TokenValidator:
    return TokenValidator(AuthConfig.from_environ(idp.environ()))


def local() -> TokenValidator:
    return TokenValidator(local_auth_config())


def refused(validator: TokenValidator, header: str | None, reason: str) -> AuthError:
    with pytest.raises(AuthError) as raised:
        validator.validate(header)
    assert raised.value.reason == reason
    assert "eyJ" not in raised.value.message
    return raised.value


def test_local_dev_token_is_accepted() -> None:
    identity = local().validate("Bearer " + mint_customer_token("CUST001", "acme-corp"))
    assert (identity.customer_id, identity.client_id) == ("CUST001", "acme-corp")
    assert "eyJ" not in repr(identity)


def test_local_refusals() -> None:
    validator = local()
    refused(validator, None, "MISSING")
    refused(validator, "Basic abc", "MALFORMED")
    refused(validator, "Bearer not-a-jwt", "MALFORMED")
    expired = mint_customer_token("CUST001", "acme-corp", now=time.time() - 7200)
    refused(validator, f"Bearer {expired}", "EXPIRED")
    forged = mint_customer_token(
        "CUST001", "acme-corp", secret="another-secret-of-32-bytes-or-more"
    )
    refused(validator, f"Bearer {forged}", "INVALID")
    service = mint_service_token("acme-corp")
    refused(validator, f"Bearer {service}", "BAD_CLAIMS")


def test_alg_none_is_refused_everywhere(remote: TokenValidator) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    claims = {"sub": "CUST001", "client_id": "acme-corp", "exp": int(time.time()) + 600}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    unsigned = f"{header}.{payload}."
    refused(local(), f"Bearer {unsigned}", "INVALID")
    with pytest.raises(AuthError):
        local().validate(f"Bearer {header}.{payload}.sig")
    with pytest.raises(AuthError):
        remote.validate(f"Bearer {header}.{payload}.sig")


def test_rs256_through_jwks(remote: TokenValidator, rsa_key: rsa.RSAPrivateKey) -> None:
    identity = remote.validate("Bearer " + rs256(rsa_key))
    assert identity.customer_id == "CUST001"


def test_wrong_audience_issuer_expiry_and_missing_exp_are_refused(
    remote: TokenValidator, rsa_key: rsa.RSAPrivateKey
) -> None:
    refused(remote, "Bearer " + rs256(rsa_key, aud="someone-else"), "WRONG_AUDIENCE")
    refused(remote, "Bearer " + rs256(rsa_key, iss="https://evil.test/"), "WRONG_AUDIENCE")
    refused(remote, "Bearer " + rs256(rsa_key, exp=int(time.time()) - 3600), "EXPIRED")
    refused(remote, "Bearer " + rs256(rsa_key, exp=None), "INVALID")
    refused(remote, "Bearer " + rs256(rsa_key, client_id=None), "INVALID")


def test_hs_rs_confusion_and_dev_tokens_are_refused_by_jwks(
    remote: TokenValidator, rsa_key: rsa.RSAPrivateKey
) -> None:
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    claims = {
        "sub": "CUST001",
        "client_id": "acme-corp",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now + 600,
    }
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode()
    ).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    import hashlib
    import hmac

    signature = hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()
    confused = b".".join([header, body, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()
    refused(remote, f"Bearer {confused}", "INVALID")
    with pytest.raises(AuthError):
        remote.validate("Bearer " + mint_customer_token("CUST001", "acme-corp"))


def test_jwks_mode_needs_its_settings() -> None:
    with pytest.raises(ValueError, match="JWKS_URL"):
        AuthConfig.from_environ({"AUTH_MODE": "jwks"})
    with pytest.raises(ValueError, match="AUTH_MODE='magic'"):
        AuthConfig.from_environ({"AUTH_MODE": "magic"})


def test_local_mode_takes_its_secret_from_the_local_side() -> None:
    """Production code holds no dev secret: local mode needs all three values given."""
    with pytest.raises(ValueError, match="DEV_JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE"):
        AuthConfig.from_environ({"AUTH_MODE": "local"})
    from infra.local.dev_tokens import local_auth_environ

    validator = TokenValidator(AuthConfig.from_environ(local_auth_environ()))
    identity = validator.validate("Bearer " + mint_customer_token("CUST001", "acme-corp"))
    assert identity.customer_id == "CUST001"
