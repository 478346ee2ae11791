"""`focus migrate verify` for one entity: walk or sample both stores, compare, repair, record.

Full runs compare user by user, never holding more than a page of users: Firestore's documents
come in path order (uid by uid) and each page of users' rows is read from Postgres by uid,
then a second pass walks Postgres's owners (keyset on the index) for users Firestore has
nothing of. No merge of two sorted streams: Postgres's order of uids follows its collation,
which need not be Firestore's byte order. Sample runs draw keys from both stores and look
each up on the other side.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from random import Random

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.migration import Entity, Store, Verification, VerificationMode
from migration.firestore.repositories.common import Snapshot
from migration.postgres import verify_reads
from migration.postgres.verify_reads import StoredRow
from migration.verify.compare import Comparer, Divergence, Divergent, Tally
from migration.verify.firestore_side import FirestoreSide
from migration.verify.records import Found, through_layout
from migration.verify.repair import Repairer

USERS_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class Options:
    mode: VerificationMode
    sample_size: int = 1000
    repair: bool = False
    seed: int | None = None
    """Makes a sample repeatable (on unchanged data)."""
    settle_seconds: float = 5.0
    """Divergent records are compared again after this long; those that agree then were
    writes in flight (a live system is verified), not divergences. 0: no second look."""


@dataclass
class Outcome:
    """What one entity's run found and, with `--repair`, what it did and found after."""

    entity: Entity
    options: Options
    found: Tally
    started_at: datetime
    finished_at: datetime
    source: Store | None = None
    repaired: int = 0
    unrepaired: dict[str, int] = field(default_factory=dict)
    after: Tally | None = None

    @property
    def final(self) -> Tally:
        return self.after if self.after is not None else self.found


def verification(outcome: Outcome, tally: Tally, finished_at: datetime) -> Verification:
    sample = outcome.options.mode is VerificationMode.SAMPLE
    return Verification(
        entity=outcome.entity,
        finished_at=finished_at,
        passed=tally.passed,
        mode=outcome.options.mode,
        missing=tally.count(Divergence.MISSING),
        extra=tally.count(Divergence.EXTRA),
        different=tally.count(Divergence.DIFFERENT),
        started_at=outcome.started_at,
        sample_size=tally.compared if sample else None,
        examples={
            kind: tuple(ids) for kind, ids in tally.examples.items() if kind != "quarantined"
        },
    )


class EntityRun:
    """One comparison pass; with a repairer, each divergent record is repaired as found."""

    def __init__(
        self, engine: AsyncEngine, side: FirestoreSide, entity: Entity, erased: frozenset[str]
    ) -> None:
        self.engine = engine
        self.side = side
        self.entity = entity
        self.erased = erased
        as_of = side.docs.clock()
        self.comparer = Comparer(
            entity, lambda record: through_layout(entity, record, side.client, as_of)
        )

    async def full(self, tally: Tally, repairer: Repairer | None) -> None:
        page: list[tuple[str, list[Snapshot]]] = []
        async for uid, snapshots in self.side.users(self.entity):
            if uid not in self.erased:
                page.append((uid, snapshots))
            if len(page) >= USERS_PER_PAGE:
                await self._compare_page(page, tally, repairer)
                page = []
        await self._compare_page(page, tally, repairer)
        await self._postgres_only_users(tally, repairer)

    async def _compare_page(
        self,
        page: Sequence[tuple[str, Sequence[Snapshot]]],
        tally: Tally,
        repairer: Repairer | None,
    ) -> None:
        rows = await self._rows([uid for uid, _ in page])
        for uid, snapshots in page:
            firestore = await self.side.records(self.entity, uid, snapshots)
            found = self.comparer.user(uid, firestore, rows.get(uid, {}), tally)
            await _repair_all(repairer, self.entity, list(found))

    async def _postgres_only_users(self, tally: Tally, repairer: Repairer | None) -> None:
        after: str | None = None
        while True:
            async with self.engine.connect() as conn:
                uids = await verify_reads.user_ids_after(conn, self.entity, after, USERS_PER_PAGE)
            if not uids:
                return
            after = uids[-1]
            candidates = [uid for uid in uids if uid not in self.erased]
            has = await asyncio.gather(
                *(self.side.has_documents(self.entity, uid) for uid in candidates)
            )
            alone = [uid for uid, known in zip(candidates, has, strict=True) if not known]
            rows = await self._rows(alone)
            for uid in alone:
                found = self.comparer.user(uid, {}, rows.get(uid, {}), tally)
                await _repair_all(repairer, self.entity, list(found))

    async def sample(
        self, keys: Iterable[tuple[str, str]], tally: Tally, repairer: Repairer | None
    ) -> None:
        per_user: dict[str, set[str]] = defaultdict(set)
        for uid, key in keys:
            if uid not in self.erased:
                per_user[uid].add(key)
        for uid, user_keys in sorted(per_user.items()):
            looked_up = [await self.side.lookup(self.entity, uid, key) for key in user_keys]
            snapshots = [snapshot for snapshot in looked_up if snapshot is not None]
            firestore = await self.side.records(self.entity, uid, snapshots)
            postgres: dict[str, Found] = {}
            async with self.engine.connect() as conn:
                for key in user_keys:
                    row = await verify_reads.row_at(conn, self.entity, uid, key)
                    if row is not None:
                        postgres[key] = _found(row)
            found = self.comparer.user(uid, firestore, postgres, tally, keys=user_keys)
            await _repair_all(repairer, self.entity, list(found))

    async def sample_keys(self, options: Options) -> list[tuple[str, str]]:
        rng = Random(options.seed)  # noqa: S311 - a sample, not a secret
        seed = None if options.seed is None else rng.uniform(-1.0, 1.0)
        async with self.engine.connect() as conn:
            ours = await verify_reads.random_keys(conn, self.entity, options.sample_size, seed)
        theirs = await self.side.sample(self.entity, options.sample_size, rng)
        return list(dict.fromkeys([*ours, *theirs]))

    async def _rows(self, uids: Sequence[str]) -> dict[str, dict[str, Found]]:
        async with self.engine.connect() as conn:
            rows = await verify_reads.rows_of(conn, self.entity, uids)
        grouped: dict[str, dict[str, Found]] = defaultdict(dict)
        for row in rows:
            grouped[row.user_id][row.key] = _found(row)
        return grouped


def _found(row: StoredRow) -> Found:
    return Found(row.key, row.record, deleted=row.deleted, version=row.record.version)


async def _repair_all(repairer: Repairer | None, entity: Entity, found: list[Divergent]) -> None:
    if repairer is not None:
        for divergent in found:
            await repairer.repair(entity, divergent)
