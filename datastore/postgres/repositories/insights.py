"""`InsightRepository` on Postgres: reads and dismissals through `OwnedCollection`; an add is
one insert that does nothing when the person's result for that feature, period and dedupe
key exists (dismissed included), so a redelivered event never makes a second one.
`to_insight` maps tombstones too (sync)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Table, and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.repositories.owned import OwnedCollection
from datastore.postgres.tables.ai import AiInsightRow
from domain.ai.budgets import AiFeature
from domain.ai.insights import AiInsight, SuggestedSchedule
from domain.schedules.model import Weekday

_TABLE: Table = AiInsightRow.__table__  # type: ignore[attr-defined]


def to_insight(row: Row[Any]) -> AiInsight:
    m = row._mapping  # by key: a Row's attributes cost ~0.6 µs each
    suggestion = None
    if m["days"] is not None:
        suggestion = SuggestedSchedule(
            tuple(Weekday(d) for d in m["days"]), m["start_local"], m["end_local"]
        )
    return AiInsight(
        id=m["id"],
        user_id=m["user_id"],
        feature=AiFeature(m["feature"]),
        period_start=m["period_start"],
        provider=m["provider"],
        text=m["text"],
        numbers=tuple(m["numbers"]),
        suggestion=suggestion,
        accepted_schedule_id=m["accepted_schedule_id"],
        version=m["version"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


class PostgresInsightRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._records = OwnedCollection(connection, _TABLE, to_insight)

    async def get(self, user_id: str, insight_id: UUID) -> AiInsight | None:
        return await self._records.get(user_id, insight_id)

    async def find(
        self, user_id: str, feature: AiFeature, period_start: date, dedupe_key: str = ""
    ) -> AiInsight | None:
        c = _TABLE.c
        stmt = select(_TABLE).where(
            c.user_id == user_id,
            c.feature == feature.value,
            c.period_start == period_start,
            c.dedupe_key == dedupe_key,
        )
        row = (await self._connection.execute(stmt)).one_or_none()
        return to_insight(row) if row else None

    async def suggestion_blocked(
        self, user_id: str, since: date, day: date, dedupe_key: str
    ) -> bool:
        c = _TABLE.c
        unanswered = and_(
            c.period_start >= since, c.deleted_at.is_(None), c.accepted_schedule_id.is_(None)
        )
        same = and_(c.period_start == day, c.dedupe_key == dedupe_key)
        stmt = select(
            exists().where(
                c.user_id == user_id,
                c.feature == AiFeature.SCHEDULE_SUGGESTION.value,
                or_(unanswered, same),
            )
        )
        return bool((await self._connection.execute(stmt)).scalar())

    async def add(self, insight: AiInsight) -> bool:
        s = insight.suggestion
        values: dict[str, Any] = {
            "user_id": insight.user_id,
            "id": insight.id,
            "feature": insight.feature.value,
            "period_start": insight.period_start,
            "dedupe_key": insight.dedupe_key,
            "provider": insight.provider,
            "text": insight.text,
            "numbers": list(insight.numbers),
            "days": None if s is None else [d.value for d in s.days],
            "start_local": None if s is None else s.start_local,
            "end_local": None if s is None else s.end_local,
            "accepted_schedule_id": insight.accepted_schedule_id,
            "version": insight.version,
            "created_at": insight.created_at,
            "updated_at": insight.updated_at,
        }
        stmt = insert(_TABLE).values(values).on_conflict_do_nothing().returning(_TABLE.c.id)
        return (await self._connection.execute(stmt)).first() is not None

    async def save(self, insight: AiInsight) -> None:
        c = _TABLE.c
        stmt = (
            update(_TABLE)
            .where(c.user_id == insight.user_id, c.id == insight.id, c.deleted_at.is_(None))
            .values(
                accepted_schedule_id=insight.accepted_schedule_id,
                version=insight.version,
                updated_at=insight.updated_at,
            )
        )
        await self._connection.execute(stmt)

    async def dismiss(self, user_id: str, insight_id: UUID, version: int, at: datetime) -> None:
        await self._records.soft_delete(user_id, insight_id, version, at)

    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[AiInsight]:
        return await self._records.page(user_id, after=after, limit=limit)
