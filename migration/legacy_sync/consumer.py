"""The consumer of the `legacy-changes` topic: old app versions' Firestore writes into Postgres.

Pushed by Pub/Sub to `/internal/pubsub/legacy-sync` (ordering key: the uid), one message per
request, one Postgres transaction per message (`rules.sync_change`). Idempotent by the
document's Firestore `update_time` rather than by event id: a duplicate and a late change are
the same case (not newer than the position), and the position moves in the record's own
transaction. The verdict becomes the HTTP status Pub/Sub sees:

- handled, applied or dropped on purpose (stale, own mirror, lost race, erased, the entity
  still `firestore_only`: the backfill copies it later) → acknowledged; in a dual-write phase
  what it wrote is then mirrored to Firestore at its new version (rule 7 of `rules`);
- a transient failure (Postgres unreachable, a statement failing) → not acknowledged: Pub/Sub
  delivers it again with backoff; on the `max_attempts`-th delivery it is kept and
  acknowledged, so that one change cannot hold up the user's ordering key forever;
- undecodable or unmappable → kept in `failed_messages` and acknowledged. What is kept is a
  pointer (path, event id, update time, reason), never the document: `failed_messages` is not
  keyed by user, so erasure could not reach personal data there. The document itself stays in
  Firestore; a fixed mapping picks it up on the backfill's next run or the document's next
  change.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import Counter

from domain.common import Clock
from domain.consumers import FailedMessage, FailedMessages, ReceivedMessage, Verdict
from domain.migration import Entity, Phase
from functions.legacy_change import LegacyChange, MessageError, decode_change
from migration.legacy_sync.ports import LegacySyncUnitOfWorkFactory
from migration.legacy_sync.records import KINDS, RecordKind
from migration.legacy_sync.rules import Outcome, Owed, Result, sync_change
from migration.mirroring import Mirroring

log = logging.getLogger("migration.legacy_sync")

SUBSCRIPTION = "legacy-sync"
"""The push subscription's name in the app: `/internal/pubsub/legacy-sync`."""
DEFAULT_MAX_ATTEMPTS = 10
UNKNOWN = "unknown"

CHANGES = Counter(
    "focus_migration_legacy_changes_total",
    "Legacy Firestore changes the sync took in, by entity and outcome.",
    ["entity", "outcome"],
)
UNMAPPABLE = Counter(
    "focus_migration_legacy_unmappable_total",
    "Legacy changes kept out of Postgres, by entity and reason.",
    ["entity", "reason"],
)

PhaseSnapshot = Callable[[], Mapping[Entity, Phase]]
"""Every entity's phase now (`PhaseReader.snapshot`), taken once per message."""


class LegacySync:
    def __init__(
        self,
        unit_of_work: LegacySyncUnitOfWorkFactory,
        phases: PhaseSnapshot,
        failed: FailedMessages,
        *,
        clock: Clock,
        owed: Owed,
        mirroring: Mirroring,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._phases = phases
        self._failed = failed
        self._clock = clock
        self._owed = owed
        self._mirroring = mirroring
        self._max_attempts = max_attempts

    async def receive(self, message: ReceivedMessage) -> Verdict:
        try:
            change = decode_change(message.data)
        except MessageError as error:
            await self._keep(message, None, Result(Outcome.UNDECODABLE, str(error)))
            _count(UNKNOWN, Result(Outcome.UNDECODABLE))
            return Verdict.ACK
        kind = KINDS.get(change.collection)
        if kind is None:
            result = Result(Outcome.UNMAPPABLE, "unknown_collection")
            await self._keep(message, change, result)
            _count(UNKNOWN, result)
            return Verdict.ACK
        phase = self._phases()[kind.entity]
        if not phase.writes_postgres:
            _count(kind.entity, Result(Outcome.PHASE_SKIPPED))
            return Verdict.ACK
        owed = self._owed if phase.writes_firestore else None
        try:
            result = await self._sync(message, kind, change, owed)
        except Exception as error:
            return await self._failed_once(message, kind, change, error)
        _count(kind.entity, result)
        if result.owed:
            # Best effort, as after an API write: what fails stays pending and is repaired,
            # and a read of a Firestore-read phase applies it first.
            await self._mirroring.apply(result.owed, path="legacy")
        return Verdict.ACK

    async def _sync(
        self,
        message: ReceivedMessage,
        kind: RecordKind[Any],
        change: LegacyChange,
        owed: Owed | None,
    ) -> Result:
        async with self._unit_of_work() as uow:
            result = await sync_change(uow, kind, change, self._clock(), owed)
            if result.outcome is Outcome.UNMAPPABLE:
                # Before the commit: a failed commit leaves at worst a second pointer.
                await self._keep(message, change, result)
            await uow.commit()
        if result.outcome in (Outcome.LOST_RACE, Outcome.STALE_MIRROR):
            log.info(f"migration.legacy_sync.{result.outcome.value}", extra=_ids(change))
        return result

    async def _failed_once(
        self,
        message: ReceivedMessage,
        kind: RecordKind[Any],
        change: LegacyChange,
        error: Exception,
    ) -> Verdict:
        log.exception("migration.legacy_sync.failed", extra=_ids(change))
        _count(kind.entity, Result(Outcome.FAILED))
        if (message.delivery_attempt or 1) < self._max_attempts:
            return Verdict.RETRY
        await self._keep(message, change, Result(Outcome.FAILED, f"{type(error).__name__}"))
        return Verdict.ACK

    async def _keep(
        self, message: ReceivedMessage, change: LegacyChange | None, result: Result
    ) -> None:
        """A findable record of a change given up on: ids and the reason, no document."""
        log.warning(
            "migration.legacy_sync.kept",
            extra={
                **(_ids(change) if change else {}),
                "outcome": result.outcome.value,
                "reason": result.reason,
                "field": result.field,
            },
        )
        where = {"path": change.path, "update_time": change.update_time.rfc3339()} if change else {}
        pointer = {**where, "outcome": result.outcome.value, "reason": result.reason}
        pointer["field"] = result.field
        error = f"{result.outcome.value}: {result.reason}" + (
            f" ({result.field})" if result.field else ""
        )
        await self._failed.record(
            FailedMessage(
                subscription=SUBSCRIPTION,
                data=json.dumps(pointer, sort_keys=True).encode(),
                attributes=dict(message.attributes),
                error=error,
                attempts=message.delivery_attempt or 1,
                failed_at=self._clock(),
                message_id=message.message_id,
                event_id=change.event_id if change else message.attributes.get("event_id"),
            )
        )


def _count(entity: Entity | str, result: Result) -> None:
    label = entity.value if isinstance(entity, Entity) else entity
    CHANGES.labels(label, result.outcome.value).inc()
    if result.outcome is Outcome.UNMAPPABLE:
        UNMAPPABLE.labels(label, result.reason or UNKNOWN).inc()


def _ids(change: LegacyChange) -> dict[str, str]:
    return {"path": change.path, "event_id": change.event_id}
