"""Every /v1 route, in one router."""

from __future__ import annotations

from fastapi import APIRouter

from api.v1.devices.routes import router as devices
from api.v1.me.routes import router as me

router = APIRouter(prefix="/v1")
for area in (me, devices):
    router.include_router(area)
