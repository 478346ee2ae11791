"""Every /v1 route, in one router."""

from __future__ import annotations

from fastapi import APIRouter

from api.problems import PROBLEM_RESPONSES
from api.v1.blocklists.routes import router as blocklists
from api.v1.devices.routes import router as devices
from api.v1.focus_sessions.routes import router as focus_sessions
from api.v1.me.routes import router as me
from api.v1.schedules.routes import router as schedules
from api.v1.stats.routes import router as stats
from api.v1.sync.routes import router as sync
from api.v1.usage.routes import router as usage

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)
for area in (me, devices, blocklists, schedules, focus_sessions, usage, stats, sync):
    router.include_router(area)
