"""/v1/stats: completed focus per local day and the streaks, computed from sessions on read.

A session counts for the local day it started on, in the timezone it started in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.deps import CurrentUser, Services, unit_of_work
from api.http import json_response
from api.resources.stats.schemas import StatsOut
from api.schemas import LocalDate
from domain.stats import use_cases

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("", response_model=StatsOut)
async def get_stats(
    request: Request,
    user: CurrentUser,
    svc: Services,
    from_: Annotated[LocalDate, Query(alias="from", description="First local day (YYYY-MM-DD)")],
    to: Annotated[LocalDate, Query(description="Last local day, included; at most 366 days")],
) -> Response:
    """Completed focus per local day in your timezone, and your streaks.

    A day meets the goal when its completed sessions add up to your `daily_goal_minutes`;
    abandoned sessions do not count. A session counts for the local day it started on.
    """
    async with unit_of_work(request) as uow:
        stats = await use_cases.get_stats(uow, user.uid, from_, to, clock=svc.clock)
    return json_response(StatsOut.of(stats))
