"""The unit of work of the migration: each entity's repositories as its phase says.

Use cases see the usual `UnitOfWork`; which stores it reads and writes comes from the phase
snapshot taken when it is entered (one per request, so a request's reads and writes agree even
when a phase changes meanwhile). Postgres is written first in every phase (ADR 0012): it holds
the user's version counter, the outbox and idempotency keys, and now the pending Firestore
mirrors, all in one transaction. After `commit()` the mirrors are written to Firestore:
inline for entities Firestore still serves reads of, in the background for the others; what
fails stays pending and is repaired (`migration/mirroring.py`).

Entities in `postgres_only` get the plain Postgres repositories: no routing cost at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Self, TypeVar

from google.cloud.firestore import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.blocklists.ports import BlocklistRepository
from domain.common import Clock, utc_now
from domain.devices.ports import DeviceRepository
from domain.focus_sessions.ports import FocusSessionRepository
from domain.migration import Entity, PendingMirror, Phase, Store
from domain.schedules.ports import ScheduleRepository
from domain.usage.ports import UsageReportRepository
from domain.users.ports import UserRepository
from migration.firestore.store import FirestoreStore
from migration.mirroring import Mirroring
from migration.postgres.pending_mirrors import PostgresPendingMirrors
from migration.routed import (
    RoutedBlocklists,
    RoutedDevices,
    RoutedFocusSessions,
    RoutedSchedules,
    RoutedUsage,
    RoutedUsers,
)
from migration.routing import Route
from migration.shadow import ShadowReads

R = TypeVar("R")


class DualWriteUnitOfWorkFactory:
    """`UnitOfWorkFactory` of a deployment that still has Firestore data."""

    def __init__(
        self,
        engine: AsyncEngine,
        firestore: FirestoreStore,
        phases: Callable[[], Mapping[Entity, Phase]],
        mirroring: Mirroring,
        shadow: ShadowReads,
        *,
        firestore_timeout_seconds: float = 5.0,
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.firestore = firestore
        self.client: AsyncClient = firestore.documents.client
        """Makes the DocumentReferences mirrored documents hold."""
        self.phases = phases
        self.mirroring = mirroring
        self.shadow = shadow
        self.firestore_timeout_seconds = firestore_timeout_seconds
        self.clock = clock

    def __call__(self, *, origin_installation_id: str | None = None) -> DualWriteUnitOfWork:
        return DualWriteUnitOfWork(self, origin_installation_id=origin_installation_id)


class DualWriteUnitOfWork(PostgresUnitOfWork):
    """The Postgres unit of work (its transaction, counter, outbox, idempotency, change feed)
    with each entity's repository replaced by its phase's route."""

    def __init__(
        self, factory: DualWriteUnitOfWorkFactory, *, origin_installation_id: str | None
    ) -> None:
        super().__init__(factory.engine, origin_installation_id=origin_installation_id)
        self._factory = factory
        self._phases = factory.phases()
        self._recorded: list[PendingMirror] = []

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        f = self._factory
        pending = PostgresPendingMirrors(self.connection, clock=f.clock)
        firestore = f.firestore

        def route(entity: Entity, postgres: R, on_firestore: R) -> Route[R]:
            return Route(
                entity,
                self._phases[entity],
                postgres=postgres,
                firestore=on_firestore,
                pending=pending,
                recorded=self._recorded,
                mirroring=f.mirroring,
                shadow=f.shadow,
                timeout_seconds=f.firestore_timeout_seconds,
            )

        def routed(entity: Entity, postgres: R, on_firestore: R, wrap: Callable[..., R]) -> R:
            if self._phases[entity] is Phase.POSTGRES_ONLY:
                return postgres
            return wrap(route(entity, postgres, on_firestore), f.client, f.clock)

        self.users: UserRepository = routed(Entity.USERS, self.users, firestore.users, RoutedUsers)
        self.devices: DeviceRepository = routed(
            Entity.DEVICES, self.devices, firestore.devices, RoutedDevices
        )
        self.blocklists: BlocklistRepository = routed(
            Entity.BLOCKLISTS, self.blocklists, firestore.blocklists, RoutedBlocklists
        )
        self.schedules: ScheduleRepository = routed(
            Entity.SCHEDULES, self.schedules, firestore.schedules, RoutedSchedules
        )
        self.focus_sessions: FocusSessionRepository = routed(
            Entity.FOCUS_SESSIONS, self.focus_sessions, firestore.focus_sessions,
            RoutedFocusSessions,
        )  # fmt: skip
        self.usage: UsageReportRepository = routed(
            Entity.USAGE, self.usage, firestore.usage, RoutedUsage
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._recorded.clear()  # not committed: rolled back with the transaction
        await super().__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        await super().commit()
        recorded, self._recorded[:] = list(self._recorded), []
        if not recorded:
            return
        read_there: list[PendingMirror] = []
        others: list[PendingMirror] = []
        for mirror in recorded:
            served = self._phases[mirror.entity].reads_from is Store.FIRESTORE
            (read_there if served else others).append(mirror)
        if read_there:
            # Best effort: a failure leaves the rows, and the next read applies them first.
            await self._factory.mirroring.apply(read_there, path="commit")
        if others:
            self._factory.mirroring.apply_in_background(others)

    async def rollback(self) -> None:
        self._recorded.clear()
        await super().rollback()
