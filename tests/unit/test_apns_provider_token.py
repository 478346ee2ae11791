"""The APNs provider token: an ES256 JWT Apple can verify, shared until it is due for renewal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from notifications.apns import ApnsConfig
from notifications.apns.provider_token import ProviderToken
from tests.support.clock import TestClock

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def provider_token(key: ec.EllipticCurvePrivateKey, clock: TestClock) -> ProviderToken:
    return ProviderToken(
        key_id="ABC123DEFG", team_id="DEF123GHIJ", private_key_pem=pem(key), clock=clock
    )


def jwt_of(authorization: bytes) -> str:
    scheme, _, token = authorization.decode().partition(" ")
    assert scheme == "bearer"
    return token


def test_the_token_is_an_es256_jwt_naming_the_key_and_the_team(
    signing_key: ec.EllipticCurvePrivateKey, clock: TestClock
) -> None:
    clock.set(NOW)
    token = jwt_of(provider_token(signing_key, clock).authorization())

    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "ABC123DEFG"}
    claims = jwt.decode(
        token, signing_key.public_key(), algorithms=["ES256"], options={"verify_iat": False}
    )
    assert claims == {"iss": "DEF123GHIJ", "iat": int(NOW.timestamp())}


def test_the_token_is_reused_for_twenty_minutes_and_renewed_by_fifty(
    signing_key: ec.EllipticCurvePrivateKey, clock: TestClock
) -> None:
    clock.set(NOW)
    tokens = provider_token(signing_key, clock)
    first = tokens.authorization()

    clock.advance(timedelta(minutes=20))
    assert tokens.authorization() == first
    clock.advance(timedelta(minutes=30))
    renewed = tokens.authorization()

    assert renewed != first
    claims = jwt.decode(jwt_of(renewed), options={"verify_signature": False})
    assert claims["iat"] == int((NOW + timedelta(minutes=50)).timestamp())


def test_an_expired_token_is_replaced_once_for_every_request_that_was_refused(
    signing_key: ec.EllipticCurvePrivateKey, clock: TestClock
) -> None:
    tokens = provider_token(signing_key, clock)
    refused = tokens.authorization()

    renewed = tokens.renew(refused)
    assert renewed != refused
    assert tokens.renew(refused) == renewed  # a second refusal of the old token
    assert tokens.authorization() == renewed


def test_a_key_that_is_not_p256_is_refused(clock: TestClock) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ValueError, match="P-256"):
        ProviderToken(key_id="K", team_id="T", private_key_pem=pem(rsa_key), clock=clock)


@pytest.mark.parametrize("minutes", [10, 60])
def test_a_refresh_interval_apple_would_refuse_is_a_configuration_error(minutes: int) -> None:
    with pytest.raises(ValueError, match="20 to 55 minutes"):
        ApnsConfig("K", "T", "com.example", "pem", provider_token_refresh_seconds=minutes * 60)
