from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import CurrentUser, SensitiveUser, Services, Uow
from api.http import preconditions, resource_response
from api.resources.me.schemas import MeOut, MePatch
from domain.errors import ValidationFailed
from domain.users import use_cases
from domain.users.model import Consents, ProfileChanges, QuietHours, User

router = APIRouter(prefix="/me", tags=["me"])


@router.get("", response_model=MeOut)
async def get_me(request: Request, user: CurrentUser, uow: Uow) -> Response:
    async with uow:
        profile = await use_cases.get_profile(uow, user.uid)
    return resource_response(request, MeOut.of(profile), profile.version)


@router.patch("", response_model=MeOut)
async def patch_me(
    request: Request, body: MePatch, user: SensitiveUser, uow: Uow, svc: Services
) -> Response:
    async with uow:
        current = await use_cases.get_profile(uow, user.uid)
        updated = await use_cases.update_profile(
            uow,
            user.uid,
            _changes(body, current),
            expected_version=preconditions(request),
            clock=svc.clock,
        )
        await uow.commit()
    return resource_response(request, MeOut.of(updated), updated.version)


def _changes(body: MePatch, current: User) -> ProfileChanges:
    values: dict[str, Any] = {}
    for name in ("display_name", "timezone", "locale", "daily_goal_minutes"):
        if name in body.model_fields_set:
            value = getattr(body, name)
            if value is None and name in ("timezone", "daily_goal_minutes"):
                raise ValidationFailed.on(name, "required", f"{name} cannot be null")
            values[name] = value
    if body.notifications is not None:
        sent = body.notifications
        prefs = current.notifications
        if "enabled" in sent.model_fields_set and sent.enabled is not None:
            prefs = replace(prefs, enabled=sent.enabled)
        if "quiet_hours" in sent.model_fields_set:
            quiet = sent.quiet_hours
            prefs = replace(
                prefs, quiet_hours=QuietHours(quiet.start, quiet.end) if quiet else None
            )
        values["notifications"] = prefs
    if body.consents is not None:
        consents: Consents = current.consents
        for name in ("ai_features", "analytics"):
            value = getattr(body.consents, name)
            if value is not None:
                consents = replace(consents, **{name: value})
        values["consents"] = consents
    return ProfileChanges(values)
