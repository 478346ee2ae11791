"""Use cases of screen-time reports: one per device and local calendar day."""

from __future__ import annotations

import datetime as dt

from domain.common import Clock, Page, PageRequest
from domain.devices.model import validate_installation_id
from domain.errors import NotFound, ValidationFailed
from domain.events import DomainEvent, EventType
from domain.preconditions import ExpectedVersion, check_expected_version
from domain.unit_of_work import UnitOfWork
from domain.usage.model import (
    DailyUsage,
    UsageReport,
    check_list_range,
    check_report_date,
    latest_local_date,
    validate_daily_usage,
)


async def submit_usage_report(
    uow: UnitOfWork,
    user_id: str,
    day: dt.date,
    installation_id: str,
    usage: DailyUsage,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> tuple[UsageReport, bool]:
    """Create or replace the device's report of `day` (idempotent); also says if it is new.

    `day` may not lie after today where the user is: today in the profile's timezone or, for
    a traveller, in the reporting device's, whichever is later.
    """
    usage = validate_daily_usage(usage)
    validate_installation_id(installation_id)
    device = await uow.devices.get(user_id, installation_id)
    if device is None:
        raise ValidationFailed.on(
            "installation_id", "unknown_device", "not one of your devices: register it first"
        )
    user = await uow.users.get(user_id)
    zones = [user.timezone if user else "UTC", *([device.timezone] if device.timezone else [])]
    now = clock()
    check_report_date(day, latest_local_date(now, zones))
    current = await uow.usage.get(user_id, installation_id, day, for_update=True)
    check_expected_version(current.version if current else None, expected_version, "usage report")
    if current is not None and current.usage == usage:
        return current, False  # a retry: nothing changes, no new version for sync
    report = UsageReport(
        user_id=user_id,
        installation_id=installation_id,
        date=day,
        total_minutes=usage.total_minutes,
        pickups=usage.pickups,
        minutes_per_category=usage.minutes_per_category,
        top_apps=usage.top_apps,
        version=await uow.next_version(user_id),
        created_at=current.created_at if current else now,
        updated_at=now,
    )
    await uow.usage.save(report)
    subject = f"{day.isoformat()}/{installation_id}"
    await uow.outbox.add(
        DomainEvent(EventType.USAGE_REPORTED, user_id, subject, report.version, now)
    )
    return report, current is None


async def get_usage_report(
    uow: UnitOfWork, user_id: str, day: dt.date, installation_id: str
) -> UsageReport:
    report = await uow.usage.get(user_id, installation_id, day)
    if report is None:
        raise NotFound(detail="no report of this device for this day")
    return report


def _position(after: tuple[str, ...] | None) -> tuple[dt.date, str] | None:
    if after is None:
        return None
    try:
        day, installation_id = after
        return dt.date.fromisoformat(day), installation_id
    except ValueError as exc:
        raise ValidationFailed.on(
            "cursor", "invalid_cursor", "not a cursor this API issued"
        ) from exc


async def list_usage_reports(
    uow: UnitOfWork, user_id: str, first: dt.date, last: dt.date, page: PageRequest
) -> Page[UsageReport]:
    """The user's reports of every device dated `first`..`last`, by date then device."""
    check_list_range(first, last)
    found = await uow.usage.list(
        user_id, first, last, after=_position(page.after), limit=page.limit + 1
    )
    items = found[: page.limit]
    more = len(found) > page.limit
    return Page(
        items=items,
        next_after=(items[-1].date.isoformat(), items[-1].installation_id) if more else None,
    )
