"""`users/{uid}/usage/{yyyy-mm-dd}_{installationId}` ↔ UsageReport."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TypeGuard

from domain.devices.model import validate_installation_id
from domain.errors import ValidationFailed
from domain.usage.model import (
    MAX_APP_TOKEN_LENGTH,
    MAX_PICKUPS_PER_DAY,
    MAX_TOP_APPS,
    MINUTES_PER_DAY,
    AppUsage,
    UsageCategory,
    UsageReport,
)
from migration.firestore.layout import USAGE, QuarantineReason, parse_usage_doc_id
from migration.firestore.mapping.common import (
    MappingContext,
    Unmappable,
    backend_fields,
    check_not_orphan,
    note_unknown,
    stamps,
    version_of,
)

KNOWN = ("totalMinutes", "pickups", "categories", "topApps", "createdAt", "updatedAt")


def from_document(
    uid: str,
    doc_id: str,
    data: dict[str, Any],
    *,
    create_time: dt.datetime,
    update_time: dt.datetime,
    context: MappingContext,
) -> UsageReport:
    check_not_orphan(context)
    try:
        day, installation_id = parse_usage_doc_id(doc_id)
        validate_installation_id(installation_id)
    except (ValueError, ValidationFailed) as exc:
        raise Unmappable(QuarantineReason.INVALID_ID, "documentId") from exc
    total = data.get("totalMinutes")
    if total is None:
        raise Unmappable(QuarantineReason.MISSING_REQUIRED, "totalMinutes")
    if not _is_int(total):
        raise Unmappable(QuarantineReason.WRONG_TYPE, "totalMinutes")
    if not 0 <= total <= MINUTES_PER_DAY:
        raise Unmappable(QuarantineReason.INVALID_VALUE, "totalMinutes")
    note_unknown(data, KNOWN, context, USAGE)
    created_at, updated_at = stamps(data, context, USAGE, create_time, update_time)
    pickups = _pickups(data.get("pickups"), context)
    categories = _categories(data.get("categories"), context)
    if _exceeds(categories.values(), total):
        context.note(f"{USAGE}.categories:exceed_total")
        categories = {}
    top_apps = _top_apps(data.get("topApps"), context)
    if _exceeds((app.minutes for app in top_apps), total):
        context.note(f"{USAGE}.topApps:exceed_total")
        top_apps = ()
    return UsageReport(
        user_id=uid,
        installation_id=installation_id,
        date=day,
        total_minutes=total,
        pickups=pickups,
        minutes_per_category=categories,
        top_apps=top_apps,
        version=version_of(data),
        created_at=created_at,
        updated_at=updated_at,
    )


def to_document(report: UsageReport) -> dict[str, Any]:
    return {
        "totalMinutes": report.total_minutes,
        "pickups": report.pickups,
        "categories": {str(name): minutes for name, minutes in report.minutes_per_category.items()},
        "topApps": [{"token": app.token, "minutes": app.minutes} for app in report.top_apps],
        "createdAt": report.created_at,
        "updatedAt": report.updated_at,
        **backend_fields(report.version),
    }


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _minutes(value: Any) -> TypeGuard[int]:
    return _is_int(value) and 0 <= value <= MINUTES_PER_DAY


def _exceeds(parts: Iterable[int], total: int) -> bool:
    """As `validate_daily_usage` checks: each part may add up to one minute of rounding."""
    values = list(parts)
    return sum(values) > total + len(values)


def _categories(value: Any, context: MappingContext) -> dict[UsageCategory, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        context.note(f"{USAGE}.categories:unmappable")
        return {}
    known = {c.value for c in UsageCategory}
    minutes: dict[UsageCategory, int] = {}
    for name, amount in value.items():
        if not _minutes(amount):
            context.note(f"{USAGE}.categories:dropped")
            continue
        category = UsageCategory(name) if name in known else UsageCategory.OTHER
        minutes[category] = minutes.get(category, 0) + amount
    if minutes.get(UsageCategory.OTHER, 0) > MINUTES_PER_DAY:
        minutes[UsageCategory.OTHER] = MINUTES_PER_DAY
    return minutes


def _top_apps(value: Any, context: MappingContext) -> tuple[AppUsage, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        context.note(f"{USAGE}.topApps:unmappable")
        return ()
    apps: dict[str, AppUsage] = {}
    for entry in value:
        token = entry.get("token") if isinstance(entry, dict) else None
        amount = entry.get("minutes") if isinstance(entry, dict) else None
        if (
            isinstance(token, str)
            and 0 < len(token) <= MAX_APP_TOKEN_LENGTH
            and _minutes(amount)
            and token not in apps
        ):
            apps[token] = AppUsage(token, amount)
        else:
            context.note(f"{USAGE}.topApps:dropped")
    ranked = sorted(apps.values(), key=lambda app: (-app.minutes, app.token))
    return tuple(ranked[:MAX_TOP_APPS])


def _pickups(value: Any, context: MappingContext) -> int:
    if _is_int(value) and 0 <= value <= MAX_PICKUPS_PER_DAY:
        return value
    context.note(f"{USAGE}.pickups:default")
    return 0
