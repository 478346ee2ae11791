"""Wiring of the Firestore → Postgres migration: phases, the dual-write unit of work, repair.

The composition root (`app/bootstrap.py`) builds it only when the settings say the Firebase
app's Firestore still holds data (`FOCUS_LEGACY_FIRESTORE`), and hands it the clients it made;
otherwise every entity is Postgres-only and none of this is imported.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from google.api_core.exceptions import GoogleAPICallError, RetryError
from google.cloud.firestore import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.consumer_log import PostgresFailedMessages
from domain.common import Clock
from migration.dual_write import DualWriteUnitOfWorkFactory
from migration.firestore.mirrors import FirestoreMirrorWriter
from migration.firestore.store import FirestoreStore
from migration.legacy_sync import LegacySync
from migration.legacy_sync.rules import Owed
from migration.mirroring import FirestoreBehind, Mirroring
from migration.phases import PhaseReader
from migration.postgres.legacy_sync import PostgresLegacySyncUnitOfWork
from migration.postgres.migration_phases import PostgresPhaseStore, listen_for_phase_changes
from migration.postgres.pending_mirrors import PostgresMirrorQueue
from migration.privacy import FirestorePersonalData
from migration.shadow import ShadowReads

FIRESTORE_UNAVAILABLE: tuple[type[Exception], ...] = (
    GoogleAPICallError,
    RetryError,
    TimeoutError,
    FirestoreBehind,
)
"""Firestore failures a request answers with 503 (retry), as a lost database connection."""


@dataclass(frozen=True, slots=True)
class MigrationConfig:
    """What the migration takes from the settings."""

    firestore_timeout_seconds: float
    shadow_read_rate: float
    consumer_max_attempts: int


@dataclass
class Migration:
    phases: PhaseReader
    mirroring: Mirroring
    unit_of_work: DualWriteUnitOfWorkFactory
    legacy_sync: LegacySync
    """Old apps' Firestore changes, pushed to /internal/pubsub/legacy-sync."""
    database_url: str
    personal_data: FirestorePersonalData
    """The legacy Firestore's part of privacy export and erasure."""
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _loops: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self, *, repair: bool) -> None:
        """Reads the phases (raises when it cannot: an instance that never knew them does
        not serve), then keeps them fresh; `repair` also runs the mirror repair loop."""
        await self.phases.start()
        self._stop.clear()
        self._loops = [
            asyncio.create_task(self.phases.run_until(self._stop)),
            asyncio.create_task(
                listen_for_phase_changes(self.database_url, self.phases.nudge, self._stop)
            ),
        ]
        if repair:
            self._loops.append(asyncio.create_task(self.mirroring.run_until(self._stop)))

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        await self.mirroring.drain_background()
        await self.unit_of_work.shadow.drain()


def build_migration(
    config: MigrationConfig,
    engine: AsyncEngine,
    client: AsyncClient,
    database_url: str,
    clock: Clock,
) -> Migration:
    firestore = FirestoreStore(client, clock=clock)
    mirroring = Mirroring(
        PostgresMirrorQueue(engine, clock=clock),
        FirestoreMirrorWriter(client, firestore.documents),
        timeout_seconds=config.firestore_timeout_seconds,
        clock=clock,
    )
    phases = PhaseReader(PostgresPhaseStore(engine))
    factory = DualWriteUnitOfWorkFactory(
        engine,
        firestore,
        phases.snapshot,
        mirroring,
        ShadowReads(config.shadow_read_rate),
        firestore_timeout_seconds=config.firestore_timeout_seconds,
        clock=clock,
    )
    legacy_sync = LegacySync(
        lambda: PostgresLegacySyncUnitOfWork(engine),
        phases.snapshot,
        PostgresFailedMessages(engine),
        clock=clock,
        owed=Owed(client),
        mirroring=mirroring,
        max_attempts=config.consumer_max_attempts,
    )
    return Migration(
        phases,
        mirroring,
        factory,
        legacy_sync,
        _listen_url(database_url),
        personal_data=FirestorePersonalData(client),
    )


def _listen_url(database_url: str) -> str:
    """psycopg's own URL (LISTEN uses a plain connection, not SQLAlchemy's)."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)
