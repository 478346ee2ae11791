"""`FocusSessionRepository` on the legacy Firestore layout (`users/{uid}/sessions`).

Stats are computed in Python (`domain.stats.focus_per_day`) from the completed sessions read.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from google.api_core.exceptions import NotFound
from google.cloud.firestore import AsyncQuery
from google.cloud.firestore_v1.base_query import FieldFilter

from domain.focus_sessions.model import (
    DayRange,
    FocusSession,
    ListPosition,
    Outcome,
)
from domain.stats.model import DayTotal, focus_per_day, shifted
from migration.firestore.layout import SESSIONS
from migration.firestore.mapping import focus_sessions as mapping
from migration.firestore.mapping.common import EARLIEST_INSTANT
from migration.firestore.repositories.common import Documents, Snapshot, lacks_timezone

BATCH = 100
# A local date lies within a day of the same UTC date: bounds on startedAt for local days.
_DATE_SLACK = timedelta(days=1)


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _newest_first(session: FocusSession) -> tuple[datetime, UUID]:
    return session.started_at, session.id


class FirestoreFocusSessionRepository:
    """Queries order and bound `startedAt`, so they see Timestamps only: a legacy session whose
    `startedAt` drifted (epoch millis, a string) is found by `get` but by no query until the
    backend rewrites it (docs/migration/legacy-firestore.md, "Written by the backend")."""

    def __init__(self, documents: Documents) -> None:
        self._docs = documents

    async def _mapped(self, user_id: str, snapshots: list[Snapshot]) -> list[FocusSession]:
        return await self._docs.map_snapshots(
            user_id, snapshots, mapping.from_document, lacks_timezone
        )

    def _started(self, user_id: str, first: date | None, last: date | None) -> AsyncQuery:
        lower = EARLIEST_INSTANT
        if first is not None:
            lower = max(lower, _midnight_utc(first) - _DATE_SLACK)
        query = self._docs.collection(user_id, SESSIONS).where(
            filter=FieldFilter("startedAt", ">=", lower)
        )
        if last is not None:
            upper = _midnight_utc(last) + 2 * _DATE_SLACK
            query = query.where(filter=FieldFilter("startedAt", "<", upper))
        return query

    async def get(self, user_id: str, session_id: UUID) -> FocusSession | None:
        reference = await self._docs.reference_of(user_id, SESSIONS, session_id)
        snapshot = await reference.get()
        if not snapshot.exists:
            return None
        found = await self._mapped(user_id, [snapshot])
        return found[0] if found else None

    async def running(self, user_id: str) -> FocusSession | None:
        query = self._docs.collection(user_id, SESSIONS).where(
            filter=FieldFilter("status", "==", mapping.RUNNING)
        )
        found = await self._mapped(user_id, [snap async for snap in query.stream()])
        running = [session for session in found if session.is_running]
        return max(running, key=_newest_first, default=None)

    async def add(self, session: FocusSession) -> None:
        reference = self._docs.collection(session.user_id, SESSIONS).document(str(session.id))
        await reference.create(mapping.to_document(session, self._docs.client))

    async def save(self, session: FocusSession) -> None:
        """As an UPDATE: the document of the session, found by its id."""
        reference = await self._docs.reference_of(session.user_id, SESSIONS, session.id)
        with contextlib.suppress(NotFound):
            await reference.update(mapping.to_document(session, self._docs.client))

    async def _completed(
        self, user_id: str, first: date | None, last: date | None
    ) -> list[FocusSession]:
        query = self._started(user_id, first, last).where(
            filter=FieldFilter("status", "==", Outcome.COMPLETED.value)
        )
        found = await self._mapped(user_id, [snap async for snap in query.stream()])
        return [
            s
            for s in found
            if s.outcome is Outcome.COMPLETED
            and (first is None or s.local_date >= first)
            and (last is None or s.local_date <= last)
        ]

    async def daily_totals(self, user_id: str, first: date, last: date) -> list[DayTotal]:
        # Sessions just outside the range may overlap ones inside it (focus_per_day).
        sessions = await self._completed(user_id, shifted(first, -3), shifted(last, 3))
        return [t for t in focus_per_day(sessions) if first <= t.day <= last]

    async def days_meeting_goal(self, user_id: str, goal_seconds: int) -> list[date]:
        totals = focus_per_day(await self._completed(user_id, None, None))
        return [t.day for t in totals if t.focus_seconds >= goal_seconds]

    # Last in the class: below it, `list` in an annotation would name this method.
    async def list(
        self, user_id: str, days: DayRange, *, after: ListPosition | None, limit: int
    ) -> list[FocusSession]:
        """Read newest first in batches until `limit` are found and every tie of the last
        `startedAt` is in (ties are ordered by our id, which legacy document ids are not)."""
        query = self._started(user_id, days.first, days.last)
        if after is not None:
            query = query.where(filter=FieldFilter("startedAt", "<=", after.started_at))
        query = query.order_by("startedAt", direction="DESCENDING").limit(BATCH)
        found: list[FocusSession] = []
        cursor: Snapshot | None = None
        while True:
            page = query.start_after(cursor) if cursor is not None else query
            snapshots = [snap async for snap in page.stream()]
            for session in await self._mapped(user_id, snapshots):
                in_days = (days.first is None or session.local_date >= days.first) and (
                    days.last is None or session.local_date <= days.last
                )
                if in_days and (
                    after is None or _newest_first(session) < (after.started_at, after.id)
                ):
                    found.append(session)
            if len(snapshots) < BATCH:
                break
            cursor = snapshots[-1]
            found.sort(key=_newest_first, reverse=True)
            if len(found) >= limit and cursor.get("startedAt") < found[limit - 1].started_at:
                break
        found.sort(key=_newest_first, reverse=True)
        return found[:limit]
