"""The Postgres unit of work: one connection, one transaction, every repository on it.

Core on an `AsyncConnection` rather than an ORM `AsyncSession`: the repositories map rows to
the domain themselves, and the session's layer (identity map, its own transaction object, more
greenlet hops) cost about a sixth of a hot read's server CPU (bench/README.md). The connection is
checked out on entering; its transaction begins with the first statement (SQLAlchemy's
autobegin, in the same call) and again with the first statement after `commit()`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datastore.postgres.ai_budgets import PostgresResultCaps
from datastore.postgres.repositories.blocklists import PostgresBlocklistRepository
from datastore.postgres.repositories.devices import PostgresDeviceRepository
from datastore.postgres.repositories.focus_sessions import PostgresFocusSessionRepository
from datastore.postgres.repositories.idempotency import PostgresIdempotencyStore
from datastore.postgres.repositories.insights import PostgresInsightRepository
from datastore.postgres.repositories.outbox import PostgresEventOutbox
from datastore.postgres.repositories.schedules import PostgresScheduleRepository
from datastore.postgres.repositories.sync import PostgresChangeFeed
from datastore.postgres.repositories.usage import PostgresUsageReportRepository
from datastore.postgres.repositories.users import PostgresUserRepository
from domain.ai.budgets import ResultCaps
from domain.ai.insights import InsightRepository
from domain.blocklists.ports import BlocklistRepository
from domain.devices.ports import DeviceRepository
from domain.errors import AccountErased
from domain.events import EventOutbox
from domain.focus_sessions.ports import FocusSessionRepository
from domain.idempotency import IdempotencyStore
from domain.schedules.ports import ScheduleRepository
from domain.sync.ports import ChangeFeed
from domain.usage.ports import UsageReportRepository
from domain.users.ports import UserRepository

# One statement both creates a user's row on their first write and takes the next number.
# The row lock it takes is held until commit, which serialises one user's writes (cheap: one
# person's devices) and makes versions commit in the order they were taken.
# An erased uid gets no number (and no row): its writes are refused from the moment its
# erasure is requested, on every instance (`AccountErased`).
_NEXT_VERSION = text(
    "INSERT INTO users AS u (uid, change_seq, created_at, updated_at)"
    " SELECT :uid, 1, now(), now()"
    " WHERE NOT EXISTS (SELECT 1 FROM erased_users WHERE uid = :uid)"
    " ON CONFLICT (uid) DO UPDATE SET change_seq = u.change_seq + 1"
    " WHERE NOT EXISTS (SELECT 1 FROM erased_users WHERE uid = :uid)"
    " RETURNING change_seq"
)
# The same row lock without taking a number: for reads that decide a write (If-Match, caps).
# FOR NO KEY UPDATE, the mode `_NEXT_VERSION` takes, not FOR UPDATE: every insert into a table
# referencing users holds FOR KEY SHARE on the user's row until it commits (the foreign key's
# check), and FOR UPDATE waits for it. A consumer holds its `processed_events` insert open while
# its handler runs; a handler that wrote for the same user under FOR UPDATE waited on its own
# consumer until the statement timeout (tests/integration/events/test_user_lock.py).
_LOCK_USER = text("SELECT 1 FROM users WHERE uid = :uid FOR NO KEY UPDATE")


_REPOSITORIES: dict[str, Callable[[AsyncConnection, str | None], object]] = {
    "users": lambda connection, _: PostgresUserRepository(connection),
    "devices": lambda connection, _: PostgresDeviceRepository(connection),
    "blocklists": lambda connection, _: PostgresBlocklistRepository(connection),
    "schedules": lambda connection, _: PostgresScheduleRepository(connection),
    "focus_sessions": lambda connection, _: PostgresFocusSessionRepository(connection),
    "usage": lambda connection, _: PostgresUsageReportRepository(connection),
    "insights": lambda connection, _: PostgresInsightRepository(connection),
    "ai_caps": lambda connection, _: PostgresResultCaps(connection),
    "changes": lambda connection, _: PostgresChangeFeed(connection),
    "idempotency": lambda connection, _: PostgresIdempotencyStore(connection),
    "outbox": PostgresEventOutbox,
}
"""How each repository is made on the unit's connection (the outbox also takes the origin)."""


class PostgresUnitOfWork:
    """Each repository is made on first use, on the unit's connection: a read uses one of
    the eleven, and making all of them cost it about 1 % of its CPU (bench/README.md). The
    attributes are declared as `UnitOfWork` declares them (subclassing the protocol would make
    them abstract to mypy); `tests/integration/test_unit_of_work.py` checks each is made."""

    users: UserRepository
    devices: DeviceRepository
    blocklists: BlocklistRepository
    schedules: ScheduleRepository
    focus_sessions: FocusSessionRepository
    usage: UsageReportRepository
    insights: InsightRepository
    ai_caps: ResultCaps
    changes: ChangeFeed
    idempotency: IdempotencyStore
    outbox: EventOutbox
    connection: AsyncConnection

    def __init__(self, engine: AsyncEngine, *, origin_installation_id: str | None = None) -> None:
        self._engine = engine
        self._origin = origin_installation_id

    async def __aenter__(self) -> Self:
        self.connection = await self._engine.connect()
        return self

    def __getattr__(self, name: str) -> object:
        # Called only for an attribute not set: a repository's first use in this `async with`.
        make = _REPOSITORIES.get(name)
        connection = self.__dict__.get("connection")
        if make is None or connection is None:
            raise AttributeError(name)
        made = make(connection, self._origin)
        setattr(self, name, made)
        return made

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.__dict__.pop("connection")
        for name in _REPOSITORIES.keys() & self.__dict__.keys():
            del self.__dict__[name]  # on this closed connection: made again if entered again
        # Rolls back a transaction still open (nothing after commit()) and returns the
        # connection to the pool, in one call.
        await connection.close()

    async def next_version(self, user_id: str) -> int:
        result = await self.connection.execute(_NEXT_VERSION, {"uid": user_id})
        version = result.scalar_one_or_none()
        if version is None:
            raise AccountErased()
        return int(version)

    async def lock_user(self, user_id: str) -> None:
        await self.connection.execute(_LOCK_USER, {"uid": user_id})

    async def commit(self) -> None:
        await self.connection.commit()

    async def rollback(self) -> None:
        await self.connection.rollback()
