"""A person's AI results in Postgres: one per feature and period; a second add (a
redelivered event) gets the first back."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.tables.ai import AiInsightRow
from domain.ai.budgets import AiFeature
from domain.ai.insights import StoredInsight

_INSIGHTS = AiInsightRow.__table__  # type: ignore[attr-defined]


class PostgresInsightStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, uid: str, feature: AiFeature, period_start: date) -> StoredInsight | None:
        c = _INSIGHTS.c
        query = select(_INSIGHTS).where(
            c.user_id == uid, c.feature == feature.value, c.period_start == period_start
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _insight(row)

    async def add(self, insight: StoredInsight) -> StoredInsight:
        values = {"user_id": insight.uid, "feature": insight.feature.value,
                  "period_start": insight.period_start, "provider": insight.provider,
                  "text": insight.text, "numbers": list(insight.numbers),
                  "created_at": insight.created_at}  # fmt: skip
        async with self._engine.begin() as conn:
            await conn.execute(pg_insert(_INSIGHTS).values(values).on_conflict_do_nothing())
        found = await self.get(insight.uid, insight.feature, insight.period_start)
        assert found is not None  # just written, or written first by another delivery
        return found


def _insight(row: Any) -> StoredInsight:
    return StoredInsight(
        uid=row["user_id"],
        feature=AiFeature(row["feature"]),
        period_start=row["period_start"],
        provider=row["provider"],
        text=row["text"],
        numbers=tuple(row["numbers"]),
        created_at=row["created_at"],
    )
