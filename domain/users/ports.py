"""What user use cases need from storage."""

from __future__ import annotations

from typing import Protocol

from domain.users.model import User


class UserRepository(Protocol):
    async def get(self, uid: str) -> User | None: ...
    async def ensure(self, uid: str) -> bool:
        """Create the user's row with defaults if it does not exist yet (idempotent); False,
        and no row, when the uid was erased."""
        ...

    async def save(self, user: User) -> None: ...
