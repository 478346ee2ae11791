"""Schedules: when a window is active (midnight, DST), and the use cases' rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.blocklists import use_cases as blocklists
from domain.blocklists.model import BlocklistDraft
from domain.common import PageRequest, new_id
from domain.errors import LimitExceeded, NotFound, PreconditionFailed, ValidationFailed
from domain.schedules import use_cases
from domain.schedules.model import (
    MAX_SCHEDULES_PER_USER,
    Schedule,
    ScheduleChanges,
    ScheduleDraft,
    Strictness,
    Weekday,
    is_active,
    window_covers,
)
from tests.unit.fakes.unit_of_work import FakeUnitOfWork

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday

pytestmark = pytest.mark.anyio


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def window(days: str, start: time, end: time, tz: str = "UTC") -> Schedule:
    return Schedule(
        id=new_id(),
        user_id="alice",
        name="Window",
        days=tuple(Weekday(d) for d in days.split()),
        start_local=start,
        end_local=end,
        timezone=tz,
        blocklist_id=new_id(),
        strictness=Strictness.NORMAL,
        enabled=True,
        paused_until=None,
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(
    ("instant", "active"),
    [
        (utc(2026, 11, 27, 21, 59), False),  # Friday, before the start
        (utc(2026, 11, 27, 22, 0), True),  # the start is inside
        (utc(2026, 11, 28, 3, 0), True),  # Saturday night belongs to Friday's window
        (utc(2026, 11, 28, 6, 0), False),  # the end is outside
        (utc(2026, 11, 27, 3, 0), False),  # Friday early: Thursday has no window
        (utc(2026, 11, 29, 3, 0), False),  # Sunday early: Saturday has no window
    ],
)
def test_a_window_crossing_midnight_belongs_to_the_day_it_starts(
    instant: datetime, active: bool
) -> None:
    assert is_active(window("fri", time(22), time(6)), instant) is active


@pytest.mark.parametrize(
    ("instant", "active"),
    [
        (utc(2026, 3, 28, 20, 59), False),  # 21:59 CET
        (utc(2026, 3, 28, 21, 0), True),  # 22:00 CET
        (utc(2026, 3, 29, 4, 59), True),  # 06:59 CEST, after the clocks went forward
        (utc(2026, 3, 29, 5, 0), False),  # 07:00 CEST; still 06:00 in CET
    ],
)
def test_a_window_across_the_spring_forward_ends_at_the_local_wall_time(
    instant: datetime, active: bool
) -> None:
    overnight = window("sat", time(22), time(7), "Europe/Berlin")

    assert is_active(overnight, instant) is active


@pytest.mark.parametrize(
    ("instant", "active"),
    [
        (utc(2026, 10, 24, 22, 59), False),  # 00:59 CEST
        (utc(2026, 10, 24, 23, 0), True),  # 01:00 CEST
        (utc(2026, 10, 25, 0, 15), True),  # 02:15 CEST
        (utc(2026, 10, 25, 1, 15), True),  # 02:15 CET: the repeated hour is inside again
        (utc(2026, 10, 25, 1, 30), False),  # 02:30 CET
    ],
)
def test_a_repeated_hour_at_the_fall_back_is_inside_the_window_both_times(
    instant: datetime, active: bool
) -> None:
    assert is_active(window("sun", time(1), time(2, 30), "Europe/Berlin"), instant) is active


@pytest.mark.parametrize(
    ("instant", "active"),
    [
        (utc(2026, 3, 8, 6, 59), False),  # 01:59 EST
        (utc(2026, 3, 8, 7, 0), True),  # 03:00 EDT: the clock jumped past 02:30
        (utc(2026, 3, 8, 8, 0), False),  # 04:00 EDT
    ],
)
def test_a_start_in_the_skipped_hour_begins_when_the_clock_jumps(
    instant: datetime, active: bool
) -> None:
    skipped = window("sun", time(2, 30), time(4), "America/New_York")

    assert is_active(skipped, instant) is active


def test_a_disabled_or_paused_schedule_is_not_active_inside_its_window() -> None:
    evening = window("mon", time(5), time(7))

    assert is_active(evening, NOW)
    assert not is_active(replace(evening, enabled=False), NOW)
    assert not is_active(replace(evening, paused_until=NOW + timedelta(minutes=1)), NOW)
    assert is_active(replace(evening, paused_until=NOW), NOW)
    assert window_covers(replace(evening, enabled=False), NOW)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_active(window("mon", time(5), time(7)), NOW.replace(tzinfo=None))


# Use cases ---------------------------------------------------------------------------------


def clock() -> datetime:
    return NOW


async def a_blocklist(uow: FakeUnitOfWork, user: str = "alice") -> UUID:
    async with uow:
        made = await blocklists.create_blocklist(uow, user, BlocklistDraft("Social"), clock=clock)
        await uow.commit()
    return made.id


def draft(blocklist_id: UUID, **overrides: Any) -> ScheduleDraft:
    fields: dict[str, Any] = {
        "name": "Nights",
        "days": [Weekday.FRI, Weekday.MON, Weekday.FRI],
        "start_local": "22:00",
        "end_local": "06:30",
        "timezone": "Europe/Berlin",
        "blocklist_id": blocklist_id,
    }
    return ScheduleDraft(**(fields | overrides))


async def create(uow: FakeUnitOfWork, the_draft: ScheduleDraft, user: str = "alice") -> Schedule:
    async with uow:
        made = await use_cases.create_schedule(uow, user, the_draft, clock=clock)
        await uow.commit()
    return made


async def refusal(uow: FakeUnitOfWork, the_draft: ScheduleDraft) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        await create(uow, the_draft)
    return refused.value.problems[0].field, refused.value.problems[0].code


async def test_a_created_schedule_keeps_its_days_once_each_in_week_order() -> None:
    uow = FakeUnitOfWork()
    made = await create(uow, draft(await a_blocklist(uow)))

    assert made.days == (Weekday.MON, Weekday.FRI)
    assert (made.start_local, made.end_local) == (time(22), time(6, 30))
    assert (made.strictness, made.enabled, made.paused_until) == (Strictness.NORMAL, True, None)
    assert made.version == 2
    assert await uow.schedules.get("alice", made.id) == made


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"days": []}, "days", "no_days"),
        ({"start_local": "24:00"}, "start_local", "invalid_local_time"),
        ({"end_local": "7:00"}, "end_local", "invalid_local_time"),
        ({"end_local": "22:00"}, "end_local", "empty_window"),
        ({"timezone": "Mars/Olympus"}, "timezone", "invalid_timezone"),
        ({"name": " "}, "name", "invalid_name"),
        ({"paused_until": NOW}, "paused_until", "not_in_future"),
        ({"paused_until": NOW + timedelta(days=30, seconds=1)}, "paused_until", "too_far_ahead"),
    ],
)
async def test_an_invalid_schedule_is_refused_naming_the_field(
    overrides: dict[str, Any], field: str, code: str
) -> None:
    uow = FakeUnitOfWork()
    assert await refusal(uow, draft(await a_blocklist(uow), **overrides)) == (field, code)


async def test_a_pause_of_exactly_30_days_is_accepted() -> None:
    uow = FakeUnitOfWork()
    until = NOW + timedelta(days=30)

    made = await create(uow, draft(await a_blocklist(uow), paused_until=until))

    assert made.paused_until == until


async def test_a_schedule_must_use_one_of_the_users_live_blocklists() -> None:
    uow = FakeUnitOfWork()
    bobs = await a_blocklist(uow, "bob")
    deleted = await a_blocklist(uow)
    async with uow:
        await blocklists.delete_blocklist(uow, "alice", deleted, expected_version=None, clock=clock)
        await uow.commit()

    for blocklist_id in (bobs, deleted, new_id()):
        assert await refusal(uow, draft(blocklist_id)) == ("blocklist_id", "unknown_blocklist")
    assert await uow.schedules.count("alice") == 0


async def test_the_51st_schedule_is_refused() -> None:
    uow = FakeUnitOfWork()
    blocklist_id = await a_blocklist(uow)
    for _ in range(MAX_SCHEDULES_PER_USER):
        await create(uow, draft(blocklist_id))

    with pytest.raises(LimitExceeded) as refused:
        await create(uow, draft(blocklist_id))

    assert refused.value.code == "too_many_schedules"


async def update(
    uow: FakeUnitOfWork, user: str, schedule_id: UUID, expected: int | None = None, **values: Any
) -> Schedule:
    async with uow:
        updated = await use_cases.update_schedule(
            uow, user, schedule_id, ScheduleChanges(values), expected_version=expected, clock=clock
        )
        await uow.commit()
    return updated


async def test_an_update_merges_the_fields_sent_and_checks_the_whole_window() -> None:
    uow = FakeUnitOfWork()
    made = await create(uow, draft(await a_blocklist(uow)))

    moved = await update(uow, "alice", made.id, expected=made.version, start_local="21:00")
    with pytest.raises(ValidationFailed) as refused:
        await update(uow, "alice", made.id, end_local="21:00")

    assert (moved.start_local, moved.end_local, moved.name) == (time(21), time(6, 30), "Nights")
    assert moved.version > made.version
    assert refused.value.problems[0].code == "empty_window"
    assert await uow.schedules.get("alice", made.id) == moved


async def test_an_expired_pause_does_not_block_other_changes_and_null_resumes() -> None:
    uow = FakeUnitOfWork()
    made = await create(uow, draft(await a_blocklist(uow), paused_until=NOW + timedelta(hours=1)))
    await uow.schedules.save(replace(made, paused_until=NOW - timedelta(hours=1)))

    renamed = await update(uow, "alice", made.id, name="Late nights")
    resumed = await update(uow, "alice", made.id, paused_until=None)

    assert renamed.name == "Late nights"
    assert resumed.paused_until is None


async def test_an_update_cannot_point_at_another_users_blocklist() -> None:
    uow = FakeUnitOfWork()
    made = await create(uow, draft(await a_blocklist(uow)))
    bobs = await a_blocklist(uow, "bob")

    with pytest.raises(ValidationFailed) as refused:
        await update(uow, "alice", made.id, blocklist_id=bobs)

    assert refused.value.problems[0].field == "blocklist_id"
    assert await uow.schedules.get("alice", made.id) == made


async def test_a_stale_or_foreign_update_or_delete_is_refused() -> None:
    uow = FakeUnitOfWork()
    made = await create(uow, draft(await a_blocklist(uow)))
    await update(uow, "alice", made.id, enabled=False)

    with pytest.raises(PreconditionFailed):
        await update(uow, "alice", made.id, expected=made.version, name="Lost")
    with pytest.raises(NotFound):
        await update(uow, "bob", made.id, name="Mine")
    async with uow:
        with pytest.raises(NotFound):
            await use_cases.delete_schedule(uow, "bob", made.id, expected_version=None, clock=clock)

    assert (await use_cases.get_schedule(uow, "alice", made.id)).name == "Nights"


async def test_deleting_its_schedules_frees_a_blocklist_for_deletion() -> None:
    uow = FakeUnitOfWork()
    blocklist_id = await a_blocklist(uow)
    made = await create(uow, draft(blocklist_id))

    async with uow:
        await use_cases.delete_schedule(uow, "alice", made.id, expected_version=None, clock=clock)
        await blocklists.delete_blocklist(
            uow, "alice", blocklist_id, expected_version=None, clock=clock
        )
        await uow.commit()

    assert await uow.schedules.get("alice", made.id) is None
    assert uow.schedules.tombstones[("alice", made.id)][0].version == made.version + 1


async def test_schedule_pages_follow_each_other_without_duplicates_or_gaps() -> None:
    uow = FakeUnitOfWork()
    blocklist_id = await a_blocklist(uow)
    made = [(await create(uow, draft(blocklist_id))).id for _ in range(5)]

    seen: list[UUID] = []
    after: tuple[str, ...] | None = None
    async with uow:
        while True:
            page = await use_cases.list_schedules(uow, "alice", PageRequest(2, after))
            seen += [s.id for s in page.items]
            if (after := page.next_after) is None:
                break

    assert seen == made
