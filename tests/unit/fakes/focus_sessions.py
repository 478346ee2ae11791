from __future__ import annotations

from datetime import date
from uuid import UUID

from domain.focus_sessions.model import (
    DayRange,
    FocusSession,
    ListPosition,
)
from domain.stats.model import DayTotal, focus_per_day


class FakeFocusSessionRepository:
    """In-memory focus sessions storage for unit tests."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, UUID], FocusSession] = {}

    def _of(self, user_id: str) -> list[FocusSession]:
        return [s for s in self.rows.values() if s.user_id == user_id]

    async def get(self, user_id: str, session_id: UUID) -> FocusSession | None:
        return self.rows.get((user_id, session_id))

    async def running(self, user_id: str) -> FocusSession | None:
        return next((s for s in self._of(user_id) if s.is_running), None)

    async def add(self, session: FocusSession) -> None:
        key = (session.user_id, session.id)
        assert key not in self.rows, "the primary key would refuse it"
        assert session.is_running
        assert await self.running(session.user_id) is None, "the running index would refuse it"
        self.rows[key] = session

    async def save(self, session: FocusSession) -> None:
        key = (session.user_id, session.id)
        assert key in self.rows
        self.rows[key] = session

    async def daily_totals(self, user_id: str, first: date, last: date) -> list[DayTotal]:
        return [t for t in self._totals(user_id) if first <= t.day <= last]

    async def days_meeting_goal(self, user_id: str, goal_seconds: int) -> list[date]:
        return [t.day for t in self._totals(user_id) if t.focus_seconds >= goal_seconds]

    def _totals(self, user_id: str) -> list[DayTotal]:
        return focus_per_day(self._of(user_id))

    async def list(
        self, user_id: str, days: DayRange, *, after: ListPosition | None, limit: int
    ) -> list[FocusSession]:
        found = [
            s
            for s in self._of(user_id)
            if (days.first is None or s.local_date >= days.first)
            and (days.last is None or s.local_date <= days.last)
            and (after is None or (s.started_at, s.id) < (after.started_at, after.id))
        ]
        found.sort(key=lambda s: (s.started_at, s.id), reverse=True)
        return found[:limit]
