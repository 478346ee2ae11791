"""Settings from the environment (and `.env`). The one place configuration is read."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class AuthMode(StrEnum):
    DEV = "dev"
    FIREBASE = "firebase"


class EventsTransport(StrEnum):
    IN_PROCESS = "in_process"
    PUBSUB = "pubsub"


class DeprecationRule(BaseModel):
    path_prefix: str
    deprecated_at: datetime
    sunset_at: datetime | None = None
    link: str | None = None
    method: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FOCUS_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEV
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "FOCUS_DATABASE_URL")
    )
    data_dir: Path = Path(".focus")
    auth: AuthMode | None = None
    firebase_project_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "FOCUS_FIREBASE_PROJECT_ID", "FIREBASE_PROJECT_ID", "GOOGLE_CLOUD_PROJECT"
        ),
    )
    firebase_auth_emulator_host: str | None = Field(
        default=None, validation_alias="FIREBASE_AUTH_EMULATOR_HOST"
    )
    db_pool_size: int = Field(default=10, ge=1, le=100)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    min_app_version_ios: str | None = None
    min_app_version_android: str | None = None
    upgrade_url_ios: str = "https://apps.apple.com/app/focus"
    upgrade_url_android: str = "https://play.google.com/store/apps/details?id=app.focus"
    deprecations: list[DeprecationRule] = Field(default_factory=list)
    events: EventsTransport | None = None
    """Where the relay publishes events (default: Pub/Sub in production, in-process elsewhere)."""
    pubsub_topic: str = "focus-events"
    relay_in_process: bool | None = None
    """Drain the outbox inside `focus serve` (default: everywhere but production)."""
    log_level: str = "INFO"
    log_format: str | None = Field(default=None, pattern="^(json|text)$")

    @property
    def log_json(self) -> bool:
        """JSON lines in production (Cloud Logging), else text; FOCUS_LOG_FORMAT overrides."""
        if self.log_format is not None:
            return self.log_format == "json"
        return self.env is Environment.PRODUCTION

    @property
    def auth_mode(self) -> AuthMode:
        if self.auth is not None:
            return self.auth
        return AuthMode.FIREBASE if self.env is Environment.PRODUCTION else AuthMode.DEV

    @property
    def events_transport(self) -> EventsTransport:
        if self.events is not None:
            return self.events
        return (
            EventsTransport.PUBSUB
            if self.env is Environment.PRODUCTION
            else EventsTransport.IN_PROCESS
        )

    @property
    def runs_relay_in_process(self) -> bool:
        if self.relay_in_process is not None:
            return self.relay_in_process
        return self.env is not Environment.PRODUCTION

    @property
    def dev_secret_path(self) -> Path:
        return self.data_dir / "dev-token-secret"


class ConfigurationError(Exception):
    """The settings cannot run: said at start-up, never discovered on a request."""


def check(settings: Settings) -> Settings:
    if settings.env is Environment.PRODUCTION:
        if settings.auth_mode is AuthMode.DEV:
            raise ConfigurationError("the dev token issuer is refused when FOCUS_ENV=production")
        if settings.database_url is None:
            raise ConfigurationError("FOCUS_ENV=production needs DATABASE_URL")
        if settings.firebase_auth_emulator_host:
            # firebase-admin checks no signature on emulator tokens: anyone could forge one.
            raise ConfigurationError(
                "FIREBASE_AUTH_EMULATOR_HOST is refused when FOCUS_ENV=production"
            )
    if settings.auth_mode is AuthMode.FIREBASE and not settings.firebase_project_id:
        raise ConfigurationError("Firebase auth needs FOCUS_FIREBASE_PROJECT_ID")
    if settings.events_transport is EventsTransport.PUBSUB and not settings.firebase_project_id:
        raise ConfigurationError("Pub/Sub events need GOOGLE_CLOUD_PROJECT")
    return settings
