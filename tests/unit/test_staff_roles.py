"""What each staff role may do, and the staff list's changes, each with its audit entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.errors import Conflict, NotFound, ValidationFailed
from domain.privacy.ports import AuditEntry
from domain.staff import (
    GRANTS,
    Permission,
    Role,
    RoleRequired,
    StaffMember,
    add_staff,
    remove_staff,
    require,
)

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.anyio


class MemoryStaffDirectory:
    """`StaffDirectory` in memory, its audit entries beside it."""

    def __init__(self) -> None:
        self.rows: list[StaffMember] = []
        self.audit: list[AuditEntry] = []

    async def get(self, email: str) -> StaffMember | None:
        return next((m for m in self.rows if m.email == email and m.active), None)

    async def add(self, member: StaffMember, entry: AuditEntry) -> None:
        if await self.get(member.email) is not None:
            raise Conflict(code="staff_exists")
        self.rows.append(member)
        self.audit.append(entry)

    async def remove(self, member: StaffMember, at: datetime, entry: AuditEntry) -> StaffMember:
        if member not in self.rows:
            raise NotFound()
        removed = replace(member, removed_at=at)
        self.rows[self.rows.index(member)] = removed
        self.audit.append(entry)
        return removed

    async def members(self, *, include_removed: bool = False) -> Sequence[StaffMember]:
        return [m for m in self.rows if include_removed or m.active]


def member(*roles: Role) -> StaffMember:
    return StaffMember("s-1", "dana@example.com", frozenset(roles), NOW, "admin-1")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.VIEWER, {Permission.READ}),
        (Role.OPERATOR, {Permission.READ, Permission.OPERATE}),
        (Role.APPROVER, {Permission.READ, Permission.APPROVE}),
        (Role.ADMIN, set(Permission)),
    ],
)
def test_each_role_allows_what_it_says_and_nothing_more(
    role: Role, allowed: set[Permission]
) -> None:
    assert GRANTS[role] == allowed
    for permission in Permission:
        assert member(role).may(permission) is (permission in allowed)


def test_a_refusal_names_the_role_that_would_allow_it() -> None:
    with pytest.raises(RoleRequired) as refusal:
        require(member(Role.VIEWER), Permission.APPROVE)

    assert (refusal.value.code, refusal.value.role) == ("role_required", "approver")


def test_roles_add_up_and_a_removed_member_may_do_nothing() -> None:
    both = member(Role.OPERATOR, Role.APPROVER)

    assert both.may(Permission.OPERATE)
    assert both.may(Permission.APPROVE)
    assert not both.may(Permission.MANAGE_STAFF)
    assert not replace(both, removed_at=NOW).may(Permission.READ)


async def test_adding_and_removing_staff_is_audited_by_staff_id_not_email() -> None:
    directory = MemoryStaffDirectory()

    added = await add_staff(directory, " Dana@Example.com ", [Role.OPERATOR], by="admin-1", at=NOW)
    removed = await remove_staff(directory, "dana@example.com", by="admin-1", at=NOW)

    assert added.email == "dana@example.com"
    assert removed.removed_at == NOW
    assert [(e.actor, e.action, e.request_id) for e in directory.audit] == [
        ("admin-1", "staff_added", None),
        ("admin-1", "staff_removed", None),
    ]
    assert directory.audit[0].detail == {"staff_id": added.id, "roles": "operator"}
    assert all("dana" not in str(e) for e in directory.audit)


async def test_staff_changes_that_cannot_stand_are_refused() -> None:
    directory = MemoryStaffDirectory()
    await add_staff(directory, "dana@example.com", [Role.VIEWER], by="admin-1", at=NOW)

    with pytest.raises(Conflict):
        await add_staff(directory, "DANA@example.com", [Role.ADMIN], by="admin-1", at=NOW)
    with pytest.raises(ValidationFailed):
        await add_staff(directory, "eve@example.com", [], by="admin-1", at=NOW)
    with pytest.raises(ValidationFailed):
        await add_staff(directory, "not-an-email", [Role.VIEWER], by="admin-1", at=NOW)
    for reserved in ("subject", "system", "unknown"):
        with pytest.raises(ValidationFailed):
            await add_staff(directory, "eve@example.com", [Role.VIEWER], by=reserved, at=NOW)
    with pytest.raises(NotFound):
        await remove_staff(directory, "eve@example.com", by="admin-1", at=NOW)
