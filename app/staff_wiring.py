"""Wiring of the staff API: who staff are (the directory), how they prove it (IAP in
production, dev staff tokens elsewhere) and what the API runs for them. Part of the
composition root (`app/bootstrap.py`, ADR 0019)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from api.staff.services import StaffServices
from app.privacy_wiring import Privacy
from app.settings import Settings, StaffAuthMode
from datastore.postgres.staff import PostgresStaffAudit, PostgresStaffDirectory
from domain.staff import StaffVerifier


def staff_services(
    settings: Settings, engine: AsyncEngine, privacy: Privacy
) -> StaffServices | None:
    """The staff API's adapters, where this process serves it (ADR 0019)."""
    if not settings.serves_staff_api:
        return None
    directory, audit = PostgresStaffDirectory(engine), PostgresStaffAudit(engine)
    verifier = staff_verifier(settings)
    return StaffServices(verifier, directory, audit, privacy.requests)


def staff_verifier(settings: Settings) -> StaffVerifier:
    match settings.staff_auth_mode:
        case StaffAuthMode.IAP:
            from identity.iap import IapVerifier

            assert settings.iap_audience is not None  # check() guarantees it
            return IapVerifier(settings.iap_audience, jwks_url=settings.iap_jwks_url)
        case StaffAuthMode.DEV:
            from identity.dev_issuer import load_or_create_secret
            from identity.dev_staff import DevStaffTokens

            return DevStaffTokens(load_or_create_secret(settings.dev_secret_path))
