"""/v1/me: the caller's profile, read and merge-patched (a patch refuses revoked tokens), and
the account deleted (an erasure request).

`_changes` keeps only the fields the client sent, nested ones field by field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import (
    CurrentUser,
    KnownUsers,
    RecentlySignedIn,
    SensitiveUser,
    Services,
    unit_of_work,
)
from api.http import preconditions, resource_response
from api.resources.me.schemas import MeOut, MePatch
from api.resources.privacy.routes import answer, desk
from api.resources.privacy.schemas import PrivacyRequestOut
from domain.errors import ValidationFailed
from domain.privacy.model import RequestKind
from domain.users import use_cases
from domain.users.model import ProfileChanges, QuietHours

router = APIRouter(prefix="/me", tags=["me"])


@router.get("", response_model=MeOut)
async def get_me(request: Request, user: CurrentUser) -> Response:
    async with unit_of_work(request) as uow:
        profile = await use_cases.get_profile(uow, user.uid)
    return resource_response(request, MeOut.of(profile), profile.version)


@router.patch("", response_model=MeOut)
async def patch_me(request: Request, body: MePatch, user: SensitiveUser, svc: Services) -> Response:
    async with unit_of_work(request) as uow:
        updated = await use_cases.update_profile(
            uow,
            user.uid,
            _changes(body),
            expected_version=preconditions(request),
            clock=svc.clock,
        )
        await uow.commit()
    return resource_response(request, MeOut.of(updated), updated.version)


@router.delete("", status_code=202, response_model=PrivacyRequestOut)
async def delete_me(request: Request, user: RecentlySignedIn, svc: Services) -> Response:
    """Deletes the account and everything of it in every store (GDPR Art. 17). The account
    stops working at once (every later call: 401 `account_erased`); the erasure itself runs in
    the background, and answers with its request."""
    opened = await desk(svc).open_from_app(RequestKind.ERASURE, user.uid)
    known: KnownUsers = request.app.state.known_users
    known.discard(user.uid)
    return await answer(request, svc, opened.request, status=202)


def _changes(body: MePatch) -> ProfileChanges:
    """The fields the client sent (JSON merge patch), nested ones field by field."""
    values: dict[str, Any] = {}
    for name in ("display_name", "timezone", "locale", "daily_goal_minutes"):
        if name in body.model_fields_set:
            value = getattr(body, name)
            if value is None and name in ("timezone", "daily_goal_minutes"):
                raise ValidationFailed.on(name, "required", f"{name} cannot be null")
            values[name] = value
    notifications: dict[str, Any] = {}
    if body.notifications is not None:
        sent = body.notifications
        if "enabled" in sent.model_fields_set and sent.enabled is not None:
            notifications["enabled"] = sent.enabled
        if "quiet_hours" in sent.model_fields_set:
            quiet = sent.quiet_hours
            notifications["quiet_hours"] = QuietHours(quiet.start, quiet.end) if quiet else None
    consents: dict[str, Any] = {}
    if body.consents is not None:
        consents = {
            name: value
            for name in ("ai_features", "analytics")
            if (value := getattr(body.consents, name)) is not None
        }
    return ProfileChanges(values, notifications, consents)
