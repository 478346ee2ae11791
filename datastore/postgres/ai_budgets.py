"""AI budgets in Postgres: each reservation is one statement that adds only while the cap or
the hard limit allows, so concurrent events can never spend past them (row locks of the
upsert serialise them; nothing is read first and decided later)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.ai.budgets import CAPS, AiFeature, TokenBudget

_TAKE_RESULT = text(
    "INSERT INTO ai_result_counts AS c (user_id, feature, period_start, taken)"
    " SELECT :uid, :feature, :period, 1 WHERE :cap >= 1"
    " AND EXISTS (SELECT 1 FROM users WHERE uid = :uid)"
    " ON CONFLICT (user_id, feature, period_start)"
    " DO UPDATE SET taken = c.taken + 1 WHERE c.taken < :cap"
    " RETURNING taken"
)
_TAKE_TOKENS = text(
    "INSERT INTO ai_token_spend AS s (provider, day, tokens)"
    " SELECT :provider, :day, :tokens WHERE :tokens <= :hard"
    " ON CONFLICT (provider, day)"
    " DO UPDATE SET tokens = s.tokens + :tokens WHERE s.tokens + :tokens <= :hard"
    " RETURNING tokens"
)


async def _take_result(conn: AsyncConnection, uid: str, feature: AiFeature, day: date) -> bool:
    cap = CAPS[feature]
    params = {"uid": uid, "feature": feature.value, "period": cap.period_start(day),
              "cap": cap.count}  # fmt: skip
    return (await conn.execute(_TAKE_RESULT, params)).scalar_one_or_none() is not None


class PostgresResultCaps:
    """The caps in a unit of work's transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def take(self, uid: str, feature: AiFeature, day: date) -> bool:
        return await _take_result(self._connection, uid, feature, day)


class PostgresBudgets:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def take_result(self, uid: str, feature: AiFeature, day: date) -> bool:
        async with self._engine.begin() as conn:
            return await _take_result(conn, uid, feature, day)

    async def take_tokens(
        self, provider: str, day: date, tokens: int, budget: TokenBudget
    ) -> int | None:
        if tokens < 0:
            raise ValueError("tokens are never negative")
        params = {"provider": provider, "day": day, "tokens": tokens, "hard": budget.hard}
        async with self._engine.begin() as conn:
            total = (await conn.execute(_TAKE_TOKENS, params)).scalar_one_or_none()
        return None if total is None else int(total)
