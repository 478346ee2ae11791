"""`UserRepository` on the legacy Firestore layout: the profile is the `users/{uid}` document.

A profile without a valid timezone takes its devices' (most recently seen first), else UTC.
"""

from __future__ import annotations

import contextlib

from google.api_core.exceptions import AlreadyExists

from domain.users.model import User, new_user
from migration.firestore.mapping import users as mapping
from migration.firestore.repositories.common import Documents, lacks_timezone


class FirestoreUserRepository:
    def __init__(self, documents: Documents) -> None:
        self._docs = documents

    async def get(self, uid: str) -> User | None:
        snapshot = await self._docs.user(uid).get()
        data = snapshot.to_dict()
        if data is None:
            return None
        zones = await self._docs.device_timezones(uid) if lacks_timezone(data) else ()
        context = self._docs.context(device_timezones=zones)
        return self._docs.map(snapshot, mapping.from_document, context)

    async def ensure(self, uid: str) -> bool:
        """Always True: the erased list is Postgres's (the routed repository asks it first)."""
        user = new_user(uid, self._docs.clock())
        with contextlib.suppress(AlreadyExists):
            await self._docs.user(uid).create(mapping.to_document(user))
        return True

    async def save(self, user: User) -> None:
        """As an UPDATE: the document `get()` found (maps replaced wholesale, createdAt kept)."""
        data = mapping.to_document(user)
        del data["createdAt"]
        await self._docs.user(user.uid).update(data)
