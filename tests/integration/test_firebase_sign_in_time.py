"""FirebaseTokenVerifier carries when the user signed in (`auth_time`), against the Auth
emulator: what recent-sign-in checks of destructive account actions read."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import firebase_admin
import pytest

from identity.firebase import FirebaseTokenVerifier
from tests.support.firebase_emulator import PROJECT_ID, AuthEmulator

pytestmark = pytest.mark.anyio


@pytest.fixture
def verifier(auth_emulator: AuthEmulator) -> Iterator[FirebaseTokenVerifier]:
    name = f"test-sign-in-time-{secrets.token_hex(4)}"
    yield FirebaseTokenVerifier(PROJECT_ID, app_name=name)
    firebase_admin.delete_app(firebase_admin.get_app(name))


async def test_a_password_sign_in_says_when_it_happened(
    auth_emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    email = f"{secrets.token_hex(6)}@example.com"
    auth_emulator.create_user(email, "correct horse battery")
    before = int(time.time())

    principal = await verifier.verify(auth_emulator.sign_in(email, "correct horse battery"))

    assert principal.auth_time is not None
    assert before - 5 <= principal.auth_time.timestamp() <= time.time() + 5


async def test_a_token_without_auth_time_has_no_sign_in_time(
    auth_emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    now = int(time.time())
    claims = {"sub": "no-auth-time", "user_id": "no-auth-time", "iat": now, "exp": now + 3600}

    principal = await verifier.verify(auth_emulator.forge_token(claims))

    assert principal.auth_time is None
