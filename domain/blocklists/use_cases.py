"""Use cases of a user's blocklists.

Every write takes the user's next version *first*: its row lock serialises the user's writes,
so the checks that follow (If-Match, caps, "still used by a schedule") read committed state
that cannot change before this transaction commits.
"""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from domain.blocklists.model import (
    Blocklist,
    BlocklistChanges,
    BlocklistDraft,
    check_blocklist_cap,
    validate_items,
    validate_name,
)
from domain.common import Clock, Page, PageRequest, new_id, position_id
from domain.errors import Conflict, NotFound
from domain.events import DomainEvent, EventType
from domain.preconditions import ExpectedVersion, check_expected_version
from domain.unit_of_work import UnitOfWork


async def create_blocklist(
    uow: UnitOfWork, user_id: str, draft: BlocklistDraft, *, clock: Clock
) -> Blocklist:
    name = validate_name(draft.name)
    items = validate_items(draft.items)
    version = await uow.next_version(user_id)
    check_blocklist_cap(await uow.blocklists.count(user_id))
    now = clock()
    blocklist = Blocklist(
        id=new_id(),
        user_id=user_id,
        name=name,
        items=items,
        version=version,
        created_at=now,
        updated_at=now,
    )
    await uow.blocklists.save(blocklist)
    await uow.outbox.add(
        DomainEvent(EventType.BLOCKLIST_CREATED, user_id, str(blocklist.id), version, now)
    )
    return blocklist


async def get_blocklist(uow: UnitOfWork, user_id: str, blocklist_id: UUID) -> Blocklist:
    blocklist = await uow.blocklists.get(user_id, blocklist_id)
    if blocklist is None:
        raise NotFound(detail="no such blocklist")
    return blocklist


async def list_blocklists(uow: UnitOfWork, user_id: str, page: PageRequest) -> Page[Blocklist]:
    found = await uow.blocklists.list(user_id, after=position_id(page), limit=page.limit + 1)
    more = len(found) > page.limit
    items = found[: page.limit]
    return Page(items, (str(items[-1].id),) if more and items else None)


async def update_blocklist(
    uow: UnitOfWork,
    user_id: str,
    blocklist_id: UUID,
    changes: BlocklistChanges,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> Blocklist:
    version = await uow.next_version(user_id)
    current = await get_blocklist(uow, user_id, blocklist_id)
    check_expected_version(current.version, expected_version, "blocklist")
    changed = changes.apply_to(current)
    if changed == current:
        return current
    updated = replace(changed, version=version, updated_at=clock())
    await uow.blocklists.save(updated)
    await uow.outbox.add(
        DomainEvent(
            EventType.BLOCKLIST_UPDATED, user_id, str(blocklist_id), version, updated.updated_at
        )
    )
    return updated


async def delete_blocklist(
    uow: UnitOfWork,
    user_id: str,
    blocklist_id: UUID,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> None:
    """Refused (409 `blocklist_in_use`) while a live schedule uses it.

    Detaching would leave schedules that block nothing without the user noticing; refusing
    makes the app ask the user to delete those schedules or point them at another blocklist.
    """
    version = await uow.next_version(user_id)
    current = await get_blocklist(uow, user_id, blocklist_id)
    check_expected_version(current.version, expected_version, "blocklist")
    users = await uow.schedules.count_using_blocklist(user_id, blocklist_id)
    if users:
        raise Conflict(
            code="blocklist_in_use",
            detail=f"{users} schedule(s) use this blocklist; delete them or give them another",
        )
    now = clock()
    await uow.blocklists.delete(user_id, blocklist_id, version, now)
    await uow.outbox.add(
        DomainEvent(EventType.BLOCKLIST_DELETED, user_id, str(blocklist_id), version, now)
    )
