"""Privacy requests, their steps and the audit trail in Postgres: one connection and one
transaction per `async with`, like the unit of work.

The audit trail is appended under a transaction-scoped advisory lock, so that its hash chain
stays one line however many actions commit at once; a trigger refuses updates and deletes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from sqlalchemy import (
    Date,
    RowMapping,
    and_,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datastore.postgres.repositories.outbox import PostgresEventOutbox
from datastore.postgres.tables.mirrors import ErasedUserRow
from datastore.postgres.tables.privacy import PrivacyAuditRow, PrivacyRequestRow, PrivacyStepRow
from domain.errors import Conflict
from domain.events import DomainEvent, EventType
from domain.privacy.audit import GENESIS, chain_hash
from domain.privacy.figures import CompletionDays, MonthFigures
from domain.privacy.model import (
    Channel,
    Extension,
    PrivacyRequest,
    RequestKind,
    RequestState,
    Verification,
)
from domain.privacy.ports import AuditEntry, RequestFilter
from domain.privacy.steps import Step, StepState

_REQUESTS = PrivacyRequestRow.__table__  # type: ignore[attr-defined]
_STEPS = PrivacyStepRow.__table__  # type: ignore[attr-defined]
_AUDIT = PrivacyAuditRow.__table__  # type: ignore[attr-defined]
_ERASED = ErasedUserRow.__table__  # type: ignore[attr-defined]
_AUDIT_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('privacy_audit'))")
_OPEN = [s.value for s in RequestState if s.open]
# The user's next version for the event, without ever making a row (a subject may have none).
_NEXT_VERSION = text(
    "UPDATE users SET change_seq = change_seq + 1 WHERE uid = :uid"
    " AND NOT EXISTS (SELECT 1 FROM erased_users WHERE uid = :uid) RETURNING change_seq"
)


class PostgresPrivacyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __aenter__(self) -> Self:
        self._conn: AsyncConnection = await self._engine.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._conn.close()

    async def commit(self) -> None:
        await self._conn.commit()

    async def add(self, request: PrivacyRequest, steps: Sequence[Step]) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(insert(_REQUESTS).values(_row(request)))
        except IntegrityError as exc:
            # Another request of the subject and kind opened meanwhile: the caller joins it.
            raise Conflict(detail="an open request of this kind exists") from exc
        if steps:
            await self._conn.execute(insert(_STEPS), [_step_row(step) for step in steps])

    async def get(self, request_id: UUID, *, lock: bool = False) -> PrivacyRequest | None:
        query = select(_REQUESTS).where(_REQUESTS.c.id == request_id)
        if lock:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).mappings().first()
        return _request(row) if row is not None else None

    async def open_request(self, subject_hash: str, kind: RequestKind) -> PrivacyRequest | None:
        query = select(_REQUESTS).where(
            _REQUESTS.c.subject_hash == subject_hash,
            _REQUESTS.c.kind == kind.value,
            _REQUESTS.c.state.in_(_OPEN),
        )
        row = (await self._conn.execute(query)).mappings().first()
        return _request(row) if row is not None else None

    async def save(self, request: PrivacyRequest) -> None:
        values = _row(request)
        del values["id"]
        result = await self._conn.execute(
            update(_REQUESTS)
            .where(_REQUESTS.c.id == request.id, _REQUESTS.c.version == request.version - 1)
            .values(values)
        )
        if result.rowcount != 1:
            raise Conflict(detail="the request changed meanwhile: read it again")

    async def find(self, where: RequestFilter) -> Sequence[PrivacyRequest]:
        query = select(_REQUESTS).order_by(_REQUESTS.c.received_at, _REQUESTS.c.id)
        if where.kinds:
            query = query.where(_REQUESTS.c.kind.in_([k.value for k in where.kinds]))
        if where.states:
            query = query.where(_REQUESTS.c.state.in_([s.value for s in where.states]))
        if where.subject_hash is not None:
            query = query.where(_REQUESTS.c.subject_hash == where.subject_hash)
        rows = (await self._conn.execute(query.limit(where.limit))).mappings().all()
        return [_request(row) for row in rows]

    async def steps(self, request_id: UUID) -> Sequence[Step]:
        query = select(_STEPS).where(_STEPS.c.request_id == request_id).order_by(_STEPS.c.position)
        return [_step(row) for row in (await self._conn.execute(query)).mappings().all()]

    async def save_step(self, step: Step) -> None:
        values = _step_row(step)
        await self._conn.execute(
            update(_STEPS)
            .where(_STEPS.c.request_id == step.request_id, _STEPS.c.position == step.position)
            .values(values)
        )

    async def audit(self, entry: AuditEntry) -> None:
        await self._conn.execute(_AUDIT_LOCK)
        last = await self._conn.scalar(select(_AUDIT.c.hash).order_by(_AUDIT.c.seq.desc()).limit(1))
        prev = last or GENESIS
        await self._conn.execute(
            insert(_AUDIT).values(
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                request_id=entry.request_id,
                subject_hash=entry.subject_hash,
                categories=list(entry.categories),
                exemption=entry.exemption,
                detail=dict(entry.detail),
                prev_hash=prev,
                hash=chain_hash(prev, entry),
            )
        )

    async def announce(self, request: PrivacyRequest, event: EventType, at: datetime) -> None:
        uid = request.subject_uid
        if uid is None:
            return
        version = await self._conn.scalar(_NEXT_VERSION, {"uid": uid})
        if version is None:
            return  # no account (or erased meanwhile): no device of theirs to wake
        announced = DomainEvent(event, uid, str(request.id), int(version), at)
        await PostgresEventOutbox(self._conn).add(announced)

    async def change_counter(self, uid: str) -> int:
        counter = await self._conn.scalar(
            text("SELECT change_seq FROM users WHERE uid = :uid"), {"uid": uid}
        )
        return int(counter or 0)

    async def user_ids(self, after: str, limit: int) -> Sequence[str]:
        users = text("SELECT uid FROM users WHERE uid > :after ORDER BY uid LIMIT :limit")
        return list((await self._conn.scalars(users, {"after": after, "limit": limit})).all())

    async def erase_list_add(self, uid: str, at: datetime) -> None:
        await self._conn.execute(
            pg_insert(_ERASED).values(uid=uid, erased_at=at).on_conflict_do_nothing()
        )

    async def audit_trail(self) -> list[tuple[AuditEntry, str, str]]:
        """Every entry with its `prev_hash` and `hash`, in order (for the chain's check)."""
        rows = (await self._conn.execute(select(_AUDIT).order_by(_AUDIT.c.seq))).mappings()
        return [(audit_entry(row), row["prev_hash"], row["hash"]) for row in rows]

    async def figures(self, since: datetime) -> tuple[Sequence[MonthFigures], CompletionDays]:
        received = {"since": since}
        months = (await self._conn.execute(_MONTHLY, received)).mappings().all()
        overall = (await self._conn.execute(_COMPLETION, received)).mappings().one()
        return [
            MonthFigures(
                month=row["month"],
                exports=row["exports"],
                erasures=row["erasures"],
                completed=row["completed"],
                median_days=row["median_days"],
                p95_days=row["p95_days"],
            )
            for row in months
        ], CompletionDays(overall["completed"], overall["median_days"], overall["p95_days"])


# Days on the clock of a completed request: receipt to completion, without the pause.
_R = _REQUESTS.c
_DAYS = (func.extract("epoch", _R.finished_at - _R.received_at) - _R.paused_seconds) / 86400.0
_COMPLETED = and_(_R.state == RequestState.COMPLETED.value, _R.finished_at.is_not(None))
_COMPLETION_COLUMNS = (
    func.count().filter(_COMPLETED).label("completed"),
    func.percentile_cont(0.5).within_group(_DAYS).filter(_COMPLETED).label("median_days"),
    func.percentile_cont(0.95).within_group(_DAYS).filter(_COMPLETED).label("p95_days"),
)
_MONTH = cast(func.date_trunc("month", func.timezone("UTC", _R.received_at)), Date)
_MONTHLY = (
    select(
        _MONTH.label("month"),
        func.count().filter(_R.kind == RequestKind.EXPORT.value).label("exports"),
        func.count().filter(_R.kind == RequestKind.ERASURE.value).label("erasures"),
        *_COMPLETION_COLUMNS,
    )
    .where(_R.received_at >= bindparam("since"))
    .group_by(_MONTH)
    .order_by(_MONTH)
)
_COMPLETION = select(*_COMPLETION_COLUMNS).where(_R.received_at >= bindparam("since"))


def _row(request: PrivacyRequest) -> dict[str, Any]:
    verification = request.verification
    return {
        "id": request.id,
        "kind": request.kind.value,
        "subject_uid": request.subject_uid,
        "subject_hash": request.subject_hash,
        "channel": request.channel.value,
        "state": request.state.value,
        "received_at": request.received_at,
        "created_by": request.created_by,
        "verification": (
            {
                "method": verification.method,
                "by": verification.by,
                "at": verification.at.isoformat(),
            }
            if verification is not None
            else None
        ),
        "approved_by": request.approved_by,
        "paused_seconds": int(request.paused.total_seconds()),
        "extensions": [
            {"months": e.months, "reason": e.reason, "by": e.by, "at": e.at.isoformat()}
            for e in request.extensions
        ],
        "outcome": request.outcome,
        "finished_at": request.finished_at,
        "version": request.version,
    }


def _request(row: RowMapping) -> PrivacyRequest:
    verification = row["verification"]
    return PrivacyRequest(
        id=row["id"],
        kind=RequestKind(row["kind"]),
        subject_uid=row["subject_uid"],
        subject_hash=row["subject_hash"],
        channel=Channel(row["channel"]),
        state=RequestState(row["state"]),
        received_at=row["received_at"],
        created_by=row["created_by"],
        verification=(
            Verification(
                verification["method"],
                verification["by"],
                datetime.fromisoformat(verification["at"]),
            )
            if verification is not None
            else None
        ),
        approved_by=row["approved_by"],
        paused=timedelta(seconds=row["paused_seconds"]),
        extensions=tuple(
            Extension(e["months"], e["reason"], e["by"], datetime.fromisoformat(e["at"]))
            for e in row["extensions"]
        ),
        outcome=row["outcome"],
        finished_at=row["finished_at"],
        version=row["version"],
    )


def _step_row(step: Step) -> dict[str, Any]:
    return {
        "request_id": step.request_id,
        "position": step.position,
        "name": step.name,
        "state": step.state.value,
        "attempts": step.attempts,
        "error": step.error,
        "count": step.count,
        "detail": step.detail,
        "done_at": step.done_at,
    }


def _step(row: RowMapping) -> Step:
    return Step(
        request_id=row["request_id"],
        position=row["position"],
        name=row["name"],
        state=StepState(row["state"]),
        attempts=row["attempts"],
        error=row["error"],
        count=row["count"],
        detail=row["detail"],
        done_at=row["done_at"],
    )


def audit_entry(row: RowMapping) -> AuditEntry:
    """An audit row as the domain reads it (the staff API's trail reads them too)."""
    return AuditEntry(
        actor=row["actor"],
        action=row["action"],
        request_id=row["request_id"],
        subject_hash=row["subject_hash"],
        at=row["at"],
        categories=tuple(row["categories"]),
        exemption=row["exemption"],
        detail=row["detail"],
    )
