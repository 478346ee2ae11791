from __future__ import annotations

from domain.sync.model import Change, order


class FakeChangeFeed:
    """In-memory sync storage for unit tests: a log of changes that tests `record`.

    Like the real feed it keeps each record's latest change only.
    """

    def __init__(self) -> None:
        self.latest: dict[tuple[str, str, str], Change] = {}

    def record(self, user_id: str, change: Change) -> None:
        self.latest[(user_id, change.type.value, change.id)] = change

    async def since(self, user_id: str, after_version: int, limit: int) -> list[Change]:
        found = [
            c for (u, _, _), c in self.latest.items() if u == user_id and c.version > after_version
        ]
        return sorted(found, key=order)[:limit]
