"""Shadow reads: while Postgres serves reads, a sample of them also reads Firestore and compares.

A mismatch is counted and logged with the entity, the ids and the names of the fields that
differ, never their values (they may be personal). The comparison never changes the response
and never fails the request: an error in the shadow read is counted and logged, and the
request goes on with what Postgres answered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from prometheus_client import Counter

log = logging.getLogger("migration.shadow")

SHADOW_READS = Counter(
    "focus_migration_shadow_reads_total",
    "Shadow reads of Firestore beside Postgres, by entity and outcome (match, mismatch, error).",
    ["entity", "outcome"],
)

T = TypeVar("T")
MISSING = "<missing>"
"""The field name reported when one store has the record and the other has not."""


def normalise(value: Any) -> Any:
    """A plain, comparable form: dataclasses → dicts, enums → values, instants → UTC to the
    millisecond (the legacy app wrote epoch millis), UUIDs → strings, tuples → lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: normalise(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        instant = value.astimezone(UTC)
        return instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    return value


def differing_fields(primary: Any, shadow: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields whose normalised values differ (`notifications.enabled`)."""
    if primary is None or shadow is None:
        return [] if primary is shadow else [MISSING]
    a, b = normalise(primary), normalise(shadow)
    return _diff(a, b, prefix)


def _diff(a: Any, b: Any, prefix: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        names: list[str] = []
        for key in sorted(a.keys() | b.keys()):
            path = f"{prefix}.{key}" if prefix else key
            if key not in a or key not in b:
                names.append(path)
            else:
                names.extend(_diff(a[key], b[key], path))
        return names
    return [] if a == b else [prefix or "<value>"]


class ShadowReads:
    """Compares a sample of reads; `rate` 0 turns it off, 1 compares every read."""

    def __init__(
        self,
        rate: float,
        *,
        ignore: Sequence[str] = (),
        sample: Callable[[], float] = random.random,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("the shadow-read rate is a share between 0 and 1")
        self._rate = rate
        self._ignore = frozenset(ignore)
        self._sample = sample
        self._running: set[asyncio.Task[list[str] | None]] = set()

    def sampled(self) -> bool:
        return self._rate > 0 and self._sample() < self._rate

    def compare_later(
        self,
        entity: str,
        ids: Mapping[str, str],
        primary: T | None,
        shadow: Callable[[], Awaitable[T | None]],
    ) -> None:
        """`compare`, after the response: the shadow read adds nothing to the request's time."""
        if not self.sampled():
            return
        task = asyncio.create_task(self._compare(entity, ids, primary, shadow))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def drain(self) -> None:
        """Waits for the comparisons still running (shutdown, tests)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def compare(
        self,
        entity: str,
        ids: Mapping[str, str],
        primary: T | None,
        shadow: Callable[[], Awaitable[T | None]],
    ) -> list[str] | None:
        """Reads the shadow and compares; returns the differing field names (None: not
        sampled, or the shadow read failed). Never raises."""
        if not self.sampled():
            return None
        return await self._compare(entity, ids, primary, shadow)

    async def _compare(
        self,
        entity: str,
        ids: Mapping[str, str],
        primary: T | None,
        shadow: Callable[[], Awaitable[T | None]],
    ) -> list[str] | None:
        try:
            other = await shadow()
            fields = [f for f in differing_fields(primary, other) if f not in self._ignore]
        except Exception as error:  # a shadow read must never fail the request
            SHADOW_READS.labels(entity, "error").inc()
            log.warning(
                "migration.shadow.failed",
                extra={"entity": entity, **ids, "error": type(error).__name__},
            )
            return None
        if fields:
            SHADOW_READS.labels(entity, "mismatch").inc()
            log.warning(
                "migration.shadow.mismatch", extra={"entity": entity, **ids, "fields": fields}
            )
        else:
            SHADOW_READS.labels(entity, "match").inc()
        return fields
