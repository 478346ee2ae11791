"""FirebaseTokenVerifier against the real Auth emulator, and offline in production mode."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import firebase_admin
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from domain.errors import AuthUnavailable, Unauthenticated
from identity.firebase import FirebaseTokenVerifier
from tests.support.firebase_emulator import PROJECT_ID, AuthEmulator
from tests.support.google import firebase_style_token, new_signing_key, write_service_account
from tests.support.processes import free_port

pytestmark = pytest.mark.anyio

HOUR = 3600


@pytest.fixture
def app_names() -> Iterator[list[str]]:
    """Each test gets fresh firebase-admin apps (they cache clients and certificates)."""
    names: list[str] = []
    yield names
    for name in names:
        firebase_admin.delete_app(firebase_admin.get_app(name))


@pytest.fixture
def emulated(auth_emulator: AuthEmulator, app_names: list[str]) -> FirebaseTokenVerifier:
    app_names.append(f"test-emulated-{secrets.token_hex(4)}")
    return FirebaseTokenVerifier(PROJECT_ID, app_name=app_names[-1])


async def refusal(
    verifier: FirebaseTokenVerifier, token: str, *, check_revoked: bool = False
) -> str:
    with pytest.raises(Unauthenticated) as refused:
        await verifier.verify(token, check_revoked=check_revoked)
    return refused.value.code


async def test_an_anonymous_users_token_is_accepted_as_anonymous(
    auth_emulator: AuthEmulator, emulated: FirebaseTokenVerifier
) -> None:
    uid, token = auth_emulator.sign_up_anonymous()

    principal = await emulated.verify(token, check_revoked=True)

    assert (principal.uid, principal.anonymous) == (uid, True)


async def test_an_email_users_token_is_accepted(
    auth_emulator: AuthEmulator, emulated: FirebaseTokenVerifier
) -> None:
    uid = auth_emulator.create_user("ada@example.com", "correct horse")

    principal = await emulated.verify(auth_emulator.sign_in("ada@example.com", "correct horse"))

    assert (principal.uid, principal.anonymous) == (uid, False)


async def test_a_token_of_another_project_is_refused(
    auth_emulator: AuthEmulator, emulated: FirebaseTokenVerifier
) -> None:
    token = auth_emulator.id_token_for_project("demo-someone-else")

    assert await refusal(emulated, token) == "token_invalid"


async def test_an_expired_token_is_refused(
    auth_emulator: AuthEmulator, emulated: FirebaseTokenVerifier
) -> None:
    now = int(time.time())
    token = auth_emulator.forge_token({"iat": now - 2 * HOUR, "exp": now - 60})

    assert await refusal(emulated, token) == "token_expired"


async def test_a_token_issued_in_the_future_is_refused(
    auth_emulator: AuthEmulator, emulated: FirebaseTokenVerifier
) -> None:
    now = int(time.time())
    token = auth_emulator.forge_token({"iat": now + 60, "exp": now + HOUR})

    assert await refusal(emulated, token) == "token_invalid"


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.W10."])
async def test_garbage_is_refused_as_malformed(
    emulated: FirebaseTokenVerifier, garbage: str
) -> None:
    assert await refusal(emulated, garbage) == "token_malformed"


async def test_a_revoked_token_is_refused_only_when_revocation_is_checked(
    auth_emulator: AuthEmulator, emulated: FirebaseTokenVerifier
) -> None:
    uid = auth_emulator.create_user("bob@example.com", "correct horse")
    old_token = auth_emulator.sign_in("bob@example.com", "correct horse")
    auth_emulator.revoke_tokens(uid)
    new_token = auth_emulator.sign_in("bob@example.com", "correct horse")

    assert (await emulated.verify(old_token)).uid == uid
    assert await refusal(emulated, old_token, check_revoked=True) == "token_revoked"
    assert (await emulated.verify(new_token, check_revoked=True)).uid == uid


async def test_a_disabled_users_token_is_refused_when_revocation_is_checked(
    auth_emulator: AuthEmulator, emulated: FirebaseTokenVerifier
) -> None:
    uid, token = auth_emulator.sign_up_anonymous()
    auth_emulator.disable_user(uid)

    assert await refusal(emulated, token, check_revoked=True) == "user_disabled"


async def test_a_deleted_users_token_is_refused_when_revocation_is_checked(
    auth_emulator: AuthEmulator, emulated: FirebaseTokenVerifier
) -> None:
    uid, token = auth_emulator.sign_up_anonymous()
    auth_emulator.delete_user(uid)

    assert await refusal(emulated, token, check_revoked=True) == "token_revoked"


async def test_the_emulator_setting_appearing_after_start_stops_verification(
    monkeypatch: pytest.MonkeyPatch, production: FirebaseTokenVerifier, auth_emulator: AuthEmulator
) -> None:
    # With the variable set, firebase-admin would accept the unsigned token below.
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", auth_emulator.host)

    with pytest.raises(AuthUnavailable):
        await production.verify(auth_emulator.forge_token({}))


# Production mode: no emulator, so tokens must carry Google's signature.


@pytest.fixture
def signing_key() -> rsa.RSAPrivateKey:
    return new_signing_key()


@pytest.fixture
def production(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    signing_key: rsa.RSAPrivateKey,
    app_names: list[str],
) -> FirebaseTokenVerifier:
    """A verifier as deployed: Application Default Credentials from a service account file
    (resolved offline; only the user lookup of check_revoked would use them)."""
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    key_file = write_service_account(tmp_path, signing_key, PROJECT_ID)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    app_names.append(f"test-production-{secrets.token_hex(4)}")
    return FirebaseTokenVerifier(PROJECT_ID, app_name=app_names[-1], timeout_seconds=1)


@pytest.fixture
def google_style_token(signing_key: rsa.RSAPrivateKey) -> str:
    """Shaped like a real Firebase ID token (RS256 with a kid); Google never signed it."""
    return firebase_style_token(signing_key, PROJECT_ID)


async def test_an_unsigned_emulator_token_is_refused_in_production(
    production: FirebaseTokenVerifier,
) -> None:
    now = int(time.time())
    claims: dict[str, object] = {"sub": "someone", "iat": now, "exp": now + HOUR}
    claims |= {"iss": f"https://securetoken.google.com/{PROJECT_ID}", "aud": PROJECT_ID}
    unsigned = jwt.encode(claims, key="", algorithm="none")

    assert await refusal(production, unsigned) == "token_invalid"


async def test_unreachable_signing_certificates_make_auth_unavailable(
    monkeypatch: pytest.MonkeyPatch, production: FirebaseTokenVerifier, google_style_token: str
) -> None:
    # A proxy nobody listens on makes the outcome the same with or without internet access.
    _route_https_through(monkeypatch, f"http://127.0.0.1:{free_port()}")

    with pytest.raises(AuthUnavailable):
        await production.verify(google_style_token)


async def test_a_certificate_server_that_never_answers_is_given_up_quickly(
    monkeypatch: pytest.MonkeyPatch, production: FirebaseTokenVerifier, google_style_token: str
) -> None:
    # The kernel accepts connections into the backlog, then nothing is ever read or written.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        _route_https_through(monkeypatch, f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()

        with pytest.raises(AuthUnavailable):
            await production.verify(google_style_token)

    assert time.monotonic() - started < 5  # timeout_seconds=1; firebase-admin's default is 120


def _route_https_through(monkeypatch: pytest.MonkeyPatch, proxy: str) -> None:
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
