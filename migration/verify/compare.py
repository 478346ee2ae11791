"""Comparing one user's records of one entity in both stores, and tallying what differs.

A tombstone on both sides, or a tombstone on one side and nothing on the other, is equal: the
record is gone in both. Live on one side and deleted on the other differs on `deleted`.
Reports carry field names and ids, never values: they may be personal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.migration import Entity
from migration.shadow import MISSING, differing_fields
from migration.verify.records import Found, Quarantined, comparable, example_id

EXAMPLES_PER_KIND = 5
MAX_RECHECKED = 10_000
"""Divergent keys kept for the re-check of records in flight; beyond, they count as found."""
DELETED = "deleted"
"""The field reported when a record is live in one store and deleted in the other."""


class Divergence(StrEnum):
    MISSING = "missing"
    """In Firestore, not in Postgres."""
    EXTRA = "extra"
    """In Postgres, not in Firestore."""
    DIFFERENT = "different"


@dataclass(frozen=True, slots=True)
class Divergent:
    """One record found divergent, with both sides as read (for the repair)."""

    kind: Divergence
    uid: str
    key: str
    fields: tuple[str, ...]
    firestore: Found | None
    postgres: Found | None


@dataclass
class Tally:
    """One comparison of one entity: counts, field names and a few example ids per kind."""

    compared: int = 0
    counts: Counter[Divergence] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)
    quarantined: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    divergent_keys: list[tuple[str, str]] = field(default_factory=list)
    """(uid, key) of the divergent records, up to `MAX_RECHECKED`, for the re-check."""
    in_flight: int = 0
    """Divergent records that agreed when compared again a moment later: writes in flight
    (committed in Postgres, their Firestore mirror not yet written, or the reverse)."""

    @property
    def passed(self) -> bool:
        return not self.counts

    def count(self, kind: Divergence) -> int:
        return self.counts[kind]

    def add(self, divergent: Divergent) -> None:
        if len(self.divergent_keys) < MAX_RECHECKED:
            self.divergent_keys.append((divergent.uid, divergent.key))
        self.counts[divergent.kind] += 1
        self.fields.update(divergent.fields)
        self._example(divergent.kind.value, example_id(divergent.uid, divergent.key))

    def settled(self, recheck: Tally) -> Tally:
        """This pass with its divergent records as compared again by `recheck`."""
        rechecked = len(self.divergent_keys)
        if rechecked < sum(self.counts.values()):
            return self  # too many to re-check: reported as found
        return Tally(
            compared=self.compared,
            counts=recheck.counts,
            fields=recheck.fields,
            quarantined=self.quarantined,
            examples={**recheck.examples, **_only(self.examples, "quarantined")},
            divergent_keys=recheck.divergent_keys,
            in_flight=rechecked - sum(recheck.counts.values()),
        )

    def quarantine(self, uid: str, record: Quarantined) -> None:
        self.quarantined[record.reason] += 1
        self._example("quarantined", example_id(uid, record.key))

    def _example(self, kind: str, record_id: str) -> None:
        examples = self.examples.setdefault(kind, [])
        if len(examples) < EXAMPLES_PER_KIND:
            examples.append(record_id)


def _only(examples: dict[str, list[str]], kind: str) -> dict[str, list[str]]:
    return {kind: examples[kind]} if kind in examples else {}


Project = Callable[[Any], Any]
"""A Postgres record as the legacy layout holds it (`records.through_layout`)."""


@dataclass(frozen=True)
class Comparer:
    entity: Entity
    project: Project

    def user(
        self,
        uid: str,
        firestore: Mapping[str, Found | Quarantined],
        postgres: Mapping[str, Found],
        tally: Tally,
        keys: Iterable[str] | None = None,
    ) -> Iterator[Divergent]:
        """The user's divergent records (of `keys` only, when given), tallied on the way."""
        for key in sorted(set(firestore) | set(postgres) if keys is None else set(keys)):
            theirs, ours = firestore.get(key), postgres.get(key)
            if isinstance(theirs, Quarantined):
                # Known and reported apart; a row of the same key is not `extra` either.
                tally.quarantine(uid, theirs)
                continue
            if theirs is None and ours is None:
                continue
            tally.compared += 1
            divergent = self.record(uid, key, theirs, ours)
            if divergent is not None:
                tally.add(divergent)
                yield divergent

    def record(
        self, uid: str, key: str, firestore: Found | None, postgres: Found | None
    ) -> Divergent | None:
        fields: tuple[str, ...]
        theirs_live = firestore is not None and not firestore.deleted
        ours_live = postgres is not None and not postgres.deleted
        if not theirs_live and not ours_live:
            return None
        if postgres is None:
            kind, fields = Divergence.MISSING, (MISSING,)
        elif firestore is None:
            kind, fields = Divergence.EXTRA, (MISSING,)
        elif theirs_live != ours_live:
            kind, fields = Divergence.DIFFERENT, (DELETED,)
        else:
            assert firestore.record is not None
            ours = comparable(self.project(postgres.record))
            names = differing_fields(comparable(firestore.record), ours)
            if not names:
                return None
            kind, fields = Divergence.DIFFERENT, tuple(names)
        return Divergent(kind, uid, key, fields, firestore, postgres)
