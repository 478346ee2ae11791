"""IAP's signed header as the staff API checks it: keys of our own, published on loopback as
Google publishes IAP's (gstatic's public_key-jwk). Nothing here was signed by Google."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from domain.errors import AuthUnavailable, Unauthenticated
from domain.staff import StaffPrincipal
from identity.dev_issuer import DevTokenIssuer
from identity.dev_staff import DevStaffTokens
from identity.iap import IAP_HEADER, IAP_ISSUER, IapVerifier
from tests.support.key_set_server import KeySetServer
from tests.support.processes import free_port

AUDIENCE = "/projects/123456789012/global/backendServices/4242"


class FakeIap:
    """Signs assertions as IAP does (ES256 with a kid) and serves the key set on loopback."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        self.keys = KeySetServer([{**jwk, "kid": "iap1", "alg": "ES256"}], "/iap/verify/jwk")
        self.jwks_url = self.keys.url

    def assertion(
        self, email: str, key: ec.EllipticCurvePrivateKey | None = None, **overrides: Any
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": IAP_ISSUER,
            "aud": AUDIENCE,
            "sub": "accounts.google.com:1234567890",
            "email": email,
            "iat": now,
            "exp": now + 600,
            **overrides,
        }
        return jwt.encode(claims, key or self.key, algorithm="ES256", headers={"kid": "iap1"})

    def headers(self, email: str, **overrides: Any) -> dict[str, str]:
        return {IAP_HEADER: self.assertion(email, **overrides)}

    def stop(self) -> None:
        self.keys.stop()


@pytest.fixture
def iap() -> Iterator[FakeIap]:
    fake = FakeIap()
    yield fake
    fake.stop()


@pytest.fixture
def verifier(iap: FakeIap) -> IapVerifier:
    return IapVerifier(AUDIENCE, jwks_url=iap.jwks_url)


pytestmark = pytest.mark.anyio


async def refused(verifier: IapVerifier | DevStaffTokens, headers: dict[str, str]) -> str:
    with pytest.raises(Unauthenticated) as refusal:
        await verifier.verify(headers)
    return refusal.value.code


async def test_an_assertion_iap_signed_for_us_names_the_staff_member(
    iap: FakeIap, verifier: IapVerifier
) -> None:
    principal = await verifier.verify(iap.headers("Dana@Example.com"))

    assert principal == StaffPrincipal(email="dana@example.com")


async def test_an_assertion_for_another_audience_is_refused(
    iap: FakeIap, verifier: IapVerifier
) -> None:
    headers = iap.headers("dana@example.com", aud="/projects/1/global/backendServices/other")

    assert await refused(verifier, headers) == "token_invalid"


async def test_an_expired_assertion_is_refused(iap: FakeIap, verifier: IapVerifier) -> None:
    an_hour_ago = int(time.time()) - 3600
    headers = iap.headers("dana@example.com", iat=an_hour_ago - 600, exp=an_hour_ago)

    assert await refused(verifier, headers) == "token_expired"


async def test_an_assertion_signed_by_another_key_is_refused(
    iap: FakeIap, verifier: IapVerifier
) -> None:
    forged = iap.assertion("dana@example.com", key=ec.generate_private_key(ec.SECP256R1()))

    assert await refused(verifier, {IAP_HEADER: forged}) == "token_invalid"


async def test_an_assertion_of_another_issuer_is_refused(
    iap: FakeIap, verifier: IapVerifier
) -> None:
    headers = iap.headers("dana@example.com", iss="https://accounts.google.com")

    assert await refused(verifier, headers) == "token_invalid"


async def test_no_assertion_or_a_malformed_one_is_refused(verifier: IapVerifier) -> None:
    assert await refused(verifier, {}) == "assertion_missing"
    assert await refused(verifier, {"authorization": "Bearer x.y.z"}) == "assertion_missing"
    assert await refused(verifier, {IAP_HEADER: "x.y.z"}) == "token_invalid"


async def test_an_app_users_token_in_the_header_is_refused(verifier: IapVerifier) -> None:
    app_token = DevTokenIssuer(b"s" * 32).issue("u-someone")

    assert await refused(verifier, {IAP_HEADER: app_token}) == "token_invalid"


async def test_unreachable_keys_make_staff_identity_unavailable_not_open(iap: FakeIap) -> None:
    nowhere = IapVerifier(AUDIENCE, jwks_url=f"http://127.0.0.1:{free_port()}/jwk")

    with pytest.raises(AuthUnavailable):
        await nowhere.verify(iap.headers("dana@example.com"))


async def test_a_dev_staff_token_names_the_staff_member_and_an_app_token_does_not() -> None:
    secret = b"s" * 32
    tokens = DevStaffTokens(secret)
    app_token = DevTokenIssuer(secret).issue("u-someone")
    staff_token = tokens.issue("Dana@example.com")

    assert await tokens.verify({IAP_HEADER: staff_token}) == StaffPrincipal("dana@example.com")
    assert await refused(tokens, {IAP_HEADER: app_token}) == "token_invalid"
    with pytest.raises(Unauthenticated):  # nor is a staff token an app user's
        await DevTokenIssuer(secret).verify(staff_token)
