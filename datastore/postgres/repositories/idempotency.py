"""`IdempotencyStore` on Postgres: the first response to each (user, `Idempotency-Key`).

A transaction-scoped advisory lock makes a concurrent duplicate fail at once (409) rather
than wait; a key older than its 24 hours is replaced by a new use of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from datastore.postgres.tables.idempotency import IdempotencyKeyRow
from domain.idempotency import IdempotencyRecord, StoredResponse

_TABLE: Table = IdempotencyKeyRow.__table__  # type: ignore[attr-defined]


class PostgresIdempotencyStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def acquire(self, user_id: str, key: str) -> bool:
        # A transaction-scoped advisory lock: a concurrent duplicate finds it taken (→ 409)
        # instead of waiting, and the lock ends with the transaction that stored the effect.
        stmt = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))")
        got = await self._connection.execute(stmt, {"k": f"idempotency:{user_id}:{key}"})
        return bool(got.scalar_one())

    async def find(
        self, user_id: str, key: str, *, not_before: datetime
    ) -> IdempotencyRecord | None:
        stmt = select(_TABLE).where(
            col(IdempotencyKeyRow.user_id) == user_id,
            col(IdempotencyKeyRow.key) == key,
            col(IdempotencyKeyRow.created_at) >= not_before,
        )
        row = (await self._connection.execute(stmt)).one_or_none()
        if row is None:
            return None
        return IdempotencyRecord(
            user_id=row.user_id,
            key=row.key,
            fingerprint=row.fingerprint,
            response=StoredResponse(
                row.response_status, dict(row.response_headers), bytes(row.response_body)
            ),
            created_at=row.created_at,
        )

    async def save(self, record: IdempotencyRecord) -> None:
        values = {
            "user_id": record.user_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "response_status": record.response.status,
            "response_headers": record.response.headers,
            "response_body": record.response.body,
            "created_at": record.created_at,
        }
        # An expired key of the same name is replaced: after 24 h a key may be used afresh.
        stmt = insert(_TABLE).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id", "key"],
            set_={k: v for k, v in values.items() if k not in ("user_id", "key")},
        )
        await self._connection.execute(stmt)
