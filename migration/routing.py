"""One entity's reads and writes, sent to the stores its phase names.

A `Route` knows the entity's phase (fixed for the unit of work) and does the three things
every repository method needs:
- `read`: from Postgres or Firestore, as the phase reads; before a Firestore read, the user's
  pending mirrors of the entity are applied (read-your-writes); in
  `dual_write_read_postgres` a sample of reads also reads Firestore and compares (shadow);
- `write`: into Postgres when the phase writes it, and a pending mirror recorded in the same
  transaction when the phase writes Firestore. Firestore itself is written after the commit.
Firestore calls are bounded by a timeout: a store that hangs must not hold a request (and its
Postgres connection) for the client library's minute of retries.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from domain.migration import Entity, PendingMirror, Phase, Store
from migration.mirroring import GRACE, Mirroring
from migration.postgres.pending_mirrors import PostgresPendingMirrors
from migration.shadow import ShadowReads

R = TypeVar("R")  # a repository port
T = TypeVar("T")


class Route(Generic[R]):
    def __init__(
        self,
        entity: Entity,
        phase: Phase,
        *,
        postgres: R,
        firestore: R,
        pending: PostgresPendingMirrors,
        recorded: list[PendingMirror],
        mirroring: Mirroring,
        shadow: ShadowReads,
        timeout_seconds: float,
    ) -> None:
        self.entity = entity
        self.phase = phase
        self._postgres = postgres
        self._firestore = firestore
        self._pending = pending
        self._recorded = recorded
        self._mirroring = mirroring
        self._shadow = shadow
        self._timeout = timeout_seconds
        self._caught_up: set[str] = set()

    async def read(
        self, user_id: str | None, ids: Mapping[str, str], call: Callable[[R], Awaitable[T]]
    ) -> T:
        """`call` on the read store; `user_id` None for reads across users (nothing to catch
        up: such reads check ids, which a pending write took in Postgres already)."""
        if self.phase.reads_from is Store.FIRESTORE:
            if user_id is not None and user_id not in self._caught_up:
                # Committed mirrors only: this transaction's own are written after its commit.
                own = {mirror.id for mirror in self._recorded}
                pending = await self._pending.of_user(user_id, self.entity)
                await self._mirroring.catch_up([m for m in pending if m.id not in own])
                self._caught_up.add(user_id)
            return await self._on_firestore(call)
        result = await call(self._postgres)
        if self.phase is Phase.DUAL_WRITE_READ_POSTGRES:
            self._shadow.compare_later(
                self.entity.value,
                ids,
                _unversioned(result),
                lambda: self._shadow_read(call),
            )
        return result

    async def write(
        self, call: Callable[[R], Awaitable[None]], mirror: Callable[[], PendingMirror]
    ) -> None:
        if self.phase.writes_postgres:
            await call(self._postgres)
        if self.phase.writes_firestore:
            await self.record_mirror(mirror())

    async def record_mirror(self, mirror: PendingMirror) -> None:
        """Firestore owes `mirror` once this transaction commits."""
        self._recorded.append(await self._pending.record(mirror, due_in=GRACE))

    @property
    def postgres(self) -> R:
        """Postgres's repository, for what is kept there in every phase."""
        return self._postgres

    async def _on_firestore(self, call: Callable[[R], Awaitable[T]]) -> T:
        return await asyncio.wait_for(call(self._firestore), self._timeout)

    async def _shadow_read(self, call: Callable[[R], Awaitable[T]]) -> Any:
        return _unversioned(await self._on_firestore(call))


def _unversioned(value: Any) -> Any:
    """Versions are left out of shadow comparisons: a legacy document has none (`_v` 0) until
    the backend writes it, which is no difference in the data."""
    if isinstance(value, list):
        return [_unversioned(item) for item in value]
    versioned = (
        dataclasses.is_dataclass(value)
        and not isinstance(value, type)
        and any(f.name == "version" for f in dataclasses.fields(value))
    )
    if versioned:
        return dataclasses.replace(value, version=0)
    return value
