"""Write a legacy dataset, drift included, into Firestore (the emulator in tests and benchmarks).

`seed(client, 1000, seed=7)` writes the same documents, with the same ids and values, every
time; docs/migration/legacy-firestore.md describes them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from random import Random
from typing import Any

from google.cloud import firestore

from migration.legacy.dataset import LegacyDocument, Ref, user_documents
from migration.legacy.drift import apply_drift
from migration.legacy.layout import SUBCOLLECTIONS, USERS, DriftKind

MAX_BATCH = 500
"""Firestore's limit of writes per batch."""
USERS_PER_ORPHAN = 25


@dataclass(frozen=True, slots=True)
class SeedReport:
    users: int
    orphan_users: int
    """Uids with documents under `users/{uid}` but no `users/{uid}` document."""
    documents: dict[str, int]
    """Documents written per collection (`users`, `devices`, …), orphans' included."""
    drift: dict[str, int]
    """Documents per kind of drift, every kind listed (0 when none was drawn)."""

    @property
    def total(self) -> int:
        return sum(self.documents.values())

    def lines(self) -> list[str]:
        return [
            f"users: {self.users} (+{self.orphan_users} orphaned uids)",
            f"documents: {self.total}",
            *(f"  {name}: {count}" for name, count in self.documents.items()),
            "drift:",
            *(f"  {kind}: {count}" for kind, count in self.drift.items()),
        ]


def orphan_count(users: int) -> int:
    """A few: one per 25 users, at least one when there are users at all."""
    return 0 if users == 0 else max(1, users // USERS_PER_ORPHAN)


def seed(client: firestore.Client, users: int, *, seed: int, drift: float = 0.1) -> SeedReport:
    """Write `users` users (and a few orphans) with about `drift` of documents drifted per kind.

    Documents are `set`, not created: seeding twice with one seed rewrites the same documents.
    """
    if users < 0:
        raise ValueError("users must not be negative")
    if not 0.0 <= drift <= 1.0:
        raise ValueError("drift is a share: between 0 and 1")
    documents: Counter[str] = Counter()
    drifted: Counter[DriftKind] = Counter()
    batch = client.batch()
    pending = 0
    for doc in _dataset(users, seed, drift, drifted):
        batch.set(client.document(doc.path), _with_references(client, doc.data))
        documents[doc.collection] += 1
        pending += 1
        if pending == MAX_BATCH:
            batch.commit()
            batch, pending = client.batch(), 0
    if pending:
        batch.commit()
    return SeedReport(
        users=users,
        orphan_users=orphan_count(users),
        documents={name: documents[name] for name in (USERS, *SUBCOLLECTIONS)},
        drift={kind.value: drifted[kind] for kind in DriftKind},
    )


def _dataset(
    users: int, seed: int, drift: float, drifted: Counter[DriftKind]
) -> Iterator[LegacyDocument]:
    for index in range(users):
        docs = user_documents(seed, index)
        rng = Random(f"{seed}:drift:{index}")  # noqa: S311 (reproducible, not secret)
        apply_drift(docs, rng, drift, drifted)
        yield from docs
    for index in range(orphan_count(users)):
        docs = user_documents(seed, index, orphan=True)
        drifted[DriftKind.ORPHAN_OF_DELETED_USER] += len(docs)
        yield from docs


def _with_references(client: firestore.Client, value: Any) -> Any:
    """`Ref`s become DocumentReferences of this client, in maps and arrays too."""
    if isinstance(value, Ref):
        return client.document(value.path)
    if isinstance(value, dict):
        return {key: _with_references(client, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_references(client, item) for item in value]
    return value
