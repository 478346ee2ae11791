"""Shadow reads compare normalised records and report field names, never values."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from prometheus_client import REGISTRY

from domain.users.model import Consents, NotificationPreferences, User
from migration.shadow import MISSING, ShadowReads, differing_fields

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 9, 30, 12, 345678, tzinfo=UTC)


def user(**changes: object) -> User:
    alice = User(
        uid="u1",
        display_name="Alice",
        timezone="Europe/Berlin",
        locale="de-DE",
        daily_goal_minutes=60,
        notifications=NotificationPreferences(),
        consents=Consents(),
        version=7,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(alice, **changes)  # type: ignore[arg-type]


def test_equal_records_in_other_clothes_do_not_differ() -> None:
    berlin = timezone(timedelta(hours=1))
    same_instant_in_millis = NOW.astimezone(berlin).replace(microsecond=345000)
    assert differing_fields(user(), user(created_at=same_instant_in_millis)) == []


def test_the_differing_fields_are_named_nested_ones_with_dots() -> None:
    other = user(
        display_name="Alicia", notifications=NotificationPreferences(enabled=False), version=8
    )
    assert differing_fields(user(), other) == [
        "display_name",
        "notifications.enabled",
        "version",
    ]


def test_a_record_missing_on_one_side_is_reported_as_such() -> None:
    assert differing_fields(user(), None) == [MISSING]
    assert differing_fields(None, user()) == [MISSING]
    assert differing_fields(None, None) == []


def metric(outcome: str) -> float:
    labels = {"entity": "users", "outcome": outcome}
    return REGISTRY.get_sample_value("focus_migration_shadow_reads_total", labels) or 0.0


async def test_a_mismatch_is_counted_and_logged_with_ids_and_field_names_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shadow = ShadowReads(1.0)
    before = metric("mismatch")

    async def firestore() -> User:
        return user(display_name="Secret Name")

    with caplog.at_level(logging.WARNING, logger="migration.shadow"):
        fields = await shadow.compare("users", {"user_id": "u1"}, user(), firestore)

    assert fields == ["display_name"]
    assert metric("mismatch") == before + 1
    [record] = caplog.records
    assert record.msg == "migration.shadow.mismatch"
    assert record.fields == ["display_name"]  # type: ignore[attr-defined]
    assert "Secret Name" not in caplog.text
    assert "Alice" not in caplog.text


async def test_a_failing_shadow_read_is_counted_and_never_raises() -> None:
    before = metric("error")

    async def firestore_down() -> User:
        raise ConnectionError("Firestore is unreachable")

    assert (
        await ShadowReads(1.0).compare("users", {"user_id": "u1"}, user(), firestore_down) is None
    )
    assert metric("error") == before + 1


async def test_only_the_configured_share_of_reads_is_compared() -> None:
    calls = 0

    async def firestore() -> User:
        nonlocal calls
        calls += 1
        return user()

    draws = iter([0.05, 0.5, 0.09, 0.95])
    shadow = ShadowReads(0.1, sample=lambda: next(draws))
    results = [await shadow.compare("users", {}, user(), firestore) for _ in range(4)]

    assert results == [[], None, [], None]
    assert calls == 2
    assert await ShadowReads(0.0).compare("users", {}, user(), firestore) is None


async def test_a_comparison_after_the_response_is_counted_once_it_ran() -> None:
    before = metric("mismatch")
    shadow_read_started = asyncio.Event()

    async def firestore() -> User:
        shadow_read_started.set()
        return user(display_name="Someone else")

    shadow = ShadowReads(1.0)
    shadow.compare_later("users", {"user_id": "u1"}, user(), firestore)

    assert metric("mismatch") == before  # nothing ran yet: the caller went on at once
    await shadow.drain()
    assert shadow_read_started.is_set()
    assert metric("mismatch") == before + 1
