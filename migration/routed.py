"""Each repository port over a `Route`: reads go where the phase reads, writes where it writes.

One small class per port, method for method, so that the type checker holds each to its port
and a new port method cannot be forgotten here. The ids passed to `read` name the record in
shadow-read logs (ids only, never values).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from google.cloud.firestore import AsyncClient

from domain.blocklists.model import Blocklist
from domain.blocklists.ports import BlocklistRepository
from domain.common import Clock
from domain.devices.model import Device
from domain.devices.ports import DeviceRepository
from domain.focus_sessions.model import DayRange, FocusSession, ListPosition
from domain.focus_sessions.ports import FocusSessionRepository
from domain.migration import Entity
from domain.schedules.model import Schedule
from domain.schedules.ports import ScheduleRepository
from domain.stats.model import DayTotal
from domain.usage.model import UsageReport
from domain.usage.ports import UsageReportRepository
from domain.users.model import User, new_user
from domain.users.ports import UserRepository
from migration.firestore.layout import usage_doc_id
from migration.firestore.mirrors import mirror_of_creation, mirror_of_delete, mirror_of_save
from migration.routing import Route


class RoutedUsers:
    def __init__(self, route: Route[UserRepository], client: AsyncClient, clock: Clock) -> None:
        self._route = route
        self._client = client
        self._clock = clock

    async def get(self, uid: str) -> User | None:
        return await self._route.read(uid, {"uid": uid}, lambda r: r.get(uid))

    async def ensure(self, uid: str) -> bool:
        # Postgres always: its row is also the user's version counter, in every phase; and its
        # erased list refuses an erased uid before Firestore sees anything of it.
        if not await self._route.postgres.ensure(uid):
            return False
        if self._route.phase.writes_firestore:
            # The profile as Postgres has it (its instants too), so both stores agree.
            user = await self._route.postgres.get(uid) or new_user(uid, self._clock())
            await self._route.record_mirror(mirror_of_creation(Entity.USERS, user, self._client))
        return True

    async def save(self, user: User) -> None:
        await self._route.write(
            lambda r: r.save(user), lambda: mirror_of_save(Entity.USERS, user, self._client)
        )


class RoutedDevices:
    def __init__(self, route: Route[DeviceRepository], client: AsyncClient, clock: Clock) -> None:
        self._route = route
        self._client = client
        self._clock = clock

    async def get(self, user_id: str, installation_id: str) -> Device | None:
        ids = {"uid": user_id, "installation_id": installation_id}
        return await self._route.read(user_id, ids, lambda r: r.get(user_id, installation_id))

    async def holding(self, tokens: Sequence[str]) -> list[Device]:
        # Postgres is written in every phase, and is where tokens of other users are found
        # with an index; an old app's registration reaches it through legacy sync.
        return await self._route.postgres.holding(tokens)

    async def list(self, user_id: str) -> list[Device]:
        return await self._route.read(user_id, {"uid": user_id}, lambda r: r.list(user_id))

    async def count(self, user_id: str) -> int:
        return await self._route.read(user_id, {"uid": user_id}, lambda r: r.count(user_id))

    async def save(self, device: Device) -> None:
        await self._route.write(
            lambda r: r.save(device), lambda: mirror_of_save(Entity.DEVICES, device, self._client)
        )

    async def delete(self, user_id: str, installation_id: str, version: int) -> None:
        await self._route.write(
            lambda r: r.delete(user_id, installation_id, version),
            lambda: mirror_of_delete(
                Entity.DEVICES, user_id, installation_id, version, self._clock()
            ),
        )


class RoutedBlocklists:
    def __init__(
        self, route: Route[BlocklistRepository], client: AsyncClient, clock: Clock
    ) -> None:
        self._route = route
        self._client = client

    async def get(self, user_id: str, blocklist_id: UUID) -> Blocklist | None:
        ids = {"uid": user_id, "blocklist_id": str(blocklist_id)}
        return await self._route.read(user_id, ids, lambda r: r.get(user_id, blocklist_id))

    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[Blocklist]:
        return await self._route.read(
            user_id, {"uid": user_id}, lambda r: r.list(user_id, after=after, limit=limit)
        )

    async def count(self, user_id: str) -> int:
        return await self._route.read(user_id, {"uid": user_id}, lambda r: r.count(user_id))

    async def save(self, blocklist: Blocklist) -> None:
        await self._route.write(
            lambda r: r.save(blocklist),
            lambda: mirror_of_save(Entity.BLOCKLISTS, blocklist, self._client),
        )

    async def delete(
        self, user_id: str, blocklist_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        await self._route.write(
            lambda r: r.delete(user_id, blocklist_id, version, deleted_at),
            lambda: mirror_of_delete(
                Entity.BLOCKLISTS, user_id, str(blocklist_id), version, deleted_at
            ),
        )


class RoutedSchedules:
    def __init__(self, route: Route[ScheduleRepository], client: AsyncClient, clock: Clock) -> None:
        self._route = route
        self._client = client

    async def get(self, user_id: str, schedule_id: UUID) -> Schedule | None:
        ids = {"uid": user_id, "schedule_id": str(schedule_id)}
        return await self._route.read(user_id, ids, lambda r: r.get(user_id, schedule_id))

    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[Schedule]:
        return await self._route.read(
            user_id, {"uid": user_id}, lambda r: r.list(user_id, after=after, limit=limit)
        )

    async def count(self, user_id: str) -> int:
        return await self._route.read(user_id, {"uid": user_id}, lambda r: r.count(user_id))

    async def count_using_blocklist(self, user_id: str, blocklist_id: UUID) -> int:
        ids = {"uid": user_id, "blocklist_id": str(blocklist_id)}
        return await self._route.read(
            user_id, ids, lambda r: r.count_using_blocklist(user_id, blocklist_id)
        )

    async def save(self, schedule: Schedule) -> None:
        await self._route.write(
            lambda r: r.save(schedule),
            lambda: mirror_of_save(Entity.SCHEDULES, schedule, self._client),
        )

    async def delete(
        self, user_id: str, schedule_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        await self._route.write(
            lambda r: r.delete(user_id, schedule_id, version, deleted_at),
            lambda: mirror_of_delete(
                Entity.SCHEDULES, user_id, str(schedule_id), version, deleted_at
            ),
        )


class RoutedFocusSessions:
    def __init__(
        self, route: Route[FocusSessionRepository], client: AsyncClient, clock: Clock
    ) -> None:
        self._route = route
        self._client = client

    async def get(self, user_id: str, session_id: UUID) -> FocusSession | None:
        ids = {"uid": user_id, "session_id": str(session_id)}
        return await self._route.read(user_id, ids, lambda r: r.get(user_id, session_id))

    async def running(self, user_id: str) -> FocusSession | None:
        return await self._route.read(user_id, {"uid": user_id}, lambda r: r.running(user_id))

    async def add(self, session: FocusSession) -> None:
        await self._route.write(
            lambda r: r.add(session),
            lambda: mirror_of_creation(Entity.FOCUS_SESSIONS, session, self._client),
        )

    async def save(self, session: FocusSession) -> None:
        await self._route.write(
            lambda r: r.save(session),
            lambda: mirror_of_save(Entity.FOCUS_SESSIONS, session, self._client),
        )

    async def daily_totals(self, user_id: str, first: date, last: date) -> list[DayTotal]:
        return await self._route.read(
            user_id, {"uid": user_id}, lambda r: r.daily_totals(user_id, first, last)
        )

    async def days_meeting_goal(self, user_id: str, goal_seconds: int) -> list[date]:
        return await self._route.read(
            user_id, {"uid": user_id}, lambda r: r.days_meeting_goal(user_id, goal_seconds)
        )

    async def list(
        self, user_id: str, days: DayRange, *, after: ListPosition | None, limit: int
    ) -> list[FocusSession]:
        return await self._route.read(
            user_id, {"uid": user_id}, lambda r: r.list(user_id, days, after=after, limit=limit)
        )


class RoutedUsage:
    def __init__(
        self, route: Route[UsageReportRepository], client: AsyncClient, clock: Clock
    ) -> None:
        self._route = route
        self._client = client

    async def get(
        self, user_id: str, installation_id: str, day: dt.date, *, for_update: bool = False
    ) -> UsageReport | None:
        ids = {"uid": user_id, "report": usage_doc_id(day, installation_id)}
        return await self._route.read(
            user_id, ids, lambda r: r.get(user_id, installation_id, day, for_update=for_update)
        )

    async def list(
        self,
        user_id: str,
        first: dt.date,
        last: dt.date,
        *,
        after: tuple[dt.date, str] | None,
        limit: int,
    ) -> list[UsageReport]:
        return await self._route.read(
            user_id,
            {"uid": user_id},
            lambda r: r.list(user_id, first, last, after=after, limit=limit),
        )

    async def save(self, report: UsageReport) -> None:
        await self._route.write(
            lambda r: r.save(report), lambda: mirror_of_save(Entity.USAGE, report, self._client)
        )
