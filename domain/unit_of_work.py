"""The unit of work: the one owner of a transaction, and the repositories that share it."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from domain.ai.budgets import ResultCaps
from domain.ai.insights import InsightRepository
from domain.blocklists.ports import BlocklistRepository
from domain.devices.ports import DeviceRepository
from domain.events import EventOutbox
from domain.focus_sessions.ports import FocusSessionRepository
from domain.idempotency import IdempotencyStore
from domain.schedules.ports import ScheduleRepository
from domain.sync.ports import ChangeFeed
from domain.usage.ports import UsageReportRepository
from domain.users.ports import UserRepository


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, origin_installation_id: str | None = None) -> UnitOfWork:
        """A fresh unit of work; its events name `origin_installation_id` as their origin."""
        ...


class UnitOfWork(Protocol):
    """Use cases read and write through the repositories; only the caller commits.

    Leaving the `async with` block without `commit()` rolls everything back.
    """

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
    """Events of this transaction's changes: `await uow.outbox.add(event)` beside the write."""

    async def next_version(self, user_id: str) -> int:
        """The user's next change number, held until commit.

        Every write of a user takes one: a record's version only grows, and because the
        user's counter row stays locked until commit, versions commit in order — so a sync
        cursor (the highest version a client has seen) never skips a write.
        """
        ...

    async def lock_user(self, user_id: str) -> None:
        """Hold the user's counter row until commit without taking a number.

        Take it before reading what a write will be decided on (the version an `If-Match`
        names, a count under a cap), so that a concurrent write of the same user waits.
        """
        ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
