"""Wiring of the API's edge: who calls (tokens, service tokens), what each caller may do (rate
limits, App Check, recent sign-in) and how the API answers (versions, deprecations, docs)."""

from __future__ import annotations

from datetime import timedelta

from api.app_check import AppCheckMode, AppCheckPolicy
from api.config import ApiConfig, Deprecation
from api.protections import Protections
from api.rate_limits import RateLimiter, RateLimitPolicy
from app.settings import AuthMode, Environment, Settings
from domain.identity import ServiceTokenVerifier, TokenVerifier


def token_verifier(settings: Settings) -> TokenVerifier:
    match settings.auth_mode:
        case AuthMode.FIREBASE:
            from identity.firebase import FirebaseTokenVerifier

            assert settings.firebase_project_id is not None  # check() guarantees it
            return FirebaseTokenVerifier(settings.firebase_project_id)
        case AuthMode.DEV:
            from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

            return DevTokenIssuer(load_or_create_secret(settings.dev_secret_path))


def internal_verifier(settings: Settings) -> ServiceTokenVerifier | None:
    if settings.internal_audience is None or settings.internal_invoker is None:
        return None  # check() allows that only outside production
    from identity.google_oidc import GoogleOidcVerifier

    return GoogleOidcVerifier(
        settings.internal_audience, settings.internal_invoker, jwks_url=settings.google_jwks_url
    )


def protections(settings: Settings) -> Protections:
    limiter = None
    if settings.rate_limits:
        policy = RateLimitPolicy(
            per_ip=settings.rate_limit_per_ip,
            reads=settings.rate_limit_reads,
            writes=settings.rate_limit_writes,
            anonymous_reads=settings.rate_limit_anonymous_reads,
            anonymous_writes=settings.rate_limit_anonymous_writes,
        )
        limiter = RateLimiter(policy, settings.rate_limit_storage_uri)
    modes = {"ios": settings.app_check_ios, "android": settings.app_check_android}
    app_check = None
    if any(mode is not AppCheckMode.OFF for mode in modes.values()):
        from identity.app_check import FirebaseAppCheckVerifier

        assert settings.app_check_project_number  # check() guarantees both
        assert settings.firebase_project_id
        verifier = FirebaseAppCheckVerifier(
            settings.app_check_project_number,
            settings.firebase_project_id,
            jwks_url=settings.app_check_jwks_url,
        )
        app_check = AppCheckPolicy(verifier, modes)
    return Protections(
        rate_limiter=limiter,
        client_ip_proxy_hops=settings.client_ip_proxy_hops,
        app_check=app_check,
        recent_sign_in=timedelta(minutes=settings.recent_sign_in_minutes),
    )


def api_config(settings: Settings) -> ApiConfig:
    minimums = {
        platform: version
        for platform, version in (
            ("ios", settings.min_app_version_ios),
            ("android", settings.min_app_version_android),
        )
        if version
    }
    return ApiConfig(
        max_body_bytes=settings.max_body_bytes,
        min_app_versions=minimums,
        upgrade_urls={"ios": settings.upgrade_url_ios, "android": settings.upgrade_url_android},
        deprecations=tuple(Deprecation(**rule.model_dump()) for rule in settings.deprecations),
        expose_docs=(
            settings.expose_docs
            if settings.expose_docs is not None
            else settings.env is not Environment.PRODUCTION
        ),
    )
