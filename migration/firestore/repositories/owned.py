"""Paging of the small per-user collections, read whole and kept in memory."""

from __future__ import annotations

from typing import Protocol, TypeVar
from uuid import UUID


class HasId(Protocol):
    @property
    def id(self) -> UUID: ...


R = TypeVar("R", bound=HasId)


def page_by_id(records: list[R], after: UUID | None, limit: int) -> list[R]:
    """In id (creation) order, strictly after `after`: as the Postgres keyset on the id."""
    ordered = sorted(records, key=lambda record: record.id)
    return [r for r in ordered if after is None or r.id > after][:limit]
