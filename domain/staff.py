"""Compliance staff: who they are, what each role may do, and how the staff API learns who
is calling (ADR 0019).

Roles: a viewer reads requests and their audit trail; an operator also opens, verifies,
refuses, cancels, extends and runs them; an approver approves an erasure someone else opened;
an admin manages staff and may do everything. A member may hold several roles. Staff are
named in the audit trail by their staff id, never by email: every change to the staff list is
audited there too (`staff_added`, `staff_removed`), without a request id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from domain.common import new_id
from domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.privacy.model import SUBJECT, SYSTEM
from domain.privacy.ports import AuditEntry

UNKNOWN = "unknown"
"""The audit trail's actor for a caller the staff API could not identify."""
RESERVED_ACTORS = frozenset({SUBJECT, SYSTEM, UNKNOWN})
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,255}")
_ACTOR = re.compile(r"[A-Za-z0-9._@-]{1,64}")


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"
    OPERATE = "operate"
    """Open, verify, refuse, cancel, extend, run."""
    APPROVE = "approve"
    MANAGE_STAFF = "manage_staff"


GRANTS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.OPERATE}),
    Role.APPROVER: frozenset({Permission.READ, Permission.APPROVE}),
    Role.ADMIN: frozenset(Permission),
}
"""What each role may do: the one table the API and the tests read."""
ROLE_FOR: Mapping[Permission, Role] = {
    Permission.READ: Role.VIEWER,
    Permission.OPERATE: Role.OPERATOR,
    Permission.APPROVE: Role.APPROVER,
    Permission.MANAGE_STAFF: Role.ADMIN,
}
"""The least role that grants a permission: what a refusal names."""


@dataclass
class RoleRequired(Forbidden):
    """The staff member holds no role that allows this."""

    code: str = "role_required"
    role: str = ""


@dataclass
class StaffOnly(Forbidden):
    """The caller is not an identified, current staff member (an app user's token, no token,
    a forged or expired assertion, a removed member)."""

    code: str = "staff_only"
    detail: str = "this API is for compliance staff only"


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: str
    """What the audit trail names them by (`by`)."""
    email: str
    roles: frozenset[Role]
    added_at: datetime
    added_by: str
    removed_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.removed_at is None

    def may(self, permission: Permission) -> bool:
        return self.active and any(permission in GRANTS[role] for role in self.roles)


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    """Who the staff API's caller is, as their identity provider vouches."""

    email: str


def require(member: StaffMember, permission: Permission) -> None:
    if not member.may(permission):
        role = ROLE_FOR[permission]
        raise RoleRequired(detail=f"this needs the {role} role", role=role.value)


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not _EMAIL.fullmatch(cleaned):
        raise ValidationFailed.on("email", "invalid_email", "not an email address")
    return cleaned


def check_actor(by: str) -> str:
    """A staff id as the audit trail takes it: never what it calls the subject or the system."""
    if by in RESERVED_ACTORS or not _ACTOR.fullmatch(by):
        raise ValidationFailed.on(
            "by", "invalid_actor", "a staff id: 1-64 letters, digits and . _ @ -, not reserved"
        )
    return by


class StaffVerifier(Protocol):
    """Turns the staff API's request headers into the caller's identity.

    Raises `Unauthenticated` for anything that is not a valid assertion (missing, forged,
    expired, for another audience) and `AuthUnavailable` when keys cannot be fetched."""

    async def verify(self, headers: Mapping[str, str]) -> StaffPrincipal: ...


class StaffDirectory(Protocol):
    """Staff members, each change stored with its audit entry in one transaction."""

    async def get(self, email: str) -> StaffMember | None:
        """The current member with this (normalised) email; None when there is none."""
        ...

    async def add(self, member: StaffMember, entry: AuditEntry) -> None:
        """Raises `Conflict` when a current member has the email."""
        ...

    async def remove(self, member: StaffMember, at: datetime, entry: AuditEntry) -> StaffMember:
        """Raises `NotFound` when the member was removed meanwhile."""
        ...

    async def members(self, *, include_removed: bool = False) -> Sequence[StaffMember]: ...


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """A search of the audit trail: every given condition holds; newest first."""

    request_id: UUID | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    """Entries at or after this instant."""
    until: datetime | None = None
    """Entries before this instant."""
    before: int | None = None
    """Entries written before the one with this sequence number (the next page)."""
    limit: int = 100


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    """The entry's place in the trail (its hash chain's order)."""
    entry: AuditEntry


class StaffAudit(Protocol):
    """The privacy audit trail as the staff API writes and reads it."""

    async def record(self, entry: AuditEntry) -> None: ...

    async def trail(self, request_id: UUID) -> Sequence[AuditEntry]:
        """A request's entries, in the order written."""
        ...

    async def search(self, query: AuditQuery) -> Sequence[AuditRecord]:
        """Entries matching `query`, newest first, at most `query.limit`."""
        ...


# --- Use cases ------------------------------------------------------------------------


async def add_staff(
    directory: StaffDirectory, email: str, roles: Iterable[Role], *, by: str, at: datetime
) -> StaffMember:
    granted = frozenset(roles)
    if not granted:
        raise ValidationFailed.on("roles", "required", "give at least one role")
    member = StaffMember(
        id=str(new_id()),
        email=normalise_email(email),
        roles=granted,
        added_at=at,
        added_by=check_actor(by),
    )
    if await directory.get(member.email) is not None:
        raise Conflict(code="staff_exists", detail="already a staff member: remove them first")
    await directory.add(member, _entry(by, "staff_added", member, at))
    return member


async def remove_staff(
    directory: StaffDirectory, email: str, *, by: str, at: datetime
) -> StaffMember:
    member = await directory.get(normalise_email(email))
    if member is None:
        raise NotFound(detail="no current staff member has this email")
    return await directory.remove(member, at, _entry(check_actor(by), "staff_removed", member, at))


def _entry(by: str, action: str, member: StaffMember, at: datetime) -> AuditEntry:
    roles = ",".join(sorted(member.roles))
    return AuditEntry(
        actor=by,
        action=action,
        request_id=None,
        subject_hash=None,
        at=at,
        detail={"staff_id": member.id, "roles": roles},
    )
