"""Small shared building blocks: time, ids, pages and the per-record version."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar
from uuid import UUID

from uuid_utils.compat import uuid7

from domain.errors import ValidationFailed

Clock = Callable[[], datetime]
"""Returns the current UTC instant. Injected so that tests can hold time still."""

T = TypeVar("T")

MAX_CLIENT_CLOCK_SKEW_SECONDS = 300
"""Clients' clocks are wrong by minutes: a client instant may lie this far in the future."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> UUID:
    """A time-ordered UUID (v7): index-friendly and sortable by creation."""
    return uuid7()


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Keyset pagination: rows strictly after `after` (an opaque position) in the list order."""

    limit: int
    after: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_after: tuple[str, ...] | None
    """Position of the last item when more may follow, else None."""


def position_id(page: PageRequest, field_name: str = "cursor") -> UUID | None:
    """The id a keyset page starts after; a cursor that names no id is refused."""
    if page.after is None:
        return None
    try:
        (raw,) = page.after
        return UUID(raw)
    except ValueError as exc:
        raise ValidationFailed.on(
            field_name, "invalid_cursor", "not a cursor this API issued"
        ) from exc
