"""`focus migrate backfill`: every entity streamed from Firestore into Postgres, resumable.

Entities go in dependency order (users first: their rows carry the version counters; blocklists
before the schedules that point at them). Each entity resumes from its checkpoint; one whose
last run finished starts over from the first document, and then writes nothing that exists.
A dry run maps and counts from the first document and writes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from google.cloud.firestore import AsyncClient

from domain.common import Clock, utc_now
from domain.migration import Entity
from migration.backfill import reader
from migration.backfill.mapper import PageMapper
from migration.backfill.rate import RampingLimiter
from migration.entities import BINDINGS, ORDER
from migration.postgres.backfill import Batch, Checkpoint, PostgresBackfillStore

DEFAULT_BATCH = 2000
"""Documents per page and per transaction. The pace is set by `RampingLimiter` in operations a
second, whatever the page size (a page of 2,000 waits 4 s at the starting 500/s, so the rate
holds on average; `--batch 500` keeps every second under it too). A larger transaction spreads
its fixed round trips over more rows (bench/backfill.py, ours/COPY, busy 2-CPU machine: 0.44
at 500, 0.43 to 0.50 at 1,000, 0.50 to 0.54 at 2,000), and a killed run redoes at most one page."""
MAX_BATCH = 10_000


class BackfillRefused(Exception):
    """The backfill cannot run as asked; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class BackfillOptions:
    entity: Entity | None = None
    """Only this entity; None: all, in `ORDER`."""
    batch: int = DEFAULT_BATCH
    dry_run: bool = False
    max_rate: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.batch <= MAX_BATCH:
            raise BackfillRefused(
                f"--batch must be between 1 and {MAX_BATCH:,} documents (got {self.batch})"
            )


@dataclass(slots=True)
class EntitySummary:
    """One entity's run: the checkpoint's counts (across resumes), and this process's pace."""

    checkpoint: Checkpoint
    seconds: float = 0.0
    read_now: int = 0
    """Documents this process read (a resumed run read the rest before)."""
    resumed: bool = False
    restarted_after: dt.datetime | None = None
    """The previous run's end, when this one started over after it."""
    defaults: Counter[str] = field(default_factory=Counter)

    @property
    def docs_per_second(self) -> float:
        return self.read_now / self.seconds if self.seconds > 0 else 0.0


class Progress(Protocol):
    def started(self, entity: Entity, total: int | None, done: int) -> None: ...
    def advanced(self, documents: int) -> None: ...
    def ended(self, summary: EntitySummary) -> None: ...


class NoProgress:
    def started(self, entity: Entity, total: int | None, done: int) -> None:
        pass

    def advanced(self, documents: int) -> None:
        pass

    def ended(self, summary: EntitySummary) -> None:
        pass


class Backfill:
    def __init__(
        self,
        client: AsyncClient,
        store: PostgresBackfillStore,
        options: BackfillOptions,
        *,
        progress: Progress | None = None,
        clock: Clock = utc_now,
        timer: Callable[[], float] = time.monotonic,
        limiter: RampingLimiter | None = None,
    ) -> None:
        self._client = client
        self._store = store
        self._options = options
        self._progress = progress or NoProgress()
        self._clock = clock
        self._timer = timer
        self._limiter = limiter or RampingLimiter(max_rate=options.max_rate)
        self._mapper = PageMapper(
            client,
            store.blocklist_ids,
            as_of=clock(),
            counts=Counter(),
            remember_blocklists=options.dry_run,
        )

    async def run(self) -> Sequence[EntitySummary]:
        entities = ORDER if self._options.entity is None else (self._options.entity,)
        return [await self._entity(entity) for entity in entities]

    async def _entity(self, entity: Entity) -> EntitySummary:
        summary = await self._begin(entity)
        self._mapper.counts.clear()
        total = await reader.total(self._client, entity)
        self._progress.started(entity, total, summary.checkpoint.read)
        began = self._timer()
        checkpoint = summary.checkpoint
        while True:
            await self._limiter.ready()
            snapshots = await reader.page(
                self._client, entity, checkpoint.last_path, self._options.batch
            )
            reads_before = self._mapper.extra_reads
            if not snapshots:
                self._limiter.spent(1)  # an empty query is billed as one read
                break
            batch = await self._mapper.batch(entity, snapshots)
            self._limiter.spent(len(snapshots) + self._mapper.extra_reads - reads_before)
            checkpoint = await self._save(checkpoint, batch)
            summary.read_now += len(snapshots)
            self._progress.advanced(len(snapshots))
            if len(snapshots) < self._options.batch:
                break
        if not self._options.dry_run:
            checkpoint = await self._store.finish(checkpoint, self._clock())
        summary.checkpoint = checkpoint
        summary.seconds = self._timer() - began
        summary.defaults = Counter(self._mapper.counts)
        self._progress.ended(summary)
        return summary

    async def _begin(self, entity: Entity) -> EntitySummary:
        now = self._clock()
        if self._options.dry_run:
            return EntitySummary(Checkpoint(entity, None, started_at=now, updated_at=now))
        await self._check_blocklists_first(entity)
        previous = await self._store.checkpoint(entity)
        if previous is not None and not previous.finished:
            return EntitySummary(previous, resumed=previous.last_path is not None)
        fresh = await self._store.restart(entity, now)
        return EntitySummary(fresh, restarted_after=previous.finished_at if previous else None)

    async def _check_blocklists_first(self, entity: Entity) -> None:
        """Schedules and sessions check their blocklist links against Postgres: without the
        blocklists there, every link would look dangling."""
        if not BINDINGS[entity].needs_user:
            return
        blocklists = await self._store.checkpoint(Entity.BLOCKLISTS)
        if blocklists is None or not blocklists.finished:
            raise BackfillRefused(
                f"{entity} needs the blocklists backfilled first (their links are checked"
                " against Postgres): run `focus migrate backfill blocklists`, or all entities"
            )

    async def _save(self, checkpoint: Checkpoint, batch: Batch) -> Checkpoint:
        now = self._clock()
        if self._options.dry_run:
            return await self._store.preview(checkpoint, batch, now)
        return await self._store.write(checkpoint, batch, now)
