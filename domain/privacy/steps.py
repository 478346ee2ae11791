"""The steps of a request, planned from the registry of per-user data: one per store and kind
of data, in an order that keeps erasure safe to stop and resume at any point.

Erasure: the uid goes on the erased list first (from then on nothing of the user is written
again, from any source); then every kind of data, the legacy Firestore documents before the
Postgres rows that would let a backfill bring them back, the user's row last among Postgres's;
Firebase Auth after every other store (while it exists the request can be retried by the
identity it names); the verification scan at the end. Export: every kind the export carries,
then the archive.

A step is idempotent: run again after it is done, it finds nothing left (erasure) or writes the
same part again (export). The runner marks it done only after its work is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.migration import Entity
from domain.privacy.model import RequestKind
from domain.user_data import REGISTRY, DataStore, Erasure, UserData

ERASED_LIST = "erased_list"
"""Erasure's first step: the uid on `erased_users`."""
SCAN = "verification_scan"
"""Erasure's last step: every store searched for the subject, zero expected."""
DERIVED = "derived_stats"
"""Export's part of what the service derives from the records (streaks, focus per day)."""
ARCHIVE = "archive"
"""Export's last step: the parts zipped with the README and the manifest."""

_ERASED_BY_STEPS = (Erasure.DELETE, Erasure.CASCADE, Erasure.SCRUB, Erasure.EXPIRES)
_STORE_ORDER = (
    DataStore.FIRESTORE,
    DataStore.FILES,
    DataStore.CLOUD_TASKS,
    DataStore.REDIS,
    DataStore.POSTGRES,
    DataStore.FIREBASE_AUTH,
)


class StepState(StrEnum):
    PENDING = "pending"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Step:
    request_id: UUID
    position: int
    name: str
    """A registry entry's name, or one of ERASED_LIST, SCAN, ARCHIVE."""
    state: StepState = StepState.PENDING
    attempts: int = 0
    """Runs that failed before."""
    error: str | None = None
    """The last failure's class and store, never a value."""
    count: int | None = None
    """Records (rows, documents, objects) exported or erased."""
    detail: dict[str, int] | None = None
    """The scan's counts per kind of data, or an export part's size."""
    done_at: datetime | None = None


def entries_for(kind: RequestKind) -> tuple[UserData, ...]:
    """The registry entries a request of `kind` has a step for, in the order they run."""
    if kind is RequestKind.EXPORT:
        chosen = [e for e in REGISTRY if e.exported]
    else:
        chosen = [e for e in REGISTRY if e.erasure in _ERASED_BY_STEPS]

    def order(entry: UserData) -> tuple[int, int]:
        # The profile last in each store: Postgres's row holds the version counter; the legacy
        # profile document's erasure takes whatever is under it (so the kinds go first, each
        # counted as itself).
        last_of_its_store = entry.entity is Entity.USERS
        return _STORE_ORDER.index(entry.store), int(last_of_its_store)

    return tuple(sorted(chosen, key=order))


def plan(request_id: UUID, kind: RequestKind) -> tuple[Step, ...]:
    first, last = (
        ([ERASED_LIST], [SCAN]) if kind is RequestKind.ERASURE else ([], [DERIVED, ARCHIVE])
    )
    names = [*first, *(e.name for e in entries_for(kind)), *last]
    return tuple(Step(request_id, position, name) for position, name in enumerate(names))
