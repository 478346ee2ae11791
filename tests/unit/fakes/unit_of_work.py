"""An in-memory unit of work: real behaviour (commit, rollback, versions), no database."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from tests.unit.fakes.blocklists import FakeBlocklistRepository
from tests.unit.fakes.devices import FakeDeviceRepository
from tests.unit.fakes.focus_sessions import FakeFocusSessionRepository
from tests.unit.fakes.idempotency import FakeIdempotencyStore
from tests.unit.fakes.outbox import FakeEventOutbox
from tests.unit.fakes.schedules import FakeScheduleRepository
from tests.unit.fakes.sync import FakeChangeFeed
from tests.unit.fakes.usage import FakeUsageReportRepository
from tests.unit.fakes.users import FakeUserRepository


class FakeUnitOfWork:
    """Repositories are shared across uses; a rollback restores what the last commit saw."""

    def __init__(self) -> None:
        self.users = FakeUserRepository()
        self.devices = FakeDeviceRepository()
        self.blocklists = FakeBlocklistRepository()
        self.schedules = FakeScheduleRepository()
        self.focus_sessions = FakeFocusSessionRepository()
        self.usage = FakeUsageReportRepository()
        self.changes = FakeChangeFeed()
        self.idempotency = FakeIdempotencyStore()
        self.outbox = FakeEventOutbox()
        self.counters: dict[str, int] = {}
        self.commits = 0
        self._snapshot: dict[str, object] = {}

    async def __aenter__(self) -> Self:
        self._snapshot = copy.deepcopy(self._state())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    def _state(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if k not in ("_snapshot", "commits")}

    async def next_version(self, user_id: str) -> int:
        await self.users.ensure(user_id)
        self.counters[user_id] = self.counters.get(user_id, 0) + 1
        return self.counters[user_id]

    async def lock_user(self, user_id: str) -> None:
        """Nothing runs concurrently in memory: nothing to wait for."""

    async def commit(self) -> None:
        self.commits += 1
        self._snapshot = copy.deepcopy(self._state())

    async def rollback(self) -> None:
        for name, value in copy.deepcopy(self._snapshot).items():
            setattr(self, name, value)
