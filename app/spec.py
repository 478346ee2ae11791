"""The OpenAPI documents of the app, built without a database or credentials."""

from __future__ import annotations

from typing import Any

from api.app import create_app
from api.config import ApiConfig
from api.openapi import version_document
from api.services import ApiServices
from api.versions import VERSIONS
from domain.common import utc_now
from domain.errors import AuthUnavailable
from domain.identity import Principal
from domain.unit_of_work import UnitOfWork


class _NoVerifier:
    async def verify(self, token: str, *, check_revoked: bool = False) -> Principal:
        raise AuthUnavailable(detail="spec generation only")


def _no_unit_of_work(*, origin_installation_id: str | None = None) -> UnitOfWork:
    raise RuntimeError("spec generation only")


async def _never_ready() -> None:
    raise RuntimeError("spec generation only")


def openapi_documents() -> dict[str, dict[str, Any]]:
    """Every served version's spec, by version name (`v1`)."""
    services = ApiServices(ApiConfig(), _NoVerifier(), _no_unit_of_work, utc_now, _never_ready)
    app = create_app(services)
    return {version: version_document(app, version) for version in VERSIONS}


def openapi_document(version: str = VERSIONS[-1]) -> dict[str, Any]:
    return openapi_documents()[version]
