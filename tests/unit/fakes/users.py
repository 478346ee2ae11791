from __future__ import annotations

from dataclasses import replace

from domain.common import utc_now
from domain.users.model import User, new_user


class FakeUserRepository:
    def __init__(self) -> None:
        self.rows: dict[str, User] = {}

    async def get(self, uid: str) -> User | None:
        return self.rows.get(uid)

    async def ensure(self, uid: str) -> bool:
        if uid not in self.rows:
            self.rows[uid] = new_user(uid, utc_now())
        return True

    async def save(self, user: User) -> None:
        self.rows[user.uid] = replace(user)
