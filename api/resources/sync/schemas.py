"""The delta sync wire format.

`GET /v1/sync?since=<cursor>&limit=<n>` answers a `SyncPage`:

```json
{"changes": [
   {"type": "device", "id": "a1b2c3d4e5", "version": 12, "deleted": false, "data": {...}},
   {"type": "device", "id": "f6e7d8c9b0", "version": 13, "deleted": true, "data": null}],
 "next_cursor": "WyIxMyJd", "has_more": false}
```
"""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from pydantic import Field, SkipValidation

from api.resources.blocklists.schemas import BlocklistOut
from api.resources.devices.schemas import DeviceOut
from api.resources.focus_sessions.schemas import FocusSessionOut
from api.resources.insights.schemas import InsightOut
from api.resources.me.schemas import MeOut
from api.resources.schedules.schemas import ScheduleOut
from api.resources.usage.schemas import UsageReportOut
from api.schemas import ResponseModel
from domain.ai.insights import AiInsight
from domain.blocklists.model import Blocklist
from domain.devices.model import Device
from domain.focus_sessions.model import FocusSession
from domain.schedules.model import Schedule
from domain.sync.model import Change, ChangePage, EntityType
from domain.usage.model import UsageReport
from domain.users.model import User

EntityOut = (
    MeOut | DeviceOut | BlocklistOut | ScheduleOut | FocusSessionOut | UsageReportOut | InsightOut
)


class OptInType(StrEnum):
    """`include=`: types sent only to apps that ask for them (domain.sync.model.OPT_IN)."""

    INSIGHT = "insight"


def _data(change: Change) -> EntityOut | None:
    match change.entity:
        case None:
            return None
        case User():
            return MeOut.of(change.entity)
        case Device():
            return DeviceOut.of(change.entity)
        case Blocklist():
            return BlocklistOut.of(change.entity)
        case Schedule():
            return ScheduleOut.of(change.entity)
        case FocusSession():
            return FocusSessionOut.of(change.entity)
        case UsageReport():
            return UsageReportOut.of(change.entity)
        case AiInsight():
            return InsightOut.of(change.entity)
        case _:
            assert_never(change.entity)


class ChangeOut(ResponseModel):
    """One record in its state after the client's cursor: the latest state only, never the
    steps in between, and each record at most once in the whole sync."""

    type: EntityType = Field(
        description="profile (data as GET /v1/me), device (GET /v1/devices/{id}), blocklist "
        "(GET /v1/blocklists/{id}), schedule (GET /v1/schedules/{id}), focus_session "
        "(GET /v1/focus-sessions/{id}), usage_report (GET /v1/usage/{date}?installation_id=), "
        "insight (GET /v1/insights/{id}; only with `include=insight`)"
    )
    id: str = Field(
        description="The record's key within its type: the uid for the profile, the "
        "installation_id for a device, the id of a blocklist, schedule, focus session or "
        "insight, "
        "`<date>/<installation_id>` for a usage report"
    )
    version: int = Field(description="The record's version, as in its ETag")
    deleted: bool = Field(description="True: the record is gone; drop it (data is null)")
    # Not validated again: `_data` makes it from the entity with the type's own `Out` model.
    # Validating a model instance against this union (smart mode, `from_attributes`) tried
    # each member before its own, reading attributes that it did not have: 60 % of a sync
    # page's CPU. The schema and the serializer are still the union's.
    data: SkipValidation[EntityOut | None] = Field(
        description="The record, exactly as its own GET returns it"
    )

    @classmethod
    def of(cls, change: Change) -> ChangeOut:
        return cls(
            type=change.type,
            id=change.id,
            version=change.version,
            deleted=change.deleted,
            data=_data(change),
        )


class SyncPage(ResponseModel):
    """Changes ordered by version. Apply them in order, store `next_cursor`, and while
    `has_more` is true ask again with `since=next_cursor`. Without `since`, the changes are
    the user's whole state (plus tombstones of records deleted earlier)."""

    changes: list[ChangeOut]
    next_cursor: str = Field(
        description="Send as `since` next time; the same cursor comes back when nothing changed"
    )
    has_more: bool = Field(description="More changes wait: ask again now with next_cursor")

    @classmethod
    def of(cls, page: ChangePage, next_cursor: str) -> SyncPage:
        return cls(
            changes=[ChangeOut.of(c) for c in page.changes],
            next_cursor=next_cursor,
            has_more=page.has_more,
        )


class SyncRequestOut(ResponseModel):
    version: int = Field(
        description="The other devices are asked to sync to at least this version", ge=1
    )
