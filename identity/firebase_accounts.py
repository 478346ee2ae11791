"""Firebase Auth's part of export and erasure (`PersonalData` for `DataStore.FIREBASE_AUTH`):
the user's sign-in account, read out, deleted, and its sessions cut off.

Built on firebase-admin's user management with a named app of its own for one project; like
every firebase-admin call it talks to the Auth emulator when FIREBASE_AUTH_EMULATOR_HOST is
set (tests, local dev). The SDK blocks on HTTP, so every call runs in a worker thread. Nothing
of the user is logged, counts and kinds only.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from firebase_admin import auth

from domain.errors import ValidationFailed
from domain.privacy.ports import LookupBy
from domain.user_data import DataStore, UserData
from identity.firebase import _named_app

log = logging.getLogger(__name__)

ACCOUNT_LOCATION = "accounts"
"""The registry's location of the one entry this store has (`firebase_account`)."""


class FirebaseAccounts:
    """The Firebase Auth accounts of one project.

    `timeout_seconds` becomes firebase-admin's `httpTimeout` (its default, 120 s, would hold
    an erasure step far too long on an unreachable Firebase).
    """

    store = DataStore.FIREBASE_AUTH

    def __init__(
        self, project_id: str, *, app_name: str = "focus-accounts", timeout_seconds: float = 30.0
    ) -> None:
        self._app = _named_app(app_name, project_id, timeout_seconds)

    async def count(self, entry: UserData, uid: str) -> int:
        _check(entry)
        return 0 if await self._user(uid) is None else 1

    async def read(self, entry: UserData, uid: str) -> AsyncIterator[Mapping[str, Any]]:
        _check(entry)
        user = await self._user(uid)
        if user is not None:
            yield account(user)

    async def erase(self, entry: UserData, uid: str) -> int:
        _check(entry)
        try:
            await anyio.to_thread.run_sync(lambda: auth.delete_user(uid, app=self._app))
        except auth.UserNotFoundError:
            deleted = 0
        else:
            deleted = 1
        log.info("privacy.firebase_auth.erased", extra={"kind": entry.name, "count": deleted})
        return deleted

    async def revoke_sessions(self, uid: str) -> bool:
        """Every refresh token of the user revoked, so that no new ID token is issued from now
        on (erasure starts with it); False when there is no account (nothing to revoke)."""
        try:
            await anyio.to_thread.run_sync(lambda: auth.revoke_refresh_tokens(uid, app=self._app))
        except auth.UserNotFoundError:
            return False
        return True

    async def uid_of(self, by: LookupBy, value: str) -> str | None:
        """The uid of the account with this email or phone number (compliance staff find the
        subject of a request they received by email or post)."""
        match by:
            case LookupBy.EMAIL:
                get = auth.get_user_by_email
            case LookupBy.PHONE:
                get = auth.get_user_by_phone_number
            case LookupBy.UID:
                return value
        try:
            user: auth.UserRecord = await anyio.to_thread.run_sync(
                lambda: get(value, app=self._app)
            )
        except auth.UserNotFoundError:
            return None
        except ValueError as error:  # firebase-admin's check of the email or number's form
            raise ValidationFailed.on(
                by.value, "invalid", f"This is not a valid {by.value}."
            ) from error
        return str(user.uid)

    async def _user(self, uid: str) -> auth.UserRecord | None:
        try:
            user: auth.UserRecord = await anyio.to_thread.run_sync(
                lambda: auth.get_user(uid, app=self._app)
            )
        except auth.UserNotFoundError:
            return None
        return user


def account(user: auth.UserRecord) -> dict[str, Any]:
    """What the account holds of the user, JSON-ready: the profile, each sign-in provider by
    its kind and the email or phone the user gave it (not the provider's own user id), the
    times, and the custom claims."""
    metadata = user.user_metadata
    return {
        "uid": user.uid,
        "email": user.email,
        "email_verified": bool(user.email_verified),
        "phone_number": user.phone_number,
        "display_name": user.display_name,
        "photo_url": user.photo_url,
        "disabled": bool(user.disabled),
        "providers": [
            {
                "provider_id": provider.provider_id,
                "email": provider.email,
                "phone_number": provider.phone_number,
            }
            for provider in user.provider_data
        ],
        "created_at": _instant(metadata.creation_timestamp),
        "last_sign_in_at": _instant(metadata.last_sign_in_timestamp),
        "last_refresh_at": _instant(metadata.last_refresh_timestamp),
        "custom_claims": dict(user.custom_claims or {}),
    }


def _instant(milliseconds: int | None) -> str | None:
    if milliseconds is None:
        return None
    return datetime.fromtimestamp(milliseconds / 1000, UTC).isoformat()


def _check(entry: UserData) -> None:
    """An entry this adapter does not know is an error, never an empty answer."""
    if entry.store is not DataStore.FIREBASE_AUTH or entry.location != ACCOUNT_LOCATION:
        raise ValueError(f"not the Firebase Auth account entry: {entry.name}")
