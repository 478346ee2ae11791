"""The OpenAPI document of the app, built without a database or credentials."""

from __future__ import annotations

from typing import Any

from api.app import create_app
from api.config import ApiConfig
from api.services import ApiServices
from domain.common import utc_now
from domain.errors import AuthUnavailable
from domain.identity import Principal
from domain.unit_of_work import UnitOfWork


class _NoVerifier:
    async def verify(self, token: str, *, check_revoked: bool = False) -> Principal:
        raise AuthUnavailable(detail="spec generation only")


def _no_unit_of_work() -> UnitOfWork:
    raise RuntimeError("spec generation only")


async def _never_ready() -> None:
    raise RuntimeError("spec generation only")


def openapi_document() -> dict[str, Any]:
    services = ApiServices(ApiConfig(), _NoVerifier(), _no_unit_of_work, utc_now, _never_ready)
    return create_app(services).openapi()
