"""Compliance staff in Postgres, and the privacy audit trail as the staff API reads it.

Every change to the staff list is written with its audit entry in one transaction, through
the privacy store's own append (the advisory lock and the hash chain stay in one place).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.privacy_store import PostgresPrivacyStore, audit_entry
from datastore.postgres.tables.privacy import PrivacyAuditRow
from datastore.postgres.tables.staff import StaffMemberRow
from domain.errors import Conflict, NotFound
from domain.privacy.ports import AuditEntry
from domain.staff import AuditQuery, AuditRecord, Role, StaffMember

_STAFF = StaffMemberRow.__table__  # type: ignore[attr-defined]
_AUDIT = PrivacyAuditRow.__table__  # type: ignore[attr-defined]


class _StaffTransaction(PostgresPrivacyStore):
    """The privacy store's transaction, which also writes the staff list."""

    async def insert_member(self, member: StaffMember) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(insert(_STAFF).values(_row(member)))
        except IntegrityError as exc:  # the same email added at the same moment
            raise Conflict(code="staff_exists", detail="already a staff member") from exc

    async def mark_removed(self, member_id: str, at: datetime) -> RowMapping | None:
        removed = await self._conn.execute(
            update(_STAFF)
            .where(_STAFF.c.id == member_id, _STAFF.c.removed_at.is_(None))
            .values(removed_at=at)
            .returning(*_STAFF.c)
        )
        return removed.mappings().first()


class PostgresStaffDirectory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, email: str) -> StaffMember | None:
        query = select(_STAFF).where(_STAFF.c.email == email, _STAFF.c.removed_at.is_(None))
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return _member(row) if row is not None else None

    async def add(self, member: StaffMember, entry: AuditEntry) -> None:
        async with _StaffTransaction(self._engine) as tx:
            await tx.insert_member(member)
            await tx.audit(entry)
            await tx.commit()

    async def remove(self, member: StaffMember, at: datetime, entry: AuditEntry) -> StaffMember:
        async with _StaffTransaction(self._engine) as tx:
            row = await tx.mark_removed(member.id, at)
            if row is None:
                raise NotFound(detail="no current staff member has this email")
            await tx.audit(entry)
            await tx.commit()
        return _member(row)

    async def members(self, *, include_removed: bool = False) -> Sequence[StaffMember]:
        query = select(_STAFF).order_by(_STAFF.c.email, _STAFF.c.added_at)
        if not include_removed:
            query = query.where(_STAFF.c.removed_at.is_(None))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_member(row) for row in rows]


class PostgresStaffAudit:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, entry: AuditEntry) -> None:
        async with PostgresPrivacyStore(self._engine) as store:
            await store.audit(entry)
            await store.commit()

    async def trail(self, request_id: UUID) -> Sequence[AuditEntry]:
        query = select(_AUDIT).where(_AUDIT.c.request_id == request_id).order_by(_AUDIT.c.seq)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [audit_entry(row) for row in rows]

    async def search(self, query: AuditQuery) -> Sequence[AuditRecord]:
        c = _AUDIT.c
        conditions: list[ColumnElement[bool]] = []
        if query.request_id is not None:
            conditions.append(c.request_id == query.request_id)
        if query.actor is not None:
            conditions.append(c.actor == query.actor)
        if query.action is not None:
            conditions.append(c.action == query.action)
        if query.since is not None:
            conditions.append(c.at >= query.since)
        if query.until is not None:
            conditions.append(c.at < query.until)
        if query.before is not None:
            conditions.append(c.seq < query.before)
        found = select(_AUDIT).where(*conditions).order_by(c.seq.desc()).limit(query.limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(found)).mappings().all()
        return [AuditRecord(row["seq"], audit_entry(row)) for row in rows]


def _row(member: StaffMember) -> dict[str, object]:
    return {
        "id": member.id,
        "email": member.email,
        "roles": sorted(member.roles),
        "added_at": member.added_at,
        "added_by": member.added_by,
        "removed_at": member.removed_at,
    }


def _member(row: RowMapping) -> StaffMember:
    return StaffMember(
        id=row["id"],
        email=row["email"],
        roles=frozenset(Role(role) for role in row["roles"]),
        added_at=row["added_at"],
        added_by=row["added_by"],
        removed_at=row["removed_at"],
    )
