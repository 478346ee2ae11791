"""Push budgets in Postgres: one row per device, decided under its row lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.tables.push_budgets import PushBudgetRow
from domain.push.budget import BudgetPolicy, BudgetState, Decision, decide

_TABLE: Table = PushBudgetRow.__table__  # type: ignore[attr-defined]


class PostgresPushBudgets:
    def __init__(self, engine: AsyncEngine, policy: BudgetPolicy) -> None:
        self._engine = engine
        self._policy = policy

    async def take(
        self, user_id: str, installation_id: str, now: datetime, version: int | None
    ) -> Decision:
        key = {"user_id": user_id, "installation_id": installation_id}
        async with self._engine.begin() as conn:
            # Create the row if missing, then lock it: two pushes for one device decide in turn.
            await conn.execute(
                pg_insert(_TABLE).values(**key, recent_sends=[]).on_conflict_do_nothing()
            )
            row = (
                await conn.execute(
                    select(
                        _TABLE.c.recent_sends, _TABLE.c.pending_version, _TABLE.c.settled_version
                    )
                    .where(_TABLE.c.user_id == user_id)
                    .where(_TABLE.c.installation_id == installation_id)
                    .with_for_update()
                )
            ).one()
            state = BudgetState(tuple(row.recent_sends), row.pending_version, row.settled_version)
            decision = decide(state, self._policy, now, version)
            await conn.execute(
                _TABLE.update()
                .where(_TABLE.c.user_id == user_id)
                .where(_TABLE.c.installation_id == installation_id)
                .values(
                    recent_sends=list(decision.state.recent),
                    pending_version=decision.state.pending_version,
                )
            )
        return decision

    async def settle(self, user_id: str, installation_ids: Sequence[str], version: int) -> None:
        if not installation_ids:
            return
        settled = func.greatest(func.coalesce(_TABLE.c.settled_version, version), version)
        async with self._engine.begin() as conn:
            await conn.execute(
                _TABLE.update()
                .where(_TABLE.c.user_id == user_id)
                .where(_TABLE.c.installation_id.in_(list(installation_ids)))
                .values(settled_version=settled)
            )
