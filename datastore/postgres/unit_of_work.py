"""The Postgres unit of work: one session, one transaction, every repository on it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datastore.postgres.repositories.blocklists import PostgresBlocklistRepository
from datastore.postgres.repositories.devices import PostgresDeviceRepository
from datastore.postgres.repositories.focus_sessions import PostgresFocusSessionRepository
from datastore.postgres.repositories.idempotency import PostgresIdempotencyStore
from datastore.postgres.repositories.schedules import PostgresScheduleRepository
from datastore.postgres.repositories.sync import PostgresChangeFeed
from datastore.postgres.repositories.usage import PostgresUsageReportRepository
from datastore.postgres.repositories.users import PostgresUserRepository
from domain.blocklists.ports import BlocklistRepository
from domain.devices.ports import DeviceRepository
from domain.focus_sessions.ports import FocusSessionRepository
from domain.idempotency import IdempotencyStore
from domain.schedules.ports import ScheduleRepository
from domain.sync.ports import ChangeFeed
from domain.usage.ports import UsageReportRepository
from domain.users.ports import UserRepository

# One statement both creates a user's row on their first write and takes the next number.
# The row lock it takes is held until commit, which serialises one user's writes (cheap: one
# person's devices) and makes versions commit in the order they were taken.
_NEXT_VERSION = text(
    "INSERT INTO users AS u (uid, change_seq, created_at, updated_at)"
    " VALUES (:uid, 1, now(), now())"
    " ON CONFLICT (uid) DO UPDATE SET change_seq = u.change_seq + 1"
    " RETURNING change_seq"
)


class PostgresUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self.session = session = self._sessions()
        self.users: UserRepository = PostgresUserRepository(session)
        self.devices: DeviceRepository = PostgresDeviceRepository(session)
        self.blocklists: BlocklistRepository = PostgresBlocklistRepository(session)
        self.schedules: ScheduleRepository = PostgresScheduleRepository(session)
        self.focus_sessions: FocusSessionRepository = PostgresFocusSessionRepository(session)
        self.usage: UsageReportRepository = PostgresUsageReportRepository(session)
        self.changes: ChangeFeed = PostgresChangeFeed(session)
        self.idempotency: IdempotencyStore = PostgresIdempotencyStore(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()  # a no-op after commit()
        finally:
            await self.session.close()

    async def next_version(self, user_id: str) -> int:
        result = await self.session.execute(_NEXT_VERSION, {"uid": user_id})
        return int(result.scalar_one())

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
