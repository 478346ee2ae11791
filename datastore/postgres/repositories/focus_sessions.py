"""`FocusSessionRepository` on Postgres, with the stats queries: completed focus per local day,
each instant counted once where sessions overlap (as `domain.stats.focus_per_day`).
The hot reads (`get`, `running`) are compiled once and sent as driver SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Integer,
    Row,
    Table,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from datastore.postgres.driver_sql import DriverSQL
from datastore.postgres.tables.focus_sessions import FocusSessionRow
from domain.focus_sessions.model import (
    DayRange,
    FocusMode,
    FocusSession,
    ListPosition,
    Outcome,
)
from domain.stats.model import DayTotal, shifted

_TABLE: Table = FocusSessionRow.__table__  # type: ignore[attr-defined]
_LIVE = col(FocusSessionRow.deleted_at).is_(None)
# A literal, not a bind parameter: a generic plan of a prepared statement can then still use
# the partial index on completed sessions (docs/performance/query-plans.md).
_COMPLETED = and_(
    col(FocusSessionRow.outcome) == literal_column(f"'{Outcome.COMPLETED.value}'"), _LIVE
)
# Hot reads: compiled once, sent as driver SQL, rows mapped straight to the domain.
_GET = DriverSQL(
    select(_TABLE).where(
        _TABLE.c.user_id == bindparam("user_id"),
        _TABLE.c.id == bindparam("session_id"),
        _TABLE.c.deleted_at.is_(None),
    )
)
_RUNNING = DriverSQL(
    select(_TABLE).where(
        _TABLE.c.user_id == bindparam("user_id"),
        _TABLE.c.ended_at.is_(None),
        _TABLE.c.deleted_at.is_(None),
    )
)
# A local date lies within a day of the same UTC date (offsets stay under 24 hours): this bound
# on started_at lets the list's index narrow a filter on local dates.
_DATE_SLACK = timedelta(days=1)


def to_focus_session(row: Row[Any]) -> FocusSession:
    m = row._mapping  # by key: a Row's attributes cost ~0.6 µs each
    return FocusSession(
        id=m["id"],
        user_id=m["user_id"],
        blocklist_id=m["blocklist_id"],
        mode=FocusMode(m["mode"]),
        planned_duration_seconds=m["planned_duration_seconds"],
        started_at=m["started_at"],
        ended_at=m["ended_at"],
        outcome=Outcome(m["outcome"]) if m["outcome"] else None,
        timezone=m["timezone"],
        local_date=m["local_date"],
        version=m["version"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def focus_session_row(session: FocusSession) -> dict[str, Any]:
    """The row of a live session at its own version (the backfill writes it too)."""
    return {
        "id": session.id,
        "user_id": session.user_id,
        "blocklist_id": session.blocklist_id,
        "mode": session.mode.value,
        "planned_duration_seconds": session.planned_duration_seconds,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "outcome": session.outcome.value if session.outcome else None,
        "timezone": session.timezone,
        "local_date": session.local_date,
        "version": session.version,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


def _list_statement(first: bool, last: bool, after: bool) -> DriverSQL:
    """A page of the list, newest first, for one shape of its filters (days from, days to,
    after a cursor): the list is a hot read, so each shape is compiled once."""
    started_at, session_id = _TABLE.c.started_at, _TABLE.c.id
    where: list[Any] = [_TABLE.c.user_id == bindparam("user_id"), _TABLE.c.deleted_at.is_(None)]
    if first:
        where += [_TABLE.c.local_date >= bindparam("first"), started_at >= bindparam("since")]
    if last:
        where += [_TABLE.c.local_date <= bindparam("last"), started_at < bindparam("until")]
    if after:
        cursor = tuple_(bindparam("after_started_at"), bindparam("after_id"))
        where.append(tuple_(started_at, session_id) < cursor)
    ordered = select(_TABLE).where(*where).order_by(started_at.desc(), session_id.desc())
    return DriverSQL(ordered.limit(bindparam("limit", type_=Integer)))


_LIST = {
    (first, last, after): _list_statement(first, last, after)
    for first in (False, True)
    for last in (False, True)
    for after in (False, True)
}


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


class PostgresFocusSessionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def _one(self, statement: DriverSQL, **params: Any) -> FocusSession | None:
        row = await statement.first(self._connection, **params)
        return to_focus_session(row) if row else None

    async def get(self, user_id: str, session_id: UUID) -> FocusSession | None:
        return await self._one(_GET, user_id=user_id, session_id=session_id)

    async def running(self, user_id: str) -> FocusSession | None:
        return await self._one(_RUNNING, user_id=user_id)

    async def add(self, session: FocusSession) -> None:
        await self._connection.execute(insert(_TABLE).values(focus_session_row(session)))

    async def save(self, session: FocusSession) -> None:
        values = focus_session_row(session)
        stmt = (
            update(_TABLE)
            .where(
                col(FocusSessionRow.user_id) == session.user_id,
                col(FocusSessionRow.id) == session.id,
            )
            .values({k: v for k, v in values.items() if k not in ("id", "user_id")})
        )
        await self._connection.execute(stmt)

    def _per_day(self, user_id: str, *where: Any) -> Any:
        """Completed focus per local day, each instant once (domain.stats.focus_per_day): in the
        order sessions started, each counts what the earlier ones did not cover."""
        started, ended = col(FocusSessionRow.started_at), col(FocusSessionRow.ended_at)
        covered_until = func.max(ended).over(
            order_by=(started, col(FocusSessionRow.id)), rows=(None, -1)
        )
        ordered = (
            select(
                col(FocusSessionRow.local_date),
                started.label("started_at"),
                ended.label("ended_at"),
                covered_until.label("covered_until"),
            )
            .where(col(FocusSessionRow.user_id) == user_id, _COMPLETED, *where)
            .subquery()
        )
        uncovered = ordered.c.ended_at - func.greatest(
            ordered.c.started_at, func.coalesce(ordered.c.covered_until, ordered.c.started_at)
        )
        seconds = func.sum(func.greatest(func.extract("epoch", uncovered), 0))
        return ordered, (
            select(
                ordered.c.local_date,
                cast(func.floor(seconds), Integer).label("seconds"),
                func.count().label("sessions"),
            ).group_by(ordered.c.local_date)
        )

    async def daily_totals(self, user_id: str, first: date, last: date) -> list[DayTotal]:
        # Sessions a few days either side may overlap those of the range: they are read, and
        # left out of the answer.
        local_date = col(FocusSessionRow.local_date)
        ordered, per_day = self._per_day(
            user_id, local_date >= shifted(first, -3), local_date <= shifted(last, 3)
        )
        stmt = per_day.where(ordered.c.local_date.between(first, last)).order_by(
            ordered.c.local_date
        )
        rows = (await self._connection.execute(stmt)).all()
        return [DayTotal(day, int(seconds), int(sessions)) for day, seconds, sessions in rows]

    async def days_meeting_goal(self, user_id: str, goal_seconds: int) -> list[date]:
        _, per_day = self._per_day(user_id)
        totals = per_day.subquery()
        stmt = (
            select(totals.c.local_date)
            .where(totals.c.seconds >= goal_seconds)
            .order_by(totals.c.local_date)
        )
        return list((await self._connection.execute(stmt)).scalars())

    # Last in the class: below it, `list` in an annotation would name this method.
    async def list(
        self, user_id: str, days: DayRange, *, after: ListPosition | None, limit: int
    ) -> list[FocusSession]:
        params: dict[str, Any] = {"user_id": user_id, "limit": limit}
        if days.first is not None:
            params |= {"first": days.first, "since": _midnight_utc(days.first) - _DATE_SLACK}
        if days.last is not None:
            params |= {"last": days.last, "until": _midnight_utc(days.last) + 2 * _DATE_SLACK}
        if after is not None:
            params |= {"after_started_at": after.started_at, "after_id": after.id}
        shape = (days.first is not None, days.last is not None, after is not None)
        rows = await _LIST[shape].all(self._connection, **params)
        return [to_focus_session(r) for r in rows]
