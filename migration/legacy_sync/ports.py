"""What the legacy sync needs from Postgres besides the repositories: one unit of work that
also answers for erasures, positions and tombstoned versions, on the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from domain.migration import Entity, PendingMirror, RecordState
from domain.unit_of_work import UnitOfWork


class LegacySyncLedger(Protocol):
    async def owe(self, mirror: PendingMirror, *, due_in: timedelta) -> PendingMirror:
        """Records `mirror` in this transaction (Firestore owes it once committed); returns
        it with its id."""
        ...

    async def forget_owed(self, entity: Entity, uid: str, record_key: str) -> None:
        """Drops the record's pending mirrors: an old app removed its document."""
        ...

    async def is_erased(self, uid: str) -> bool: ...

    async def position(self, uid: str, path: str) -> str | None:
        """The Firestore update_time (RFC 3339, 9 digits: text order is time order) of the
        document's last applied change; None before its first."""
        ...

    async def advance(self, uid: str, path: str, update_time: str) -> None: ...

    async def state(self, entity: Entity, key: Mapping[str, object]) -> RecordState | None:
        """The record's version and whether it is a tombstone; None when there is no row."""
        ...

    async def created_no_later_than(self, uid: str, at: datetime) -> None:
        """The user's creation is the earliest either store knows of."""
        ...

    async def blocklist_ids(self, uid: str) -> frozenset[UUID]:
        """Every blocklist of the user in Postgres, live or deleted: what a schedule or session
        may name (the backfill's and verify's rule; a deleted one stays a session's history)."""
        ...


class LegacySyncUnitOfWork(UnitOfWork, Protocol):
    @property
    def legacy(self) -> LegacySyncLedger:
        """The ledger on this unit of work's transaction."""
        ...


LegacySyncUnitOfWorkFactory = Callable[[], LegacySyncUnitOfWork]

__all__ = ["LegacySyncLedger", "LegacySyncUnitOfWork", "LegacySyncUnitOfWorkFactory"]
