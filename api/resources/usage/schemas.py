"""Wire shapes of usage reports: total minutes, pickups, minutes per category and top apps.

The parts may not add up to more than `total_minutes` (the domain checks the sums).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query
from pydantic import Field

from api.schemas import PageOut, RequestModel, ResponseModel, StrictInt, UtcDatetime
from domain.devices.model import INSTALLATION_ID_PATTERN
from domain.usage.model import (
    MAX_APP_TOKEN_LENGTH,
    MAX_PICKUPS_PER_DAY,
    MAX_TOP_APPS,
    MINUTES_PER_DAY,
    AppUsage,
    DailyUsage,
    UsageCategory,
    UsageReport,
)

InstallationIdQuery = Annotated[
    str,
    Query(
        pattern=f"^{INSTALLATION_ID_PATTERN}$",
        description="One of your registered devices (8-128 of [A-Za-z0-9._:-])",
    ),
]

Minutes = Annotated[StrictInt, Field(ge=0, le=MINUTES_PER_DAY)]


class AppUsageIn(RequestModel):
    token: str = Field(
        min_length=1,
        max_length=MAX_APP_TOKEN_LENGTH,
        description="Opaque app id: iOS ApplicationToken (base64) or Android package name",
        examples=["com.example.social"],
    )
    minutes: Minutes


class UsagePut(RequestModel):
    """One device's screen time for the day in the path. Sending it again replaces it."""

    installation_id: str = Field(
        pattern=f"^{INSTALLATION_ID_PATTERN}$", description="One of your registered devices"
    )
    total_minutes: Minutes
    pickups: StrictInt = Field(ge=0, le=MAX_PICKUPS_PER_DAY)
    minutes_per_category: dict[UsageCategory, Minutes] = Field(
        default_factory=dict,
        description="Minutes per category; together at most total_minutes (plus rounding, "
        "one minute per category)",
    )
    top_apps: list[AppUsageIn] = Field(
        default_factory=list,
        max_length=MAX_TOP_APPS,
        description="Each app once; together at most total_minutes (plus rounding)",
    )

    def to_usage(self) -> DailyUsage:
        return DailyUsage(
            total_minutes=self.total_minutes,
            pickups=self.pickups,
            minutes_per_category=dict(self.minutes_per_category),
            top_apps=tuple(AppUsage(a.token, a.minutes) for a in self.top_apps),
        )


class AppUsageOut(ResponseModel):
    token: str
    minutes: int


class UsageReportOut(ResponseModel):
    date: dt.date
    installation_id: str
    total_minutes: int
    pickups: int
    minutes_per_category: dict[UsageCategory, int]
    top_apps: list[AppUsageOut] = Field(description="Most minutes first")
    version: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, report: UsageReport) -> UsageReportOut:
        return cls.model_validate(report)


class UsageReportList(PageOut):
    items: list[UsageReportOut]
