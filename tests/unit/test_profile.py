"""Profile rules, on the in-memory unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
import pytest

from domain.errors import PreconditionFailed, ValidationFailed
from domain.users import use_cases
from domain.users.model import ProfileChanges, User
from tests.unit.fakes.unit_of_work import FakeUnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def update(uow: FakeUnitOfWork, expected: int | None = None, **values: object) -> User:
    async def run() -> User:
        async with uow:
            await use_cases.ensure_user(uow, "u1")
            user = await use_cases.update_profile(
                uow,
                "u1",
                ProfileChanges(dict(values)),
                expected_version=expected,
                clock=lambda: NOW,
            )
            await uow.commit()
            return user

    return anyio.run(run)


def test_a_change_takes_a_new_version_and_keeps_the_rest() -> None:
    uow = FakeUnitOfWork()

    user = update(uow, timezone="Asia/Tokyo")

    assert user.timezone == "Asia/Tokyo"
    assert user.version == 1
    assert user.daily_goal_minutes == 60
    assert user.updated_at == NOW


def test_a_change_to_the_same_values_takes_no_version() -> None:
    uow = FakeUnitOfWork()
    update(uow, timezone="Asia/Tokyo")

    again = update(uow, timezone="Asia/Tokyo")

    assert again.version == 1


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", "", " UTC"])
def test_only_iana_timezones_are_accepted(name: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        update(FakeUnitOfWork(), timezone=name)

    assert refused.value.problems[0].field == "timezone"


def test_the_daily_goal_is_between_one_minute_and_a_day() -> None:
    with pytest.raises(ValidationFailed):
        update(FakeUnitOfWork(), daily_goal_minutes=1441)


def test_a_stale_version_is_refused_and_nothing_changes() -> None:
    uow = FakeUnitOfWork()
    update(uow, display_name="Ada")

    with pytest.raises(PreconditionFailed):
        update(uow, expected=0, display_name="Grace")

    assert uow.users.rows["u1"].display_name == "Ada"
