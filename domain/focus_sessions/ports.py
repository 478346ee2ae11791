"""What focus sessions use cases need from storage."""

from __future__ import annotations

from datetime import date
from typing import Protocol
from uuid import UUID

from domain.focus_sessions.model import DayRange, FocusSession, ListPosition
from domain.stats.model import DayTotal


class FocusSessionRepository(Protocol):
    async def get(self, user_id: str, session_id: UUID) -> FocusSession | None: ...
    async def running(self, user_id: str) -> FocusSession | None: ...
    async def add(self, session: FocusSession) -> None: ...
    async def save(self, session: FocusSession) -> None: ...

    async def daily_totals(self, user_id: str, first: date, last: date) -> list[DayTotal]:
        """Completed focus per local day in [first, last]; days without any are left out."""
        ...

    async def days_meeting_goal(self, user_id: str, goal_seconds: int) -> list[date]:
        """Every local day whose completed focus reaches `goal_seconds`, oldest first."""
        ...

    # Last in the class: below it, `list` in an annotation would name this method.
    async def list(
        self, user_id: str, days: DayRange, *, after: ListPosition | None, limit: int
    ) -> list[FocusSession]:
        """Newest first by (started_at, id), strictly after `after`; `days` on `local_date`."""
        ...
