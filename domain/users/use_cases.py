"""Use cases of the user's own profile."""

from __future__ import annotations

from dataclasses import replace

from domain.common import Clock
from domain.errors import AccountErased, NotFound
from domain.events import DomainEvent, EventType
from domain.preconditions import ExpectedVersion, check_expected_version
from domain.unit_of_work import UnitOfWork
from domain.users.model import ProfileChanges, User


async def ensure_user(uow: UnitOfWork, uid: str) -> None:
    """The user's row exists from their first authenticated call on; an erased account's
    calls are refused (`AccountErased`), and its row is never made again."""
    if not await uow.users.ensure(uid):
        raise AccountErased()


async def get_profile(uow: UnitOfWork, uid: str) -> User:
    user = await uow.users.get(uid)
    if user is None:
        raise NotFound(detail="no such user")
    return user


async def update_profile(
    uow: UnitOfWork,
    uid: str,
    changes: ProfileChanges,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> User:
    await uow.lock_user(uid)
    current = await get_profile(uow, uid)
    check_expected_version(current.version, expected_version, "profile")
    changed = changes.apply_to(current)
    if changed == current:
        return current
    version = await uow.next_version(uid)
    updated = replace(changed, version=version, updated_at=clock())
    await uow.users.save(updated)
    await uow.outbox.add(
        DomainEvent(EventType.PROFILE_UPDATED, uid, uid, version, updated.updated_at)
    )
    return updated
