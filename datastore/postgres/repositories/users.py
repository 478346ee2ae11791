from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from datastore.postgres.tables.users import UserRow
from domain.users.model import Consents, NotificationPreferences, QuietHours, User


def to_user(row: UserRow) -> User:
    quiet = (
        QuietHours(row.quiet_hours_start, row.quiet_hours_end)
        if row.quiet_hours_start is not None and row.quiet_hours_end is not None
        else None
    )
    return User(
        uid=row.uid,
        display_name=row.display_name,
        timezone=row.timezone,
        locale=row.locale,
        daily_goal_minutes=row.daily_goal_minutes,
        notifications=NotificationPreferences(row.notifications_enabled, quiet),
        consents=Consents(row.consent_ai_features, row.consent_analytics),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class PostgresUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, uid: str) -> User | None:
        row = await self._session.get(UserRow, uid)
        return to_user(row) if row else None

    async def ensure(self, uid: str) -> None:
        stmt = (
            insert(UserRow)
            .values(uid=uid, created_at=func.now(), updated_at=func.now())
            .on_conflict_do_nothing(index_elements=["uid"])
        )
        await self._session.execute(stmt)

    async def save(self, user: User) -> None:
        row = await self._session.get(UserRow, user.uid)
        assert row is not None, "save() follows get() in the same unit of work"
        quiet = user.notifications.quiet_hours
        row.display_name = user.display_name
        row.timezone = user.timezone
        row.locale = user.locale
        row.daily_goal_minutes = user.daily_goal_minutes
        row.notifications_enabled = user.notifications.enabled
        row.quiet_hours_start = quiet.start if quiet else None
        row.quiet_hours_end = quiet.end if quiet else None
        row.consent_ai_features = user.consents.ai_features
        row.consent_analytics = user.consents.analytics
        row.version = user.version
        row.updated_at = user.updated_at
        await self._session.flush()
