"""Moving each entity from Firestore to Postgres, one phase at a time, and the guardrails.

Every entity goes `firestore_only → dual_write_read_firestore → dual_write_read_postgres →
postgres_only`. Adjacent phases can run side by side (instances pick a change up seconds
apart), which is why a phase may not be skipped without `force`. Reads move to Postgres only
after a verify of that entity passed recently, and `postgres_only` is one-way: Firestore stops
being written there, so going back would read data that is no longer current.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from domain.errors import Conflict

MAX_VERIFICATION_AGE = timedelta(hours=24)


class Entity(StrEnum):
    USERS = "users"
    DEVICES = "devices"
    BLOCKLISTS = "blocklists"
    SCHEDULES = "schedules"
    FOCUS_SESSIONS = "focus_sessions"
    USAGE = "usage"


class Store(StrEnum):
    FIRESTORE = "firestore"
    POSTGRES = "postgres"


@dataclass(frozen=True, slots=True)
class RecordState:
    """A record's row as the legacy sync weighs it: its version, and whether it is a tombstone
    (a legacy edit must not bring back what an API delete removed)."""

    version: int
    deleted: bool


class Phase(StrEnum):
    """In order: a phase's position is its place in the migration."""

    FIRESTORE_ONLY = "firestore_only"
    DUAL_WRITE_READ_FIRESTORE = "dual_write_read_firestore"
    DUAL_WRITE_READ_POSTGRES = "dual_write_read_postgres"
    POSTGRES_ONLY = "postgres_only"

    @property
    def position(self) -> int:
        return list(Phase).index(self)

    @property
    def writes_firestore(self) -> bool:
        return self is not Phase.POSTGRES_ONLY

    @property
    def writes_postgres(self) -> bool:
        return self is not Phase.FIRESTORE_ONLY

    @property
    def reads_from(self) -> Store:
        return Store.POSTGRES if self.position >= 2 else Store.FIRESTORE

    @property
    def source_of_truth(self) -> Store:
        """The store that wins when the two disagree: the one reads come from."""
        return self.reads_from


INITIAL_PHASE = Phase.FIRESTORE_ONLY


class VerificationMode(StrEnum):
    SAMPLE = "sample"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class Verification:
    """One run of `focus migrate verify` for one entity: both stores compared."""

    entity: Entity
    finished_at: datetime
    passed: bool
    mode: VerificationMode
    missing: int = 0
    """In Firestore, not in Postgres."""
    extra: int = 0
    """In Postgres, not in Firestore."""
    different: int = 0
    started_at: datetime | None = None
    """Default: `finished_at`."""
    sample_size: int | None = None
    """Records compared by a sample run (None: a full run)."""
    examples: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """A few ids per kind of divergence (`missing`, `extra`, `different`): ids only."""


@dataclass(frozen=True, slots=True)
class PhaseChange:
    entity: Entity
    from_phase: Phase
    to_phase: Phase
    at: datetime
    by: str
    forced: bool = False
    """A phase was skipped on `--force`."""
    reason: str | None = None


class PhaseTransitionRefused(Conflict):
    """A guardrail refused the move; `code` says which one, `detail` says why and what to do."""


@dataclass
class PhaseChangedMeanwhile(Conflict):
    """Someone changed the entity's phase between reading it and changing it."""

    code: str = "migration_phase_changed_meanwhile"
    current: Phase | None = None


def skips_a_phase(current: Phase, target: Phase) -> bool:
    return abs(target.position - current.position) > 1


def check_transition(
    current: Phase,
    target: Phase,
    *,
    last_verification: Verification | None,
    now: datetime,
    force: bool,
    max_verification_age: timedelta = MAX_VERIFICATION_AGE,
) -> None:
    """Raises `PhaseTransitionRefused` unless moving from `current` to `target` is allowed.

    `last_verification` is the entity's most recent verify (passed or not).
    """
    if target is current:
        raise PhaseTransitionRefused(
            code="migration_phase_unchanged", detail=f"already in {current}: nothing to change"
        )
    if current is Phase.POSTGRES_ONLY:
        raise PhaseTransitionRefused(
            code="migration_phase_one_way",
            detail=f"{current} is one-way: Firestore is no longer written, so moving back to"
            f" {target} would serve stale data (not even --force allows it)",
        )
    if skips_a_phase(current, target) and not force:
        between = [p.value for p in Phase if _strictly_between(p, current, target)]
        raise PhaseTransitionRefused(
            code="migration_phase_skipped",
            detail=f"{current} → {target} skips {', '.join(between)}: move one phase at a time"
            " (or pass --force if you are sure)",
        )
    if target.reads_from is Store.POSTGRES:
        _check_verified(target, last_verification, now, max_verification_age)


def _strictly_between(phase: Phase, a: Phase, b: Phase) -> bool:
    low, high = sorted((a.position, b.position))
    return low < phase.position < high


def _check_verified(
    target: Phase, last: Verification | None, now: datetime, max_age: timedelta
) -> None:
    how = (
        f"{target} reads from Postgres: it needs a passed `focus migrate verify` younger than"
        f" {_hours(max_age)} (--force does not bypass this)"
    )
    if last is None:
        problem = "this entity was never verified"
    elif not last.passed:
        at = last.finished_at.astimezone(UTC)
        problem = (
            f"the last verify failed at {at:%Y-%m-%d %H:%M}Z (missing {last.missing},"
            f" extra {last.extra}, different {last.different})"
        )
    elif now - last.finished_at > max_age:
        problem = f"the last passed verify is {_hours(now - last.finished_at)} old"
    else:
        return
    raise PhaseTransitionRefused(code="migration_verification_required", detail=f"{how}; {problem}")


def _hours(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.0f}h" if hours >= 1 else f"{age.total_seconds() / 60:.0f}min"


class PhaseStore(Protocol):
    """Where every instance finds each entity's phase, and where changes are audited."""

    async def current(self) -> Mapping[Entity, Phase]:
        """Every entity's phase; an entity never changed is in `INITIAL_PHASE`."""
        ...

    async def change(self, change: PhaseChange, *, expected: Phase) -> None:
        """Sets `change.to_phase` and records `change`, atomically, if the entity is still in
        `expected`; else raises `PhaseChangedMeanwhile` and changes nothing."""
        ...

    async def history(self, entity: Entity, limit: int = 20) -> Sequence[PhaseChange]:
        """The entity's changes, newest first."""
        ...

    async def record_verification(self, verification: Verification) -> None: ...

    async def last_verification(self, entity: Entity) -> Verification | None:
        """The entity's most recently finished verification, passed or not."""
        ...


class MirrorKind(StrEnum):
    SET = "set"
    """Set the document's fields (a record saved): creates it, or revives a tombstone."""
    CREATE = "create"
    """Create the document unless it exists (a user's first write): never over a profile."""
    TOMBSTONE = "tombstone"
    """Mark the existing document deleted (`deletedAt` and the deletion's version)."""


@dataclass(frozen=True, slots=True)
class PendingMirror:
    """The Firestore document a committed write owes (ADR 0012).

    Recorded in the write's own Postgres transaction, written to Firestore after the commit
    only if the document's version is lower, and kept until then: a write Postgres committed
    reaches Firestore even when Firestore is down or the process dies in between.
    """

    entity: Entity
    user_id: str
    record_key: str
    """The record's id within the user: a UUID, an installation id, `day_installation` (usage),
    or the uid itself (the user's profile)."""
    version: int
    kind: MirrorKind
    fields: Mapping[str, object]
    """The document's fields, encoded as the legacy change messages encode Firestore values."""
    id: int | None = None
    """Assigned when recorded."""
    attempts: int = 0
