"""What the staff API needs from the composition root: who is calling, the staff list, the
audit trail, and the use cases of data-subject requests (`privacy.requests.PrivacyRequests`
seen through the protocol below); for the console (`api/console/`), its CSRF key and, outside
production, the dev staff token issuer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from domain.privacy.figures import RequestFigures
from domain.privacy.model import Channel, PrivacyRequest, RequestKind, Verification
from domain.privacy.ports import Download, Opened, RequestFilter, SubjectLookup
from domain.privacy.steps import Step
from domain.staff import StaffAudit, StaffDirectory, StaffVerifier


class StaffTokenIssuer(Protocol):
    """Issues a dev staff token for an email (the console's dev sign-in; never production)."""

    def issue(self, email: str) -> str: ...


class StaffDesk(Protocol):
    """Data-subject requests as staff move them on; each change is audited under `by`."""

    def now(self) -> datetime: ...

    async def open(
        self,
        kind: RequestKind,
        uid: str,
        *,
        by: str,
        channel: Channel,
        received_at: datetime | None = None,
        verification: Verification | None = None,
        erase_list_now: bool = False,
    ) -> Opened: ...

    async def get(self, request_id: UUID) -> PrivacyRequest: ...
    async def find(self, where: RequestFilter) -> Sequence[PrivacyRequest]: ...
    async def steps(self, request_id: UUID) -> Sequence[Step]: ...
    async def verify(self, request_id: UUID, method: str, *, by: str) -> PrivacyRequest: ...
    async def approve(self, request_id: UUID, *, by: str) -> PrivacyRequest: ...
    async def refuse(self, request_id: UUID, reason: str, *, by: str) -> PrivacyRequest: ...
    async def cancel(self, request_id: UUID, reason: str, *, by: str) -> PrivacyRequest: ...
    async def extend(
        self, request_id: UUID, months: int, reason: str, *, by: str
    ) -> PrivacyRequest: ...

    async def resume(self, request_id: UUID) -> PrivacyRequest:
        """Queues a run of the remaining steps; refuses a request not ready to run."""
        ...

    async def download(self, request: PrivacyRequest, expires_in: timedelta) -> Download | None:
        """A signed link to a completed export's archive, while it is kept."""
        ...

    async def figures(self) -> RequestFigures:
        """Requests per month over the last year, completion days, open ones at risk."""
        ...


DryRun = Callable[[UUID], Awaitable[Mapping[str, int | None]]]


@dataclass(frozen=True, slots=True)
class StaffServices:
    verifier: StaffVerifier
    directory: StaffDirectory
    audit: StaffAudit
    desk: StaffDesk
    console_csrf_key: bytes | None = None
    """The key of the compliance console's CSRF tokens; no console without it."""
    dev_tokens: StaffTokenIssuer | None = None
    """Set only with the dev staff verifier: the console's dev sign-in issues its tokens."""
    dry_run: DryRun | None = None
    """What a request's steps would touch now, kind by kind (None: not in this deployment)."""
    accounts: SubjectLookup | None = None
    """Finds a subject by their account's email or phone (None: no Firebase Auth here)."""
