"""Liveness and readiness probes: unauthenticated, unversioned, cheap."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.responses import Response

from api.deps import Services
from api.http import json_response
from api.problems import problem_response

router = APIRouter(tags=["health"])
log = logging.getLogger("api.health")


@router.get("/healthz", include_in_schema=False)
async def healthz() -> Response:
    """The process is alive; says nothing of its dependencies."""
    return json_response({"status": "ok"})


@router.get("/readyz", include_in_schema=False)
async def readyz(svc: Services) -> Response:
    """Ready to serve: the database answers."""
    try:
        await svc.check_ready()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("api.not_ready", extra={"error": repr(exc)})
        return problem_response(503, "not_ready", "A dependency is unreachable")
    return json_response({"status": "ready"})
