"""Wire shapes of schedules: a local `HH:MM` window on chosen weekdays in an IANA timezone.

An end earlier than the start crosses midnight; `paused_until: null` in a patch resumes.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field

from api.schemas import (
    PageOut,
    RequestModel,
    ResponseModel,
    StrictBool,
    Timezone,
    UtcDatetime,
    not_null,
)
from domain.blocklists.model import MAX_NAME_LENGTH
from domain.errors import ValidationFailed
from domain.schedules.model import (
    Schedule,
    ScheduleChanges,
    ScheduleDraft,
    Strictness,
    Weekday,
    format_local_time,
)

LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_NULLABLE = frozenset({"paused_until"})


class ScheduleCreate(RequestModel):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, examples=["Work hours"])
    days: list[Weekday] = Field(min_length=1, examples=[["mon", "tue", "wed", "thu", "fri"]])
    start_local: str = Field(pattern=LOCAL_TIME_PATTERN, examples=["22:00"])
    end_local: str = Field(
        pattern=LOCAL_TIME_PATTERN,
        examples=["06:00"],
        description="Earlier than start_local: the window crosses midnight (and belongs to the "
        "day it starts on). Never equal to start_local.",
    )
    timezone: Timezone
    blocklist_id: UUID = Field(description="One of the user's blocklists")
    strictness: Strictness = Strictness.NORMAL
    enabled: StrictBool = True
    paused_until: UtcDatetime | None = Field(
        default=None, description="Not active before this instant; in the next 30 days"
    )

    def to_draft(self) -> ScheduleDraft:
        return ScheduleDraft(
            name=self.name,
            days=self.days,
            start_local=self.start_local,
            end_local=self.end_local,
            timezone=self.timezone,
            blocklist_id=self.blocklist_id,
            strictness=self.strictness,
            enabled=self.enabled,
            paused_until=self.paused_until,
        )


class SchedulePatch(RequestModel):
    """JSON merge patch: only the fields sent change; `paused_until: null` resumes."""

    name: str | None = Field(
        default=None, min_length=1, max_length=MAX_NAME_LENGTH, json_schema_extra=not_null
    )
    days: list[Weekday] | None = Field(default=None, min_length=1, json_schema_extra=not_null)
    start_local: str | None = Field(
        default=None, pattern=LOCAL_TIME_PATTERN, json_schema_extra=not_null
    )
    end_local: str | None = Field(
        default=None, pattern=LOCAL_TIME_PATTERN, json_schema_extra=not_null
    )
    timezone: Timezone | None = Field(default=None, json_schema_extra=not_null)
    blocklist_id: UUID | None = Field(default=None, json_schema_extra=not_null)
    strictness: Strictness | None = Field(default=None, json_schema_extra=not_null)
    enabled: StrictBool | None = Field(default=None, json_schema_extra=not_null)
    paused_until: UtcDatetime | None = None

    def to_changes(self) -> ScheduleChanges:
        values: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is None and name not in _NULLABLE:
                raise ValidationFailed.on(name, "required", f"{name} cannot be null")
            values[name] = value
        return ScheduleChanges(values)


class ScheduleOut(ResponseModel):
    id: UUID
    name: str
    days: list[Weekday]
    start_local: str = Field(examples=["22:00"])
    end_local: str = Field(examples=["06:00"])
    timezone: str
    blocklist_id: UUID
    strictness: Strictness
    enabled: bool
    paused_until: UtcDatetime | None
    version: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, schedule: Schedule) -> ScheduleOut:
        return cls(
            id=schedule.id,
            name=schedule.name,
            days=list(schedule.days),
            start_local=format_local_time(schedule.start_local),
            end_local=format_local_time(schedule.end_local),
            timezone=schedule.timezone,
            blocklist_id=schedule.blocklist_id,
            strictness=schedule.strictness,
            enabled=schedule.enabled,
            paused_until=schedule.paused_until,
            version=schedule.version,
            created_at=schedule.created_at,
            updated_at=schedule.updated_at,
        )


class SchedulePage(PageOut):
    items: list[ScheduleOut]
