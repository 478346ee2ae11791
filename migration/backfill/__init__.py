"""The backfill: Firestore's documents into Postgres, in path order, with a durable checkpoint.

ADR 0012 decision 5; docs/migration/legacy-firestore.md gives every mapping and quarantine rule.
`runner` drives the entities, `reader` pages Firestore, `mapper` maps a page (with each entity's
mapping from `migration/entities.py`, which verify shares), `rate` paces the reads, `progress`
shows them; `migration/postgres/backfill/` writes each batch.
"""

from migration.backfill.runner import (
    Backfill,
    BackfillOptions,
    BackfillRefused,
    EntitySummary,
)

__all__ = ["Backfill", "BackfillOptions", "BackfillRefused", "EntitySummary"]
