"""`PostgresBackfillStore`: each batch of mapped documents written in one transaction.

A batch's new rows, its quarantine entries and the entity's checkpoint commit together, so a
run killed at any point resumes after the last committed document, without gaps or duplicates.
Documents of erased users are skipped. The statements that do not depend on each other's
answers go together (psycopg's pipeline mode): a batch costs four round trips to the server
(reads, version numbers, the writes with the checkpoint, the commit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datastore.postgres.tables.blocklists import BlocklistRow
from domain.migration import Entity
from migration.postgres.backfill import checkpoints, quarantine
from migration.postgres.backfill.columnar import Statement, pipelined
from migration.postgres.backfill.records import BackfillRecord, Batch, Checkpoint
from migration.postgres.backfill.specs import SPECS
from migration.postgres.backfill.writes import Decision, decide, insert_new, lookups, rows_to_insert

_BLOCKLISTS: Table = BlocklistRow.__table__  # type: ignore[attr-defined]
# The commit need not wait for the WAL flush: a batch's rows and its checkpoint commit together,
# so a server crash that loses the last batches loses their checkpoint too, and the next run
# writes them again (no gap, no duplicate). Waiting would cost a disk flush per batch.
_NO_FLUSH_WAIT = Statement("SET LOCAL synchronous_commit = off", {})
_ERASED = "SELECT uid FROM erased_users WHERE uid = ANY(CAST(%(uids)b AS text[]))"


class PostgresBackfillStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._quarantined_before: dict[Entity, bool] = {}

    async def checkpoint(self, entity: Entity) -> Checkpoint | None:
        async with self._engine.connect() as conn:
            return await checkpoints.load(conn, entity)

    async def restart(self, entity: Entity, now: datetime) -> Checkpoint:
        """A fresh checkpoint at the beginning (a first run, or a run after a finished one)."""
        return await self._save(Checkpoint(entity, None, started_at=now, updated_at=now))

    async def finish(self, checkpoint: Checkpoint, now: datetime) -> Checkpoint:
        return await self._save(replace(checkpoint, finished_at=now, updated_at=now))

    async def _save(self, checkpoint: Checkpoint) -> Checkpoint:
        async with self._engine.begin() as conn:
            await pipelined(conn, [checkpoints.saved(checkpoint)])
        return checkpoint

    async def blocklist_ids(self, uids: Iterable[str]) -> dict[str, frozenset[UUID]]:
        """Every blocklist row of these users, live or deleted: what a schedule may point at."""
        wanted = sorted(set(uids))
        stmt = select(_BLOCKLISTS.c.user_id, _BLOCKLISTS.c.id).where(
            _BLOCKLISTS.c.user_id.in_(wanted)
        )
        found: dict[str, set[UUID]] = {uid: set() for uid in wanted}
        async with self._engine.connect() as conn:
            for user_id, blocklist_id in await conn.execute(stmt):
                found[user_id].add(blocklist_id)
        return {uid: frozenset(ids) for uid, ids in found.items()}

    async def write(self, checkpoint: Checkpoint, batch: Batch, now: datetime) -> Checkpoint:
        """Writes the batch and moves the checkpoint past it, in one transaction."""
        entity, spec = checkpoint.entity, SPECS[checkpoint.entity]
        async with self._engine.begin() as conn:
            read = await self._read(conn, entity, batch, writing=True)
            quarantined = [q for q in batch.quarantined if q.uid not in read.erased]
            await quarantine.keep(conn, entity, quarantined, now)
            rows = await rows_to_insert(conn, spec, read.decision)
            moved = checkpoints.moved(checkpoint, batch, now, read.erased, quarantined)
            # The checkpoint goes with the insert, counting every new row as inserted; the rare
            # batch where a row was written meanwhile (and is kept) saves it again, corrected.
            last = [*self._released(entity, read.records)]
            last += [insert_new(spec, rows)] if rows else []
            last.append(checkpoints.saved(_counted(moved, read.decision, len(rows))))
            results = await pipelined(conn, last)
            inserted = results[-2].changed if rows else 0
            moved = _counted(moved, read.decision, inserted)
            if inserted < len(rows):
                await pipelined(conn, [checkpoints.saved(moved)])
        return moved

    def _released(self, entity: Entity, records: list[BackfillRecord]) -> list[Statement]:
        """Entries from earlier runs that these records' documents, mapped now, leave."""
        if self._quarantined_before[entity] and records:
            return [quarantine.released([r.path for r in records])]
        return []

    async def preview(self, checkpoint: Checkpoint, batch: Batch, now: datetime) -> Checkpoint:
        """What `write` would count, reading only (`--dry-run`)."""
        async with self._engine.connect() as conn:
            read = await self._read(conn, checkpoint.entity, batch, writing=False)
            await conn.rollback()
        quarantined = [q for q in batch.quarantined if q.uid not in read.erased]
        moved = checkpoints.moved(checkpoint, batch, now, read.erased, quarantined)
        return _counted(moved, read.decision, len(read.decision.new))

    async def _read(
        self, conn: AsyncConnection, entity: Entity, batch: Batch, *, writing: bool
    ) -> _Read:
        """The erased users among the batch's, and what becomes of the other users' records;
        in one round trip (with the transaction's settings, and once per entity whether
        entries from earlier runs wait in the quarantine)."""
        spec = SPECS[entity]
        uids = sorted({r.user_id for r in batch.records} | {q.uid for q in batch.quarantined})
        statements = [_NO_FLUSH_WAIT] if writing else []
        erased_at = len(statements)
        statements.append(Statement(_ERASED, {"uids": uids}))
        statements += lookups(spec, batch.records, lock=writing)
        ask = entity not in self._quarantined_before
        if ask:
            statements.append(quarantine.any_of(entity))
        results = await pipelined(conn, statements)
        if ask:
            self._quarantined_before[entity] = bool(results.pop().rows)
        erased = {uid for (uid,) in results[erased_at].rows}
        records = [r for r in batch.records if r.user_id not in erased]
        existing = results[-1].rows if batch.records else []
        return _Read(erased, records, decide(spec, records, existing))


@dataclass(frozen=True, slots=True)
class _Read:
    erased: set[str]
    records: list[BackfillRecord]
    """The batch's records but those of erased users."""
    decision: Decision


def _counted(moved: Checkpoint, decision: Decision, inserted: int) -> Checkpoint:
    return replace(
        moved,
        inserted=moved.inserted + inserted,
        replaced=moved.replaced + len(decision.newer),
        kept=moved.kept + decision.kept + len(decision.new) - inserted,
    )
