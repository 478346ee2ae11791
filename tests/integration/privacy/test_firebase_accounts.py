"""Firebase Auth's part of export and erasure, on the Auth emulator: the account is read out
(profile, providers, times, claims), deleted once, and its sessions revoked."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Iterator

import anyio
import firebase_admin
import pytest
from firebase_admin import auth

from domain.errors import ValidationFailed
from domain.privacy.ports import LookupBy
from domain.user_data import REGISTRY, DataStore, in_store
from identity.firebase_accounts import FirebaseAccounts
from tests.support.firebase_emulator import PROJECT_ID, AuthEmulator

pytestmark = pytest.mark.anyio

(ACCOUNT,) = in_store(DataStore.FIREBASE_AUTH)
PASSWORD = "correct horse battery"


@pytest.fixture
def app_name(auth_emulator: AuthEmulator) -> Iterator[str]:
    name = f"test-accounts-{secrets.token_hex(4)}"
    yield name
    firebase_admin.delete_app(firebase_admin.get_app(name))


@pytest.fixture
def accounts(app_name: str) -> FirebaseAccounts:
    return FirebaseAccounts(PROJECT_ID, app_name=app_name)


@pytest.fixture
def app(accounts: FirebaseAccounts, app_name: str) -> firebase_admin.App:
    """The adapter's own firebase-admin app, for the test's direct calls."""
    return firebase_admin.get_app(app_name)


@pytest.fixture
def user(app: firebase_admin.App, auth_emulator: AuthEmulator) -> auth.UserRecord:
    """An account with an email and password, a phone number and a claim, signed in once."""
    email = f"{secrets.token_hex(6)}@example.com"
    phone = f"+1555{secrets.randbelow(10**7):07}"
    created = auth.create_user(
        email=email, password=PASSWORD, phone_number=phone, display_name="Ada L", app=app
    )
    auth.set_custom_user_claims(created.uid, {"beta": True}, app=app)
    auth_emulator.sign_in(email, PASSWORD)
    return auth.get_user(created.uid, app=app)


async def test_the_account_is_read_out_with_its_providers_times_and_claims(
    accounts: FirebaseAccounts, user: auth.UserRecord
) -> None:
    assert await accounts.count(ACCOUNT, user.uid) == 1
    (record,) = [dict(r) async for r in accounts.read(ACCOUNT, user.uid)]

    json.dumps(record)
    assert record["uid"] == user.uid
    assert record["email"] == user.email
    assert record["phone_number"] == user.phone_number
    assert record["display_name"] == "Ada L"
    assert record["email_verified"] is False
    assert record["disabled"] is False
    assert record["photo_url"] is None
    assert record["custom_claims"] == {"beta": True}
    assert sorted(record["providers"], key=lambda p: p["provider_id"]) == [
        {"provider_id": "password", "email": user.email, "phone_number": None},
        {"provider_id": "phone", "email": None, "phone_number": user.phone_number},
    ]
    created = dt.datetime.fromisoformat(record["created_at"])
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=5)
    assert record["last_sign_in_at"] is not None
    dt.datetime.fromisoformat(record["last_sign_in_at"])
    assert "last_refresh_at" in record


async def test_erasure_deletes_the_account_once(
    accounts: FirebaseAccounts, app: firebase_admin.App, user: auth.UserRecord
) -> None:
    assert await accounts.erase(ACCOUNT, user.uid) == 1

    with pytest.raises(auth.UserNotFoundError):
        auth.get_user(user.uid, app=app)
    assert await accounts.erase(ACCOUNT, user.uid) == 0
    assert await accounts.count(ACCOUNT, user.uid) == 0
    assert [r async for r in accounts.read(ACCOUNT, user.uid)] == []


async def test_revoking_sessions_invalidates_the_tokens_issued_and_tolerates_no_account(
    accounts: FirebaseAccounts,
    app: firebase_admin.App,
    user: auth.UserRecord,
    auth_emulator: AuthEmulator,
) -> None:
    assert user.email is not None
    token = auth_emulator.sign_in(user.email, PASSWORD)
    # Revocation compares whole seconds (iat < validSince): start a new second first.
    await anyio.sleep(1 - time.time() % 1)

    assert await accounts.revoke_sessions(user.uid) is True

    with pytest.raises(auth.RevokedIdTokenError):
        auth.verify_id_token(token, app=app, check_revoked=True)
    assert await accounts.revoke_sessions(f"missing-{secrets.token_hex(6)}") is False


async def test_an_entry_of_another_store_is_refused(accounts: FirebaseAccounts) -> None:
    postgres_users = next(e for e in REGISTRY if e.store is DataStore.POSTGRES)

    with pytest.raises(ValueError, match="not the Firebase Auth account entry"):
        await accounts.count(postgres_users, "anyone")


async def test_staff_find_the_uid_by_the_accounts_email_or_phone_number(
    accounts: FirebaseAccounts, user: auth.UserRecord
) -> None:
    assert await accounts.uid_of(LookupBy.EMAIL, user.email) == user.uid
    assert await accounts.uid_of(LookupBy.PHONE, user.phone_number) == user.uid
    assert await accounts.uid_of(LookupBy.UID, user.uid) == user.uid
    assert await accounts.uid_of(LookupBy.EMAIL, f"other-{user.email}") is None
    assert await accounts.uid_of(LookupBy.PHONE, "+15550000000") is None
    for by, malformed in ((LookupBy.EMAIL, "not an email"), (LookupBy.PHONE, "0555 12")):
        with pytest.raises(ValidationFailed) as refused:
            await accounts.uid_of(by, malformed)
        assert refused.value.problems[0].field == by.value
