"""Usage report use cases on the in-memory unit of work: days, devices, rules, versions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.common import Clock, PageRequest
from domain.devices import use_cases as devices
from domain.devices.model import DeviceRegistration, Platform
from domain.errors import PreconditionFailed, ValidationFailed
from domain.usage import use_cases
from domain.usage.model import AppUsage, DailyUsage, UsageCategory, UsageReport
from tests.unit.fakes.unit_of_work import FakeUnitOfWork

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
PHONE = "phone-0001"

pytestmark = pytest.mark.anyio


def at(instant: datetime) -> Clock:
    return lambda: instant


USAGE = DailyUsage(
    total_minutes=200,
    pickups=40,
    minutes_per_category={UsageCategory.SOCIAL: 120, UsageCategory.GAMES: 60},
    top_apps=(AppUsage("com.example.chat", 30), AppUsage("com.example.social", 100)),
)


async def given(
    *devices_and_zones: tuple[str, str | None], user_timezone: str = "UTC"
) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    async with uow:
        await uow.users.ensure("alice")
        user = await uow.users.get("alice")
        assert user is not None
        await uow.users.save(replace(user, timezone=user_timezone))
        for installation_id, zone in devices_and_zones or ((PHONE, None),):
            registration = DeviceRegistration(Platform.ANDROID, "4.2.0", timezone=zone)
            await devices.register_device(
                uow, "alice", installation_id, registration, expected_version=None, clock=at(NOW)
            )
        await uow.commit()
    return uow


async def submit(
    uow: FakeUnitOfWork,
    day: date = TODAY,
    usage: DailyUsage = USAGE,
    *,
    installation_id: str = PHONE,
    expected_version: int | None = None,
    now: datetime = NOW,
) -> tuple[UsageReport, bool]:
    async with uow:
        result = await use_cases.submit_usage_report(
            uow,
            "alice",
            day,
            installation_id,
            usage,
            expected_version=expected_version,
            clock=at(now),
        )
        await uow.commit()
    return result


async def refusal(uow: FakeUnitOfWork, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        await submit(uow, **kwargs)
    problem = refused.value.problems[0]
    return problem.field, problem.code


async def test_the_first_report_of_a_day_is_stored_with_the_users_next_version() -> None:
    uow = await given()

    report, created = await submit(uow)

    assert created is True
    assert report.version == uow.counters["alice"]
    assert await uow.usage.get("alice", PHONE, TODAY) == report
    assert [a.token for a in report.top_apps] == ["com.example.social", "com.example.chat"]


async def test_the_same_report_again_takes_no_new_version() -> None:
    uow = await given()
    first, _ = await submit(uow)
    counter = uow.counters["alice"]

    again, created = await submit(uow, usage=replace(USAGE, top_apps=USAGE.top_apps[::-1]))

    assert (again, created) == (first, False)
    assert uow.counters["alice"] == counter


async def test_a_new_report_replaces_the_days_report_and_keeps_its_creation_time() -> None:
    uow = await given()
    first, _ = await submit(uow)

    second, created = await submit(
        uow, usage=replace(USAGE, total_minutes=260), now=NOW + timedelta(hours=1)
    )

    assert created is False
    assert second.total_minutes == 260
    assert second.version > first.version
    assert (second.created_at, second.updated_at) == (NOW, NOW + timedelta(hours=1))


async def test_a_report_of_a_device_not_registered_or_removed_is_refused() -> None:
    uow = await given((PHONE, None), ("old-phone-01", None))
    async with uow:
        await devices.remove_device(
            uow, "alice", "old-phone-01", expected_version=None, clock=at(NOW)
        )
        await uow.commit()

    for installation_id in ("never-seen-01", "old-phone-01"):
        assert await refusal(uow, installation_id=installation_id) == (
            "installation_id",
            "unknown_device",
        )


async def test_tomorrow_is_refused_until_it_begins_where_the_user_lives() -> None:
    tomorrow = TODAY + timedelta(days=1)

    assert await refusal(await given(), day=tomorrow) == ("date", "date_in_future")
    _, created = await submit(await given(user_timezone="Pacific/Auckland"), day=tomorrow)
    assert created is True


async def test_a_traveller_ahead_of_the_profiles_timezone_may_report_the_devices_today() -> None:
    uow = await given((PHONE, "Asia/Tokyo"), user_timezone="Europe/Berlin")

    _, created = await submit(uow, day=TODAY + timedelta(days=1), now=NOW + timedelta(hours=4))

    assert created is True


async def test_a_phone_clock_a_few_minutes_fast_may_report_the_next_day() -> None:
    midnight = datetime(2026, 3, 11, tzinfo=UTC)
    tomorrow = TODAY + timedelta(days=1)

    _, created = await submit(await given(), day=tomorrow, now=midnight - timedelta(minutes=3))
    assert created is True
    assert await refusal(await given(), day=tomorrow, now=midnight - timedelta(minutes=10)) == (
        "date",
        "date_in_future",
    )


async def test_reports_may_go_back_400_days_and_no_further() -> None:
    uow = await given()

    _, created = await submit(uow, day=TODAY - timedelta(days=400))

    assert created is True
    assert await refusal(uow, day=TODAY - timedelta(days=401)) == ("date", "date_too_old")


@pytest.mark.parametrize(
    ("usage", "field", "code"),
    [
        (replace(USAGE, total_minutes=1441), "total_minutes", "out_of_range"),
        (replace(USAGE, pickups=-1), "pickups", "out_of_range"),
        (
            replace(
                USAGE, minutes_per_category={UsageCategory.SOCIAL: 150, UsageCategory.GAMES: 53}
            ),
            "minutes_per_category",
            "categories_exceed_total",
        ),
        (
            replace(USAGE, top_apps=(AppUsage("a.b", 150), AppUsage("c.d", 53))),
            "top_apps",
            "apps_exceed_total",
        ),
        (replace(USAGE, top_apps=(AppUsage("a.b", 1),) * 2), "top_apps", "duplicate_app"),
        (
            replace(USAGE, top_apps=tuple(AppUsage(f"a.b{i}", 1) for i in range(51))),
            "top_apps",
            "too_many_apps",
        ),
        (replace(USAGE, top_apps=(AppUsage("", 1),)), "top_apps.0.token", "invalid_token"),
    ],
)
async def test_impossible_figures_are_refused(usage: DailyUsage, field: str, code: str) -> None:
    assert await refusal(await given(), usage=usage) == (field, code)


async def test_parts_may_exceed_the_total_by_a_minute_each_for_rounding() -> None:
    rounded = {UsageCategory.SOCIAL: 150, UsageCategory.GAMES: 52}

    report, _ = await submit(await given(), usage=replace(USAGE, minutes_per_category=rounded))

    assert report.minutes_per_category == rounded


async def test_if_match_must_name_the_current_report() -> None:
    uow = await given()
    with pytest.raises(PreconditionFailed):
        await submit(uow, expected_version=1)  # nothing to match yet
    first, _ = await submit(uow)
    await submit(uow, usage=replace(USAGE, pickups=41))

    with pytest.raises(PreconditionFailed) as refused:
        await submit(uow, usage=replace(USAGE, pickups=42), expected_version=first.version)

    assert refused.value.current_version == first.version + 1


async def test_the_list_pages_by_day_then_device_within_the_range() -> None:
    uow = await given((PHONE, None), ("tablet-0001", None))
    for days_ago in range(4):
        for installation_id in ("tablet-0001", PHONE):
            await submit(uow, TODAY - timedelta(days=days_ago), installation_id=installation_id)

    seen: list[tuple[date, str]] = []
    after: tuple[str, ...] | None = None
    while True:
        async with uow:
            page = await use_cases.list_usage_reports(
                uow, "alice", TODAY - timedelta(days=2), TODAY, PageRequest(4, after)
            )
        seen += [(r.date, r.installation_id) for r in page.items]
        if page.next_after is None:
            break
        after = page.next_after

    expected = [(TODAY - timedelta(days=n), i) for n in (2, 1, 0) for i in (PHONE, "tablet-0001")]
    assert seen == expected


@pytest.mark.parametrize(
    ("first", "last", "after", "problem"),
    [
        (TODAY, TODAY - timedelta(days=1), None, ("from", "invalid_range")),
        (TODAY - timedelta(days=366), TODAY, None, ("to", "range_too_long")),
        (TODAY, TODAY, ("not-a-date", PHONE), ("cursor", "invalid_cursor")),
        (TODAY, TODAY, ("2026-03-10",), ("cursor", "invalid_cursor")),
    ],
)
async def test_a_list_outside_the_rules_is_refused(
    first: date, last: date, after: tuple[str, ...] | None, problem: tuple[str, str]
) -> None:
    uow = await given()

    with pytest.raises(ValidationFailed) as refused:
        async with uow:
            await use_cases.list_usage_reports(uow, "alice", first, last, PageRequest(10, after))

    assert (refused.value.problems[0].field, refused.value.problems[0].code) == problem
