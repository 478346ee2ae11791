"""What the composition root hands the API: adapters behind ports, and the API's config."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from api.config import ApiConfig
from api.protections import Protections
from api.staff.services import StaffServices
from domain.ai.consent import ConsentLedger, ProviderTerms
from domain.common import Clock
from domain.consumers import MessageReceiver
from domain.identity import ServiceTokenVerifier, TokenVerifier
from domain.privacy.ports import PrivacyDesk
from domain.unit_of_work import UnitOfWorkFactory


class LocalFiles(Protocol):
    def verify(self, key: str, expires: str, signature: str) -> bool:
        """Whether the link's signature is the store's and it has not expired."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]: ...


class TaskRunner(Protocol):
    async def run(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Runs a task's handler; raises `NotFound` for a kind nobody handles."""
        ...


@dataclass(frozen=True, slots=True)
class ApiServices:
    config: ApiConfig
    verifier: TokenVerifier
    unit_of_work: UnitOfWorkFactory
    clock: Clock
    check_ready: Callable[[], Awaitable[None]]
    """Raises when a dependency the API needs (the database) is unreachable."""
    unavailable: tuple[type[Exception], ...] = ()
    """Adapter errors that mean "a store is down": answered 503 with Retry-After, not 500."""
    events: MessageReceiver | None = None
    """Consumes Pub/Sub push deliveries at /internal/pubsub/{subscription}."""
    legacy_sync: MessageReceiver | None = None
    """Applies legacy Firestore changes pushed to /internal/pubsub/legacy-sync (ADR 0012)."""
    tasks: TaskRunner | None = None
    """Runs Cloud Tasks calls at /internal/tasks/{kind}."""
    internal_verifier: ServiceTokenVerifier | None = None
    """Checks Google's OIDC token on /internal/*; None only outside production."""
    protections: Protections = field(default_factory=Protections)
    """Rate limits, App Check and recent sign-in (docs/adr/0013)."""
    privacy: PrivacyDesk | None = None
    """Data-subject requests: /v1/privacy and DELETE /v1/me."""
    local_files: LocalFiles | None = None
    """Serves the local file store's signed links at /files (the embedded default only)."""
    staff: StaffServices | None = None
    """The internal staff API at /staff/v1 (the compliance console's, behind IAP; ADR 0019)."""
    ai: AiConsents | None = None
    """Who writes AI insights, and the consent ledger (/v1/ai/consents; ADR 0021)."""


@dataclass(frozen=True, slots=True)
class AiConsents:
    terms: ProviderTerms
    """The provider that writes insights and what a person agrees to before it is asked."""
    ledger: ConsentLedger
