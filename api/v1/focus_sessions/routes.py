from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/focus-sessions", tags=["focus-sessions"])
