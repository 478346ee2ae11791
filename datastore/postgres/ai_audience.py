"""Who gets a weekly insight: people with AI features on and a completed focus session in the
week, in uid order (keyset), each found through the completed-days index."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_ACTIVE = text(
    "SELECT u.uid FROM users u WHERE u.uid > :after AND u.consent_ai_features AND EXISTS ("
    " SELECT 1 FROM focus_sessions s WHERE s.user_id = u.uid"
    " AND s.outcome = 'completed' AND s.deleted_at IS NULL"
    " AND s.local_date BETWEEN :first AND :last)"
    " ORDER BY u.uid LIMIT :limit"
)


class PostgresAiAudience:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def active_in_week(self, week_start: date, *, after: str | None, limit: int) -> list[str]:
        params = {"after": after or "", "first": week_start,
                  "last": week_start + timedelta(days=6), "limit": limit}  # fmt: skip
        async with self._engine.connect() as conn:
            return list((await conn.execute(_ACTIVE, params)).scalars())
