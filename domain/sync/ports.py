"""What sync use cases need from storage."""

from __future__ import annotations

from typing import Protocol

from domain.sync.model import Change, EntityType


class ChangeFeed(Protocol):
    async def since(
        self,
        user_id: str,
        after_version: int,
        limit: int,
        *,
        include: frozenset[EntityType] = frozenset(),
    ) -> list[Change]:
        """The user's first `limit` changes with a version above `after_version`, ordered by
        `domain.sync.model.order`, deletions as tombstones; of the opt-in types
        (`domain.sync.model.OPT_IN`), only those in `include`.

        Every record is read as of one instant: versions commit in order, so what one read
        sees is a prefix of the user's history and skips no version below the last it returns.
        """
        ...
