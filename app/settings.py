"""Settings from the environment (and `.env`). The one place configuration is read."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from limits import parse_many
from pydantic import AfterValidator, AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.app_check import AppCheckMode


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class AuthMode(StrEnum):
    DEV = "dev"
    FIREBASE = "firebase"


class StaffAuthMode(StrEnum):
    IAP = "iap"
    """Google Identity-Aware Proxy's signed header (production)."""
    DEV = "dev"
    """Staff tokens of the dev issuer (refused in production)."""


class EventsTransport(StrEnum):
    IN_PROCESS = "in_process"
    PUBSUB = "pubsub"


class PushTransport(StrEnum):
    LOG = "log"
    """Pushes are written to the log: the embedded default."""
    LIVE = "live"
    """APNs and FCM."""


class TasksTransport(StrEnum):
    POSTGRES = "postgres"
    CLOUD_TASKS = "cloud_tasks"


class FilesTransport(StrEnum):
    LOCAL = "local"
    """A folder under the data dir; signed links served by the app at /files."""
    GCS = "gcs"


def _rate_limit(text: str) -> str:
    parse_many(text)  # raises ValueError on anything but "N/unit[;N/unit...]"
    return text


RateLimit = Annotated[str, AfterValidator(_rate_limit)]
"""`300/minute`, `10/second;300/minute` (every one must hold): the `limits` notation."""


class AiProvider(StrEnum):
    LOCAL = "local"
    """Rule-based sentences on our own servers: the embedded default (ADR 0021)."""
    VERTEX = "vertex"
    """Google Gemini on Vertex AI (ADR 0022), with the local provider as the fallback."""


class TracingMode(StrEnum):
    OFF = "off"
    """No spans: the embedded default."""
    CONSOLE = "console"
    """Spans as JSON on stderr: a laptop, a test run."""
    CLOUD = "cloud"
    """Spans to Cloud Trace: production (app/tracing.py)."""


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
    expose_docs: bool | None = None
    """Serve `/docs` and `/openapi.json` (default: everywhere but production)."""
    events: EventsTransport | None = None
    """Where the relay publishes events (default: Pub/Sub in production, in-process elsewhere)."""
    pubsub_topic: str = "focus-events"
    relay_in_process: bool | None = None
    """Drain the outbox inside `focus serve` (default: everywhere but production)."""
    consumer_max_attempts: int = Field(default=10, ge=1)
    """Deliveries of one event to a consumer (Pub/Sub, or in-process redeliveries) before it is
    recorded as failed and acknowledged; set it to the subscription's dead-letter
    max_delivery_attempts."""
    internal_audience: str | None = None
    """The audience Google signs Pub/Sub push / Cloud Tasks OIDC tokens for (this service's
    URL). Set, /internal/* calls must carry such a token; production requires it."""
    internal_invoker: str | None = None
    """The service account email that Pub/Sub push and Cloud Tasks sign as."""
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"

    push: PushTransport | None = None
    """Where silent pushes go (default: APNs and FCM in production, the log elsewhere)."""
    push_budget_per_hour: int = Field(default=3, ge=1, le=100)
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    apns_topic: str | None = None
    """The app's bundle id."""
    apns_key_file: Path | None = None
    """The .p8 signing key (in production: mounted from Secret Manager)."""
    apns_production_url: str = "https://api.push.apple.com"
    apns_sandbox_url: str = "https://api.sandbox.push.apple.com"
    apns_ca_file: Path | None = None
    fcm_base_url: str = "https://fcm.googleapis.com"
    fcm_credentials_file: Path | None = None
    """Default: the Application Default Credentials (on Cloud Run, the service's account)."""

    tasks: TasksTransport | None = None
    """Delayed jobs: Cloud Tasks in production, a Postgres table elsewhere."""
    task_worker_in_process: bool | None = None
    """Run the Postgres task worker inside `focus serve` (default: when tasks use Postgres)."""
    cloud_tasks_location: str = "europe-west1"
    cloud_tasks_queue: str = "focus-jobs"
    cloud_tasks_target_url: str | None = None
    """This service's base URL, which Cloud Tasks calls at /internal/tasks/{kind}."""
    cloud_tasks_emulator_host: str | None = None

    legacy_firestore: bool = False
    """The Firebase app's Firestore still holds data: each entity's migration phase decides
    where it is read and written (dual writes, ADR 0012). Needs GOOGLE_CLOUD_PROJECT
    (FIRESTORE_EMULATOR_HOST for the emulator). Off: Postgres only, as a new install is."""
    shadow_read_rate: float = Field(default=0.01, ge=0.0, le=1.0)
    """Share of reads that also read Firestore and compare, in `dual_write_read_postgres`."""
    firestore_timeout_seconds: float = Field(default=5.0, gt=0)
    """Longest a request waits on one Firestore call (a read, or a mirror after a write)."""
    mirror_repair_in_process: bool | None = None
    """Repair pending Firestore mirrors inside `focus serve` (default: where the relay runs;
    `focus events relay` always does)."""

    rate_limits: bool = True
    """Per-IP and per-user request limits (429 with Retry-After; docs/adr/0013)."""
    rate_limit_storage: str | None = None
    """Where limits count: `async+redis://host:6379/0` (every instance shares it; production
    requires one); default `async+memory://`, this process only."""
    rate_limit_per_ip: RateLimit = "1200/minute"
    rate_limit_reads: RateLimit = "300/minute"
    rate_limit_writes: RateLimit = "120/minute"
    rate_limit_anonymous_reads: RateLimit = "120/minute"
    rate_limit_anonymous_writes: RateLimit = "30/minute"
    client_ip_proxy_hops: int = Field(default=0, ge=0, le=5)
    """Proxies of ours appending to X-Forwarded-For (the load balancer, Cloud Run's front end):
    the client's address is that many entries from the right. 0: the connection's peer."""
    app_check_ios: AppCheckMode = AppCheckMode.OFF
    app_check_android: AppCheckMode = AppCheckMode.OFF
    """App Check on state-changing routes per platform: off, monitor (count), enforce (403)."""
    app_check_project_number: str | None = None
    """The Firebase project's number (App Check tokens' issuer); needed unless both are off."""
    app_check_jwks_url: str = "https://firebaseappcheck.googleapis.com/v1/jwks"
    recent_sign_in_minutes: int = Field(default=5, ge=1, le=24 * 60)
    """Destructive account actions need a sign-in (Firebase `auth_time`) this recent."""

    files: FilesTransport | None = None
    """Where exports are kept: GCS in production, a local folder elsewhere."""
    files_bucket: str | None = None
    files_signing_key_file: Path | None = None
    """A service-account key that signs GCS links; unset, links are signed through IAM as the
    service's own account (roles/iam.serviceAccountTokenCreator on itself)."""
    storage_emulator_host: str | None = Field(
        default=None, validation_alias="STORAGE_EMULATOR_HOST"
    )
    growth_bucket: str | None = None
    """The growth team's bucket of pseudonymised exports (ADR 0020), apart from `files_bucket`;
    with GCS files, required where exports run; a folder in the data dir otherwise."""
    privacy_requests: bool = True
    """This process takes and runs data-subject requests (the relay does not)."""
    privacy_subject_key: SecretStr | None = None
    """The key of the hash naming data subjects in the audit trail and metrics; kept in the
    data dir when unset outside production."""
    staff_api: bool | None = None
    """Serve the internal staff API (/staff/v1) in this process (default: everywhere but
    production; there the compliance console's own service sets it)."""
    staff_auth: StaffAuthMode | None = None
    """Who vouches for the staff API's callers (default: IAP in production, dev elsewhere)."""
    iap_audience: str | None = None
    """The audience IAP signs its assertions for (`/projects/N/global/backendServices/ID`)."""
    iap_jwks_url: str = "https://www.gstatic.com/iap/verify/public_key-jwk"
    console_csrf_key: SecretStr | None = None
    """The key of the compliance console's CSRF tokens (required in production where the staff
    API is served; kept in the data dir when unset elsewhere)."""
    public_base_url: str = "http://127.0.0.1:8000"
    """How phones reach this service: the base of the local store's signed links."""

    ai_provider: AiProvider = AiProvider.LOCAL
    """Who writes insights and suggestions; a hosted one only with the person's consent."""
    ai_model: str = "gemini-2.5-flash"
    ai_location: str = "europe-west4"
    """The Vertex AI region the model is called in."""
    ai_base_url: str | None = None
    """Another Vertex AI endpoint (a loopback fake in tests)."""
    ai_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    ai_daily_tokens_soft: int = Field(default=40_000_000, gt=0)
    """Above it, every hosted call is reported (focus_ai_tokens_reserved, a log line)."""
    ai_daily_tokens_hard: int = Field(default=50_000_000, gt=0)
    """The hosted provider's tokens per UTC day; past it, the local provider writes."""

    tracing: TracingMode = TracingMode.OFF
    """Where spans go (app/tracing.py): nowhere, stderr or Cloud Trace."""
    trace_sample_ratio: float = Field(default=0.01, ge=0.0, le=1.0)
    """The share of traces recorded, decided by the trace id alone: the same in every process,
    so a request's fan-out is recorded whole or not at all."""

    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """Prometheus metrics on their own port (never the public one); off when unset."""
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
    def staff_auth_mode(self) -> StaffAuthMode:
        if self.staff_auth is not None:
            return self.staff_auth
        production = self.env is Environment.PRODUCTION
        return StaffAuthMode.IAP if production else StaffAuthMode.DEV

    @property
    def serves_staff_api(self) -> bool:
        if self.staff_api is not None:
            return self.staff_api
        return self.env is not Environment.PRODUCTION and self.privacy_requests

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
    def runs_mirror_repair_in_process(self) -> bool:
        if self.mirror_repair_in_process is not None:
            return self.mirror_repair_in_process
        return self.runs_relay_in_process

    @property
    def push_transport(self) -> PushTransport:
        if self.push is not None:
            return self.push
        return PushTransport.LIVE if self.env is Environment.PRODUCTION else PushTransport.LOG

    @property
    def tasks_transport(self) -> TasksTransport:
        if self.tasks is not None:
            return self.tasks
        production = self.env is Environment.PRODUCTION
        return TasksTransport.CLOUD_TASKS if production else TasksTransport.POSTGRES

    @property
    def runs_task_worker_in_process(self) -> bool:
        if self.task_worker_in_process is not None:
            return self.task_worker_in_process
        return self.tasks_transport is TasksTransport.POSTGRES

    @property
    def rate_limit_storage_uri(self) -> str:
        return self.rate_limit_storage or "async+memory://"

    @property
    def dev_secret_path(self) -> Path:
        return self.data_dir / "dev-token-secret"

    @property
    def files_transport(self) -> FilesTransport:
        if self.files is not None:
            return self.files
        return FilesTransport.GCS if self.env is Environment.PRODUCTION else FilesTransport.LOCAL


class ConfigurationError(Exception):
    """The settings cannot run: said at start-up, never discovered on a request."""


def check(settings: Settings) -> Settings:
    _check_staff(settings)
    if settings.env is Environment.PRODUCTION:
        if settings.auth_mode is AuthMode.DEV:
            raise ConfigurationError("the dev token issuer is refused when FOCUS_ENV=production")
        if settings.database_url is None:
            raise ConfigurationError("FOCUS_ENV=production needs DATABASE_URL")
        if not (settings.internal_audience and settings.internal_invoker):
            raise ConfigurationError(
                "FOCUS_ENV=production needs FOCUS_INTERNAL_AUDIENCE and FOCUS_INTERNAL_INVOKER:"
                " /internal/* must check Google's OIDC tokens"
            )
        if settings.rate_limits and not settings.rate_limit_storage:
            # Counted in each instance's memory, every limit would be N times the setting.
            raise ConfigurationError(
                "FOCUS_ENV=production needs FOCUS_RATE_LIMIT_STORAGE (async+redis://...)"
            )
        if settings.firebase_auth_emulator_host:
            # firebase-admin checks no signature on emulator tokens: anyone could forge one.
            raise ConfigurationError(
                "FIREBASE_AUTH_EMULATOR_HOST is refused when FOCUS_ENV=production"
            )
    if settings.auth_mode is AuthMode.FIREBASE and not settings.firebase_project_id:
        raise ConfigurationError("Firebase auth needs FOCUS_FIREBASE_PROJECT_ID")
    if settings.events_transport is EventsTransport.PUBSUB and not settings.firebase_project_id:
        raise ConfigurationError("Pub/Sub events need GOOGLE_CLOUD_PROJECT")
    if bool(settings.internal_audience) != bool(settings.internal_invoker):
        raise ConfigurationError("set both FOCUS_INTERNAL_AUDIENCE and FOCUS_INTERNAL_INVOKER")
    if settings.push_transport is PushTransport.LIVE:
        apns = (settings.apns_key_id, settings.apns_team_id, settings.apns_topic)
        if not all(apns) or settings.apns_key_file is None:
            raise ConfigurationError(
                "live pushes need FOCUS_APNS_KEY_ID, FOCUS_APNS_TEAM_ID, FOCUS_APNS_TOPIC"
                " and FOCUS_APNS_KEY_FILE"
            )
        if not settings.firebase_project_id:
            raise ConfigurationError("FCM needs FOCUS_FIREBASE_PROJECT_ID")
    app_check = (settings.app_check_ios, settings.app_check_android)
    if any(mode is not AppCheckMode.OFF for mode in app_check) and not (
        settings.app_check_project_number and settings.firebase_project_id
    ):
        raise ConfigurationError(
            "App Check needs FOCUS_APP_CHECK_PROJECT_NUMBER and FOCUS_FIREBASE_PROJECT_ID"
        )
    if settings.files_transport is FilesTransport.GCS and not settings.files_bucket:
        raise ConfigurationError("GCS files need FOCUS_FILES_BUCKET")
    if settings.env is Environment.PRODUCTION and settings.files_transport is FilesTransport.LOCAL:
        raise ConfigurationError("FOCUS_ENV=production keeps files in GCS (FOCUS_FILES=gcs)")
    production = settings.env is Environment.PRODUCTION
    if production and settings.privacy_requests and settings.privacy_subject_key is None:
        raise ConfigurationError("FOCUS_ENV=production needs FOCUS_PRIVACY_SUBJECT_KEY")
    if settings.legacy_firestore and not settings.firebase_project_id:
        raise ConfigurationError("FOCUS_LEGACY_FIRESTORE needs GOOGLE_CLOUD_PROJECT")
    if settings.tasks_transport is TasksTransport.CLOUD_TASKS:
        if not (settings.firebase_project_id and settings.cloud_tasks_target_url):
            raise ConfigurationError(
                "Cloud Tasks needs GOOGLE_CLOUD_PROJECT and FOCUS_CLOUD_TASKS_TARGET_URL"
            )
        if not settings.internal_invoker:
            raise ConfigurationError("Cloud Tasks needs FOCUS_INTERNAL_INVOKER to sign as")
    if settings.ai_daily_tokens_soft > settings.ai_daily_tokens_hard:
        raise ConfigurationError("FOCUS_AI_DAILY_TOKENS_SOFT is above FOCUS_AI_DAILY_TOKENS_HARD")
    if settings.tracing is TracingMode.CLOUD and not settings.firebase_project_id:
        raise ConfigurationError("FOCUS_TRACING=cloud needs GOOGLE_CLOUD_PROJECT")
    if settings.ai_provider is AiProvider.VERTEX and not settings.firebase_project_id:
        raise ConfigurationError("FOCUS_AI_PROVIDER=vertex needs GOOGLE_CLOUD_PROJECT")
    return settings


def _check_staff(settings: Settings) -> None:
    if settings.env is Environment.PRODUCTION and settings.staff_auth_mode is StaffAuthMode.DEV:
        raise ConfigurationError("dev staff tokens are refused when FOCUS_ENV=production")
    if not settings.serves_staff_api:
        return
    if not settings.privacy_requests:
        raise ConfigurationError("FOCUS_STAFF_API needs FOCUS_PRIVACY_REQUESTS")
    if settings.staff_auth_mode is StaffAuthMode.IAP and not settings.iap_audience:
        raise ConfigurationError("the staff API behind IAP needs FOCUS_IAP_AUDIENCE")
    key = settings.console_csrf_key
    if settings.env is Environment.PRODUCTION and (key is None or len(key) < 32):
        raise ConfigurationError(
            "the staff API in production needs FOCUS_CONSOLE_CSRF_KEY (32 characters or more)"
        )
