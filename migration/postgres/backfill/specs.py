"""Each entity's table, key and row, as its repository writes them.

Where a repository builds its rows in one function (schedules, sessions, usage), the backfill
uses that very function and sets only the version and the tombstone; the other rows are spelled
out here as their repositories' `save` writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table

from datastore.postgres.repositories.focus_sessions import focus_session_row
from datastore.postgres.repositories.schedules import schedule_row
from datastore.postgres.repositories.usage import usage_report_row
from datastore.postgres.tables import table_of
from domain.blocklists.model import Blocklist
from domain.devices.model import Device
from domain.focus_sessions.model import FocusSession
from domain.migration import Entity
from domain.schedules.model import Schedule
from domain.usage.model import UsageReport
from domain.users.model import User

RowOf = Callable[[Any, int, datetime | None], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class RecordSpec:
    table: Table
    row: RowOf
    """The row of a record at a version; deleted at the instant given (None: live)."""

    @property
    def key(self) -> tuple[str, ...]:
        """The table's primary key, in its order: existing rows are found by it."""
        return tuple(column.name for column in self.table.primary_key.columns)

    @property
    def is_users(self) -> bool:
        return self.table.name == "users"

    def key_of(self, record: Any) -> tuple[Any, ...]:
        return tuple(getattr(record, name) for name in self.key)


def _user_row(user: User, version: int, deleted_at: datetime | None) -> dict[str, Any]:
    quiet = user.notifications.quiet_hours
    return {
        "uid": user.uid,
        "display_name": user.display_name,
        "timezone": user.timezone,
        "locale": user.locale,
        "daily_goal_minutes": user.daily_goal_minutes,
        "notifications_enabled": user.notifications.enabled,
        "quiet_hours_start": quiet.start if quiet else None,
        "quiet_hours_end": quiet.end if quiet else None,
        "consent_ai_features": user.consents.ai_features,
        "consent_analytics": user.consents.analytics,
        "version": version,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def _device_row(device: Device, version: int, deleted_at: datetime | None) -> dict[str, Any]:
    return {
        "user_id": device.user_id,
        "installation_id": device.installation_id,
        "platform": device.platform.value,
        # A deleted device keeps no token, as `PostgresDeviceRepository.delete` leaves it.
        "push_token": None if deleted_at else device.push_token,
        "apns_environment": device.apns_environment.value if device.apns_environment else None,
        "app_version": device.app_version,
        "os_version": device.os_version,
        "timezone": device.timezone,
        "last_seen_at": device.last_seen_at,
        "version": version,
        "created_at": device.created_at,
        "updated_at": device.updated_at,
        "deleted_at": deleted_at,
    }


def _blocklist_row(
    blocklist: Blocklist, version: int, deleted_at: datetime | None
) -> dict[str, Any]:
    return {
        "user_id": blocklist.user_id,
        "id": blocklist.id,
        "name": blocklist.name,
        "items": [{"kind": i.kind.value, "value": i.value} for i in blocklist.items],
        "version": version,
        "created_at": blocklist.created_at,
        "updated_at": blocklist.updated_at,
        "deleted_at": deleted_at,
    }


def _schedule_row(schedule: Schedule, version: int, deleted_at: datetime | None) -> dict[str, Any]:
    return {**schedule_row(schedule), "version": version, "deleted_at": deleted_at}


def _session_row(
    session: FocusSession, version: int, deleted_at: datetime | None
) -> dict[str, Any]:
    return {**focus_session_row(session), "version": version, "deleted_at": deleted_at}


def _usage_row(report: UsageReport, version: int, deleted_at: datetime | None) -> dict[str, Any]:
    """Usage has no tombstones: a report is replaced, never deleted."""
    return {**usage_report_row(report), "version": version}


SPECS: dict[Entity, RecordSpec] = {
    Entity.USERS: RecordSpec(table_of(Entity.USERS), _user_row),
    Entity.DEVICES: RecordSpec(table_of(Entity.DEVICES), _device_row),
    Entity.BLOCKLISTS: RecordSpec(table_of(Entity.BLOCKLISTS), _blocklist_row),
    Entity.SCHEDULES: RecordSpec(table_of(Entity.SCHEDULES), _schedule_row),
    Entity.FOCUS_SESSIONS: RecordSpec(table_of(Entity.FOCUS_SESSIONS), _session_row),
    Entity.USAGE: RecordSpec(table_of(Entity.USAGE), _usage_row),
}
