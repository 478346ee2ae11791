from __future__ import annotations

from datetime import datetime

from domain.idempotency import IdempotencyRecord


class FakeIdempotencyStore:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], IdempotencyRecord] = {}
        self.held: set[tuple[str, str]] = set()

    async def acquire(self, user_id: str, key: str) -> bool:
        return (user_id, key) not in self.held

    async def find(
        self, user_id: str, key: str, *, not_before: datetime
    ) -> IdempotencyRecord | None:
        record = self.records.get((user_id, key))
        return record if record and record.created_at >= not_before else None

    async def save(self, record: IdempotencyRecord) -> None:
        self.records[(record.user_id, record.key)] = record
