"""The AI consent ledger in Postgres: one row per grant or revocation, never updated."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.tables.ai_consents import AiConsentRow
from domain.ai.budgets import AiFeature
from domain.ai.consent import ConsentEntry
from domain.common import new_id

_CONSENTS = AiConsentRow.__table__  # type: ignore[attr-defined]


class PostgresConsentLedger:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, uid: str, entry: ConsentEntry) -> None:
        values = {"id": new_id(), "user_id": uid, "feature": entry.feature.value,
                  "provider": entry.provider, "text_version": entry.text_version,
                  "granted": entry.granted, "at": entry.at}  # fmt: skip
        async with self._engine.begin() as conn:
            await conn.execute(insert(_CONSENTS).values(values))

    async def entries(self, uid: str) -> Sequence[ConsentEntry]:
        query = (
            select(_CONSENTS)
            .where(_CONSENTS.c.user_id == uid)
            .order_by(_CONSENTS.c.at, _CONSENTS.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            ConsentEntry(AiFeature(r["feature"]), r["provider"], r["text_version"],
                         r["granted"], r["at"])
            for r in rows
        ]  # fmt: skip
