"""What privacy requests need from the outside: where requests, steps and the audit trail are
kept, and each store's part of export and erasure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol, Self
from uuid import UUID

from domain.events import EventType
from domain.privacy.figures import CompletionDays, MonthFigures
from domain.privacy.model import PrivacyRequest, RequestKind, RequestState
from domain.privacy.steps import Step
from domain.user_data import DataStore, UserData


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action on a request. No personal data: the subject only as its keyed hash, staff
    by their staff id, data by its kind (registry names)."""

    actor: str
    """A staff id, `subject`, or `system` (the runner)."""
    action: str
    request_id: UUID | None
    subject_hash: str | None
    at: datetime
    categories: tuple[str, ...] = ()
    exemption: str | None = None
    """The legal ground for what is kept, when something is."""
    detail: Mapping[str, int | str] = field(default_factory=dict)
    """Counts and states: never values."""


@dataclass(frozen=True, slots=True)
class RequestFilter:
    kinds: Sequence[RequestKind] = ()
    states: Sequence[RequestState] = ()
    subject_hash: str | None = None
    limit: int = 100


class PrivacyStore(Protocol):
    """Requests, their steps and the audit trail, in one transaction per `async with`."""

    async def add(self, request: PrivacyRequest, steps: Sequence[Step]) -> None: ...

    async def get(self, request_id: UUID, *, lock: bool = False) -> PrivacyRequest | None:
        """`lock`: held until the transaction ends (a transition reads, decides, saves)."""
        ...

    async def open_request(self, subject_hash: str, kind: RequestKind) -> PrivacyRequest | None:
        """The subject's open request of `kind`, if any (a duplicate joins it)."""
        ...

    async def save(self, request: PrivacyRequest) -> None:
        """Stores the request's new state; its version is one above the stored one."""
        ...

    async def find(self, where: RequestFilter) -> Sequence[PrivacyRequest]: ...

    async def steps(self, request_id: UUID) -> Sequence[Step]: ...

    async def save_step(self, step: Step) -> None: ...

    async def audit(self, entry: AuditEntry) -> None:
        """Appends to the hash-chained trail (never updated, never deleted)."""
        ...

    async def announce(self, request: PrivacyRequest, event: EventType, at: datetime) -> None:
        """Records the event that tells the subject's devices (a silent push) that the request
        changed; nothing for a subject without an account (or erased)."""
        ...

    async def audit_trail(self) -> list[tuple[AuditEntry, str, str]]:
        """Every entry with its `prev_hash` and `hash`, in order (for the chain's check)."""
        ...

    async def figures(self, since: datetime) -> tuple[Sequence[MonthFigures], CompletionDays]:
        """Requests received at or after `since`: per month (UTC) with requests, oldest first,
        and the completion days of all of them."""
        ...

    async def change_counter(self, uid: str) -> int:
        """The user's change counter (every write of theirs raises it); 0 without an account."""
        ...

    async def user_ids(self, after: str, limit: int) -> Sequence[str]:
        """The uids of the accounts the database holds, in order, after `after`."""
        ...

    async def erase_list_add(self, uid: str, at: datetime) -> None:
        """The uid on `erased_users`: from now on nothing of it is written again."""
        ...

    async def commit(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Opened:
    request: PrivacyRequest
    joined: bool
    """An open request of the same subject and kind existed: this is it."""


@dataclass(frozen=True, slots=True)
class Download:
    url: str
    expires_at: datetime


class LookupBy(StrEnum):
    """How staff name the subject of a request they received."""

    UID = "uid"
    EMAIL = "email"
    PHONE = "phone"


class SubjectLookup(Protocol):
    """Finds a user's uid from their sign-in account's email or phone number."""

    async def uid_of(self, by: LookupBy, value: str) -> str | None:
        """The uid of the one account with this email or phone number (E.164); None when
        no account has it. `ValidationFailed` when the value is not an email or a phone
        number at all."""
        ...


class PrivacyDesk(Protocol):
    """What the app's routes ask of privacy requests (`privacy.requests.PrivacyRequests`)."""

    async def open_from_app(self, kind: RequestKind, uid: str) -> Opened:
        """The subject's own request: identity verified by their recent sign-in."""
        ...

    async def of_subject(self, request_id: UUID, uid: str) -> PrivacyRequest:
        """The request if `uid` is its subject; `NotFound` otherwise (no hint it exists)."""
        ...

    async def download(self, request: PrivacyRequest) -> Download | None:
        """A fresh signed link to a completed export's archive, while it is kept."""
        ...


class PersonalData(Protocol):
    """One store's part of a request, for the registry entries of that store."""

    store: DataStore

    async def count(self, entry: UserData, uid: str) -> int:
        """How many records (rows, documents, objects) of `entry` the store holds for `uid`."""
        ...

    def read(self, entry: UserData, uid: str) -> AsyncIterator[Mapping[str, Any]]:
        """The user's records of `entry`, as JSON-ready mappings, in a stable order."""
        ...

    async def erase(self, entry: UserData, uid: str) -> int:
        """Removes (or scrubs) what `entry` holds of `uid`; how many records it touched. Run
        again, it finds nothing and returns 0."""
        ...
