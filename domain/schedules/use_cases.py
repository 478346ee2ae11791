"""Use cases of a user's schedules.

As with blocklists, every write takes the user's next version first, so that its row lock
serialises the checks below (If-Match, cap, the blocklist still being live) with the user's
other writes — a blocklist cannot be deleted between the check and the commit.
"""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from domain.blocklists.model import validate_name
from domain.common import Clock, Page, PageRequest, new_id, position_id
from domain.errors import NotFound, ValidationFailed
from domain.events import DomainEvent, EventType
from domain.preconditions import ExpectedVersion, check_expected_version
from domain.schedules.model import (
    Schedule,
    ScheduleChanges,
    ScheduleDraft,
    check_schedule_cap,
    check_window,
    parse_local_time,
    validate_days,
    validate_paused_until,
)
from domain.unit_of_work import UnitOfWork
from domain.users.model import validate_timezone


async def create_schedule(
    uow: UnitOfWork, user_id: str, draft: ScheduleDraft, *, clock: Clock
) -> Schedule:
    now = clock()
    start_local = parse_local_time(draft.start_local, "start_local")
    end_local = parse_local_time(draft.end_local, "end_local")
    check_window(start_local, end_local)
    schedule = Schedule(
        id=new_id(),
        user_id=user_id,
        name=validate_name(draft.name),
        days=validate_days(draft.days),
        start_local=start_local,
        end_local=end_local,
        timezone=validate_timezone(draft.timezone),
        blocklist_id=draft.blocklist_id,
        strictness=draft.strictness,
        enabled=draft.enabled,
        paused_until=validate_paused_until(draft.paused_until, now),
        version=await uow.next_version(user_id),
        created_at=now,
        updated_at=now,
    )
    check_schedule_cap(await uow.schedules.count(user_id))
    await _check_blocklist(uow, user_id, schedule.blocklist_id)
    await uow.schedules.save(schedule)
    await uow.outbox.add(
        DomainEvent(EventType.SCHEDULE_CREATED, user_id, str(schedule.id), schedule.version, now)
    )
    return schedule


async def get_schedule(uow: UnitOfWork, user_id: str, schedule_id: UUID) -> Schedule:
    schedule = await uow.schedules.get(user_id, schedule_id)
    if schedule is None:
        raise NotFound(detail="no such schedule")
    return schedule


async def list_schedules(uow: UnitOfWork, user_id: str, page: PageRequest) -> Page[Schedule]:
    found = await uow.schedules.list(user_id, after=position_id(page), limit=page.limit + 1)
    more = len(found) > page.limit
    items = found[: page.limit]
    return Page(items, (str(items[-1].id),) if more and items else None)


async def update_schedule(
    uow: UnitOfWork,
    user_id: str,
    schedule_id: UUID,
    changes: ScheduleChanges,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> Schedule:
    version = await uow.next_version(user_id)
    current = await get_schedule(uow, user_id, schedule_id)
    check_expected_version(current.version, expected_version, "schedule")
    now = clock()
    changed = changes.apply_to(current, now)
    if changed == current:
        return current
    if changed.blocklist_id != current.blocklist_id:
        await _check_blocklist(uow, user_id, changed.blocklist_id)
    updated = replace(changed, version=version, updated_at=now)
    await uow.schedules.save(updated)
    await uow.outbox.add(
        DomainEvent(EventType.SCHEDULE_UPDATED, user_id, str(schedule_id), version, now)
    )
    return updated


async def delete_schedule(
    uow: UnitOfWork,
    user_id: str,
    schedule_id: UUID,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> None:
    version = await uow.next_version(user_id)
    current = await get_schedule(uow, user_id, schedule_id)
    check_expected_version(current.version, expected_version, "schedule")
    now = clock()
    await uow.schedules.delete(user_id, schedule_id, version, now)
    await uow.outbox.add(
        DomainEvent(EventType.SCHEDULE_DELETED, user_id, str(schedule_id), version, now)
    )


async def _check_blocklist(uow: UnitOfWork, user_id: str, blocklist_id: UUID) -> None:
    """Another user's blocklist looks like a missing one."""
    if await uow.blocklists.get(user_id, blocklist_id) is None:
        raise ValidationFailed.on("blocklist_id", "unknown_blocklist", "not one of your blocklists")
