"""Which devices a change wakes, and the silent push they get."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.devices.model import ApnsEnvironment, Device, Platform
from domain.events import DomainEvent, EventType
from domain.push.model import PushKind
from domain.push.policy import (
    SILENT_PUSHES,
    PushPolicy,
    push_kind,
    recipients,
    silent_push,
    still_holding,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def device(installation_id: str, token: str | None = "ab" * 32) -> Device:
    return Device(
        user_id="u1",
        installation_id=installation_id,
        platform=Platform.IOS,
        push_token=token,
        apns_environment=ApnsEnvironment.PRODUCTION if token else None,
        app_version="4.2.0",
        os_version=None,
        timezone=None,
        last_seen_at=NOW,
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


def test_the_device_that_made_the_change_and_devices_without_a_token_are_skipped() -> None:
    event = DomainEvent(
        EventType.SCHEDULE_UPDATED, "u1", "s1", 9, NOW, origin_installation_id="phone-0001"
    )
    devices = [device("phone-0001"), device("tablet-0001"), device("watch-0001", token=None)]

    assert [d.installation_id for d in recipients(event, devices)] == ["tablet-0001"]


def test_without_an_origin_every_reachable_device_is_woken() -> None:
    event = DomainEvent(EventType.SYNC_REQUESTED, "u1", "u1", 9, NOW)
    devices = [device("phone-0001"), device("tablet-0001")]
    assert len(recipients(event, devices)) == 2


def test_schedule_and_blocklist_changes_sync_and_focus_sessions_mirror() -> None:
    assert push_kind(EventType.SCHEDULE_UPDATED) is PushKind.SYNC
    assert push_kind(EventType.BLOCKLIST_DELETED) is PushKind.SYNC
    assert push_kind(EventType.FOCUS_SESSION_STARTED) is PushKind.FOCUS
    assert push_kind(EventType.FOCUS_SESSION_COMPLETED) is PushKind.FOCUS
    assert push_kind(EventType.USAGE_REPORTED) is None
    assert push_kind(EventType.PROFILE_UPDATED) is None


def test_every_declared_event_type_is_pushed_or_deliberately_not() -> None:
    """A new event type wakes devices or not by a decision written in the policy, never by
    being left out of it."""
    assert set(SILENT_PUSHES) == set(EventType)


def test_a_focus_push_is_urgent_and_short_lived_a_sync_push_is_neither() -> None:
    focus = silent_push(device("tablet-0001"), PushKind.FOCUS, 9, NOW, PushPolicy())
    sync = silent_push(device("tablet-0001"), PushKind.SYNC, 9, NOW, PushPolicy())

    assert focus.urgent
    assert not sync.urgent
    assert focus.expires_at == NOW + timedelta(minutes=15)
    assert sync.expires_at == NOW + timedelta(hours=6)
    assert focus.data == {"kind": "focus", "version": "9"}
    assert focus.collapse_id != sync.collapse_id


def test_a_token_another_device_holds_and_was_seen_on_later_is_not_used() -> None:
    mine = device("phone-0001")
    theirs = replace(mine, user_id="u2", last_seen_at=NOW + timedelta(minutes=1))

    assert not still_holding(mine, [mine, theirs])
    assert still_holding(theirs, [mine, theirs])
    assert still_holding(mine, [mine])
