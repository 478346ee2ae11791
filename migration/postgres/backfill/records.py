"""What the backfill hands the Postgres side: mapped records, quarantined documents, a page's
batch, and the checkpoint that says where an entity's run stands."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.migration import Entity


@dataclass(frozen=True, slots=True)
class BackfillRecord:
    """A mapped document: the domain record, where it came from, and its backend `_v`."""

    path: str
    user_id: str
    record: Any
    """The entity's domain object (`User`, `Device`, …); its `version` is ignored."""
    source_version: int = 0
    """`_v` of a document the backend wrote; 0 for a legacy write (numbered here)."""
    deleted_at: datetime | None = None
    """Set for a backend tombstone (`deletedAt`): the row is written deleted."""


@dataclass(frozen=True, slots=True)
class QuarantinedDocument:
    path: str
    uid: str
    reason: str
    field: str | None = None
    document: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    entity: Entity
    last_path: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    read: int = 0
    inserted: int = 0
    replaced: int = 0
    kept: int = 0
    erased: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True, slots=True)
class Batch:
    """One page of documents: what mapped, what did not, and where the page ended."""

    last_path: str
    read: int
    records: Sequence[BackfillRecord]
    quarantined: Sequence[QuarantinedDocument]
