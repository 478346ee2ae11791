"""Use cases of delta sync."""

from __future__ import annotations

from domain.common import Clock
from domain.events import DomainEvent, EventType
from domain.sync.model import ChangePage, EntityType
from domain.unit_of_work import UnitOfWork


async def changes_since(
    uow: UnitOfWork,
    user_id: str,
    after_version: int,
    limit: int,
    *,
    include: frozenset[EntityType] = frozenset(),
) -> ChangePage:
    """About `limit` of the user's changes after `after_version`, oldest first.

    A page ends between two versions, never inside one: the cursor is a version, so a page
    that sent only some records of a version would lose the rest. When one version alone
    holds more than `limit` records, the page grows to send it whole.
    """
    fetch = limit
    while True:
        found = await uow.changes.since(user_id, after_version, fetch + 1, include=include)
        if len(found) <= fetch:
            last = found[-1].version if found else after_version
            return ChangePage(changes=found, last_version=last, has_more=False)
        first_left_out = found[fetch].version
        page = [c for c in found[:fetch] if c.version < first_left_out]
        if page:
            return ChangePage(changes=page, last_version=page[-1].version, has_more=True)
        fetch *= 2


async def request_sync(uow: UnitOfWork, user_id: str, *, clock: Clock) -> int:
    """A device asks the user's other devices to sync now (a silent push each, in budget).

    Takes a version, so the push tells the other devices what to sync to at least.
    """
    version = await uow.next_version(user_id)
    await uow.outbox.add(DomainEvent(EventType.SYNC_REQUESTED, user_id, user_id, version, clock()))
    return version
