"""What the tests of a seeded legacy dataset share: the drift each document was given."""

from __future__ import annotations

from random import Random

from migration.legacy.dataset import user_documents
from migration.legacy.drift import APPLIES_TO, DRIFTS
from migration.legacy.layout import DriftKind
from migration.legacy.seed import orphan_count


def drift_by_path(seed: int, users: int, share: float) -> dict[str, set[DriftKind]]:
    """The kinds the seeder gave each document (`seed(client, users, seed=, drift=share)`): its
    own draws, replayed document by document; orphans are orphans and nothing else."""
    kinds: dict[str, set[DriftKind]] = {}
    for index in range(users):
        rng = Random(f"{seed}:drift:{index}")
        for doc in user_documents(seed, index):
            kinds[doc.path] = set()
            for drift in DRIFTS:
                allowed = APPLIES_TO.get(drift)
                if allowed is not None and doc.collection not in allowed:
                    continue
                if rng.random() < share and (kind := drift(doc, rng)) is not None:
                    kinds[doc.path].add(kind)
    for index in range(orphan_count(users)):
        for doc in user_documents(seed, index, orphan=True):
            kinds[doc.path] = {DriftKind.ORPHAN_OF_DELETED_USER}
    return kinds
