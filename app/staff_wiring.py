"""Wiring of the staff API: who staff are (the directory), how they prove it (IAP in
production, dev staff tokens elsewhere) and what the API runs for them; the compliance
console's CSRF key. Part of the composition root (`app/bootstrap.py`, ADR 0019)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from api.staff.services import StaffServices, StaffTokenIssuer
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
    return StaffServices(
        verifier,
        directory,
        audit,
        privacy.requests,
        console_csrf_key=console_csrf_key(settings),
        dev_tokens=dev_staff_tokens(settings),
        dry_run=privacy.runner.dry_run,
        accounts=privacy.accounts,
    )


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


def dev_staff_tokens(settings: Settings) -> StaffTokenIssuer | None:
    """What the console's dev sign-in issues: only where the dev staff verifier checks them."""
    if settings.staff_auth_mode is not StaffAuthMode.DEV:
        return None
    from identity.dev_issuer import load_or_create_secret
    from identity.dev_staff import DevStaffTokens

    return DevStaffTokens(load_or_create_secret(settings.dev_secret_path))


def console_csrf_key(settings: Settings) -> bytes:
    """FOCUS_CONSOLE_CSRF_KEY (production requires it); else a key kept in the data dir."""
    if settings.console_csrf_key is not None:
        return settings.console_csrf_key.get_secret_value().encode()
    from identity.dev_issuer import load_or_create_secret

    return load_or_create_secret(settings.data_dir / "console-csrf-secret")
