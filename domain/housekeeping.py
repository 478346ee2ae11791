"""What piles up and may go: each store's retention, purged by a recurring job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Retention:
    published_events: timedelta = timedelta(days=7)
    """Published outbox rows: kept a week for debugging and re-publishing by hand."""
    processed_events: timedelta = timedelta(days=8)
    """Longer than Pub/Sub keeps an unacknowledged message (7 days): a redelivery is still
    recognised as a duplicate."""
    idempotency_keys: timedelta = timedelta(hours=24)
    """The window docs/api-rules.md promises the apps."""
    done_tasks: timedelta = timedelta(days=2)
    """A task's name stays taken this long after it ran (deduplication)."""
    dead_tasks: timedelta = timedelta(days=30)
    replayed_messages: timedelta = timedelta(days=30)


class Housekeeping(Protocol):
    async def purge(self, now: datetime, retention: Retention) -> Mapping[str, int]:
        """Deletes what outlived its retention; returns how many rows went, per kind."""
        ...
