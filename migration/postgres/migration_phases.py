"""Migration phases in Postgres: one row per entity, changed under its row lock and audited.

A change commits with a `NOTIFY focus_migration_phases` (payload: the entity), which
Postgres delivers only once the transaction commits: listeners refresh at once instead of at
their next poll. `listen_for_phase_changes` is such a listener.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Row, Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.tables.migration import (
    MigrationPhaseChangeRow,
    MigrationPhaseRow,
    MigrationVerificationRow,
)
from domain.common import new_id
from domain.migration import (
    INITIAL_PHASE,
    Entity,
    Phase,
    PhaseChange,
    PhaseChangedMeanwhile,
    Verification,
    VerificationMode,
)

CHANNEL = "focus_migration_phases"

_PHASES: Table = MigrationPhaseRow.__table__  # type: ignore[attr-defined]
_CHANGES: Table = MigrationPhaseChangeRow.__table__  # type: ignore[attr-defined]
_VERIFICATIONS: Table = MigrationVerificationRow.__table__  # type: ignore[attr-defined]

log = logging.getLogger("migration.postgres.migration_phases")


class PostgresPhaseStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def current(self) -> Mapping[Entity, Phase]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(_PHASES.c.entity, _PHASES.c.phase))).all()
        stored = {Entity(row.entity): Phase(row.phase) for row in rows}
        return {entity: stored.get(entity, INITIAL_PHASE) for entity in Entity}

    async def change(self, change: PhaseChange, *, expected: Phase) -> None:
        async with self._engine.begin() as conn:
            # A missing row is the initial phase: create it so that there is a row to lock.
            # A concurrent change waits here (or on the lock) until the first one commits,
            # then sees its phase and is refused.
            await conn.execute(
                pg_insert(_PHASES)
                .values(
                    entity=change.entity.value,
                    phase=INITIAL_PHASE.value,
                    changed_at=change.at,
                    changed_by=change.by,
                )
                .on_conflict_do_nothing()
            )
            locked = (
                await conn.execute(
                    select(_PHASES.c.phase)
                    .where(_PHASES.c.entity == change.entity.value)
                    .with_for_update()
                )
            ).scalar_one()
            if locked != expected.value:
                raise PhaseChangedMeanwhile(
                    detail=f"{change.entity} moved to {locked} meanwhile (expected {expected})",
                    current=Phase(locked),
                )
            await conn.execute(
                _PHASES.update()
                .where(_PHASES.c.entity == change.entity.value)
                .values(phase=change.to_phase.value, changed_at=change.at, changed_by=change.by)
            )
            await conn.execute(
                _CHANGES.insert().values(
                    id=new_id(),
                    entity=change.entity.value,
                    from_phase=expected.value,
                    to_phase=change.to_phase.value,
                    changed_at=change.at,
                    changed_by=change.by,
                    forced=change.forced,
                    reason=change.reason,
                )
            )
            await conn.execute(select(func.pg_notify(CHANNEL, change.entity.value)))

    async def history(self, entity: Entity, limit: int = 20) -> Sequence[PhaseChange]:
        query = (
            select(_CHANGES)
            .where(_CHANGES.c.entity == entity.value)
            .order_by(_CHANGES.c.changed_at.desc(), _CHANGES.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            PhaseChange(
                entity=Entity(row.entity),
                from_phase=Phase(row.from_phase),
                to_phase=Phase(row.to_phase),
                at=row.changed_at,
                by=row.changed_by,
                forced=row.forced,
                reason=row.reason,
            )
            for row in rows
        ]

    async def record_verification(self, verification: Verification) -> None:
        v = verification
        async with self._engine.begin() as conn:
            await conn.execute(
                _VERIFICATIONS.insert().values(
                    id=new_id(),
                    entity=v.entity.value,
                    started_at=v.started_at or v.finished_at,
                    finished_at=v.finished_at,
                    mode=v.mode.value,
                    sample_size=v.sample_size,
                    missing=v.missing,
                    extra=v.extra,
                    different=v.different,
                    passed=v.passed,
                    examples={kind: list(ids) for kind, ids in v.examples.items()},
                )
            )

    async def last_verification(self, entity: Entity) -> Verification | None:
        query = (
            select(_VERIFICATIONS)
            .where(_VERIFICATIONS.c.entity == entity.value)
            .order_by(_VERIFICATIONS.c.finished_at.desc(), _VERIFICATIONS.c.id.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _verification(row)


def _verification(row: Row[Any]) -> Verification:
    return Verification(
        entity=Entity(row.entity),
        finished_at=row.finished_at,
        passed=row.passed,
        mode=VerificationMode(row.mode),
        missing=row.missing,
        extra=row.extra,
        different=row.different,
        started_at=row.started_at,
        sample_size=row.sample_size,
        examples={kind: tuple(ids) for kind, ids in row.examples.items()},
    )


async def listen_for_phase_changes(
    database_url: str,
    on_change: Callable[[], None],
    stop: asyncio.Event,
    *,
    retry_seconds: float = 5.0,
) -> None:
    """Calls `on_change` on every committed phase change until `stop` is set.

    LISTEN needs a connection of its own, held open (not one of the pool's). A lost
    connection is retried; `on_change` is called after each reconnect too, since changes may
    have been missed meanwhile. Polling (`PhaseReader`) still bounds staleness without it.
    """
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                on_change()
                while not stop.is_set():
                    # Wakes at least every second to notice `stop`.
                    async for _ in conn.notifies(timeout=1.0):
                        on_change()
        except psycopg.Error:
            log.warning("migration.phases.listen_failed", exc_info=True)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=retry_seconds)
