"""`focus migrate verify`: both stores compared per entity, divergences repaired on request.

`Verifier.verify(entity, options)` compares Firestore (mapped as the backfill maps it) with
Postgres, records the run as a `Verification` (the phase guardrail reads the newest), and with
`repair` writes the follower from the phase's source of truth, compares again and records that
run too: the newest verification is then the one after the repair.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from google.cloud.firestore import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.common import Clock, utc_now
from domain.migration import Entity, PhaseStore, VerificationMode
from migration.entities import ORDER
from migration.firestore.repositories.common import Documents
from migration.postgres import verify_reads
from migration.verify.compare import Divergence, Tally
from migration.verify.firestore_side import FirestoreSide
from migration.verify.repair import Repairer
from migration.verify.run import EntityRun, Options, Outcome, verification

__all__ = ["ORDER", "Divergence", "Options", "Outcome", "Tally", "Verifier"]


class Verifier:
    def __init__(
        self,
        engine: AsyncEngine,
        client: AsyncClient,
        phases: PhaseStore,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._engine = engine
        self._client = client
        self._phases = phases
        self._clock = clock

    async def verify(self, entity: Entity, options: Options) -> Outcome:
        started_at = self._clock()
        async with self._engine.connect() as conn:
            erased = await verify_reads.erased_uids(conn)
        documents = Documents(self._client, self._clock, Counter())
        run = EntityRun(self._engine, FirestoreSide(documents), entity, erased)
        keys = await run.sample_keys(options) if options.mode is VerificationMode.SAMPLE else None
        repairer = None
        if options.repair:
            source = (await self._phases.current())[entity].source_of_truth
            repairer = Repairer(
                self._engine, documents, source=source, erased=erased, clock=self._clock
            )
        found = Tally()
        await self._compare(run, keys, found, repairer)
        if repairer is None and not found.passed and options.settle_seconds > 0:
            found = await self._settle(run, found, options.settle_seconds)
        outcome = Outcome(entity, options, found, started_at, self._clock())
        await self._phases.record_verification(verification(outcome, found, outcome.finished_at))
        if repairer is None:
            return outcome
        outcome.source = repairer.source
        outcome.repaired, outcome.unrepaired = repairer.repaired, dict(repairer.unrepaired)
        if not found.passed:
            outcome.after = Tally()
            await self._compare(run, keys, outcome.after, None)
            outcome.finished_at = self._clock()
            after = verification(outcome, outcome.after, outcome.finished_at)
            await self._phases.record_verification(after)
        return outcome

    @staticmethod
    async def _settle(run: EntityRun, found: Tally, seconds: float) -> Tally:
        """The divergent records compared again a moment later (writes in flight settle)."""
        await asyncio.sleep(seconds)
        recheck = Tally()
        await run.sample(found.divergent_keys, recheck, None)
        return found.settled(recheck)

    @staticmethod
    async def _compare(
        run: EntityRun,
        keys: list[tuple[str, str]] | None,
        tally: Tally,
        repairer: Repairer | None,
    ) -> None:
        if keys is None:
            await run.full(tally, repairer)
        else:
            await run.sample(keys, tally, repairer)
